"""Excel ledgers: layout read back with openpyxl, formula injection, masking, query counts."""

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import translation
from openpyxl import Workbook, load_workbook

from members.models import Member, SensitiveAccess
from pairings import services as pairing_services
from pairings.models import QuotaStatus
from reports import services as report_services
from reports.ledgers import (
    Column,
    Kind,
    LedgerKind,
    PersonalData,
    build_ledgers,
    build_review_pack,
    ledger_row_count,
    write_ledger,
    write_roster_ledger,
    write_visit_ledger,
)
from reports.models import Evaluation, SurveyResponse
from tests.conftest import open_term
from visits import services
from visits.models import Visit
from visits.services import HelpGiven, VisitData

pytestmark = pytest.mark.django_db

TODAY = date(2026, 10, 15)
PACK_SHEETS = ["Roster and quotas", "Visit logs", "Requests", "Pledges", "Evaluation sheet"]
INJECTIONS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def term(world):
    with time_machine.travel(date(2026, 9, 1)):
        term = open_term(world)
        pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    return term


def log(world, happened_on=date(2026, 10, 14), **kwargs):
    with time_machine.travel(TODAY):
        return services.visit_log(
            user=world.member_a1.user,
            contact=world.contact_a1,
            data=VisitData(happened_on=happened_on, mode="talk", discussed=kwargs.pop("discussed", "谈心"), **kwargs),
        )


def saved(workbook):
    buffer = io.BytesIO()
    workbook.save(buffer)
    return load_workbook(io.BytesIO(buffer.getvalue()))


def read(content):
    return load_workbook(io.BytesIO(content))


def rows(sheet):
    return [list(row) for row in sheet.iter_rows(values_only=True)]


COLUMNS = [
    Column("Name", 20),
    Column("On", 12, Kind.DATE),
    Column("Amount", 12, Kind.MONEY),
    Column("Count", 8, Kind.INT),
]


# The core: plain rows ------------------------------------------------------------------


def test_a_ledger_sheet_has_a_bold_frozen_filtered_header_and_prints_a4_landscape_fit_to_width():
    workbook = Workbook(write_only=True)
    count = write_ledger(workbook, "Ledger", COLUMNS, [["甲", date(2026, 10, 1), Decimal("1234.5"), 3]] * 2)

    sheet = saved(workbook)["Ledger"]
    assert count == 2
    assert rows(sheet)[0] == ["Name", "On", "Amount", "Count"]
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:D3"
    assert sheet.print_title_rows == "$1:$1"
    assert sheet.page_setup.orientation == "landscape"
    assert int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert (int(sheet.page_setup.fitToWidth), int(sheet.page_setup.fitToHeight)) == (1, 0)
    assert sheet.column_dimensions["A"].width == 20


def test_dates_are_real_dates_and_money_is_a_number():
    workbook = Workbook(write_only=True)
    write_ledger(workbook, "Ledger", COLUMNS, [["甲", date(2026, 10, 1), Decimal("1234.5"), 3]])

    sheet = saved(workbook)["Ledger"]
    assert isinstance(sheet["B2"].value, datetime)
    assert sheet["B2"].value.date() == date(2026, 10, 1)
    assert sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["C2"].value == 1234.5
    assert sheet["C2"].data_type == "n"
    assert sheet["C2"].number_format == "#,##0.00"
    assert sheet["D2"].value == 3


def test_an_empty_ledger_still_has_its_header_and_filter():
    workbook = Workbook(write_only=True)
    write_ledger(workbook, "Empty", COLUMNS, [])

    sheet = saved(workbook)["Empty"]
    assert rows(sheet) == [["Name", "On", "Amount", "Count"]]
    assert sheet.auto_filter.ref == "A1:D1"


@pytest.mark.parametrize("text", INJECTIONS)
def test_user_text_that_looks_like_a_formula_comes_back_as_a_plain_string(text):
    workbook = Workbook(write_only=True)
    write_ledger(workbook, "Ledger", COLUMNS, [[text, None, None, None]])

    cell = saved(workbook)["Ledger"]["A2"]
    assert cell.value == text  # verbatim: no apostrophe added to the value
    assert cell.data_type == "s"
    assert cell.quotePrefix


def test_sheet_titles_are_cut_to_31_characters_without_forbidden_characters():
    workbook = Workbook(write_only=True)
    write_ledger(workbook, "A/B:" + "x" * 40, COLUMNS, [])

    assert saved(workbook).sheetnames == ["A_B_" + "x" * 27]


