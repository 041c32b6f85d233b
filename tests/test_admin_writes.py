"""Every write through the admin stays in the writer's scope (issue 11, finding 2).

Two layers, both on the ground floor (liaison/admin.py): every foreign-key and many-to-many
choice of every admin form comes from a declared choice scope, and the row as the bound form
would save it is checked against the model's rule with that object. The tests below walk
every model registered on the admin site, so a model or a field added later is covered
without touching this file; what they need to know about a new one (a valid add form, an
out-of-scope object of a new related model) they ask for by failing.
"""

from datetime import date
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db.models import Model
from django.forms import ModelChoiceField, ModelMultipleChoiceField, MultiWidget
from django.test import Client
from django.urls import reverse
from django.utils import translation

from liaison.admin import WRITE_REFUSED, admin_site
from members import services as member_services
from members.models import Appointment, ContactCategory, Member, MemberCategory, Organisation
from pairings import services as pairing_services
from pairings.models import FrequencyRule, QuotaOverride, QuotaRule, Term
from tests.conftest import open_term
from tests.factories import ContactFactory, MemberFactory, UserFactory, make_id_number
from visits import services as visit_services
from visits.pledges import services as pledge_services
from visits.pledges.models import Pledge
from visits.requests.models import Request
from visits.requests.services import request_create
from visits.services import VisitData

pytestmark = pytest.mark.django_db

# Choices that are nobody's data: a fixed vocabulary, and the communities members report to
# where they live (any organisation, by design).
SHARED_VOCABULARIES = {"members.LeadershipRole", "members.ContactReason"}
WIDE_ON_PURPOSE = {("pledges.CommunityRegistration", "community")}


@pytest.fixture
def scene(world):
    """The personas' world with one object of every kind in branch A, and a second tree outside it.

    Everything is made through the services. Outside branch A: branch B (secretary_b,
    contact_b), the committee's own policy, and a street committee with its own term.
    """
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
        contact_category=ContactCategory.STUDENT,
        unit="person",
        required=1,
        reason="病假",
        by=world.secretary_a.user,
    )
    FrequencyRule.objects.create(policy=term.policy, period="term", minimum=1)
    pledge_services.pledge_create(member=world.member_a1, by=world.member_a1.user, year=2026, title="每月理发")
    post = pledge_services.service_post_create(
        organisation=world.branch_a, by=world.secretary_a.user, title="政策宣讲", duties="每月一次", places=2
    )
    pledge_services.post_claim(post=post, member=world.member_a1, by=world.member_a1.user)
    registered = MemberFactory.create(name="在职党员", organisation=world.branch_a, category=MemberCategory.IN_SERVICE)
    unregistered = MemberFactory.create(
        name="在职党员二", organisation=world.branch_a, category=MemberCategory.IN_SERVICE
    )
    in_service_b = MemberFactory.create(name="乙在职", organisation=world.branch_b, category=MemberCategory.IN_SERVICE)
    street = member_services.organisation_create(name="幸福街道党工委", code="S", kind="committee")
    community = member_services.organisation_create(name="幸福社区党支部", code="S-HAPPY", kind="branch", parent=street)
    pledge_services.community_register(
        member=registered, community=community, registered_on=date(2026, 10, 15), by=world.secretary_a.user
    )
    request_create(
        organisation=world.branch_a,
        source="reception_day",
        summary="热水不稳定",
        contact=world.contact_a1,
        by=world.secretary_a.user,
    )
    street_term = pairing_services.term_create(
        organisation=street,
        name="2026秋（街道）",
        kind="semester",
        starts_on=date(2026, 9, 1),
        ends_on=date(2027, 1, 20),
        is_current=True,
    )
    street_member = MemberFactory.create(name="街道党员", organisation=community)
    street_contact = ContactFactory.create(name="街道居民", organisation=community)
    return SimpleNamespace(
        **vars(world),
        current_term=term,
        in_service=unregistered,
        in_service_b=in_service_b,
        street=street,
        community=community,
        street_term=street_term,
        street_member=street_member,
        street_contact=street_contact,
    )


