"""Roster import that never loses data (issue 12): columns, spellings, cells and limits."""

import io
import zipfile
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from members.models import Contact, ImportJob, Member
from members.roster import estimate_rows
from tests.factories import make_id_number
from tests.members.test_roster_import import (
    CONTACT_HEADERS,
    MEMBER_HEADERS,
    column_on,
    last_job,
    problem_lines,
    problem_on,
    upload,
    xlsx,
)

pytestmark = pytest.mark.django_db

ID_1, ID_2 = make_id_number(93001), make_id_number(93002)


@pytest.fixture(autouse=True)
def english_pages(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def secretary(client, world):
    client.force_login(world.secretary_a.user)
    return world.secretary_a.user


def member_row(**overrides):
    row = {
        "Name": "王一",
        "Gender": "male",
        "Organisation code": "A",
        "Category": "faculty",
        "Membership status": "full",
        "ID number": ID_1,
        "Phone": "13900000001",
        "Joined the party on": "2001-07-01",
        "Leadership roles": "branch_secretary",
    }
    row.update(overrides)
    return row


def members_file(headers, *rows):
    return xlsx(headers, [[row.get(header) for header in headers] for row in rows])


def imported(client, user, kind, content) -> ImportJob:
    upload(client, kind, content)
    return last_job(user)


# A missing column keeps the stored value; only an empty cell clears it -----------------------------


def test_a_reimport_without_the_optional_columns_keeps_phones_dates_and_roles(client, secretary):
    imported(client, secretary, "members", members_file(MEMBER_HEADERS, member_row()))
    required_only = ["Name", "Gender", "Organisation code", "Category", "Membership status", "ID number"]

    job = imported(client, secretary, "members", members_file(required_only, member_row()))

    assert (job.status, job.created_count, job.updated_count) == ("succeeded", 0, 0), job.problems
    member = Member.objects.get(id_number=ID_1)
    assert member.phone == "13900000001"
    assert member.joined_on == date(2001, 7, 1)
    assert {role.code for role in member.roles.all()} == {"branch_secretary"}
    html = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "Imported: 0 added, 0 updated." in html
    assert "Not in the file, so left as they were: Phone、Joined the party on、Leadership roles" in html


def test_a_present_empty_cell_clears_the_value_and_the_page_says_which_fields_changed(client, secretary):
    imported(client, secretary, "members", members_file(MEMBER_HEADERS, member_row()))

    job = imported(
        client, secretary, "members", members_file(MEMBER_HEADERS, member_row(Phone="", **{"Leadership roles": ""}))
    )

    assert (job.created_count, job.updated_count) == (0, 1)
    member = Member.objects.get(id_number=ID_1)
    assert (member.phone, member.roles.count(), member.joined_on) == ("", 0, date(2001, 7, 1))
    html = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert "Changed: Phone (1 row)、Leadership roles (1 row)" in html
    assert "<td>2</td><td>王一</td><td>Phone、Leadership roles</td>" in html


def test_synonym_headers_below_a_title_are_read_and_keep_nothing_from_being_erased(client, secretary):
    imported(client, secretary, "members", members_file(MEMBER_HEADERS, member_row()))
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.append(["甲党支部党员花名册（2026年10月）"])
    sheet.append([])
    sheet.append(
        [
            "序号",
            "姓 名（必填）",
            "性别*",
            "组织编码＊",
            "类别",
            "党员状态",
            "身份证号码",
            "手机号码",
            "入党时间",
            "职务",
        ]
    )
    sheet.append([1, "王一", "男", "A", "教工", "正式党员", ID_1, "13700000009", "2001年7月1日", "支部书记"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    job = imported(client, secretary, "members", buffer.getvalue())

    assert (job.status, job.created_count, job.updated_count) == ("succeeded", 0, 1), job.problems
    member = Member.objects.get(id_number=ID_1)
    assert member.phone == "13700000009"
    assert member.joined_on == date(2001, 7, 1)
    assert {role.code for role in member.roles.all()} == {"branch_secretary"}
    assert job.changes["fields"] == {"phone": 1}


# Cells ---------------------------------------------------------------------------------------------


def test_an_id_number_in_a_number_cell_is_refused_with_the_reason(client, secretary):
    number = int(make_id_number(93003)[:15] + "000")  # what Excel keeps of an 18-digit number
    job = imported(client, secretary, "members", members_file(MEMBER_HEADERS, member_row(**{"ID number": number})))

    assert job.status == "failed"
    assert column_on(job, 2) == "ID number"
    assert "Excel keeps only 15 digits" in problem_on(job, 2)
    assert not Member.objects.filter(name="王一").exists()


def test_full_width_id_digits_find_the_same_person(client, secretary):
    imported(client, secretary, "members", members_file(MEMBER_HEADERS, member_row()))
    full_width = ID_1.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))

    job = imported(client, secretary, "members", members_file(MEMBER_HEADERS, member_row(**{"ID number": full_width})))

    assert (job.status, job.created_count, job.updated_count) == ("succeeded", 0, 0), job.problems
    assert Member.objects.filter(name="王一").count() == 1


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("+86 139-0000-0007", "13900000007"),
        ("0086 13900000007", "13900000007"),
        ("139 0000 0007", "13900000007"),
        ("(010) 1234 5678", "010-12345678"),
        (13900000007, "13900000007"),
    ],
)
def test_common_phone_forms_are_read(client, secretary, phone, stored):
    job = imported(client, secretary, "members", members_file(MEMBER_HEADERS, member_row(Phone=phone)))
    assert job.status == "succeeded", job.problems
    assert Member.objects.get(id_number=ID_1).phone == stored


