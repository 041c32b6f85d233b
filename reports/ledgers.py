"""Excel ledgers (台账): streaming sheets on openpyxl's write-only mode.

The core is `LedgerSheet` / `write_ledger`, which take plain values and know nothing of
the database. The `write_*_ledger` functions turn a queryset into rows in a fixed number
of queries (`select_related`, one `Prefetch`, `.iterator(chunk_size=2000)`), and
`build_review_pack` puts every sheet of one organisation and term into one workbook.

User text never becomes a formula. openpyxl turns any string starting with "=" into a
live formula, even in write-only mode, so a text cell whose value starts with
= + - @ TAB or CR is written as a `WriteOnlyCell` with `data_type = "s"` (an inline
string, `t="inlineStr"`) and the `quotePrefix` style, which is how Excel itself marks a
typed leading apostrophe. We do *not* put a literal "'" in the value: in an .xlsx a
string cell is never evaluated by Excel, LibreOffice or WPS, and a literal apostrophe
would show in the cell and corrupt the data for anyone re-importing the file. (The
apostrophe is the right defence for CSV, which has no cell types.)

Write-only sheets write everything that precedes the rows (sheet properties, frozen
pane, column widths) when the first row is appended, and everything after them
(auto-filter, page setup) when the workbook is saved; print titles are workbook names.
So `LedgerSheet` sets the former in its constructor and the auto-filter range in
`close()`, once the number of rows is known.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from os import PathLike
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from members.models import Contact, ContactCategory, ContactKind, Member
from members.scoping import get_scope
from members.selectors import contact_is_entitled, member_list
from members.services import sensitive_export_log
from pairings.models import QuotaStatus, Term
from visits.models import HelpKind, Situation, Visit, VisitHelp, VisitMode
from visits.pledges.models import Pledge
from visits.pledges.selectors import pledge_list
from visits.requests.models import Request
from visits.requests.selectors import request_list
from visits.requests.services import OPEN_STATES
from visits.selectors import visit_list

from .models import Evaluation
from .selectors import evaluation_list

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from members.models import Organisation

CHUNK_SIZE = 2000
PROGRESS_EVERY = 1000
SHEET_TITLE_MAX = 31
DATE_FORMAT = "yyyy-mm-dd"
MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.0%"
# Leading characters that make a spreadsheet read text as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_SHEET_TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))
_HEADER_FONT = Font(bold=True)


Progress = Callable[[int], None] | None


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    MONEY = "money"
    INT = "int"
    PERCENT = "percent"


@dataclass(frozen=True)
class Column:
    label: str | Promise
    width: float = 14
    kind: Kind = Kind.TEXT


# The core: plain values in, one formatted sheet out ----------------------------------------


def sheet_title(title: str | Promise) -> str:
    """A title Excel accepts: at most 31 characters, none of []:*?/\\."""
    return str(title).translate(_SHEET_TITLE_FORBIDDEN)[:SHEET_TITLE_MAX]


def safe_text(value: str) -> str:
    """Drop control characters that XML (and so openpyxl) refuses."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