def outside_branch_a(scene) -> dict[str, Model]:
    """For each model a form may point at, one object secretary_a must not write against."""
    return {
        "members.Organisation": scene.branch_b,
        "members.Member": scene.in_service_b,
        "members.Contact": scene.contact_b,
        "pairings.Term": scene.street_term,
        "pairings.QuotaPolicy": scene.current_term.policy,
        "auth.User": scene.secretary_b.user,
    }


def add_data(scene) -> dict[str, dict[str, Any]]:
    """A valid add form, in branch A, for each model a branch secretary may add in the admin."""
    return {
        "members.Member": {
            "name": "新党员",
            "gender": "female",
            "organisation": scene.branch_a.pk,
            "category": MemberCategory.FACULTY,
            "status": "full",
            "id_number": make_id_number(987654),
            "phone": "13900001111",
        },
        "members.Contact": {
            "name": "新联系人",
            "gender": "male",
            "organisation": scene.branch_a.pk,
            "category": ContactCategory.STUDENT,
            "kind": "person",
            "phone": "13900002222",
        },
        "pairings.Pairing": {
            "member": scene.member_a2.pk,
            "contact": scene.contact_a1.pk,
            "term": scene.current_term.pk,
            "started_on": "2026-10-15",
        },
        "pairings.QuotaOverride": {
            "term": scene.current_term.pk,
            "member": scene.member_a2.pk,
            "contact_category": ContactCategory.STAFF,
            "unit": "person",
            "required": 2,
            "reason": "出差半年",
        },
        "pledges.ServicePost": {
            "organisation": scene.branch_a.pk,
            "title": "垃圾分类督导",
            "duties": "每周一次",
            "places": 3,
            "is_open": "on",
        },
        "pledges.CommunityRegistration": {
            "member": scene.in_service.pk,
            "community": scene.community.pk,
            "registered_on": "2026-10-15",
        },
    }


# --- walking the admin -------------------------------------------------------------------


def logged_in(user: User) -> tuple[Client, Any]:
    client = Client()
    client.force_login(user)
    return client, client.get(reverse("admin:index")).wsgi_request


def admin_pages(user: User):
    """Every add page and one change page per model that `user` may write, as (label, mode, url)."""
    _client, request = logged_in(user)
    for model, model_admin in admin_site._registry.items():
        info = model._meta.app_label, model._meta.model_name
        if model_admin.has_add_permission(request):
            yield model._meta.label, "add", reverse("admin:{}_{}_add".format(*info))
        for obj in model_admin.get_queryset(request).order_by("pk"):
            if model_admin.has_change_permission(request, obj):
                yield model._meta.label, "change", reverse("admin:{}_{}_change".format(*info), args=[obj.pk])
                break


