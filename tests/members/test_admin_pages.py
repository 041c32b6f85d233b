"""Every admin page opens for the people who may use it: changelist, add, change and history.

The admin is the secretaries' main tool; a page that is a server error there is a page they
cannot do their work on. Tests go through every model registered on the project's admin site,
so a model registered later is covered without touching this file.
"""

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import translation

from liaison.admin import admin_site
from members import services as member_services
from members.models import MemberCategory
from pairings import services as pairing_services
from pairings.models import FrequencyRule
from reports import services as report_services
from reports.models import Evaluation
from tests.conftest import open_term
from tests.factories import MemberFactory, UserFactory
from visits import services as visit_services
from visits.pledges import services as pledge_services
from visits.requests.services import request_create
from visits.services import VisitData

pytestmark = pytest.mark.django_db

# Statuses a persona may legitimately get: the page, a refusal, or a redirect (e.g. to log in).
ALLOWED = {200, 302, 403}


@pytest.fixture
def everything(world):
    """At least one object of every model the admin lists, made through the services."""
    term = open_term(world)
    pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a2, term=term)
    visit_services.visit_log(
        user=world.member_a1.user,
        contact=world.contact_a2,
        data=VisitData(happened_on=date(2026, 10, 14), mode="talk", discussed="谈心"),
    )
    pairing_services.quota_override_set(
        term=term,
        member=world.member_a1,
        contact_category=world.contact_a2.category,
        unit="person",
        required=1,
        reason="病假",
        by=world.secretary_a.user,
    )
    FrequencyRule.objects.create(policy=term.policy, period="term", minimum=1)
    report_services.evaluate(term=term, organisation=world.branch_a)
    report_services.grade_adjust(
        evaluation=Evaluation.objects.get(member=world.member_a1, term=term),
        to_grade="excellent",
        reason="获评优秀志愿者",
        by=world.secretary_a.user,
    )
    member_services.contact_reveal(user=world.secretary_a.user, contact=world.contact_a1)
    member_services.import_job_create(
        user=world.secretary_a.user, kind="members", filename="roster.xlsx", content=b"not really a workbook"
    )
    pledge_services.pledge_create(member=world.member_a1, by=world.member_a1.user, year=2026, title="每月理发")
    post = pledge_services.service_post_create(
        organisation=world.branch_a, by=world.secretary_a.user, title="政策宣讲", duties="每月一次", places=2
    )
    pledge_services.post_claim(post=post, member=world.member_a1, by=world.member_a1.user)
    in_service = MemberFactory.create(name="在职党员", organisation=world.branch_a, category=MemberCategory.IN_SERVICE)
    in_service.user = UserFactory.create(username="in_service")
    in_service.save()
    street = member_services.organisation_create(name="幸福街道党工委", code="S", kind="committee")
    community = member_services.organisation_create(name="幸福社区党支部", code="S-HAPPY", kind="branch", parent=street)
    pledge_services.community_register(
        member=in_service, community=community, registered_on=date(2026, 10, 15), by=world.secretary_a.user
    )
    request_create(organisation=world.branch_a, source="reception_day", summary="热水不稳定", by=world.secretary_a.user)
    Group.objects.create(name="书记")
    return world


def admin_urls(model):
    info = model._meta.app_label, model._meta.model_name
    return reverse(f"admin:{info[0]}_{info[1]}_changelist"), f"admin:{info[0]}_{info[1]}"


@pytest.mark.parametrize("persona", ["administrator", "secretary_a"])
def test_every_admin_page_opens_for_the_committee_and_a_branch_secretary(everything, persona):
    user = everything.administrator if persona == "administrator" else everything.secretary_a.user
    client = Client(raise_request_exception=True)
    client.force_login(user)
    request = client.get("/admin/").wsgi_request
    opened = 0
    for model, model_admin in admin_site._registry.items():
        changelist, name = admin_urls(model)
        response = client.get(changelist)
        assert response.status_code in ALLOWED, (model, response.status_code)
        if model_admin.has_add_permission(request):
            response = client.get(reverse(f"{name}_add"))
            assert response.status_code in ALLOWED, (model, "add", response.status_code)
        obj = model_admin.get_queryset(request).order_by("pk").first()
        if obj is None:
            continue  # nothing of this kind in the persona's scope (import jobs are their author's)
        for page in ("change", "history"):
            response = client.get(reverse(f"{name}_{page}", args=[obj.pk]))
            assert response.status_code in ALLOWED, (model, page, response.status_code)
            opened += response.status_code == 200
    assert opened > len(admin_site._registry)


def test_the_organisation_tree_shows_a_branch_secretary_only_their_subtree(client, world):
    client.force_login(world.secretary_a.user)
    url = reverse("admin:members_organisation_changelist")
    with translation.override("en"):
        top = client.get(url).content.decode()
    assert world.branch_a.name in top
    for outside in (world.committee, world.general, world.branch_b):
        assert outside.name not in top
    children = client.get(f"{url}children/{world.branch_a.pk}/")
    assert children.status_code == 200
    assert world.group_a1.name in children.json()["result_html"]
    assert client.get(f"{url}children/{world.general.pk}/").status_code == 404


def test_the_organisation_tree_starts_at_the_committee_for_its_administrator(client, world):
    client.force_login(world.administrator)
    url = reverse("admin:members_organisation_changelist")
    top = client.get(url).content.decode()
    assert world.committee.name in top
    children = client.get(f"{url}children/{world.committee.pk}/").json()["result_html"]
    assert world.general.name in children


def test_a_search_in_the_organisation_tree_stays_in_scope(client, world):
    client.force_login(world.secretary_a.user)
    page = client.get(reverse("admin:members_organisation_changelist"), {"q": "党支部"}).content.decode()
    assert world.branch_a.name in page
    assert world.branch_b.name not in page