@pytest.mark.parametrize(
    "joined",
    [
        "2024/9/1",
        "2024年9月1日",
        "2024.9.1",
        "2024-09-01",
        "２０２４－０９－０１",
        date(2024, 9, 1),
        45536,
    ],
)
def test_common_date_forms_are_read(client, secretary, joined):
    job = imported(
        client, secretary, "members", members_file(MEMBER_HEADERS, member_row(**{"Joined the party on": joined}))
    )
    assert job.status == "succeeded", job.problems
    assert Member.objects.get(id_number=ID_1).joined_on == date(2024, 9, 1)


def test_every_problem_of_every_row_is_listed_with_its_column(client, secretary):
    rows = [
        member_row(Name="长" * 51, Phone="12345", **{"ID number": make_id_number(93011)}),
        member_row(Name="名" * 60, **{"ID number": make_id_number(93012), "Joined the party on": "1900-01-01"}),
        member_row(Name="王三", **{"ID number": make_id_number(93013)}),
    ]
    job = imported(client, secretary, "members", members_file(MEMBER_HEADERS, *rows))

    assert job.status == "failed"
    assert sorted((problem["line"], problem["column"]) for problem in job.problems) == [
        (2, "Name"),
        (2, "Phone"),
        (3, "Joined the party on"),
        (3, "Name"),
    ]
    html = client.get(reverse("members:import_detail", args=[job.pk])).content.decode()
    assert html.count("At most 50 characters") == 2
    assert Member.objects.filter(name="王三").count() == 0


# Contacts without an ID number ----------------------------------------------------------------------


def contact(name, phone, **overrides):
    row = dict(
        zip(CONTACT_HEADERS, [name, "male", "A1", "citizen", "low_income", "一组", "", phone, "", ""], strict=True)
    )
    row.update(overrides)
    return row