def page_forms(response):
    """The model form and every inline form of an admin page, with the inline management forms."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    return forms


def choice_fields(response):
    """(form, field name, field) for every foreign-key and many-to-many choice on the page.

    Left out: the hidden id of an inline row, which says which row of this object is edited
    (Django looks it up among the object's own rows, and never writes it).
    """
    main = response.context["adminform"].form
    for form in page_forms(response):
        for name, field in form.fields.items():
            if not isinstance(field, ModelChoiceField):
                continue
            if form is not main and name == form._meta.model._meta.pk.name:
                continue
            yield form, name, field


def encode(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    return str(value)


def submitted(response) -> dict[str, Any]:
    """What a browser sends back from the page unchanged: every field's value, inlines included."""
    data: dict[str, Any] = {}
    for form in page_forms(response):
        for name, field in form.fields.items():
            bound = form[name]
            value = bound.value()
            if isinstance(field.widget, MultiWidget):
                for index, part in enumerate(field.widget.decompress(value) or []):
                    data[f"{bound.html_name}_{index}"] = encode(part)
            elif value is None and isinstance(field, ModelMultipleChoiceField):
                continue  # nothing chosen: a browser sends no value at all
            elif isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            else:
                data[bound.html_name] = encode(value)
    return data


def row_counts() -> dict[str, int]:
    """How many rows every table holds, history tables included: any write shows here."""
    skipped = {"sessions.Session", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label not in skipped and model._meta.managed
    }


def state_of(label: str, url: str) -> dict[str, Any] | None:
    """The object a change page edits, as stored: its columns and its many-to-many choices."""
    if not url.rstrip("/").endswith("change"):
        return None
    pk = url.rstrip("/").split("/")[-2]
    model = apps.get_model(label)
    obj = model._default_manager.get(pk=pk)
    state: dict[str, Any] = {field.attname: getattr(obj, field.attname) for field in model._meta.concrete_fields}
    for field in model._meta.many_to_many:
        state[field.name] = set(getattr(obj, field.name).values_list("pk", flat=True))
    return state


def has_errors(response) -> bool:
    errors = response.context and response.context.get("errors")
    return bool(errors)


# --- the choices -------------------------------------------------------------------------


@pytest.fixture
def general_administrator(scene):
    """An administrator of the general branch only: below the committee, above branches A and B."""
    user = UserFactory.create(username="general_administrator")
    member_services.appointment_create(user=user, organisation=scene.general, role=Appointment.Role.ADMINISTRATOR)
    return user


@pytest.fixture
def secretary_a_inspecting(scene):
    """secretary_a, who also sits on the committee's inspection group: reads the whole tree, manages branch A."""
    member_services.appointment_create(
        user=scene.secretary_a.user, organisation=scene.committee, role=Appointment.Role.INSPECTOR
    )
    return scene.secretary_a.user


def persona_user(scene, request, persona: str) -> User:
    if persona == "administrator":
        return scene.administrator
    if persona == "secretary_a":
        return scene.secretary_a.user
    return request.getfixturevalue(persona)


@pytest.mark.parametrize("persona", ["administrator", "general_administrator", "secretary_a"])
def test_every_choice_of_every_admin_form_comes_from_a_declared_scope(scene, request, persona):
    """A foreign key or many-to-many field nobody declared a scope for fails here (and offers nothing)."""
    user = persona_user(scene, request, persona)
    client, _request = logged_in(user)
    undeclared, walked = [], 0
    for label, mode, url in admin_pages(user):
        response = client.get(url)
        assert response.status_code == 200, (label, mode, response.status_code)
        for _form, name, field in choice_fields(response):
            walked += 1
            if getattr(field, "choice_scope", None) is None:
                undeclared.append(f"{label} {mode}: {name} ({field.queryset.model._meta.label})")
    assert not undeclared, "no choice scope declared (liaison.admin.choice_scope_register) for: " + ", ".join(
        undeclared
    )
    assert walked >= 5


@pytest.mark.parametrize("persona", ["secretary_a", "secretary_a_inspecting"])
def test_no_admin_form_offers_a_branch_secretary_anything_outside_their_branch(scene, request, persona):
    user = persona_user(scene, request, persona)
    client, _request = logged_in(user)
    outside = outside_branch_a(scene)
    offered, checked = [], 0
    for label, mode, url in admin_pages(user):
        response = client.get(url)
        for _form, name, field in choice_fields(response):
            target = field.queryset.model._meta.label
            if target in SHARED_VOCABULARIES or (label, name) in WIDE_ON_PURPOSE:
                continue
            assert target in outside, f"declare an object {target} outside branch A in outside_branch_a()"
            checked += 1
            choices = set(field.queryset.values_list("pk", flat=True))
            if outside[target].pk in choices:
                offered.append(f"{label} {mode}: {name} offers {outside[target]}")
            if target == "members.Organisation":
                managed = set(
                    Organisation.objects.filter(path__startswith=scene.branch_a.path).values_list("pk", flat=True)
                )
                assert choices <= managed, (label, mode, name)
    assert not offered, offered
    assert checked >= 8


# --- posting out-of-scope choices ----------------------------------------------------------


def test_a_branch_secretary_still_adds_and_changes_everything_they_may_in_their_branch(scene):
    """The same walk with in-scope values saves: what the out-of-scope test refuses is only the choice."""
    user = scene.secretary_a.user
    client, _request = logged_in(user)
    valid_adds = add_data(scene)
    saved = set()
    for label, mode, url in admin_pages(user):
        data = submitted(client.get(url))
        if mode == "add":
            assert label in valid_adds, f"declare a valid add form for {label} in add_data()"
            data.update(valid_adds[label])
        count = apps.get_model(label)._default_manager.count()
        response = client.post(url, data)
        assert response.status_code == 302, (label, mode, response.context and response.context.get("errors"))
        assert apps.get_model(label)._default_manager.count() == count + (mode == "add")
        saved.add((label, mode))
    assert {("members.Member", "add"), ("pairings.QuotaOverride", "add"), ("requests.Request", "change")} <= saved
    assert len(saved) >= 12


def test_no_admin_form_writes_a_branch_secretarys_out_of_scope_choice(scene):
    """Every add and change form, every choice field set to another branch's or tree's object: nothing written."""
    user = scene.secretary_a.user
    client, _request = logged_in(user)
    outside = outside_branch_a(scene)
    valid_adds = add_data(scene)
    tried = []
    for label, mode, url in admin_pages(user):
        page = client.get(url)
        baseline = submitted(page)
        if mode == "add":
            baseline.update(valid_adds[label])
        for form, name, field in choice_fields(page):
            target = field.queryset.model._meta.label
            if target in SHARED_VOCABULARIES or (label, name) in WIDE_ON_PURPOSE:
                continue
            key = form[name].html_name
            if key not in baseline and mode == "change":
                continue
            wrong = outside[target].pk
            data = {**baseline, key: [wrong] if isinstance(baseline.get(key), list) else wrong}
            before, stored = row_counts(), state_of(label, url)
            response = client.post(url, data)
            assert response.status_code in (200, 403, 404), (label, mode, name, response.status_code)
            if response.status_code == 200:
                assert has_errors(response), (label, mode, name)
            assert row_counts() == before, (label, mode, name, "a row was written")
            assert state_of(label, url) == stored, (label, mode, name, "the object changed")
            tried.append((label, mode, name))
    assert {
        ("pairings.QuotaOverride", "add", "member"),
        ("pairings.QuotaOverride", "add", "term"),
        ("requests.Request", "change", "contact"),
        ("requests.Request", "change", "organisation"),
        ("members.Contact", "change", "organisation"),
        ("pairings.Pairing", "add", "contact"),
    } <= set(tried)


def test_inspectors_and_members_add_and_change_nothing_in_the_admin(scene):
    """Every add and change URL, posted as the inspector and as a member: refused, nothing written."""
    writer_pages = list(admin_pages(scene.administrator))
    for user in (scene.inspector, scene.member_a1.user):
        client, _request = logged_in(user)
        for label, mode, url in writer_pages:
            page = Client()
            page.force_login(scene.administrator)
            data = submitted(page.get(url))
            before = row_counts()
            response = client.post(url, data)
            assert response.status_code in (302, 403, 404), (user, label, mode, response.status_code)
            if response.status_code == 302:
                assert reverse("admin:login") in response["Location"], (user, label, mode)
            assert row_counts() == before, (user, label, mode)


# --- the reported cases --------------------------------------------------------------------


def test_a_secretary_cannot_set_a_quota_override_for_another_branchs_member(client, scene):
    client.force_login(scene.secretary_a.user)
    with translation.override("en"):
        response = client.post(
            reverse("admin:pairings_quotaoverride_add"),
            {
                "term": scene.current_term.pk,
                "member": scene.secretary_b.pk,
                "contact_category": "student",
                "unit": "person",
                "required": 0,
                "reason": "不在本支部",
            },
        )
    assert response.status_code == 200
    assert "member" in response.context["adminform"].form.errors
    assert not QuotaOverride.objects.filter(member=scene.secretary_b).exists()


def test_a_secretary_cannot_set_a_quota_override_in_another_trees_term(client, scene):
    client.force_login(scene.secretary_a.user)
    response = client.post(
        reverse("admin:pairings_quotaoverride_add"),
        {**add_data(scene)["pairings.QuotaOverride"], "term": scene.street_term.pk},
    )
    assert response.status_code == 200
    assert "term" in response.context["adminform"].form.errors
    assert not QuotaOverride.objects.filter(term=scene.street_term).exists()


def test_no_secretary_changes_the_committees_policy_or_its_frequency_rules(client, scene, general_administrator):
    """Neither by the add and change forms, nor by reverting the policy to an old version on its history page."""
    policy = scene.current_term.policy
    rules_before = FrequencyRule.objects.count()
    rule = FrequencyRule.objects.get(policy=policy)
    for user in (scene.secretary_a.user, general_administrator):
        client.force_login(user)
        response = client.post(
            reverse("admin:pairings_frequencyrule_add"), {"policy": policy.pk, "period": "month", "minimum": 4}
        )
        assert response.status_code == 403 or "policy" in response.context["adminform"].form.errors
        response = client.post(
            reverse("admin:pairings_frequencyrule_change", args=[rule.pk]),
            {"policy": policy.pk, "period": "month", "minimum": 4},
        )
        assert response.status_code in (403, 404)
        version = policy.history.earliest()
        response = client.post(
            reverse("admin:pairings_quotapolicy_simple_history", args=[policy.pk, version.history_id]),
            {"term": scene.current_term.pk, "max_members_per_contact": 9},
        )
        assert response.status_code in (403, 404)
    assert FrequencyRule.objects.count() == rules_before
    rule.refresh_from_db()
    assert rule.minimum == 1
    policy.refresh_from_db()
    assert policy.max_members_per_contact == 1


def test_the_request_admin_offers_and_accepts_only_the_secretarys_own_contacts(client, scene, secretary_a_inspecting):
    request_row = Request.objects.get(organisation=scene.branch_a)
    client.force_login(secretary_a_inspecting)
    url = reverse("admin:requests_request_change", args=[request_row.pk])
    page = client.get(url)
    contacts = set(page.context["adminform"].form.fields["contact"].queryset)
    assert scene.contact_a1 in contacts
    assert scene.contact_b not in contacts
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "requests", "model_name": "request", "field_name": "contact", "term": "同学"},
    ).json()["results"]
    assert [row["id"] for row in found] == [str(scene.contact_a1.pk)]
    response = client.post(url, {**submitted(page), "contact": scene.contact_b.pk})
    assert response.status_code == 200
    assert "contact" in response.context["adminform"].form.errors
    request_row.refresh_from_db()
    assert request_row.contact == scene.contact_a1


