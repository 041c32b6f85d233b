"""Roster files (.xlsx) for members and contacts: the template, parsing and validation.

Parsing never writes. `parse_roster` reads every row, checks each against the
same rules the services apply, and returns either clean rows or the full list
of problems with their spreadsheet line and column; `members.services` writes
clean rows in one transaction.

What a re-import may change: only the columns the file has. A missing optional column
leaves the stored value alone; a present, empty cell clears it. The header row may sit
below title rows (the usual 台账: a title, a blank row, then the headers), and headers
are read in either language, with common synonyms (手机号码, 入党时间, 职务 …), with or
without `*`, `（必填）` or inner spaces.

The workbook is checked before openpyxl opens it (`check_workbook`): its size, the
unpacked size its zip members declare (Python's zipfile never inflates a member past
its declared size, so a zip bomb is refused by reading the directory), and the number
of members; then at most `ROSTER_IMPORT_MAX_ROWS` rows and `ROSTER_IMPORT_MAX_COLUMNS`
columns are read. `estimate_rows` is the web request's cheap pre-check.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import TextChoices
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .models import (
    REASONS_BY_CATEGORY,
    Contact,
    ContactCategory,
    ContactKind,
    ContactReasonCode,
    Gender,
    LeadershipRoleCode,
    Member,
    MemberCategory,
    MemberStatus,
    Organisation,
)
from .validators import (
    name_key,
    normalise_id_number,
    normalise_name,
    normalise_phone,
    validate_id_number,
    validate_phone,
)

LIST_SEPARATORS = ("、", "，", ",", ";", "；", "/")
HEADER_SEARCH_ROWS = 10  # the header row may sit below a title, a date line and blank rows
ZIP_MEMBERS_MAX = 1000
INLINE_SCAN_BYTES = 2 * 1024 * 1024  # a first sheet larger than this goes to the worker unread
EARLIEST_JOINING = date(1921, 7, 1)


class RosterKind:
    MEMBERS = "members"
    CONTACTS = "contacts"


@dataclass(frozen=True)
class Column:
    key: str
    header: Promise
    required: bool = False
    choices: type[TextChoices] | None = None
    many: bool = False  # a list of choices separated by 、 or ,
    parse: Callable[[Any], Any] | None = None
    width: int = 14
    # Other spellings met in real rosters, in either language; matched like the header.
    synonyms: tuple[str, ...] = ()
    # The model field whose max_length caps the cell (plain text columns).
    model_field: str = ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _halfwidth(value: Any) -> str:
    return unicodedata.normalize("NFKC", _text(value))


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
EXCEL_SERIALS = range(1, 2958466)  # 1900-01-01 … 9999-12-31 as Excel counts days


def _parse_date(value: Any) -> date | None:
    """2024-09-01, 2024/9/1, 2024.9.1, 2024年9月1日, 20240901, a date cell or an Excel day number."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and int(value) in EXCEL_SERIALS:
        converted = from_excel(value)
        return converted.date() if isinstance(converted, datetime) else converted
    text = _halfwidth(value)
    match = _DATE.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    if match:
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise ValidationError(_("Enter a date such as 2024-09-01, 2024/9/1 or 2024年9月1日."))


def _parse_joined_on(value: Any) -> date | None:
    joined = _parse_date(value)
    if joined is not None and not EARLIEST_JOINING <= joined <= timezone.localdate():
        raise ValidationError(
            _("A date of joining lies between %(earliest)s and today.") % {"earliest": EARLIEST_JOINING.isoformat()}
        )
    return joined