def test_control_characters_that_xml_refuses_are_dropped():
    workbook = Workbook(write_only=True)
    write_ledger(workbook, "Ledger", COLUMNS, [["a\x0bb", None, None, None]])

    assert saved(workbook)["Ledger"]["A2"].value == "ab"


# From the database -----------------------------------------------------------------------


def test_the_visit_ledger_lists_each_log_with_help_and_a_masked_phone(world, term):
    log(
        world,
        help=[
            HelpGiven(kind="money", amount=Decimal("500")),
            HelpGiven(kind="goods", description="冬衣", amount=Decimal("300")),
        ],
    )
    workbook = Workbook(write_only=True)
    write_visit_ledger(workbook, Visit.objects.all())

    sheet = saved(workbook)["Visit logs"]
    header, row = rows(sheet)
    assert header[:6] == ["Date", "Party member", "Branch", "Contact", "Contact category", "Contact phone"]
    values = dict(zip(header, row, strict=True))
    assert isinstance(values["Date"], datetime)
    assert values["Date"].date() == date(2026, 10, 14)
    assert (values["Party member"], values["Contact"]) == ("甲党员一", "张同学")
    assert values["Contact phone"] == "138****5678"
    assert values["Financial aid (yuan)"] == 500
    assert values["Goods value (yuan)"] == 300
    assert values["Help given"] == "Financial aid; Goods 冬衣"
    assert values["Mode"] == "Heart-to-heart talk" and values["Contact category"] == "Student"


@pytest.mark.parametrize("count", [10, 200])
def test_the_visit_ledger_issues_a_constant_number_of_queries(world, term, count, django_assert_max_num_queries):
    for day in range(count):
        log(world, happened_on=date(2026, 9, 1) + timedelta(days=day % 45), duration_minutes=30)
    workbook = Workbook(write_only=True)
    # 1. the visits with member, branch and contact (select_related)
    # 2. their help given (prefetch, once per chunk of 2,000)
    with django_assert_max_num_queries(2):
        written = write_visit_ledger(workbook, Visit.objects.all())
    assert written == count
    assert saved(workbook)["Visit logs"].max_row == count + 1


def test_the_roster_shows_required_actual_and_short_per_bucket_in_three_queries(
    world, term, django_assert_max_num_queries
):
    pairing_services.quota_compute(term=term, organisation=world.committee)
    statuses = list(QuotaStatus.objects.filter(term=term, member=world.member_a1))
    assert statuses
    workbook = Workbook(write_only=True)

    # 1. the buckets stored for the term  2. the members with their branch  3. their quota statuses
    with django_assert_max_num_queries(3):
        write_roster_ledger(workbook, Member.objects.order_by("id"), term)

    header, *body = rows(saved(workbook)["Roster and quotas"])
    assert header[:3] == ["Party member", "Branch", "Member category"]
    row = dict(zip(header, next(line for line in body if line[0] == "甲党员一"), strict=True))
    for status in statuses:
        bucket = f"{status.get_contact_category_display() or 'any category'} ({status.get_unit_display()})"
        assert row[f"{bucket} · required"] == status.required
        assert row[f"{bucket} · actual"] == status.actual
        assert row[f"{bucket} · short by"] == status.shortfall


# The review pack: sheets, scope and personal data ---------------------------------------------------


def test_the_review_pack_holds_every_ledger_and_no_formula(world, term):
    log(world, discussed='=HYPERLINK("http://x","y")', request_summary="@SUM(A1)")
    with time_machine.travel(TODAY):
        content = build_review_pack(user=world.secretary_a.user, term=term, organisation=world.branch_a)

    workbook = read(content)
    assert workbook.sheetnames == PACK_SHEETS
    visits = rows(workbook["Visit logs"])
    discussed = workbook["Visit logs"].cell(row=2, column=visits[0].index("What was discussed") + 1)
    assert (discussed.value, discussed.data_type) == ('=HYPERLINK("http://x","y")', "s")
    requests = rows(workbook["Requests"])
    summary = workbook["Requests"].cell(row=2, column=requests[0].index("Summary") + 1)
    assert (summary.value, summary.data_type) == ("@SUM(A1)", "s")
    assert isinstance(workbook["Requests"]["A2"].value, datetime)


def test_a_secretary_asking_for_full_data_gets_full_phones_and_the_export_is_logged(world, term):
    log(world, request_summary="宿舍漏水")
    with time_machine.travel(TODAY):
        content = build_review_pack(
            user=world.secretary_a.user, term=term, organisation=world.branch_a, full_personal_data=True
        )

    workbook = read(content)
    for title in ("Visit logs", "Requests"):
        header, row = rows(workbook[title])
        assert row[header.index("Contact phone")] == "13812345678"
    logged = SensitiveAccess.objects.get()
    assert (logged.user, logged.contact, logged.action) == (world.secretary_a.user, world.contact_a1, "export")