# --- autocomplete, history, the tree ---------------------------------------------------------


def test_every_autocomplete_lookup_offers_only_what_its_field_accepts(client, scene, secretary_a_inspecting):
    """The inspector's appointment lets secretary_a read the whole tree; the lookups still offer branch A only."""
    client.force_login(secretary_a_inspecting)
    outside = outside_branch_a(scene)
    looked_up = 0
    owners: list[tuple[type[Model], Any]] = list(admin_site._registry.items())
    owners += [(inline.model, inline) for _model, model_admin in owners for inline in model_admin.inlines]
    for model, owner in owners:
        for name in owner.autocomplete_fields:
            field = model._meta.get_field(name)
            response = client.get(
                reverse("admin:autocomplete"),
                {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": name},
            )
            if response.status_code != 200:
                continue
            ids = {row["id"] for row in response.json()["results"]}
            target = cast("type[Model]", field.related_model)._meta.label
            if target in outside:
                assert str(outside[target].pk) not in ids, (model, name)
            looked_up += 1
    assert looked_up >= 6


def test_a_quota_rule_inline_offers_only_the_administrators_own_tree(client, scene):
    policy = scene.current_term.policy
    client.force_login(scene.administrator)
    url = reverse("admin:pairings_quotapolicy_change", args=[policy.pk])
    page = client.get(url)
    data = submitted(page)
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    total = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(total + 1),
            f"{prefix}-{total}-organisation": str(scene.community.pk),
            f"{prefix}-{total}-contact_category": "student",
            f"{prefix}-{total}-unit": "person",
            f"{prefix}-{total}-required": "5",
        }
    )
    rules_before = QuotaRule.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert has_errors(response)
    assert QuotaRule.objects.count() == rules_before
    assert not QuotaRule.objects.filter(organisation=scene.community).exists()


