"""Roster import: .xlsx files of party members and contacts, checked whole, written whole or not at all.

Files carry the English header labels and choice codes/labels, which the parser accepts whatever
the UI language (zh-hans by default). Where a test reads the wording of a problem, it uploads with
`Accept-Language: en` so the stored messages are in English.
"""

import io
import re
from typing import Any

import pytest
from celery.signals import task_postrun
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from members import services
from members.models import Contact, ImportJob, Member
from members.roster import CONTACT_COLUMNS, MEMBER_COLUMNS
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def english_pages(client, settings):
    """Assertions below quote the English messages: choose English with the language cookie."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


MEMBER_HEADERS = [
    "Name",
    "Gender",
    "Organisation code",
    "Category",
    "Membership status",
    "ID number",
    "Phone",
    "Joined the party on",
    "Leadership roles",
]
CONTACT_HEADERS = [
    "Name",
    "Gender",
    "Organisation code",
    "Category",
    "Reasons and hardship",
    "Unit",
    "ID number",
    "Phone",
    "Address",
    "Notes",
]

# Serials far from the factories' sequences, so these ID numbers are new to the database.
ID_1, ID_2, ID_3 = make_id_number(90001), make_id_number(90002), make_id_number(90003)


def xlsx(headers: list[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, kind: str, content: bytes, filename: str = "roster.xlsx", **headers):
    file = SimpleUploadedFile(filename, content, content_type=XLSX)
    return client.post(reverse("members:roster_import"), {"kind": kind, "file": file}, **headers)


def last_job(user) -> ImportJob:
    return ImportJob.objects.filter(created_by=user).latest("pk")


def problem_lines(job: ImportJob) -> list[int]:
    return [problem["line"] for problem in job.problems]


def problem_on(job: ImportJob, line: int) -> str:
    messages = [problem["message"] for problem in job.problems if problem["line"] == line]
    assert len(messages) == 1, job.problems
    return messages[0]


def column_on(job: ImportJob, line: int) -> str:
    columns = [problem.get("column", "") for problem in job.problems if problem["line"] == line]
    assert len(columns) == 1, job.problems
    return columns[0]


def lines_on_job_page(html: str) -> list[str]:
    return re.findall(r"<tr><td>([^<]*)</td><td>", html)


def with_bad_check_character(id_number: str) -> str:
    return id_number[:17] + ("0" if id_number[17] != "0" else "1")


ROLES_OF_THIRD = "leading_cadre、middle_cadre"


def three_members(phone_of_second: str = "13900000002") -> bytes:
    return xlsx(
        MEMBER_HEADERS,
        [
            ["王一", "male", "A", "faculty", "full", ID_1, "13900000001", "2001-07-01", "branch_secretary"],
            ["王二", "female", "A1", "student", "probationary", ID_2, phone_of_second, None, None],
            # Labels instead of codes, and two roles in one cell.
            ["王三", "Male", "A1", "Faculty and staff", "Full member", ID_3, "13900000003", None, ROLES_OF_THIRD],
        ],
    )


def two_contacts() -> bytes:
    return xlsx(
        CONTACT_HEADERS,
        [
            ["赵一", "female", "A", "student", "poor_student", "计算机系", ID_1, "13900000101", "学府路1号", ""],
            ["赵二", "male", "A1", "citizen", "low_income、empty_nest", "一组", "", "13900000102", "", "no ID number"],
        ],
    )


# 1. A good file ---------------------------------------------------------------------------------


def test_a_good_members_file_imports_every_row_with_organisation_category_and_roles(client, world):
    members_before = Member.objects.count()
    client.force_login(world.secretary_a.user)

    response = upload(client, "members", three_members())  # in the default language, zh-hans

    job = last_job(world.secretary_a.user)
    assert response.status_code == 302
    assert response["Location"] == reverse("members:import_detail", args=[job.pk])
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.problems == []
    assert (job.total_rows, job.created_count, job.updated_count) == (3, 3, 0)
    assert bytes(job.content) == b"", "the upload is not kept once its rows are in the tables"
    assert Member.objects.count() == members_before + 3

    first, second, third = (Member.objects.get(id_number=number) for number in (ID_1, ID_2, ID_3))
    assert (first.name, first.gender, first.organisation, first.category, first.status) == (
        "王一",
        "male",
        world.branch_a,
        "faculty",
        "full",
    )
    assert str(first.joined_on) == "2001-07-01"
    assert first.phone == "13900000001"
    assert {role.code for role in first.roles.all()} == {"branch_secretary"}
    assert (second.organisation, second.category, second.status) == (world.group_a1, "student", "probationary")
    assert second.joined_on is None
    assert not second.roles.exists()
    assert (third.gender, third.category, third.status) == ("male", "faculty", "full")
    assert {role.code for role in third.roles.all()} == {"leading_cadre", "middle_cadre"}


def test_the_job_page_shows_how_many_were_added_and_updated(client, world):
    client.force_login(world.secretary_a.user)
    upload(client, "members", three_members())
    job = last_job(world.secretary_a.user)

    page = client.get(reverse("members:import_detail", args=[job.pk]))
    fragment = client.get(reverse("members:import_detail", args=[job.pk]), HTTP_HX_REQUEST="true")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="import-result"' in html
    assert "alert-success" in html
    assert "Imported: 3 added, 0 updated." in html
    assert "roster.xlsx" in html
    assert "hx-trigger" not in html, "a finished job stops polling"
    assert fragment.content.decode().lstrip().startswith('<div id="import-status"')
    assert "Imported: 3 added, 0 updated." in fragment.content.decode()


def test_a_good_contacts_file_imports_with_reasons_and_without_an_id_number(client, world):
    contacts_before = Contact.objects.count()
    client.force_login(world.secretary_a.user)

    upload(client, "contacts", two_contacts())

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert (job.created_count, job.updated_count) == (2, 0)
    assert Contact.objects.count() == contacts_before + 2
    student = Contact.objects.get(id_number=ID_1)
    assert (student.organisation, student.category, student.unit) == (world.branch_a, "student", "计算机系")
    assert {reason.code for reason in student.reasons.all()} == {"poor_student"}
    citizen = Contact.objects.get(name="赵二", phone="13900000102")
    assert (citizen.organisation, citizen.id_number, citizen.notes) == (world.group_a1, "", "no ID number")
    assert {reason.code for reason in citizen.reasons.all()} == {"low_income", "empty_nest"}


# 2. Importing again updates ----------------------------------------------------------------------


def test_importing_the_same_members_file_twice_updates_nothing_and_never_duplicates(client, world):
    client.force_login(world.secretary_a.user)
    upload(client, "members", three_members())
    members_after_first = Member.objects.count()

    upload(client, "members", three_members())

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.SUCCEEDED
    # "更新 N 条" counts the rows that changed a record (model_update returned True): none here.
    assert (job.created_count, job.updated_count) == (0, 0)
    assert Member.objects.count() == members_after_first
    assert Member.objects.filter(id_number=ID_2).count() == 1


def test_importing_again_with_a_changed_phone_updates_that_phone(client, world):
    client.force_login(world.secretary_a.user)
    upload(client, "members", three_members(phone_of_second="13900000002"))
    members_after_first = Member.objects.count()

    upload(client, "members", three_members(phone_of_second="13700000999"))

    job = last_job(world.secretary_a.user)
    # Only the second row changed a record; the other two match theirs as they stand.
    assert (job.status, job.created_count, job.updated_count) == (ImportJob.Status.SUCCEEDED, 0, 1)
    assert Member.objects.count() == members_after_first
    assert Member.objects.get(id_number=ID_2).phone == "13700000999"
    assert Member.objects.get(id_number=ID_1).phone == "13900000001"


def test_importing_the_same_contacts_file_twice_finds_contacts_by_id_number_or_by_name_and_phone(client, world):
    client.force_login(world.secretary_a.user)
    upload(client, "contacts", two_contacts())
    contacts_after_first = Contact.objects.count()

    upload(client, "contacts", two_contacts())

    job = last_job(world.secretary_a.user)
    assert (job.status, job.created_count, job.updated_count) == (ImportJob.Status.SUCCEEDED, 0, 0)
    assert Contact.objects.count() == contacts_after_first


# 3. Bad rows: nothing is imported, every problem is listed with its line ------------------------


def test_a_row_with_an_id_number_completes_the_contact_known_only_by_name_and_phone(client, world):
    client.force_login(world.secretary_a.user)
    upload(client, "contacts", two_contacts())
    known = Contact.objects.get(name="赵二")
    assert known.id_number == ""
    row = ["赵二", "male", "A1", "citizen", "low_income", "一组", ID_2, "13900000102", "", ""]
    upload(client, "contacts", xlsx(CONTACT_HEADERS, [row]))
    job = last_job(world.secretary_a.user)
    assert (job.created_count, job.updated_count) == (0, 1)
    known.refresh_from_db()
    assert known.id_number == ID_2


def test_a_row_without_an_id_number_updates_the_contact_with_that_name_and_phone_and_keeps_its_id(client, world):
    client.force_login(world.secretary_a.user)
    upload(client, "contacts", two_contacts())
    row = ["赵一", "female", "A", "student", "", "软件系", "", "13900000101", "", ""]
    upload(client, "contacts", xlsx(CONTACT_HEADERS, [row]))
    job = last_job(world.secretary_a.user)
    assert (job.created_count, job.updated_count) == (0, 1)
    contact = Contact.objects.get(name="赵一")
    assert (contact.unit, contact.id_number) == ("软件系", ID_1)


def test_a_contacts_file_with_bad_rows_imports_nothing_and_lists_every_bad_line(client, world):
    contacts_before = Contact.objects.count()
    client.force_login(world.secretary_a.user)
    good = make_id_number(90101)
    rows: list[list[Any]] = [
        # line 2: good
        ["赵一", "female", "A", "student", "poor_student", "计算机系", good, "13900000101", "", ""],
        # line 3: the ID number's check character is wrong
        ["赵二", "male", "A", "student", "", "", with_bad_check_character(make_id_number(90102)), "", "", ""],
        # line 4: good
        ["赵三", "male", "A1", "staff", "newly_hired", "人事处", make_id_number(90104), "", "", ""],
        # line 5: no such category
        ["赵四", "female", "A", "alien", "", "", make_id_number(90105), "", "", ""],
        # line 6: branch B is not secretary A's
        ["赵五", "male", "B", "student", "", "", make_id_number(90106), "", "", ""],
        # line 7: a reason that does not apply to staff
        ["赵六", "female", "A", "staff", "low_income", "", make_id_number(90107), "", "", ""],
        # line 8: the same ID number as line 2
        ["赵七", "male", "A", "student", "", "", good, "", "", ""],
        # line 9: no name
        [None, "female", "A", "student", "", "", make_id_number(90109), "", "", ""],
        # line 10: good, without an ID number
        ["赵九", "male", "A", "non_party", "", "", "", "13900000110", "", ""],
    ]

    upload(client, "contacts", xlsx(CONTACT_HEADERS, rows))

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.FAILED
    assert Contact.objects.count() == contacts_before
    assert (job.created_count, job.updated_count) == (0, 0)
    assert job.total_rows == 9
    assert problem_lines(job) == [3, 5, 6, 7, 8, 9]
    assert column_on(job, 3) == "ID number"
    assert column_on(job, 5) == "Category" and "alien" in problem_on(job, 5)
    assert "Organisation code B " in problem_on(job, 6)
    assert "Low-income (dibao) household" in problem_on(job, 7)
    assert column_on(job, 7) == "Reasons and hardship"
    assert problem_on(job, 8) == "Same person as line 2."
    assert column_on(job, 9) == "Name"

    html = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "alert-danger" in html
    assert lines_on_job_page(html) == ["3", "5", "6", "7", "8", "9"]
    assert "Same person as line 2." in html


def test_a_contact_with_neither_id_number_nor_phone_is_reported(client, world):
    client.force_login(world.secretary_a.user)
    rows = [["赵一", "female", "A", "student", "", "", "", "", "", ""]]

    upload(client, "contacts", xlsx(CONTACT_HEADERS, rows))

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.FAILED
    assert job.problems == [{"line": 2, "message": "Give an ID number or a phone number."}]


def test_a_party_member_cannot_be_placed_in_a_general_branch(client, world):
    client.force_login(world.administrator)
    rows = [["王一", "male", "G", "faculty", "full", ID_1, "", None, None]]

    upload(client, "members", xlsx(MEMBER_HEADERS, rows))

    job = last_job(world.administrator)
    assert job.status == ImportJob.Status.FAILED
    assert job.problems == [
        {
            "line": 2,
            "message": "A party member belongs to a branch or a party group, not to General party branch.",
            "column": "Organisation code",
        }
    ]
    assert not Member.objects.filter(id_number=ID_1).exists()


# 4. A person held by another branch --------------------------------------------------------------


def test_a_member_already_in_branch_b_is_not_taken_over_by_secretary_a(client, world):
    members_before = Member.objects.count()
    client.force_login(world.secretary_a.user)
    rows = [
        ["王一", "male", "A", "faculty", "full", ID_1, "", None, None],
        ["乙书记", "male", "A", "faculty", "full", world.secretary_b.id_number, "", None, None],
    ]

    upload(client, "members", xlsx(MEMBER_HEADERS, rows))

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.FAILED
    assert problem_lines(job) == [3]
    assert problem_on(job, 3) == ID_NUMBER_UNAVAILABLE_EN
    assert Member.objects.count() == members_before, "the good line 2 is rolled back too"
    world.secretary_b.refresh_from_db()
    assert world.secretary_b.organisation == world.branch_b
    html = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert lines_on_job_page(html) == ["3"]


def test_a_contact_already_in_branch_b_is_not_taken_over_by_secretary_a(client, world):
    contacts_before = Contact.objects.count()
    client.force_login(world.secretary_a.user)
    rows = [
        ["赵一", "female", "A", "student", "", "", ID_1, "", "", ""],
        ["赵二", "female", "A", "student", "", "", ID_2, "", "", ""],
        ["王同学", "female", "A", "student", "", "", world.contact_b.id_number, "", "", ""],
    ]

    upload(client, "contacts", xlsx(CONTACT_HEADERS, rows))

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.FAILED
    assert problem_lines(job) == [4]
    assert problem_on(job, 4) == ID_NUMBER_UNAVAILABLE_EN
    assert Contact.objects.count() == contacts_before
    world.contact_b.refresh_from_db()
    assert world.contact_b.organisation == world.branch_b


# The answer to an ID number held outside one's scope does not say that the person exists, nor
# where (issue 11, finding 7): it is the one answer any refused ID number gets, in the import and
# in the admin's forms alike, for a person of one's own branch as for one of another.
ID_NUMBER_UNAVAILABLE_EN = (
    "This ID number cannot be registered here. If this person belongs here, ask the party committee to move "
    "their record or to check the number."
)


def test_a_refused_id_number_says_neither_that_the_person_exists_nor_where(client, world, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    client.force_login(world.secretary_a.user)
    rows = [["王同学", "female", "A", "student", "", "", world.contact_b.id_number, "", "", ""]]

    upload(client, "contacts", xlsx(CONTACT_HEADERS, rows))

    message = problem_on(last_job(world.secretary_a.user), 2)
    assert "此人已登记" not in message and "以外" not in message
    assert world.branch_b.name not in message
    assert message == "此身份证号无法在此登记。如此人应在本组织登记，请联系党委迁移其记录或核对号码。"


def admin_add_contact(client, world, id_number: str):
    return client.post(
        reverse("admin:members_contact_add"),
        {
            "name": "新同学",
            "gender": "female",
            "organisation": world.branch_a.pk,
            "category": "student",
            "kind": "person",
            "unit": "",
            "id_number": id_number,
            "phone": "",
            "address": "",
            "notes": "",
        },
    )


def test_the_admin_refuses_an_id_number_in_the_same_words_wherever_its_holder_is(client, world):
    client.force_login(world.secretary_a.user)
    contacts_before = Contact.objects.count()
    answers = {}
    for where, id_number in (("another branch", world.contact_b.id_number), ("my branch", world.contact_a1.id_number)):
        response = admin_add_contact(client, world, id_number)
        assert response.status_code == 200, where  # the form again, with the error
        answers[where] = response.context["adminform"].form.errors.get("id_number")
    assert answers == {where: [ID_NUMBER_UNAVAILABLE_EN] for where in answers}
    assert Contact.objects.count() == contacts_before


def test_the_admin_refuses_a_members_id_number_in_the_same_words(client, world):
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("admin:members_member_add"),
        {
            "name": "新党员",
            "gender": "male",
            "organisation": world.branch_a.pk,
            "category": "faculty",
            "status": "full",
            "id_number": world.secretary_b.id_number,
            "phone": "",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["id_number"] == [ID_NUMBER_UNAVAILABLE_EN]


# 5. Files that cannot be read ---------------------------------------------------------------------


def test_a_file_that_is_not_xlsx_gets_a_form_error_and_no_job(client, world):
    client.force_login(world.secretary_a.user)

    response = upload(client, "members", "Name,Gender\n王一,male\n".encode(), filename="roster.csv")

    assert response.status_code == 200
    assert "file" in response.context["form"].errors
    assert not ImportJob.objects.exists()


def test_a_file_named_xlsx_that_is_not_a_workbook_gets_a_form_error_with_advice_and_no_job(client, world):
    client.force_login(world.secretary_a.user)

    response = upload(client, "members", b"Name,Gender\n", filename="roster.xlsx")

    assert response.status_code == 200
    assert "save it as an Excel workbook (.xlsx)" in " ".join(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()


def test_a_file_with_wrong_headers_fails_and_names_the_missing_columns(client, world):
    members_before = Member.objects.count()
    client.force_login(world.secretary_a.user)
    content = xlsx(["姓名?", "Gender", "Org", "Category"], [["王一", "male", "A", "faculty"]])

    upload(client, "members", content)

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.FAILED
    assert Member.objects.count() == members_before
    assert len(job.problems) == 1
    problem = job.problems[0]
    assert problem["line"] == 0
    assert problem["message"].startswith("No row among the first 10 holds the template's headers.")
    for missing in ("Name", "Organisation code", "Membership status", "ID number"):
        assert missing in problem["message"]
    assert "Gender" not in problem["message"]
    html = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert lines_on_job_page(html) == ["—"]


def test_a_file_with_headers_but_no_rows_fails(client, world):
    client.force_login(world.secretary_a.user)

    upload(client, "contacts", xlsx(CONTACT_HEADERS, [[None] * len(CONTACT_HEADERS)]))

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.FAILED
    assert job.problems == [{"line": 0, "message": "The file has headers but no rows."}]


# 6. Templates ------------------------------------------------------------------------------------


# The template also has the optional "Person or household" column, which the files above leave out.
TEMPLATE_CONTACT_HEADERS = [*CONTACT_HEADERS[:4], "Person or household", *CONTACT_HEADERS[4:]]


@pytest.mark.parametrize(("kind", "headers"), [("members", MEMBER_HEADERS), ("contacts", TEMPLATE_CONTACT_HEADERS)])
def test_the_template_has_the_headers_and_lists_only_the_organisations_the_user_manages(client, world, kind, headers):
    client.force_login(world.secretary_a.user)

    response = client.get(reverse("members:roster_template", args=[kind]))

    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert f'filename="{kind}-roster.xlsx"' in response["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.content))
    first_row = [str(cell.value) for cell in next(workbook.worksheets[0].iter_rows(max_row=1))]
    assert [value.rstrip("*") for value in first_row] == headers
    columns = MEMBER_COLUMNS if kind == "members" else CONTACT_COLUMNS
    assert [value.endswith("*") for value in first_row] == [column.required for column in columns]
    codes = {row[0] for row in workbook.worksheets[1].iter_rows(values_only=True)}
    assert {"A", "A1"} <= codes
    assert codes.isdisjoint({"B", "C", "G"})


def test_an_unknown_template_kind_is_not_found(client, world):
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("members:roster_template", args=["visits"])).status_code == 404


def test_a_filled_in_template_imports_inline(client, world):
    """The template formats thousands of empty rows; a few filled ones are still a small file."""
    client.force_login(world.secretary_a.user)
    template = client.get(reverse("members:roster_template", args=["members"])).content  # zh-hans headers
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    for line, row in enumerate(
        [
            ["王一", "male", "A", "faculty", "full", ID_1, "13900000001", "2001-07-01", ""],
            ["王二", "female", "A1", "student", "probationary", ID_2, "", "", ""],
        ],
        start=2,
    ):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=line, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)

    upload(client, "members", buffer.getvalue())

    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert job.created_count == 2


# 7. Who may import ------------------------------------------------------------------------------


@pytest.fixture
def job_of_secretary_a(world) -> ImportJob:
    return services.import_job_create(
        user=world.secretary_a.user, kind="members", filename="roster.xlsx", content=three_members()
    )


@pytest.mark.parametrize("persona", ["inspector", "plain_member"])
def test_inspectors_and_plain_members_cannot_import(client, world, job_of_secretary_a, persona):
    user = world.inspector if persona == "inspector" else world.member_a1.user
    client.force_login(user)
    jobs_before = ImportJob.objects.count()

    assert client.get(reverse("members:roster_import")).status_code == 403
    assert upload(client, "members", three_members()).status_code == 403
    assert client.get(reverse("members:roster_template", args=["members"])).status_code == 403
    assert client.get(reverse("members:roster_template", args=["contacts"])).status_code == 403
    assert client.get(reverse("members:import_detail", args=[job_of_secretary_a.pk])).status_code == 403
    assert ImportJob.objects.count() == jobs_before


def test_secretary_b_cannot_open_secretary_as_import(client, world, job_of_secretary_a):
    client.force_login(world.secretary_b.user)

    assert client.get(reverse("members:roster_import")).status_code == 200
    assert client.get(reverse("members:import_detail", args=[job_of_secretary_a.pk])).status_code == 404


def test_the_import_page_lists_only_the_users_own_recent_imports(client, world, job_of_secretary_a):
    client.force_login(world.secretary_b.user)
    assert reverse("members:import_detail", args=[job_of_secretary_a.pk]) not in (
        client.get(reverse("members:roster_import")).content.decode()
    )
    client.force_login(world.secretary_a.user)
    assert reverse("members:import_detail", args=[job_of_secretary_a.pk]) in (
        client.get(reverse("members:roster_import")).content.decode()
    )


# 8. Large files go to Celery -----------------------------------------------------------------------


@pytest.fixture
def tasks_run():
    """Names of the Celery tasks that ran (eagerly, in this process) during the test."""
    names: list[str] = []

    def record(sender=None, **kwargs):
        names.append(sender.name)

    task_postrun.connect(record, weak=False)
    yield names
    task_postrun.disconnect(record)


def members_rows(count: int) -> bytes:
    return xlsx(
        MEMBER_HEADERS,
        [
            [f"党员{n}", "female", "A1", "student", "full", make_id_number(91000 + n), f"1390000{n:04d}", None, None]
            for n in range(count)
        ],
    )


def test_a_file_above_the_inline_limit_goes_through_the_celery_task_and_succeeds(
    client, world, settings, django_capture_on_commit_callbacks, tasks_run
):
    settings.ROSTER_IMPORT_INLINE_MAX_ROWS = 5
    client.force_login(world.secretary_a.user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(client, "members", members_rows(8))
    job = last_job(world.secretary_a.user)
    assert job.status == ImportJob.Status.QUEUED, "nothing runs in the request"
    assert tasks_run == []
    pending_html = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in pending_html

    assert len(callbacks) == 1
    callbacks[0]()  # the transaction committed: the task is sent, and runs eagerly

    job.refresh_from_db()
    assert tasks_run == ["members.tasks.import_roster_task"]
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert (job.total_rows, job.created_count) == (8, 8)
    assert Member.objects.filter(organisation=world.group_a1, name__startswith="党员").count() == 8
    assert 'hx-trigger="every 1s"' not in client.get(reverse("members:import_detail", args=[job.pk])).content.decode()


@pytest.mark.parametrize("rows", [3, 5])
def test_a_file_within_the_inline_limit_is_imported_in_the_request(
    client, world, settings, django_capture_on_commit_callbacks, tasks_run, rows
):
    settings.ROSTER_IMPORT_INLINE_MAX_ROWS = 5
    client.force_login(world.secretary_a.user)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        upload(client, "members", members_rows(rows))

    job = last_job(world.secretary_a.user)
    assert callbacks == []
    assert tasks_run == []
    assert job.status == ImportJob.Status.SUCCEEDED, job.problems
    assert job.created_count == rows
