"""Roster files (.xlsx) for members and contacts: the template, parsing and validation.

Parsing never writes. `parse_roster` reads every row, checks each against the
same rules the services apply, and returns either clean rows or the full list
of problems with their spreadsheet line numbers; `members.services_import`
writes clean rows in one transaction.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import TextChoices
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .models import (
    REASONS_BY_CATEGORY,
    ContactCategory,
    ContactKind,
    ContactReasonCode,
    Gender,
    LeadershipRoleCode,
    MemberCategory,
    MemberStatus,
    Organisation,
)
from .validators import normalise_id_number, normalise_phone, validate_id_number, validate_phone

LIST_SEPARATORS = ("、", "，", ",", ";", "；", "/")


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


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(_("Enter a date as YYYY-MM-DD.")) from None


def _parse_id_number(value: Any) -> str:
    text = normalise_id_number(_text(value))
    if text:
        validate_id_number(text)
    return text


def _parse_phone(value: Any) -> str:
    text = normalise_phone(_text(value))
    if text:
        validate_phone(text)
    return text


MEMBER_COLUMNS = (
    Column("name", gettext_lazy("Name"), required=True, width=10),
    Column("gender", gettext_lazy("Gender"), required=True, choices=Gender, width=8),
    Column("organisation", gettext_lazy("Organisation code"), required=True),
    Column("category", gettext_lazy("Category"), required=True, choices=MemberCategory),
    Column("status", gettext_lazy("Membership status"), required=True, choices=MemberStatus),
    Column("id_number", gettext_lazy("ID number"), required=True, parse=_parse_id_number, width=22),
    Column("phone", gettext_lazy("Phone"), parse=_parse_phone),
    Column("joined_on", gettext_lazy("Joined the party on"), parse=_parse_date),
    Column("roles", gettext_lazy("Leadership roles"), choices=LeadershipRoleCode, many=True, width=24),
)

CONTACT_COLUMNS = (
    Column("name", gettext_lazy("Name"), required=True, width=10),
    Column("gender", gettext_lazy("Gender"), required=True, choices=Gender, width=8),
    Column("organisation", gettext_lazy("Organisation code"), required=True),
    Column("category", gettext_lazy("Category"), required=True, choices=ContactCategory),
    Column("kind", gettext_lazy("Person or household"), choices=ContactKind, width=10),
    Column("reasons", gettext_lazy("Reasons and hardship"), choices=ContactReasonCode, many=True, width=24),
    Column("unit", gettext_lazy("Unit")),
    Column("id_number", gettext_lazy("ID number"), parse=_parse_id_number, width=22),
    Column("phone", gettext_lazy("Phone"), parse=_parse_phone),
    Column("address", gettext_lazy("Address"), width=30),
    Column("notes", gettext_lazy("Notes"), width=30),
)

COLUMNS = {RosterKind.MEMBERS: MEMBER_COLUMNS, RosterKind.CONTACTS: CONTACT_COLUMNS}


def _in_every_language(text: str | Promise) -> set[str]:
    from django.conf import settings

    spellings = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            spellings.add(str(text).strip().lower())
    return spellings


def _choice_lookup(choices: type[TextChoices]) -> dict[str, str]:
    """Cell text → stored value, accepting the code and the label in every language."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[value.lower()] = value
        for spelling in _in_every_language(label):
            lookup[spelling] = value
    return lookup


@dataclass
class RowProblem:
    line: int
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "message": self.message}


@dataclass
class ParsedRoster:
    kind: str
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.problems


class RosterFileError(Exception):
    """The file as a whole cannot be read (not .xlsx, wrong headers, empty)."""