def test_reverting_an_old_version_is_a_change_only_those_who_may_change_make(client, scene):
    pledge = Pledge.objects.get(member=scene.member_a1)
    version = pledge.history.earliest()
    url = reverse("admin:pledges_pledge_simple_history", args=[pledge.pk, version.history_id])
    for user in (scene.inspector, scene.secretary_b.user):
        client.force_login(user)
        response = client.post(url, {"title": "改写的承诺", "description": ""})
        assert response.status_code in (403, 404)
    pledge.refresh_from_db()
    assert pledge.title == "每月理发"
    client.force_login(scene.secretary_a.user)
    assert client.post(url, {"title": "每月理发两次", "description": ""}).status_code == 302
    pledge.refresh_from_db()
    assert pledge.title == "每月理发两次"


def test_reverting_a_contact_cannot_bring_it_back_into_a_branch_the_secretary_manages(client, scene):
    """A contact moved from branch A to branch B is branch B's now: secretary_a's old version does not apply."""
    contact = scene.contact_a1
    version = contact.history.earliest()
    contact.organisation = scene.branch_b
    contact.save()
    client.force_login(scene.secretary_a.user)
    url = reverse("admin:members_contact_simple_history", args=[contact.pk, version.history_id])
    response = client.post(
        url,
        {
            "name": contact.name,
            "gender": contact.gender,
            "organisation": scene.branch_a.pk,
            "category": contact.category,
            "kind": contact.kind,
            "phone": contact.phone,
            "id_number": contact.id_number,
            "address": contact.address,
        },
    )
    assert response.status_code == 404
    contact.refresh_from_db()
    assert contact.organisation == scene.branch_b


