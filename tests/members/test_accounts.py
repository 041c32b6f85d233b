"""Login accounts in the admin: who manages whose, no escalation, and the account log.

A committee administrator manages the accounts of the members of their committee; the
inspector's account, other administrators', superusers' and another committee's are not
theirs (404, as missing). Every password set, (de)activation and change of groups is in the
account log, which administrators and inspectors of the subtree read.
"""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from members import services
from members.models import AccountEvent, Appointment, OrganisationKind
from tests.factories import PASSWORD, MemberFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Another-long-password-2026"


def change_url(user: User) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def password_url(user: User) -> str:
    return reverse("admin:auth_user_password_change", args=[user.pk])


def history_url(user: User) -> str:
    return reverse("admin:auth_user_history", args=[user.pk])


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def change_form(user: User, **changes) -> dict:
    """What the administrator's change form posts for `user`, with `changes` applied."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "_save": "Save",
    }
    if user.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def password_form(password: str = NEW_PASSWORD) -> dict:
    return {"usable_password": "true", "password1": password, "password2": password}


@pytest.fixture
def other(world):
    """Another committee with a branch, a member with an account, and its own administrator."""
    committee = OrganisationFactory.create(name="外院党委", code="D", kind=OrganisationKind.COMMITTEE)
    branch = OrganisationFactory.create(name="外院党支部", code="D1", parent=committee)
    member = MemberFactory.create(name="外院党员", organisation=branch)
    member.user = UserFactory.create(username="member_d")
    member.save()
    administrator = UserFactory.create(username="administrator_d")
    services.appointment_create(user=administrator, organisation=committee, role=Appointment.Role.ADMINISTRATOR)
    return type("Other", (), {"committee": committee, "member": member, "administrator": administrator})


def password_unchanged(user: User) -> bool:
    user.refresh_from_db()
    return user.check_password(PASSWORD)


def test_the_administrator_lists_only_the_accounts_of_their_committee(world, other):
    page = login(world.administrator).get(reverse("admin:auth_user_changelist")).content.decode()

    for username in ("secretary_a", "secretary_b", "member_a1", "member_a2"):
        assert change_url(User.objects.get(username=username)) in page
    for username in ("inspector", "administrator", "member_d", "administrator_d", "outsider"):
        assert change_url(User.objects.get(username=username)) not in page


@pytest.mark.parametrize("target", ["inspector", "administrator", "superuser", "other_member", "outsider"])
def test_the_administrator_cannot_open_reset_or_deactivate_an_account_that_is_not_theirs(world, other, target):
    account = {
        "inspector": world.inspector,
        "administrator": world.administrator,  # their own: not theirs to change here either
        "superuser": User.objects.create_superuser("root", password=PASSWORD),
        "other_member": other.member.user,
        "outsider": world.outsider,
    }[target]
    client = login(world.administrator)

    for url in (change_url(account), password_url(account), history_url(account)):
        assert client.get(url).status_code == 404, url
    assert client.post(password_url(account), password_form()).status_code == 404
    assert client.post(change_url(account), change_form(account, is_active=None)).status_code == 404

    account.refresh_from_db()
    assert account.is_active
    assert password_unchanged(account)
    assert not AccountEvent.objects.exists()


def test_another_committees_administrator_cannot_touch_our_members_accounts(world, other):
    client = login(other.administrator)
    account = world.member_a1.user

    assert client.get(change_url(account)).status_code == 404
    assert client.post(password_url(account), password_form()).status_code == 404
    assert password_unchanged(account)


def test_the_administrator_resets_a_members_password_and_it_is_logged(world):
    account = world.member_a1.user
    client = login(world.administrator)

    assert client.get(password_url(account)).status_code == 200
    response = client.post(password_url(account), password_form())

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    event = AccountEvent.objects.get()
    assert (event.kind, event.by, event.account, event.username) == (
        AccountEvent.Kind.PASSWORD_RESET,
        world.administrator,
        account,
        "member_a1",
    )
    assert event.by_username == "administrator" and event.organisation == world.group_a1
    assert event.at is not None


def test_a_refused_password_is_not_set_and_not_logged(world):
    account = world.member_a1.user
    response = login(world.administrator).post(password_url(account), password_form("123"))

    assert response.status_code == 200  # the form again, with the validators' messages
    assert password_unchanged(account)
    assert not AccountEvent.objects.exists()


def test_the_administrator_deactivates_and_reactivates_a_secretary_and_both_are_logged(world):
    account = world.secretary_b.user
    client = login(world.administrator)

    assert client.post(change_url(account), change_form(account, is_active=None)).status_code == 302
    account.refresh_from_db()
    assert not account.is_active
    assert client.post(change_url(account), change_form(account, is_active="on")).status_code == 302
    account.refresh_from_db()
    assert account.is_active

    assert list(AccountEvent.objects.order_by("id").values_list("kind", "username", "by_username")) == [
        ("deactivated", "secretary_b", "administrator"),
        ("reactivated", "secretary_b", "administrator"),
    ]


def test_saving_an_account_without_a_change_logs_nothing(world):
    account = world.member_a2.user
    assert login(world.administrator).post(change_url(account), change_form(account)).status_code == 302
    assert not AccountEvent.objects.exists()


def test_no_escalation_through_the_change_form(world):
    """Superuser and staff flags, permissions: not fields the administrator's form has."""
    account = world.member_a1.user
    permission = Permission.objects.get(codename="change_user")
    data = change_form(account, is_superuser="on", is_staff="on", user_permissions=[permission.pk])

    assert login(world.administrator).post(change_url(account), data).status_code == 302

    account.refresh_from_db()
    assert not account.is_superuser and not account.is_staff
    assert not account.user_permissions.exists()


