"""The admin's history pages: masked like the change page, logged like a reveal (issue 11, finding 4).

django-simple-history lists every version's changes (old → new) and shows each version as a
form; both showed full phones, ID numbers and addresses to the inspector, and nothing was
logged. Out-of-scope objects answered 403 and missing ones 404, which told which ids exist.
"""

import re

import pytest
from django.urls import reverse

from members import services
from members.models import Contact, SensitiveAccess

pytestmark = pytest.mark.django_db

OLD_PHONE, NEW_PHONE = "13812345678", "13900001111"
ID_NUMBER = "110101199003076632"
ADDRESS = "北京市海淀区学府路88号3栋502室"


def change_phone(contact: Contact, phone: str) -> None:
    services.contact_save(
        contact=contact,
        name=contact.name,
        gender=contact.gender,
        organisation=contact.organisation,
        category=contact.category,
        kind=contact.kind,
        unit=contact.unit,
        id_number=contact.id_number,
        phone=phone,
        address=contact.address,
        notes=contact.notes,
    )


@pytest.fixture
def contact(world) -> Contact:
    """Branch A's contact, whose phone changed once: the history holds the old and the new number."""
    change_phone(world.contact_a1, NEW_PHONE)
    return world.contact_a1


def history_url(contact: Contact) -> str:
    return reverse("admin:members_contact_history", args=[contact.pk])


def version_url(contact: Contact) -> str:
    first = contact.history.order_by("history_date", "history_id").first()
    assert first is not None
    return reverse("admin:members_contact_simple_history", args=[contact.pk, first.history_id])


def full_values_on(page: str) -> list[str]:
    return [value for value in (OLD_PHONE, NEW_PHONE, ID_NUMBER, ADDRESS) if value in page]


def test_the_inspector_reads_a_contacts_history_masked_and_nothing_is_logged(client, world, contact):
    client.force_login(world.inspector)

    response = client.get(history_url(contact))

    page = response.content.decode()
    assert response.status_code == 200
    assert full_values_on(page) == []
    assert "138****5678" in page and "139****1111" in page, "the change is still shown, masked"
    assert not SensitiveAccess.objects.exists()


def test_the_inspector_reads_an_old_version_masked(client, world, contact):
    client.force_login(world.inspector)

    response = client.get(version_url(contact))

    page = response.content.decode()
    assert response.status_code == 200
    assert full_values_on(page) == []
    assert "138****5678" in page and "110***********6632" in page
    assert not SensitiveAccess.objects.exists()


def test_the_branch_secretary_reads_the_history_in_full_and_it_is_logged(client, world, contact):
    client.force_login(world.secretary_a.user)

    history = client.get(history_url(contact)).content.decode()
    version = client.get(version_url(contact)).content.decode()

    assert OLD_PHONE in history and NEW_PHONE in history
    assert OLD_PHONE in version and ID_NUMBER in version and ADDRESS in version
    logged = SensitiveAccess.objects.filter(user=world.secretary_a.user, contact=contact)
    assert [row.action for row in logged] == [SensitiveAccess.Action.HISTORY] * 2
    assert logged[0].fields == "phone,id_number,address"


def test_a_members_history_is_masked_for_the_inspector(client, world):
    member = world.member_a1
    old_phone = member.phone
    services.member_save(
        member=member,
        name=member.name,
        gender=member.gender,
        organisation=member.organisation,
        category=member.category,
        status=member.status,
        id_number=member.id_number,
        phone="13700002222",
    )
    client.force_login(world.inspector)

    page = client.get(reverse("admin:members_member_history", args=[member.pk])).content.decode()

    assert old_phone not in page and "13700002222" not in page and member.id_number not in page
    assert "137****2222" in page
    client.force_login(world.secretary_a.user)
    assert "13700002222" in client.get(reverse("admin:members_member_history", args=[member.pk])).content.decode()
    assert SensitiveAccess.objects.get().member == member


def as_seen(response) -> str:
    """The page without what differs on every page anyway: the CSRF token and the page's own address."""
    page = response.content.decode().replace(response.wsgi_request.path, "<this address>")
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]*', "", page)


def test_another_branch_gets_the_same_404_as_for_a_missing_object(client, world, contact, settings):
    settings.DEBUG = False
    client.force_login(world.secretary_b.user)
    missing = Contact(pk=987654)
    version = contact.history.first()
    assert version is not None
    pages = {
        "history, out of scope": client.get(history_url(contact)),
        "history, missing": client.get(history_url(missing)),
        "version, out of scope": client.get(version_url(contact)),
        "version, missing": client.get(
            reverse("admin:members_contact_simple_history", args=[missing.pk, version.history_id])
        ),
    }
    assert {name: response.status_code for name, response in pages.items()} == dict.fromkeys(pages, 404)
    pages_seen = {as_seen(response) for response in pages.values()}
    assert len(pages_seen) == 1, "nothing but the address tells them apart"
    assert not SensitiveAccess.objects.exists()


def test_an_ill_formed_version_id_is_a_404(client, world, contact):
    client.force_login(world.secretary_a.user)
    assert client.get(history_url(contact) + "abc/").status_code == 404
    assert client.get(reverse("admin:members_contact_history", args=["abc"])).status_code == 404


def test_the_inspector_cannot_change_anything_through_an_old_versions_form(client, world):
    """Posting a version's form reverts the object to it: a change, refused to whoever may only read."""
    from visits.pledges import services as pledge_services

    pledge = pledge_services.pledge_create(member=world.member_a1, by=world.member_a1.user, year=2026, title="每月理发")
    version = pledge.history.get()
    client.force_login(world.inspector)

    response = client.post(
        reverse("admin:pledges_pledge_simple_history", args=[pledge.pk, version.history_id]),
        {"title": "改过的承诺", "description": ""},
    )

    assert response.status_code == 403
    pledge.refresh_from_db()
    assert pledge.title == "每月理发"