def test_a_general_branch_administrator_opens_no_term_for_the_committee(client, scene, general_administrator):
    client.force_login(general_administrator)
    terms_before = Term.objects.count()
    response = client.post(
        reverse("admin:pairings_term_add"),
        {
            "organisation": scene.general.pk,
            "name": "总支自开学期",
            "kind": "semester",
            "starts_on": "2027-02-20",
            "ends_on": "2027-07-10",
        },
    )
    assert response.status_code == 200
    assert "organisation" in response.context["adminform"].form.errors
    assert Term.objects.count() == terms_before


def test_a_general_branch_administrator_appoints_nobody_outside_their_subtree(client, scene, general_administrator):
    client.force_login(general_administrator)
    outsider = scene.outsider
    for organisation, user in (
        (scene.committee, outsider),
        (scene.community, outsider),
        (scene.branch_a, scene.administrator),
    ):
        response = client.post(
            reverse("admin:members_appointment_add"),
            {"user": user.pk, "organisation": organisation.pk, "role": Appointment.Role.INSPECTOR},
        )
        assert response.status_code == 200
        assert response.context["adminform"].form.errors
    assert not Appointment.objects.filter(
        user__in=[outsider, scene.administrator],
        organisation__in=[scene.committee, scene.community, scene.branch_a],
        role=Appointment.Role.INSPECTOR,
    ).exists()
    response = client.post(
        reverse("admin:members_appointment_add"),
        {"user": outsider.pk, "organisation": scene.branch_a.pk, "role": Appointment.Role.INSPECTOR},
    )
    assert response.status_code == 302
    assert Appointment.objects.filter(user=outsider, organisation=scene.branch_a).exists()


