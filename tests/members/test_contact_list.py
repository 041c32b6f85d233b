import pytest
from django.urls import reverse

from members.models import ContactCategory, ContactReason
from tests.factories import ContactFactory, PairingFactory

pytestmark = pytest.mark.django_db


def make_contacts(world, count):
    reasons = list(ContactReason.objects.filter(code__in=["struggling", "poor_student"]))
    for index in range(count):
        contact = ContactFactory.create(organisation=world.branch_a if index % 2 else world.group_a1)
        contact.reasons.set(reasons[: index % 3])
        PairingFactory.create(member=world.member_a1, contact=contact, term=world.term)


# Queries for one page of the contact list, whatever the number of rows:
# 1 session, 2 user, 3-5 scope (appointments, secretary organisations, member),
# 6 count, 7-8 the filter's reason and organisation choices, 9 the page,
# 10 the reasons of the contacts on the page, 11 the current term, 12 the member's targets in it,
# 13 the unread notifications in the navigation bar, 14 the second factor (liaison.security:
# the session's device, or whether the user has an authenticator app).
LIST_QUERY_BUDGET = 14


@pytest.mark.parametrize("count", [10, 500])
def test_secretary_contact_list_issues_a_constant_number_of_queries(
    client, world, count, django_assert_max_num_queries
):
    make_contacts(world, count)
    client.force_login(world.secretary_a.user)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        response = client.get(reverse("members:contact_list"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == count + 2


@pytest.mark.parametrize("count", [10, 500])
def test_member_contact_list_issues_a_constant_number_of_queries(client, world, count, django_assert_max_num_queries):
    make_contacts(world, count)
    client.force_login(world.member_a1.user)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        response = client.get(reverse("members:contact_list"))
    assert response.context["page"].paginator.count == count + 1


def test_contact_list_filters_by_category_and_search(client, world):
    ContactFactory.create(name="赵积极", organisation=world.branch_a, category=ContactCategory.ACTIVIST)
    client.force_login(world.secretary_a.user)
    html = client.get(reverse("members:contact_list"), {"category": "activist"}).content.decode()
    assert "赵积极" in html
    assert world.contact_a1.name not in html
    html = client.get(reverse("members:contact_list"), {"q": "张"}).content.decode()
    assert world.contact_a1.name in html
    assert "赵积极" not in html


def test_searching_by_phone_finds_nothing_so_masks_cannot_be_probed(client, world):
    client.force_login(world.member_a1.user)
    response = client.get(reverse("members:contact_list"), {"q": world.contact_a1.phone[:7]})
    assert response.context["page"].paginator.count == 0


def test_organisation_filter_offers_only_organisations_in_scope(client, world):
    client.force_login(world.secretary_a.user)
    response = client.get(reverse("members:contact_list"))
    choices = [str(label) for _value, label in response.context["filter"].form.fields["organisation"].choices]
    assert "甲党支部" in choices
    assert "乙党支部" not in choices
    filtered = client.get(reverse("members:contact_list"), {"organisation": world.branch_b.pk})
    assert filtered.context["filter"].is_bound and not filtered.context["filter"].form.is_valid()