def test_a_contact_without_an_id_keeps_one_record_when_the_phone_or_the_dot_changes(client, secretary):
    imported(client, secretary, "contacts", members_file(CONTACT_HEADERS, contact("阿依·古丽", "13900000201")))
    before = Contact.objects.count()

    phone_changed = imported(
        client, secretary, "contacts", members_file(CONTACT_HEADERS, contact("阿依·古丽", "13900000299"))
    )
    dot_changed = imported(
        client, secretary, "contacts", members_file(CONTACT_HEADERS, contact("阿依•古丽", "13900000299"))
    )
    dot_typed = imported(
        client, secretary, "contacts", members_file(CONTACT_HEADERS, contact("阿依.古丽", "13900000299"))
    )

    assert (phone_changed.created_count, phone_changed.updated_count) == (0, 1)
    assert phone_changed.changes["fields"] == {"phone": 1}
    assert (dot_changed.created_count, dot_changed.updated_count) == (0, 0)
    assert (dot_typed.created_count, dot_typed.updated_count) == (0, 0)
    assert Contact.objects.count() == before
    assert Contact.objects.get(phone="13900000299").name == "阿依·古丽"


def test_two_contacts_of_one_name_without_ids_need_the_phone_to_say_which(client, secretary):
    imported(
        client,
        secretary,
        "contacts",
        members_file(CONTACT_HEADERS, contact("张伟", "13900000301"), contact("张伟", "13900000302")),
    )

    same_phone = imported(
        client, secretary, "contacts", members_file(CONTACT_HEADERS, contact("张伟", "13900000302", Unit="二组"))
    )
    new_phone = imported(client, secretary, "contacts", members_file(CONTACT_HEADERS, contact("张伟", "13900000399")))

    assert (same_phone.status, same_phone.updated_count) == ("succeeded", 1)
    assert Contact.objects.get(phone="13900000302").unit == "二组"
    assert new_phone.status == "failed"
    assert "2 contacts named 张伟" in problem_on(new_phone, 2)
    assert Contact.objects.filter(name="张伟").count() == 2


# Files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "advice"), [("roster.xls", "Save As"), ("roster.csv", "CSV files are not read")])
def test_xls_and_csv_files_are_refused_with_advice(client, secretary, filename, advice):
    response = upload(client, "members", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, filename=filename)
    assert response.status_code == 200
    assert advice in " ".join(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()


def test_an_old_xls_renamed_to_xlsx_is_refused_with_advice(client, secretary):
    response = upload(client, "members", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    assert "Excel 97–2003" in " ".join(response.context["form"].errors["file"])


def zip_bomb() -> bytes:
    """A valid-looking .xlsx whose sheet inflates to 200 MB from a few hundred kilobytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * (1024 * 1024)
            for _ in range(200):
                sheet.write(block)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_from_its_directory_without_unpacking(client, secretary):
    bomb = zip_bomb()
    assert len(bomb) < 1024 * 1024

    response = upload(client, "members", bomb)

    assert response.status_code == 200
    assert "unpacks to more than 64 MB" in " ".join(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()


def test_too_many_rows_are_refused_with_the_limit(client, secretary, settings):
    settings.ROSTER_IMPORT_MAX_ROWS = 5
    rows = [member_row(Name=f"党员{n}", **{"ID number": make_id_number(93100 + n)}) for n in range(8)]
    job = imported(client, secretary, "members", members_file(MEMBER_HEADERS, *rows))
    assert job.status == "failed"
    assert job.problems == [{"line": 0, "message": "The file has more than 5 rows. Split it into several files."}]
    assert not Member.objects.filter(name__startswith="党员").exists()


def test_the_request_estimates_rows_without_openpyxl_and_a_big_sheet_goes_to_the_worker(settings):
    assert estimate_rows(members_file(MEMBER_HEADERS, member_row(), member_row(Name="王二"))) == 3
    assert estimate_rows(b"not a zip") == 0
    assert estimate_rows(zip_bomb()) == 0  # refused: the import itself says why


def test_updated_counts_only_rows_that_changed(client, secretary):
    rows = [member_row(Name=f"党员{n}", **{"ID number": make_id_number(93200 + n)}) for n in range(3)]
    imported(client, secretary, "members", members_file(MEMBER_HEADERS, *rows))
    rows[1]["Phone"] = "13800000002"

    job = imported(client, secretary, "members", members_file(MEMBER_HEADERS, *rows))

    assert (job.created_count, job.updated_count) == (0, 1)
    assert [row["line"] for row in job.changes["rows"]] == [3]
    assert problem_lines(job) == []
