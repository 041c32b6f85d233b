"""Who sees what: pages, the admin and direct URLs, for every persona."""

import pytest
from django.urls import reverse

from members.models import SensitiveAccess

pytestmark = pytest.mark.django_db

FULL_PHONE = "13812345678"
FULL_ID = "110101199003076632"
FULL_ADDRESS = "北京市海淀区学府路88号3栋502室"


def names_on_contact_list(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("members:contact_list"))
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(reverse("members:contact_list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_member_sees_only_their_own_paired_contacts(client, world):
    html = names_on_contact_list(client, world.member_a1.user)
    assert world.contact_a1.name in html
    assert world.contact_a2.name not in html
    assert world.contact_b.name not in html


def test_member_cannot_open_another_members_contact_by_id(client, world):
    client.force_login(world.member_a1.user)
    response = client.get(reverse("members:contact_detail", args=[world.contact_a2.pk]))
    assert response.status_code == 404


def test_user_without_any_role_sees_nothing(client, world):
    html = names_on_contact_list(client, world.outsider)
    for contact in (world.contact_a1, world.contact_a2, world.contact_b):
        assert contact.name not in html
    assert client.get(reverse("members:contact_detail", args=[world.contact_a1.pk])).status_code == 404


def test_secretary_sees_their_branch_and_its_groups_but_not_another_branch(client, world):
    html = names_on_contact_list(client, world.secretary_a.user)
    assert world.contact_a1.name in html
    assert world.contact_a2.name in html
    assert world.contact_b.name not in html
    assert client.get(reverse("members:contact_detail", args=[world.contact_b.pk])).status_code == 404


def test_secretary_of_b_cannot_reach_branch_a_contact_in_admin(client, world):
    client.force_login(world.secretary_b.user)
    changelist = client.get(reverse("admin:members_contact_changelist"))
    assert changelist.status_code == 200
    assert world.contact_b.name in changelist.content.decode()
    assert world.contact_a1.name not in changelist.content.decode()
    change = client.get(reverse("admin:members_contact_change", args=[world.contact_a1.pk]))
    assert change.status_code == 404
    member_change = client.get(reverse("admin:members_member_change", args=[world.member_a1.pk]))
    assert member_change.status_code == 404


def test_administrator_sees_the_whole_committee(client, world):
    html = names_on_contact_list(client, world.administrator)
    for contact in (world.contact_a1, world.contact_a2, world.contact_b):
        assert contact.name in html


def test_member_cannot_use_the_admin(client, world):
    client.force_login(world.member_a1.user)
    response = client.get(reverse("admin:members_contact_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_inspector_reads_everything_but_cannot_change_anything(client, world):
    client.force_login(world.inspector)
    change_url = reverse("admin:members_contact_change", args=[world.contact_a1.pk])
    assert client.get(change_url).status_code == 200
    response = client.post(
        change_url, {"name": "改名", "gender": "male", "organisation": world.branch_a.pk, "category": "student"}
    )
    assert response.status_code == 403
    world.contact_a1.refresh_from_db()
    assert world.contact_a1.name == "张同学"
    assert client.get(reverse("admin:members_contact_add")).status_code == 403
    assert (
        client.post(reverse("admin:members_contact_delete", args=[world.contact_a1.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert client.get(reverse("members:roster_import")).status_code == 403
    assert client.post(reverse("members:contact_reveal", args=[world.contact_a1.pk])).status_code == 403


def test_secretary_cannot_move_a_contact_into_another_branch(client, world):
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("admin:members_contact_change", args=[world.contact_a2.pk]),
        {
            "name": world.contact_a2.name,
            "gender": "female",
            "organisation": world.branch_b.pk,
            "category": "staff",
            "id_number": world.contact_a2.id_number,
            "phone": world.contact_a2.phone,
            "address": "",
            "unit": "",
            "notes": "",
        },
    )
    assert response.status_code == 200  # the form comes back with an error
    world.contact_a2.refresh_from_db()
    assert world.contact_a2.organisation == world.branch_a


def test_secretary_edits_a_contact_in_their_branch_and_history_is_kept(client, world):
    client.force_login(world.secretary_a.user)
    response = client.post(
        reverse("admin:members_contact_change", args=[world.contact_a2.pk]),
        {
            "name": "李老师",
            "gender": "female",
            "organisation": world.branch_a.pk,
            "category": "staff",
            "kind": "person",
            "reasons": [],
            "id_number": world.contact_a2.id_number,
            "phone": "13900001111",
            "address": "",
            "unit": "软件系",
            "notes": "",
        },
    )
    assert response.status_code == 302
    world.contact_a2.refresh_from_db()
    assert world.contact_a2.unit == "软件系"
    assert world.contact_a2.history.first().history_user == world.secretary_a.user


@pytest.mark.parametrize("persona", ["member_a1", "inspector", "secretary_b"])
def test_full_personal_data_never_reaches_a_user_not_entitled(client, world, persona):
    user = getattr(world, persona)
    user = getattr(user, "user", user)
    client.force_login(user)
    pages = [
        reverse("members:contact_list"),
        reverse("members:contact_detail", args=[world.contact_a1.pk]),
        reverse("admin:members_contact_changelist"),
        reverse("admin:members_contact_change", args=[world.contact_a1.pk]),
        reverse("home"),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        for secret in (FULL_PHONE, FULL_ID, FULL_ADDRESS):
            assert secret not in html, (url, secret)


def test_entitled_secretary_sees_masked_values_until_revealing_and_the_reveal_is_logged(client, world):
    client.force_login(world.secretary_a.user)
    detail = client.get(reverse("members:contact_detail", args=[world.contact_a1.pk])).content.decode()
    assert FULL_PHONE not in detail
    assert "138****5678" in detail
    assert "110***********6632" in detail
    assert not SensitiveAccess.objects.exists()

    revealed = client.post(reverse("members:contact_reveal", args=[world.contact_a1.pk])).content.decode()
    assert FULL_PHONE in revealed and FULL_ID in revealed and FULL_ADDRESS in revealed
    access = SensitiveAccess.objects.get()
    assert (access.user, access.contact, access.action) == (world.secretary_a.user, world.contact_a1, "reveal")


def test_member_cannot_reveal_their_own_contact(client, world):
    client.force_login(world.member_a1.user)
    response = client.post(reverse("members:contact_reveal", args=[world.contact_a1.pk]))
    assert response.status_code == 403
    assert not SensitiveAccess.objects.exists()


def test_opening_a_contact_for_editing_in_the_admin_is_logged(client, world):
    client.force_login(world.administrator)
    response = client.get(reverse("admin:members_contact_change", args=[world.contact_b.pk]))
    assert FULL_PHONE not in response.content.decode()
    assert world.contact_b.phone in response.content.decode()
    access = SensitiveAccess.objects.get()
    assert (access.user, access.contact, access.action) == (world.administrator, world.contact_b, "admin_edit")


def test_access_log_is_readable_by_inspector_and_not_by_secretary(client, world):
    client.force_login(world.administrator)
    client.post(reverse("members:contact_reveal", args=[world.contact_b.pk]))
    client.force_login(world.inspector)
    response = client.get(reverse("admin:members_sensitiveaccess_changelist"))
    assert response.status_code == 200
    assert world.contact_b.name in response.content.decode()
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("admin:members_sensitiveaccess_changelist")).status_code == 403


@pytest.mark.parametrize("persona", ["secretary_a", "administrator", "superuser"])
def test_nobody_deletes_a_person_through_the_admin(client, world, persona):
    from members.models import Contact, Member
    from tests.factories import ContactFactory, MemberFactory, UserFactory

    user = UserFactory(is_superuser=True, is_staff=True) if persona == "superuser" else getattr(world, persona)
    user = getattr(user, "user", user)
    member, contact = (
        MemberFactory.create(organisation=world.branch_a),
        ContactFactory.create(organisation=world.branch_a),
    )
    client.force_login(user)
    for model, obj in (("member", member), ("contact", contact)):
        page = client.post(reverse(f"admin:members_{model}_delete", args=[obj.pk]), {"post": "yes"})
        assert page.status_code in (403, 404)
    assert Member.objects.filter(pk=member.pk).exists() and Contact.objects.filter(pk=contact.pk).exists()