def test_no_group_the_administrator_does_not_hold_can_be_granted(world):
    account = world.member_a1.user
    powerful = Group.objects.create(name="全部权限")
    powerful.permissions.set(Permission.objects.all())

    response = login(world.administrator).post(change_url(account), change_form(account, groups=[powerful.pk]))

    assert response.status_code == 200  # not a choice on their form
    assert not account.groups.exists()
    assert not AccountEvent.objects.exists()


def test_groups_the_administrator_holds_can_be_granted_and_others_are_kept(world):
    account = world.member_a1.user
    theirs = Group.objects.create(name="书记")
    world.administrator.groups.add(theirs)
    kept = Group.objects.create(name="超级组")
    account.groups.add(kept)

    response = login(world.administrator).post(change_url(account), change_form(account, groups=[theirs.pk]))

    assert response.status_code == 302
    assert set(account.groups.values_list("name", flat=True)) == {"书记", "超级组"}
    event = AccountEvent.objects.get()
    assert (event.kind, event.detail) == (AccountEvent.Kind.GROUPS_CHANGED, "+ 书记")


def test_an_account_the_administrator_creates_is_theirs_and_logged(world, other):
    client = login(world.administrator)
    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "new_secretary", "usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    created = User.objects.get(username="new_secretary")
    assert response.status_code == 302
    assert not created.is_staff and not created.is_superuser
    assert client.get(change_url(created)).status_code == 200
    event = AccountEvent.objects.get()
    assert (event.kind, event.account, event.organisation) == ("created", created, world.committee)
    assert login(other.administrator).get(change_url(created)).status_code == 404


def test_a_secretary_and_the_inspector_cannot_manage_accounts(world):
    for user in (world.secretary_a.user, world.inspector):
        client = login(user)
        assert client.get(reverse("admin:auth_user_changelist")).status_code == 403
        assert client.post(password_url(world.member_a1.user), password_form()).status_code in (403, 404)
    assert password_unchanged(world.member_a1.user)


def test_only_a_superuser_resets_the_inspectors_password_and_the_inspector_reads_it(world):
    root = User.objects.create_superuser("root", password=PASSWORD)

    assert login(root).post(password_url(world.inspector), password_form()).status_code == 302

    world.inspector.refresh_from_db()
    assert world.inspector.check_password(NEW_PASSWORD)
    event = AccountEvent.objects.get()
    assert (event.kind, event.by_username, event.username) == ("password_reset", "root", "inspector")
    log = login(world.inspector).get(reverse("admin:members_accountevent_changelist")).content.decode()
    assert "inspector" in log and "root" in log


def test_ones_own_password_change_is_logged(world):
    client = login(world.secretary_a.user)
    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    event = AccountEvent.objects.get()
    assert (event.kind, event.by, event.account) == ("password_changed", world.secretary_a.user, world.secretary_a.user)


def test_the_account_log_is_read_by_the_subtrees_inspector_and_administrators_only(world, other):
    services.account_event_log(by=world.administrator, kind="deactivated", account=world.member_a2.user)
    url = reverse("admin:members_accountevent_changelist")

    for user in (world.inspector, world.administrator):
        assert "member_a2" in login(user).get(url).content.decode()
    assert "member_a2" not in login(other.administrator).get(url).content.decode()
    assert login(world.secretary_a.user).get(url).status_code == 403
    assert login(world.member_a1.user).get(url).status_code == 302  # no admin at all: to the login page


def test_the_account_log_is_append_only(world):
    event = services.account_event_log(by=world.administrator, kind="deactivated", account=world.member_a2.user)
    client = login(world.administrator)

    assert (
        client.post(reverse("admin:members_accountevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    assert AccountEvent.objects.count() == 1


def test_an_account_outside_the_committee_cannot_be_linked_to_a_member(world):
    """Linking the inspector's account to one of our members would make it ours to reset."""
    member = world.member_a2
    member.user = None
    member.save()
    client = login(world.administrator)
    url = reverse("admin:members_member_change", args=[member.pk])
    data = {
        "name": member.name,
        "gender": member.gender,
        "organisation": member.organisation_id,
        "category": member.category,
        "status": member.status,
        "id_number": member.id_number,
        "phone": member.phone,
        "user": world.inspector.pk,
        "_save": "Save",
    }

    response = client.post(url, data)

    assert response.status_code == 200  # the form again: not a choice
    member.refresh_from_db()
    assert member.user is None
    assert client.post(password_url(world.inspector), password_form()).status_code == 404