def _read_rows(content: bytes) -> Iterable[tuple[int, tuple[Any, ...]]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a bad file
        raise RosterFileError(_("This file is not an Excel workbook (.xlsx).")) from error
    try:
        yield from enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
    finally:
        workbook.close()


def _map_headers(columns: tuple[Column, ...], header_row: tuple[Any, ...]) -> dict[str, int]:
    by_spelling = {}
    for column in columns:
        for spelling in _in_every_language(column.header):
            by_spelling[spelling] = column.key
    positions: dict[str, int] = {}
    for index, cell in enumerate(header_row):
        key = by_spelling.get(_text(cell).rstrip("*").strip().lower())
        if key is not None and key not in positions:
            positions[key] = index
    missing = [str(column.header) for column in columns if column.required and column.key not in positions]
    if missing:
        raise RosterFileError(
            _("The first row must hold the template's headers. Missing: %(columns)s.") % {"columns": "、".join(missing)}
        )
    return positions


def parse_roster(*, kind: str, content: bytes, manageable: dict[str, Organisation]) -> ParsedRoster:
    """Read and check every row. `manageable` maps organisation codes the importer may write to."""
    columns = COLUMNS[kind]
    lookups = {column.key: _choice_lookup(column.choices) for column in columns if column.choices}
    parsed = ParsedRoster(kind=kind)
    rows = iter(_read_rows(content))
    try:
        _header_line, header_row = next(rows)
    except StopIteration:
        raise RosterFileError(_("The file is empty.")) from None
    positions = _map_headers(columns, header_row)
    seen_keys: dict[tuple, int] = {}

    for line, raw in rows:
        if all(_text(cell) == "" for cell in raw):
            continue
        values: dict[str, Any] = {}
        errors: list[str] = []
        for column in columns:
            index = positions.get(column.key)
            cell = raw[index] if index is not None and index < len(raw) else None
            try:
                values[column.key] = _parse_cell(column, cell, lookups.get(column.key))
            except ValidationError as error:
                errors.extend(f"{column.header}: {message}" for message in error.messages)
        if not errors:
            errors.extend(_check_row(kind, values, manageable))
        if not errors:
            key = natural_key(values)
            if key in seen_keys:
                errors.append(_("Same person as line %(line)s.") % {"line": seen_keys[key]})
            else:
                seen_keys[key] = line
        if errors:
            parsed.problems.extend(RowProblem(line, message) for message in errors)
        else:
            parsed.rows.append((line, values))

    if not parsed.rows and not parsed.problems:
        raise RosterFileError(_("The file has headers but no rows."))
    return parsed


def _parse_cell(column: Column, cell: Any, lookup: dict[str, str] | None) -> Any:
    if column.parse is not None:
        value = column.parse(cell)
        if column.required and value in (None, ""):
            raise ValidationError(_("This column is required."))
        return value
    text = _text(cell)
    if column.required and not text:
        raise ValidationError(_("This column is required."))
    if lookup is None:
        return text
    if column.many:
        parts = [text]
        for separator in LIST_SEPARATORS:
            parts = [piece for part in parts for piece in part.split(separator)]
        items = [part.strip() for part in parts if part.strip()]
        unknown = [item for item in items if item.lower() not in lookup]
        if unknown:
            raise ValidationError(_("Unknown value: %(values)s.") % {"values": "、".join(unknown)})
        return sorted({lookup[item.lower()] for item in items})
    if not text:
        return ""
    if text.lower() not in lookup:
        raise ValidationError(_("Unknown value: %(values)s.") % {"values": text})
    return lookup[text.lower()]


def _check_row(kind: str, values: dict[str, Any], manageable: dict[str, Organisation]) -> list[str]:
    errors = []
    organisation = manageable.get(values["organisation"])
    if organisation is None:
        errors.append(
            _("Organisation code %(code)s does not exist or is outside your organisation.")
            % {"code": values["organisation"]}
        )
    else:
        values["organisation"] = organisation
        if kind == RosterKind.MEMBERS:
            from .services import check_member_organisation  # services imports this module

            try:
                check_member_organisation(organisation)
            except ValidationError as error:
                errors.extend(error.messages)
    if kind == RosterKind.CONTACTS:
        allowed = REASONS_BY_CATEGORY.get(values["category"], set())
        wrong = [code for code in values["reasons"] if code not in allowed]
        if wrong:
            errors.append(
                _("These reasons do not apply to this category: %(reasons)s.")
                % {"reasons": "、".join(str(ContactReasonCode(code).label) for code in wrong)}
            )
        if not values["id_number"] and not values["phone"]:
            errors.append(_("Give an ID number or a phone number."))
    return errors


def natural_key(values: dict[str, Any]) -> tuple:
    """How a row finds the person it updates: the ID number, else name + phone in the organisation."""
    if values.get("id_number"):
        return ("id", values["id_number"])
    return ("name_phone", values["organisation"].pk, values["name"], values["phone"])


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