class LedgerSheet:
    """One write-only sheet: bold frozen header, filter, widths, typed cells, A4 landscape print."""

    def __init__(
        self,
        workbook: Workbook,
        title: str | Promise,
        columns: Sequence[Column],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        if not getattr(workbook, "write_only", False):
            raise ValueError("LedgerSheet streams rows: use Workbook(write_only=True).")
        self.columns = list(columns)
        self.rows_written = 0
        self.progress = progress
        self.ws = workbook.create_sheet(title=sheet_title(title))
        ws = self.ws
        # Everything up to <sheetData> is written with the first row, so set it now.
        ws.freeze_panes = "A2"
        ws.print_title_rows = "1:1"
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        for index, column in enumerate(self.columns, start=1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        header = []
        for column in self.columns:
            cell = self._text_cell(str(column.label))
            cell.font = _HEADER_FONT
            header.append(cell)
        ws.append(header)

    def _text_cell(self, value: str) -> Cell:
        cell = WriteOnlyCell(self.ws, value=value)
        cell.data_type = "s"
        return cell

    def _cell(self, kind: Kind, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, Promise):
            value = str(value)
        if kind is Kind.DATE and isinstance(value, date):
            if isinstance(value, datetime):
                value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
            cell = WriteOnlyCell(self.ws, value=value)
            cell.number_format = DATE_FORMAT
            return cell
        if kind in (Kind.MONEY, Kind.PERCENT) and isinstance(value, int | float | Decimal):
            cell = WriteOnlyCell(self.ws, value=value)  # type: ignore[arg-type]  # openpyxl takes Decimal; stubs omit it
            cell.number_format = MONEY_FORMAT if kind is Kind.MONEY else PERCENT_FORMAT
            return cell
        if isinstance(value, str):
            value = safe_text(value)
            if value.startswith(FORMULA_PREFIXES):
                cell = self._text_cell(value)
                cell.quotePrefix = True
                return cell
            return value
        if isinstance(value, int | float | Decimal | date):
            return value
        return safe_text(str(value))

    def append(self, values: Sequence[Any]) -> None:
        if len(values) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} values, got {len(values)}")
        self.ws.append([self._cell(column.kind, value) for column, value in zip(self.columns, values, strict=True)])
        self.rows_written += 1
        if self.progress is not None and self.rows_written % PROGRESS_EVERY == 0:
            self.progress(PROGRESS_EVERY)

    def close(self) -> None:
        """Set the auto-filter over the used range; written when the workbook is saved."""
        last = get_column_letter(max(len(self.columns), 1))
        self.ws.auto_filter.ref = f"A1:{last}{self.rows_written + 1}"
        if self.progress is not None:
            self.progress(self.rows_written % PROGRESS_EVERY)


def write_ledger(
    workbook: Workbook,
    title: str | Promise,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write a header and the rows to a new sheet; return the number of data rows.

    `progress`, if given, is called with the number of rows written since its last call.
    """
    sheet = LedgerSheet(workbook, title, columns, progress)
    for row in rows:
        sheet.append(row)
    sheet.close()
    return sheet.rows_written


# Personal data -----------------------------------------------------------------------------


@dataclass
class PersonalData:
    """Decides, contact by contact, whether the phone leaves in full, and remembers whose did.

    Masked unless `full` was asked for *and* the user manages the contact's organisation.
    The default (no user) masks everything.
    """

    user: User | None = None
    full: bool = False
    exported: dict[int, Contact] = field(default_factory=dict)

    def phone(self, contact: Contact | None) -> str:
        if contact is None:
            return ""
        if self.full and self.user is not None and contact_is_entitled(user=self.user, contact=contact):
            if contact.phone:
                self.exported[contact.pk] = contact
            return contact.phone
        return contact.masked_phone

    def log_export(self) -> int:
        """One SensitiveAccess(action=export) per contact whose data went out in full."""
        if self.user is None or not self.exported:
            return 0
        count = sensitive_export_log(user=self.user, contacts=self.exported.values())
        self.exported.clear()
        return count


# Querysets → rows --------------------------------------------------------------------------

VISIT_COLUMNS = (
    Column(_("Date"), 12, Kind.DATE),
    Column(_("Party member"), 12),
    Column(_("Branch"), 16),
    Column(_("Contact"), 12),
    Column(_("Contact category"), 16),
    Column(_("Contact phone"), 15),
    Column(_("Mode"), 12),
    Column(_("Place"), 16),
    Column(_("Duration (minutes)"), 10, Kind.INT),
    Column(_("What was discussed"), 40),
    Column(_("Views and requests"), 30),
    Column(_("Follow-up needed"), 24),
    Column(_("Situation to report"), 14),
    Column(_("Help given"), 24),
    Column(_("Financial aid (yuan)"), 12, Kind.MONEY),
    Column(_("Goods value (yuan)"), 12, Kind.MONEY),
)


HelpRow = tuple[str, str, Decimal | None]  # kind, description, amount


def _labels(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Choice labels translated once per export: `get_FOO_display()` rebuilds and translates them per call."""
    return {value: str(label) for value, label in choices}


def _total(help_given: list[HelpRow], kind: str) -> Decimal | None:
    amounts = [amount for item_kind, _description, amount in help_given if item_kind == kind and amount is not None]
    return sum(amounts, Decimal(0)) if amounts else None


def _help_of(visit_ids: list[int]) -> dict[int, list[HelpRow]]:
    help_by_visit: dict[int, list[HelpRow]] = defaultdict(list)
    rows = VisitHelp.objects.filter(visit_id__in=visit_ids).order_by("visit_id", "id")
    for visit_id, kind, description, amount in rows.values_list("visit_id", "kind", "description", "amount"):
        help_by_visit[visit_id].append((kind, description, amount))
    return help_by_visit


def visit_rows(visits: QuerySet[Visit], personal: PersonalData) -> Iterator[list[Any]]:
    """Two queries per 2,000 visits: the visits with member, branch and contact, and their help as tuples.

    The hot loop of the largest ledger (see benchmarks/export.py): labels are looked up in
    dicts made once, and help comes as plain tuples rather than model instances.
    """
    modes, categories = _labels(VisitMode.choices), _labels(ContactCategory.choices)
    situations, kinds = _labels(Situation.choices), _labels(HelpKind.choices)
    queryset = visits.select_related("pairing__member__organisation", "pairing__contact__organisation")
    stream = queryset.prefetch_related(None).iterator(chunk_size=CHUNK_SIZE)
    while chunk := list(islice(stream, CHUNK_SIZE)):
        help_by_visit = _help_of([visit.pk for visit in chunk])
        for visit in chunk:
            member, contact = visit.pairing.member, visit.pairing.contact
            help_given = help_by_visit.get(visit.pk, [])
            yield [
                visit.happened_on,
                member.name,
                member.organisation.name,
                contact.name,
                categories.get(contact.category, contact.category),
                personal.phone(contact),
                modes.get(visit.mode, visit.mode),
                visit.place,
                visit.duration_minutes,
                visit.discussed,
                visit.views_and_requests,
                visit.follow_up,
                situations.get(visit.situation, visit.situation) if visit.situation else "",
                "; ".join(f"{kinds.get(kind, kind)} {description}".strip() for kind, description, _ in help_given),
                _total(help_given, HelpKind.MONEY),
                _total(help_given, HelpKind.GOODS),
            ]


def write_visit_ledger(
    workbook: Workbook, visits: QuerySet[Visit], *, personal: PersonalData | None = None, progress: Progress = None
) -> int:
    rows = visit_rows(visits, personal or PersonalData())
    return write_ledger(workbook, _("Visit logs"), VISIT_COLUMNS, rows, progress)


REQUEST_COLUMNS = (
    Column(_("Recorded on"), 12, Kind.DATE),
    Column(_("Organisation"), 16),
    Column(pgettext_lazy("request", "Summary"), 36),
    Column(_("Source"), 14),
    Column(_("State"), 12),
    Column(_("Raised by"), 12),
    Column(_("Contact phone"), 15),
    Column(_("Responsible person"), 12),
    Column(_("Deadline"), 12, Kind.DATE),
    Column(_("Overdue"), 8),
)


def request_rows(requests: QuerySet[Request], personal: PersonalData) -> Iterator[list[Any]]:
    """One query per 2,000 requests."""
    today = timezone.localdate()
    queryset = requests.select_related("organisation", "contact__organisation", "responsible")
    for request in queryset.prefetch_related(None).iterator(chunk_size=CHUNK_SIZE):
        overdue = request.deadline is not None and request.deadline < today and request.state in OPEN_STATES
        yield [
            request.created_at,
            request.organisation.name,
            request.summary,
            request.get_source_display(),
            request.get_state_display(),
            request.contact.name if request.contact else "",
            personal.phone(request.contact),
            request.responsible.name if request.responsible else "",
            request.deadline,
            gettext("Yes") if overdue else "",
        ]


def write_request_ledger(
    workbook: Workbook, requests: QuerySet[Request], *, personal: PersonalData | None = None, progress: Progress = None
) -> int:
    rows = request_rows(requests, personal or PersonalData())
    return write_ledger(workbook, _("Requests"), REQUEST_COLUMNS, rows, progress)


PLEDGE_COLUMNS = (
    Column(_("Year"), 8, Kind.INT),
    Column(_("Party member"), 12),
    Column(_("Branch"), 16),
    Column(_("Pledge"), 36),
    Column(_("State"), 14),
    Column(_("Made public on"), 12, Kind.DATE),
    Column(_("Rating"), 10),
    Column(_("Secretary's evaluation"), 36),
)


def pledge_rows(pledges: QuerySet[Pledge]) -> Iterator[list[Any]]:
    """One query per 2,000 pledges."""
    queryset = pledges.select_related("member__organisation").prefetch_related(None)
    for pledge in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield [
            pledge.year,
            pledge.member.name,
            pledge.member.organisation.name,
            pledge.title,
            pledge.get_state_display(),
            pledge.made_public_on,
            pledge.get_rating_display() if pledge.rating else "",
            pledge.evaluation,
        ]


def write_pledge_ledger(workbook: Workbook, pledges: QuerySet[Pledge], *, progress: Progress = None) -> int:
    return write_ledger(workbook, _("Pledges"), PLEDGE_COLUMNS, pledge_rows(pledges), progress)


ROSTER_COLUMNS = (
    Column(_("Party member"), 12),
    Column(_("Branch"), 16),
    Column(_("Member category"), 14),
)

Bucket = tuple[str, str]  # (contact category, unit), as QuotaStatus stores them


def _bucket_order(bucket: Bucket) -> tuple[int, int]:
    categories = ["", *ContactCategory.values]
    category, unit = bucket
    return (
        categories.index(category) if category in categories else len(categories),
        ContactKind.values.index(unit) if unit in ContactKind.values else len(ContactKind.values),
    )


def _bucket_label(bucket: Bucket) -> str | Promise:
    category, unit = bucket
    category_label = ContactCategory(category).label if category in ContactCategory.values else _("any category")
    unit_label = ContactKind(unit).label if unit in ContactKind.values else unit
    return format_lazy("{} ({})", category_label, unit_label)


def roster_buckets(members: QuerySet[Member], term: Term) -> list[Bucket]:
    """The buckets the term's quota job stored for these members: one query."""
    rows = (
        QuotaStatus.objects.filter(term=term, member__in=members.order_by().values("pk"))
        .order_by()
        .values_list("contact_category", "unit")
        .distinct()
    )
    return sorted(set(rows), key=_bucket_order)


def roster_columns(buckets: Sequence[Bucket]) -> list[Column]:
    columns = list(ROSTER_COLUMNS)
    for bucket in buckets:
        label = _bucket_label(bucket)
        columns += [
            Column(format_lazy("{} · {}", label, _("required")), 10, Kind.INT),
            Column(format_lazy("{} · {}", label, _("actual")), 10, Kind.INT),
            Column(format_lazy("{} · {}", label, _("short by")), 10, Kind.INT),
        ]
    return columns


def roster_rows(members: QuerySet[Member], term: Term, buckets: Sequence[Bucket]) -> Iterator[list[Any]]:
    """Two queries per 2,000 members: the members with their branch, and their quota statuses."""
    statuses = Prefetch("quota_statuses", queryset=QuotaStatus.objects.filter(term=term), to_attr="term_statuses")
    queryset = members.select_related("organisation").prefetch_related(None).prefetch_related(statuses)
    for member in queryset.iterator(chunk_size=CHUNK_SIZE):
        by_bucket = {(status.contact_category, status.unit): status for status in member.term_statuses}
        row: list[Any] = [member.name, member.organisation.name, member.get_category_display()]
        for bucket in buckets:
            status = by_bucket.get(bucket)
            row += [status.required, status.actual, status.shortfall] if status else [None, None, None]
        yield row


def write_roster_ledger(workbook: Workbook, members: QuerySet[Member], term: Term, *, progress: Progress = None) -> int:
    """Members with the quota job's required / actual / short per bucket; three queries in all."""
    buckets = roster_buckets(members, term)
    rows = roster_rows(members, term, buckets)
    return write_ledger(workbook, _("Roster and quotas"), roster_columns(buckets), rows, progress)


EVALUATION_COLUMNS = (
    Column(_("Party member"), 12),
    Column(_("Branch"), 16),
    Column(_("Quota fulfilment"), 10, Kind.PERCENT),
    Column(_("Talk frequency"), 10, Kind.PERCENT),
    Column(_("Requests resolved on time"), 10, Kind.PERCENT),
    Column(_("Pledges kept"), 10, Kind.PERCENT),
    Column(_("Public satisfaction"), 10, Kind.PERCENT),
    Column(_("Survey answers"), 8, Kind.INT),
    Column(_("Score"), 8, Kind.INT),
    Column(_("Computed grade"), 12),
    Column(_("Grade"), 12),
    Column(_("Accountability"), 10),
    Column(_("Adjustment and reason"), 36),
    Column(_("Review meeting remarks"), 30),
)


def evaluation_rows(evaluations: QuerySet[Evaluation]) -> Iterator[list[Any]]:
    """Two queries per 2,000 members: the results with member and branch, and their adjustments."""
    queryset = evaluations.select_related("member", "organisation").prefetch_related(None)
    queryset = queryset.prefetch_related("adjustments")
    for evaluation in queryset.iterator(chunk_size=CHUNK_SIZE):
        adjustments = list(evaluation.adjustments.all())
        last = adjustments[-1] if adjustments else None
        yield [
            evaluation.member.name,
            evaluation.organisation.name,
            evaluation.quota_rate,
            evaluation.frequency_rate,
            evaluation.requests_rate,
            evaluation.pledges_rate,
            evaluation.satisfaction_rate,
            evaluation.survey_answers,
            evaluation.score,
            evaluation.get_computed_grade_display() if evaluation.computed_grade else "",
            evaluation.get_grade_display(),
            gettext("Yes") if evaluation.accountability else "",
            f"{last.get_to_grade_display()}: {last.reason}" if evaluation.adjusted_grade and last else "",
            "",  # left blank for the meeting to fill in on paper
        ]


def write_evaluation_ledger(workbook: Workbook, evaluations: QuerySet[Evaluation], *, progress: Progress = None) -> int:
    return write_ledger(workbook, _("Evaluation sheet"), EVALUATION_COLUMNS, evaluation_rows(evaluations), progress)


# Exports: one ledger, or the whole review pack ----------------------------------------------


class LedgerKind(StrEnum):
    PACK = "pack"
    ROSTER = "roster"
    VISITS = "visits"
    REQUESTS = "requests"
    PLEDGES = "pledges"
    EVALUATION = "evaluation"


LEDGER_LABELS = {
    LedgerKind.PACK: _("Review pack (every ledger)"),
    LedgerKind.ROSTER: _("Roster and quotas"),
    LedgerKind.VISITS: _("Visit logs"),
    LedgerKind.REQUESTS: _("Requests"),
    LedgerKind.PLEDGES: _("Pledges"),
    LedgerKind.EVALUATION: _("Evaluation sheet"),
}
PACK_ORDER = (LedgerKind.ROSTER, LedgerKind.VISITS, LedgerKind.REQUESTS, LedgerKind.PLEDGES, LedgerKind.EVALUATION)


@dataclass(frozen=True)
class LedgerQuerysets:
    """The rows each ledger of one organisation's subtree and term holds, as the user may read them."""

    user: User
    term: Term
    organisation: Organisation

    def roster(self) -> QuerySet[Member]:
        return (
            member_list(user=self.user)
            .filter(organisation__path__startswith=self.organisation.path)
            .order_by("organisation__path", "name", "id")
        )

    def visits(self) -> QuerySet[Visit]:
        return (
            visit_list(user=self.user)
            .filter(pairing__term=self.term, pairing__member__organisation__path__startswith=self.organisation.path)
            .order_by("happened_on", "id")
        )

    def requests(self) -> QuerySet[Request]:
        return (
            request_list(user=self.user)
            .filter(
                organisation__path__startswith=self.organisation.path,
                created_at__date__range=(self.term.starts_on, self.term.ends_on),
            )
            .order_by("created_at", "id")
        )

    def pledges(self) -> QuerySet[Pledge]:
        # Pledges are yearly; a term takes those of the year it starts in, as the evaluation does.
        return (
            pledge_list(user=self.user)
            .filter(member__organisation__path__startswith=self.organisation.path, year=self.term.starts_on.year)
            .order_by("member__organisation__path", "member__name", "id")
        )

    def evaluation(self) -> QuerySet[Evaluation]:
        return (
            evaluation_list(user=self.user)
            .filter(term=self.term, organisation__path__startswith=self.organisation.path)
            .order_by("organisation__path", "member__name", "member_id")
        )

    def of(self, kind: LedgerKind) -> QuerySet:
        return getattr(self, kind.value)()


def ledger_row_count(*, user: User, term: Term, organisation: Organisation, kind: LedgerKind) -> int:
    """How many rows an export will write: one COUNT per sheet, to choose direct download or a job."""
    kind = LedgerKind(kind)
    querysets = LedgerQuerysets(user=user, term=term, organisation=organisation)
    kinds = PACK_ORDER if kind is LedgerKind.PACK else (kind,)
    return sum(querysets.of(each).order_by().count() for each in kinds)


def build_ledgers(
    *,
    user: User,
    term: Term,
    organisation: Organisation,
    kind: LedgerKind = LedgerKind.PACK,
    full_personal_data: bool = False,
    path: str | PathLike[str] | None = None,
    progress: Progress = None,
) -> bytes | None:
    """One ledger, or every ledger (the review pack), of an organisation's subtree for a term.

    Returns the .xlsx bytes, or writes to `path` and returns None. Rows are those the
    user may read; phones go out in full only where the user manages the contact's
    organisation and asked for it, and each such contact is logged as exported.
    """
    if not get_scope(user).reads(organisation):
        raise PermissionDenied(gettext("You may not export this organisation's ledgers."))
    kind = LedgerKind(kind)
    querysets = LedgerQuerysets(user=user, term=term, organisation=organisation)
    personal = PersonalData(user=user, full=full_personal_data)
    workbook = Workbook(write_only=True)
    for each in PACK_ORDER if kind is LedgerKind.PACK else (kind,):
        if each is LedgerKind.ROSTER:
            write_roster_ledger(workbook, querysets.roster(), term, progress=progress)
        elif each is LedgerKind.VISITS:
            write_visit_ledger(workbook, querysets.visits(), personal=personal, progress=progress)
        elif each is LedgerKind.REQUESTS:
            write_request_ledger(workbook, querysets.requests(), personal=personal, progress=progress)
        elif each is LedgerKind.PLEDGES:
            write_pledge_ledger(workbook, querysets.pledges(), progress=progress)
        else:
            write_evaluation_ledger(workbook, querysets.evaluation(), progress=progress)

    if path is not None:
        workbook.save(path)
        personal.log_export()
        return None
    buffer = io.BytesIO()
    workbook.save(buffer)
    personal.log_export()
    return buffer.getvalue()


def build_review_pack(
    *,
    user: User,
    term: Term,
    organisation: Organisation,
    full_personal_data: bool = False,
    path: str | PathLike[str] | None = None,
) -> bytes | None:
    """Every ledger of an organisation's subtree for a term, in one workbook."""
    return build_ledgers(
        user=user, term=term, organisation=organisation, full_personal_data=full_personal_data, path=path
    )


__all__ = [
    "Column",
    "Kind",
    "LedgerKind",
    "LedgerSheet",
    "PersonalData",
    "build_ledgers",
    "build_review_pack",
    "ledger_row_count",
    "write_evaluation_ledger",
    "write_ledger",
    "write_pledge_ledger",
    "write_request_ledger",
    "write_roster_ledger",
    "write_visit_ledger",
]