def test_phones_are_masked_unless_full_data_is_asked_for(world, term):
    log(world)
    with time_machine.travel(TODAY):
        content = build_review_pack(user=world.secretary_a.user, term=term, organisation=world.branch_a)

    header, row = rows(read(content)["Visit logs"])
    assert row[header.index("Contact phone")] == "138****5678"
    assert not SensitiveAccess.objects.exists()


def test_an_inspector_asking_for_full_data_still_gets_masked_phones_and_nothing_is_logged(world, term):
    log(world)
    with time_machine.travel(TODAY):
        content = build_review_pack(
            user=world.inspector, term=term, organisation=world.committee, full_personal_data=True
        )

    header, row = rows(read(content)["Visit logs"])
    assert row[header.index("Contact phone")] == "138****5678"
    assert not SensitiveAccess.objects.exists()


def test_a_secretary_cannot_export_another_branch(world, term):
    with pytest.raises(PermissionDenied):
        build_review_pack(user=world.secretary_b.user, term=term, organisation=world.branch_a)


def test_the_review_pack_can_be_written_to_a_file(world, term, tmp_path):
    target = tmp_path / "pack.xlsx"
    assert build_review_pack(user=world.administrator, term=term, organisation=world.committee, path=target) is None
    assert load_workbook(target).sheetnames == [
        "Roster and quotas",
        "Visit logs",
        "Requests",
        "Pledges",
        "Evaluation sheet",
    ]


def test_the_evaluation_sheet_has_rates_as_percentages_grades_and_the_adjustment_reason(world, term):
    log(world)
    answer = {"term": term, "member": world.member_a1, "submitted_on": date(2026, 12, 1)}
    SurveyResponse.objects.create(rating="satisfied", **answer)
    SurveyResponse.objects.create(rating="dissatisfied", **answer)
    with time_machine.travel(TODAY):
        report_services.evaluate(term=term, organisation=world.branch_a)
        evaluation = Evaluation.objects.get(member=world.member_a1)
        report_services.grade_adjust(
            evaluation=evaluation, to_grade="competent", reason="=群众来信表扬", by=world.secretary_a.user
        )
        content = build_ledgers(
            user=world.secretary_a.user, term=term, organisation=world.branch_a, kind=LedgerKind.EVALUATION
        )

    workbook = read(content)
    assert workbook.sheetnames == ["Evaluation sheet"]
    sheet = workbook["Evaluation sheet"]
    header, *body = rows(sheet)
    values = dict(zip(header, next(row for row in body if row[0] == "甲党员一"), strict=True))
    assert values["Public satisfaction"] == 0.5
    assert values["Accountability"] == "Yes"
    assert values["Grade"] == "Competent"
    assert values["Adjustment and reason"] == "Competent: =群众来信表扬"
    row = next(index for index, row in enumerate(body, start=2) if row[0] == "甲党员一")
    assert sheet.cell(row=row, column=header.index("Public satisfaction") + 1).number_format == "0.0%"
    assert sheet.print_title_rows == "$1:$1" and sheet.freeze_panes == "A2"


def test_the_evaluation_sheet_is_scoped_to_what_the_user_reads(world, term):
    report_services.evaluate(term=term, organisation=world.committee)

    content = build_ledgers(
        user=world.secretary_b.user, term=term, organisation=world.branch_b, kind=LedgerKind.EVALUATION
    )

    assert [row[0] for row in rows(read(content)["Evaluation sheet"])[1:]] == ["乙书记"]


def test_the_row_count_decides_between_a_download_and_a_job(world, term):
    log(world)
    log(world)

    visits = ledger_row_count(
        user=world.secretary_a.user, term=term, organisation=world.branch_a, kind=LedgerKind.VISITS
    )
    pack = ledger_row_count(user=world.secretary_a.user, term=term, organisation=world.branch_a, kind=LedgerKind.PACK)

    assert visits == 2
    assert pack == 2 + 3  # and the branch's three members on the roster


def test_progress_is_reported_in_steps_and_adds_up_to_the_rows(world):
    steps: list[int] = []
    workbook = Workbook(write_only=True)

    write_ledger(workbook, "Ledger", COLUMNS, [["a", None, None, None]] * 2500, progress=steps.append)

    assert steps == [1000, 1000, 500]
    assert saved(workbook)["Ledger"].max_row == 2501


def test_personal_data_without_a_user_masks_everything(world):
    assert PersonalData(full=True).phone(world.contact_a1) == "138****5678"