def organisation_form(reference: Organisation | None, position: str = "sorted-child") -> dict[str, Any]:
    return {
        "name": "新支部",
        "code": "NEW",
        "kind": "branch",
        "treebeard_position": position,
        "treebeard_ref_node": reference.pk if reference is not None else "",
    }


def test_an_administrator_adds_organisations_only_inside_their_own_tree(client, scene, general_administrator):
    for user, outside in (
        (scene.administrator, scene.street),  # another tree
        (scene.administrator, None),  # the top of a new tree
        (general_administrator, scene.committee),  # above their subtree
    ):
        client.force_login(user)
        response = client.post(reverse("admin:members_organisation_add"), organisation_form(outside))
        assert response.status_code == 200, (user, outside)
        assert response.context["adminform"].form.errors
    # Beside the top of their subtree is under the committee, which they do not administer.
    response = client.post(
        reverse("admin:members_organisation_add"), organisation_form(scene.general, position="sorted-sibling")
    )
    assert response.status_code == 200
    with translation.override("en"):
        assert str(WRITE_REFUSED) in response.context["adminform"].form.non_field_errors()
    assert not Organisation.objects.filter(code="NEW").exists()
    response = client.post(reverse("admin:members_organisation_add"), organisation_form(scene.general))
    assert response.status_code == 302
    assert Organisation.objects.get_parent(Organisation.objects.get(code="NEW")) == scene.general


def test_dragging_a_node_in_the_tree_lands_only_under_an_organisation_the_administrator_administers(
    client, scene, general_administrator
):
    url = reverse("admin:members_organisation_changelist") + "move/"
    for user, target, relation in (
        (scene.administrator, scene.community, "child"),  # into another tree
        (scene.administrator, scene.committee, "sibling"),  # to the top, as a new tree
        (general_administrator, scene.general, "sibling"),  # under the committee
    ):
        client.force_login(user)
        response = client.post(url, {"node": scene.branch_b.pk, "target": target.pk, "relation": relation})
        assert response.status_code == 403, (user, target, relation)
        assert Organisation.objects.get_parent(Organisation.objects.get(pk=scene.branch_b.pk)) == scene.general
    response = client.post(url, {"node": scene.branch_b.pk, "target": scene.branch_a.pk, "relation": "sibling"})
    assert response.status_code == 200
    assert Organisation.objects.get_parent(Organisation.objects.get(pk=scene.branch_b.pk)) == scene.general


def test_the_row_is_checked_against_the_models_rule_even_when_a_fields_choices_were_too_wide(scene):
    """The second layer: had a scope been declared too wide, the bound object still has to pass the rule."""
    from django.test import RequestFactory

    from pairings.admin import QuotaOverrideAdmin

    request = RequestFactory().post("/")
    request.user = scene.secretary_a.user
    model_admin = QuotaOverrideAdmin(QuotaOverride, admin_site)
    form_class = model_admin.get_form(request)
    form = form_class(
        data={
            "term": scene.current_term.pk,
            "member": scene.secretary_b.pk,
            "contact_category": "student",
            "unit": "person",
            "required": 1,
            "reason": "太宽的选项",
        }
    )
    form.fields["member"].queryset = Member.objects.all()  # as if the member field had been left unscoped
    with translation.override("en"):
        assert not form.is_valid()
        assert form.non_field_errors() == [str(WRITE_REFUSED)]