def _parse_id_number(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValidationError(
            _(
                "This cell is a number. Excel keeps only 15 digits of a number, so the last digits of an ID "
                "number are lost. Format the column as Text and type the ID numbers again."
            )
        )
    text = normalise_id_number(_text(value))
    if text:
        validate_id_number(text)
    return text


def _parse_phone(value: Any) -> str:
    text = normalise_phone(_text(value))
    if text:
        validate_phone(text)
    return text


# The headers that name the same column in both rosters.
ID_NUMBER_SYNONYMS = (
    "身份证号",
    "身份证号码",
    "身份证",
    "公民身份号码",
    "证件号码",
    "身份证件号码",
    "id no",
    "id card number",
)
PHONE_SYNONYMS = (
    "手机号",
    "手机号码",
    "手机",
    "联系电话",
    "电话",
    "电话号码",
    "联系方式",
    "mobile",
    "phone number",
    "telephone",
)

MEMBER_COLUMNS = (
    Column(
        "name",
        gettext_lazy("Name"),
        required=True,
        width=10,
        synonyms=("姓名", "名字", "full name"),
        model_field="name",
    ),
    Column("gender", gettext_lazy("Gender"), required=True, choices=Gender, width=8, synonyms=("性别", "sex")),
    Column(
        "organisation",
        gettext_lazy("Organisation code"),
        required=True,
        synonyms=("组织代码", "组织编号", "党组织编码", "党组织代码", "支部编码", "支部代码", "org code"),
    ),
    Column(
        "category",
        gettext_lazy("Category"),
        required=True,
        choices=MemberCategory,
        synonyms=("类别", "党员类别", "人员类别"),
    ),
    Column(
        "status",
        gettext_lazy("Membership status"),
        required=True,
        choices=MemberStatus,
        synonyms=("党员状态", "党籍状态", "党员身份", "正式/预备", "status"),
    ),
    Column(
        "id_number",
        gettext_lazy("ID number"),
        required=True,
        parse=_parse_id_number,
        width=22,
        synonyms=ID_NUMBER_SYNONYMS,
    ),
    Column(
        "phone",
        gettext_lazy("Phone"),
        parse=_parse_phone,
        synonyms=PHONE_SYNONYMS,
    ),
    Column(
        "joined_on",
        gettext_lazy("Joined the party on"),
        parse=_parse_joined_on,
        synonyms=("入党日期", "入党时间", "入党年月日", "date joined", "joined on"),
    ),
    Column(
        "roles",
        gettext_lazy("Leadership roles"),
        choices=LeadershipRoleCode,
        many=True,
        width=24,
        synonyms=("领导职务", "职务", "担任职务", "现任职务", "roles", "position"),
    ),
)

CONTACT_COLUMNS = (
    Column(
        "name",
        gettext_lazy("Name"),
        required=True,
        width=10,
        synonyms=("姓名", "名字", "full name"),
        model_field="name",
    ),
    Column("gender", gettext_lazy("Gender"), required=True, choices=Gender, width=8, synonyms=("性别", "sex")),
    Column(
        "organisation",
        gettext_lazy("Organisation code"),
        required=True,
        synonyms=("组织代码", "组织编号", "党组织编码", "党组织代码", "支部编码", "支部代码", "org code"),
    ),
    Column(
        "category",
        gettext_lazy("Category"),
        required=True,
        choices=ContactCategory,
        synonyms=("类别", "联系对象类别", "对象类别", "人员类别"),
    ),
    Column(
        "kind",
        gettext_lazy("Person or household"),
        choices=ContactKind,
        width=10,
        synonyms=("人/户", "人或户", "对象类型"),
    ),
    Column(
        "reasons",
        gettext_lazy("Reasons and hardship"),
        choices=ContactReasonCode,
        many=True,
        width=24,
        synonyms=("联系原因及困难情况", "联系原因", "困难情况", "困难类型", "reasons"),
    ),
    Column("unit", gettext_lazy("Unit"), synonyms=("单位", "所在单位", "工作单位", "部门", "班级"), model_field="unit"),
    Column(
        "id_number",
        gettext_lazy("ID number"),
        parse=_parse_id_number,
        width=22,
        synonyms=ID_NUMBER_SYNONYMS,
    ),
    Column(
        "phone",
        gettext_lazy("Phone"),
        parse=_parse_phone,
        synonyms=PHONE_SYNONYMS,
    ),
    Column(
        "address",
        gettext_lazy("Address"),
        width=30,
        synonyms=("住址", "地址", "家庭住址", "居住地址", "现住址"),
        model_field="address",
    ),
    Column("notes", gettext_lazy("Notes"), width=30, synonyms=("备注", "说明", "remarks"), model_field="notes"),
)

COLUMNS = {RosterKind.MEMBERS: MEMBER_COLUMNS, RosterKind.CONTACTS: CONTACT_COLUMNS}
MODELS: dict[str, type[Member] | type[Contact]] = {RosterKind.MEMBERS: Member, RosterKind.CONTACTS: Contact}


def column_label(kind: str, key: str) -> str:
    """The template's header of a column, in the active language (for the result page)."""
    for column in COLUMNS.get(kind, ()):
        if column.key == key:
            return str(column.header)
    return key


def header_key(text: Any) -> str:
    """A header as compared: half-width, no `*`/`＊`, no bracketed notes (（必填）), no spaces or colons, lower-case."""
    key = _halfwidth(text)
    key = re.sub(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】", "", key)
    key = re.sub(r"[\s*:：]", "", key)
    return key.lower()


def _in_every_language(text: str | Promise) -> set[str]:
    spellings = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            spellings.add(str(text))
    return spellings


def _choice_key(text: Any) -> str:
    return re.sub(r"\s", "", _halfwidth(text)).lower()


def _choice_lookup(choices: type[TextChoices]) -> dict[str, str]:
    """Cell text → stored value, accepting the code and the label in every language."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[_choice_key(value)] = value
        for spelling in _in_every_language(label):
            lookup[_choice_key(spelling)] = value
    return lookup


@dataclass
class RowProblem:
    line: int
    message: str
    column: str = ""  # the header as the file spells it; blank for a problem of the whole row or file

    def as_dict(self) -> dict[str, Any]:
        problem: dict[str, Any] = {"line": self.line, "message": self.message}
        if self.column:
            problem["column"] = self.column
        return problem


@dataclass
class ParsedRoster:
    kind: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    # The columns the file has (keys); a column it lacks leaves the stored values alone.
    present: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # key → the header as written

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def missing_optional(self) -> list[str]:
        return [column.key for column in COLUMNS[self.kind] if column.key not in self.present]


class RosterFileError(Exception):
    """The file as a whole cannot be read (not .xlsx, too large, wrong headers, empty)."""


# The workbook as a zip archive: checked before openpyxl opens it ------------------------------------

OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an Excel 97–2003 .xls


def _megabytes(size: int) -> int:
    return size // (1024 * 1024)


def check_workbook(content: bytes) -> zipfile.ZipFile:
    """The archive, if it is an .xlsx within the size limits; RosterFileError with advice otherwise.

    Reads only the zip's central directory: cheap whatever the file holds.
    """
    if len(content) > settings.ROSTER_IMPORT_MAX_BYTES:
        raise RosterFileError(
            _("The file is larger than %(size)s MB.") % {"size": _megabytes(settings.ROSTER_IMPORT_MAX_BYTES)}
        )
    if content.startswith(OLE2_SIGNATURE):
        raise RosterFileError(XLS_ADVICE)
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise RosterFileError(NOT_XLSX) from None
    if "xl/workbook.xml" not in archive.namelist():
        raise RosterFileError(NOT_XLSX)
    unpacked = sum(member.file_size for member in members)
    if len(members) > ZIP_MEMBERS_MAX or unpacked > settings.ROSTER_IMPORT_MAX_UNPACKED_BYTES:
        raise RosterFileError(
            _(
                "This workbook unpacks to more than %(size)s MB. Copy the rows into the template and upload "
                "that, or split the file."
            )
            % {"size": _megabytes(settings.ROSTER_IMPORT_MAX_UNPACKED_BYTES)}
        )
    return archive


NOT_XLSX = gettext_lazy(
    "This file is not an Excel workbook (.xlsx). Open it in Excel or WPS and save it as an Excel workbook (.xlsx)."
)
XLS_ADVICE = gettext_lazy(
    "This is an old Excel 97–2003 file (.xls). Open it in Excel or WPS, choose Save As, pick "
    "“Excel Workbook (.xlsx)”, and upload that file."
)
CSV_ADVICE = gettext_lazy(
    "CSV files are not read: Excel drops the last digits of ID numbers and the leading zeros of phone "
    "numbers when it saves one. Download the template, paste your rows into it, and upload it as .xlsx."
)


TOO_MANY_ROWS = gettext_lazy("The file has more than %(rows)s rows. Split it into several files.")


def _first_sheet_path(archive: zipfile.ZipFile) -> str | None:
    """The part holding the first worksheet, from workbook.xml and its relationships (both small)."""
    try:
        workbook = archive.read("xl/workbook.xml")[:1_000_000].decode("utf-8", "replace")
        relationships = archive.read("xl/_rels/workbook.xml.rels")[:1_000_000].decode("utf-8", "replace")
    except KeyError:
        return None
    sheet = re.search(r"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook) or re.search(
        r"<(?:\w+:)?sheet\b[^>]*?\bid=\"([^\"]+)\"", workbook
    )
    if sheet is None:
        return None
    for relationship in re.finditer(r"<Relationship\b[^>]*>", relationships):
        tag = relationship.group(0)
        if f'Id="{sheet.group(1)}"' in tag:
            target = re.search(r'Target="([^"]+)"', tag)
            if target is None:
                return None
            path = target.group(1)
            return path.lstrip("/") if path.startswith("/") else f"xl/{path}"
    return None


def estimate_rows(content: bytes) -> int:
    """About how many filled rows the first sheet has, cheaply: the web request's pre-check.

    No openpyxl: the zip's directory, then (when the sheet's XML is at most
    INLINE_SCAN_BYTES) a count of the rows holding a value. Counts title and header rows
    too, so it errs towards the worker. A sheet too large to scan counts as very large;
    an unreadable file as empty (the import itself then says why).
    """
    try:
        archive = check_workbook(content)
    except RosterFileError:
        return 0
    with archive:
        path = _first_sheet_path(archive) or "xl/worksheets/sheet1.xml"
        try:
            info = archive.getinfo(path)
        except KeyError:
            return 0
        if info.file_size > INLINE_SCAN_BYTES:
            return settings.ROSTER_IMPORT_MAX_ROWS + 1
        xml = archive.read(info).decode("utf-8", "replace")
    return sum(1 for row in re.finditer(r"<row\b.*?</row>", xml, re.S) if re.search(r"<v>|<v |<is>", row.group(0)))


def _read_rows(content: bytes) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """(line, cell values) of the first sheet, within the row and column limits."""
    check_workbook(content).close()
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a bad file
        raise RosterFileError(NOT_XLSX) from error
    limit = settings.ROSTER_IMPORT_MAX_ROWS + HEADER_SEARCH_ROWS
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(max_row=limit + 1, max_col=settings.ROSTER_IMPORT_MAX_COLUMNS, values_only=True)
        for line, row in enumerate(rows, start=1):
            if line > limit:
                if any(_text(cell) for cell in row):
                    raise RosterFileError(TOO_MANY_ROWS % {"rows": settings.ROSTER_IMPORT_MAX_ROWS})
                continue
            yield line, row
    except RosterFileError:
        raise
    except Exception as error:  # a broken sheet inside a readable archive
        raise RosterFileError(NOT_XLSX) from error
    finally:
        workbook.close()


# Headers ---------------------------------------------------------------------------------------------


def _spellings(column: Column) -> set[str]:
    return {header_key(spelling) for spelling in (*_in_every_language(column.header), *column.synonyms)}


def _map_headers(columns: tuple[Column, ...], header_row: tuple[Any, ...]) -> dict[str, int]:
    by_spelling = {spelling: column.key for column in columns for spelling in _spellings(column)}
    positions: dict[str, int] = {}
    for index, cell in enumerate(header_row):
        key = by_spelling.get(header_key(cell))
        if key is not None and key not in positions:
            positions[key] = index
    return positions


def _find_headers(
    columns: tuple[Column, ...], rows: Iterator[tuple[int, tuple[Any, ...]]]
) -> tuple[int, tuple[Any, ...], dict[str, int]]:
    """The first row (among the first HEADER_SEARCH_ROWS) holding every required header."""
    required = [column for column in columns if column.required]
    best: dict[str, int] = {}
    seen_any = False
    for line, row in rows:
        seen_any = True
        positions = _map_headers(columns, row)
        if all(column.key in positions for column in required):
            return line, row, positions
        if len(positions) > len(best):
            best = positions
        if line >= HEADER_SEARCH_ROWS:
            break
    if not seen_any:
        raise RosterFileError(_("The file is empty."))
    missing = [str(column.header) for column in required if column.key not in best]
    raise RosterFileError(
        _("No row among the first %(rows)s holds the template's headers. Missing: %(columns)s.")
        % {"rows": HEADER_SEARCH_ROWS, "columns": "、".join(missing)}
    )


# Rows ------------------------------------------------------------------------------------------------


def parse_roster(*, kind: str, content: bytes, manageable: dict[str, Organisation]) -> ParsedRoster:
    """Read and check every row. `manageable` maps organisation codes the importer may write to."""
    columns = COLUMNS[kind]
    model = MODELS[kind]
    lookups = {column.key: _choice_lookup(column.choices) for column in columns if column.choices}
    codes = {_halfwidth(code): organisation for code, organisation in manageable.items()}
    rows = iter(_read_rows(content))
    _header_line, header_row, positions = _find_headers(columns, rows)
    present = [column for column in columns if column.key in positions]
    parsed = ParsedRoster(
        kind=kind,
        present=[column.key for column in present],
        headers={column.key: _text(header_row[positions[column.key]]) for column in present},
    )
    seen_keys: dict[tuple, int] = {}

    filled = 0
    for line, raw in rows:
        if all(_text(cell) == "" for cell in raw):
            continue
        filled += 1
        if filled > settings.ROSTER_IMPORT_MAX_ROWS:
            raise RosterFileError(TOO_MANY_ROWS % {"rows": settings.ROSTER_IMPORT_MAX_ROWS})
        values: dict[str, Any] = {}
        problems: list[RowProblem] = []
        for column in present:
            index = positions[column.key]
            cell = raw[index] if index < len(raw) else None
            try:
                values[column.key] = _parse_cell(column, cell, lookups.get(column.key), model)
            except ValidationError as error:
                problems.extend(RowProblem(line, message, parsed.headers[column.key]) for message in error.messages)
        if "organisation" in values:
            problems.extend(_check_row(kind, line, values, codes, parsed.headers))
        if not problems:
            key = natural_key(values)
            if key in seen_keys:
                problems.append(RowProblem(line, _("Same person as line %(line)s.") % {"line": seen_keys[key]}))
            else:
                seen_keys[key] = line
        if problems:
            parsed.problems.extend(problems)
        else:
            parsed.rows.append((line, values))

    if not parsed.rows and not parsed.problems:
        raise RosterFileError(_("The file has headers but no rows."))
    return parsed


def _parse_cell(column: Column, cell: Any, lookup: dict[str, str] | None, model: type[Member] | type[Contact]) -> Any:
    if column.parse is not None:
        value = column.parse(cell)
        if column.required and value in (None, ""):
            raise ValidationError(_("This column is required."))
        return value
    if column.key == "organisation":
        text = _halfwidth(cell)
    elif column.key == "name":
        text = normalise_name(_text(cell))
    else:
        text = _text(cell)
    if column.required and not text:
        raise ValidationError(_("This column is required."))
    if lookup is None:
        if column.model_field:
            limit = getattr(model._meta.get_field(column.model_field), "max_length", None)
            if limit and len(text) > limit:
                raise ValidationError(
                    _("At most %(limit)s characters (this cell has %(length)s).")
                    % {"limit": limit, "length": len(text)}
                )
        return text
    if column.many:
        parts = [text]
        for separator in LIST_SEPARATORS:
            parts = [piece for part in parts for piece in part.split(separator)]
        items = [part.strip() for part in parts if part.strip()]
        unknown = [item for item in items if _choice_key(item) not in lookup]
        if unknown:
            raise ValidationError(_("Unknown value: %(values)s.") % {"values": "、".join(unknown)})
        return sorted({lookup[_choice_key(item)] for item in items})
    if not text:
        return ""
    if _choice_key(text) not in lookup:
        raise ValidationError(_("Unknown value: %(values)s.") % {"values": text})
    return lookup[_choice_key(text)]


def _check_row(
    kind: str, line: int, values: dict[str, Any], codes: dict[str, Organisation], headers: dict[str, str]
) -> list[RowProblem]:
    problems = []
    organisation = codes.get(values["organisation"])
    if organisation is None:
        problems.append(
            RowProblem(
                line,
                _("Organisation code %(code)s does not exist or is outside your organisation.")
                % {"code": values["organisation"]},
                headers["organisation"],
            )
        )
    else:
        values["organisation"] = organisation
        if kind == RosterKind.MEMBERS:
            from .services import check_member_organisation  # services imports this module

            try:
                check_member_organisation(organisation)
            except ValidationError as error:
                problems.extend(RowProblem(line, message, headers["organisation"]) for message in error.messages)
    if kind == RosterKind.CONTACTS and "category" in values and "reasons" in values:
        allowed = REASONS_BY_CATEGORY.get(values["category"], set())
        wrong = [code for code in values["reasons"] if code not in allowed]
        if wrong:
            problems.append(
                RowProblem(
                    line,
                    _("These reasons do not apply to this category: %(reasons)s.")
                    % {"reasons": "、".join(str(ContactReasonCode(code).label) for code in wrong)},
                    headers["reasons"],
                )
            )
    return problems


def natural_key(values: dict[str, Any]) -> tuple:
    """Two rows of a file name one person: the same ID number, else the same name and phone in one organisation."""
    if values.get("id_number"):
        return ("id", values["id_number"])
    organisation = values.get("organisation")
    return ("name_phone", getattr(organisation, "pk", organisation), name_key(values["name"]), values.get("phone", ""))


def build_template(*, kind: str, organisations: Iterable[Organisation]) -> bytes:
    """An empty roster with headers, drop-down lists, and a sheet of allowed values."""
    columns = COLUMNS[kind]
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook opens on its one worksheet
    sheet.title = _("Roster")
    sheet.append([f"{column.header}{'*' if column.required else ''}" for column in columns])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        if column.choices and not column.many:
            labels = ",".join(str(label) for _value, label in column.choices.choices)
            validation = DataValidation(type="list", formula1=f'"{labels}"', allow_blank=not column.required)
            validation.add(f"{letter}2:{letter}5000")
            sheet.add_data_validation(validation)
        if column.key in ("id_number", "phone"):
            # Text format, so a spreadsheet keeps long numbers and leading zeros.
            for row in range(2, 5001):
                sheet.cell(row=row, column=index).number_format = "@"

    help_sheet = workbook.create_sheet(_("Allowed values"))
    help_sheet.append([_("Column"), _("Allowed values")])
    for column in columns:
        if column.choices:
            separator = "、" if column.many else " / "
            help_sheet.append([str(column.header), separator.join(str(label) for _v, label in column.choices.choices)])
    help_sheet.append([])
    help_sheet.append([_("Organisation code"), _("Organisation")])
    for organisation in organisations:
        help_sheet.append([organisation.code, organisation.name])
    help_sheet.column_dimensions["A"].width = 20
    help_sheet.column_dimensions["B"].width = 80

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
