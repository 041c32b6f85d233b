"""No probing: personal data is never a filter, search or sort key (issue 11, finding 1).

A mask is worth nothing if a query string may ask about what it hides: as the inspector,
`/admin/members/contact/?phone__startswith=130` ... rebuilt a masked phone in 16 requests.
These tests try such lookups on every unprobeable field (members.masking.UNPROBEABLE_FIELDS,
the one declaration), on the model itself and through its relations, from every model
registered on the admin site and from every list page. A new admin, page, relation or
personal field is covered without touching this file.
"""

import re
from collections.abc import Iterable

import django_filters
import pytest
from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.core.exceptions import PermissionDenied
from django.db.models import F, Model, QuerySet
from django.db.models.expressions import BaseExpression, OrderBy
from django.test import Client, RequestFactory
from django.urls import reverse

from liaison.admin import UnprobeableMixin, admin_site
from members.masking import UNPROBEABLE_FIELDS, path_is_unprobeable, unprobeable_fields
from members.models import Contact, Member
from members.scoping import get_scope
from tests.members.test_admin_pages import everything  # noqa: F401  (the fixture: a row of every kind)

pytestmark = pytest.mark.django_db

PERSONAS = ["inspector", "secretary_a"]  # sees everything masked; sees their branch in full and the rest not at all
LOOKUPS = ["", "__startswith", "__regex", "__icontains", "__gt"]
ORDER_PARAMETERS = ["o", "ordering", "order_by", "sort"]


def unprobeable_paths(model: type[Model], hops: int = 2, prefix: str = "", via: tuple = ()) -> list[str]:
    """Every lookup path from `model` to an unprobeable field, through at most `hops` relations.

    Two steps reach a visit's contact (`pairing__contact__phone`) and a term's contacts
    (`organisation__contacts__address`).
    """
    paths = []
    for field in model._meta.get_fields():
        related = field.related_model if field.is_relation else None
        if field.name in unprobeable_fields(model):
            paths.append(prefix + field.name)
        elif hops and isinstance(related, type) and related not in via:
            paths += unprobeable_paths(related, hops - 1, f"{prefix}{field.name}__", (*via, model))
    return paths


def probe_value(queryset: QuerySet, path: str) -> str:
    """A real value at the end of `path` among the rows the persona sees, so that an applied lookup would show."""
    value = queryset.exclude(**{f"{path}__isnull": True}).exclude(**{path: ""}).values_list(path, flat=True).first()
    return str(value) if value else "1"


def probe(lookup: str, value: str) -> str:
    if lookup == "__regex":
        return "^" + re.escape(value)
    if lookup == "__icontains":
        return value[1:]
    return value  # the value itself: exact, startswith (the whole prefix) and gt all pick rows out


def persona_user(world, persona: str):
    return {"inspector": world.inspector, "administrator": world.administrator}.get(persona) or world.secretary_a.user


def changelist(model_admin, user, params: dict | None = None):
    """The admin's changelist for a query string, as its view builds it (not rendered, to keep the
    thousands of tries fast); None when the admin refuses the query (an HTTP 400, see below)."""
    request = RequestFactory().get("/admin/", params or {})
    request.user = user
    request.scope = get_scope(user)  # type: ignore[attr-defined]  # as liaison.middleware.ScopeMiddleware does
    try:
        return model_admin.changelist_view(request)
    except DisallowedModelAdminLookup:
        return None
    except PermissionDenied:
        return "forbidden"


def listed(response) -> list:
    context = getattr(response, "context_data", None) or response.context
    return [obj.pk for obj in context["cl"].result_list]


def test_every_model_with_personal_data_is_registered_on_the_admin_with_its_masks():
    """The declaration and the admin agree: what is masked is what the admin masks."""
    from liaison.admin import SensitiveFieldsMixin
    from members.masking import MASKED_FIELDS, masked_fields

    for model, model_admin in admin_site._registry.items():
        if masked_fields(model):
            assert isinstance(model_admin, SensitiveFieldsMixin), model
            assert set(model_admin.sensitive_fields) == set(masked_fields(model)), model
    assert {Member._meta.label, Contact._meta.label} <= set(MASKED_FIELDS)
    assert set(MASKED_FIELDS["members.Contact"]) == {"phone", "id_number", "address"}


@pytest.mark.parametrize("persona", [*PERSONAS, "administrator"])  # the administrator reads logins' password hashes
def test_no_admin_list_answers_a_lookup_on_personal_data(everything, persona):  # noqa: F811
    user = persona_user(everything, persona)
    answered, tried = [], set()
    for model, model_admin in admin_site._registry.items():
        baseline = changelist(model_admin, user)
        if baseline == "forbidden":
            continue  # not a list this persona may read at all
        rows = listed(baseline)
        queryset = baseline.context_data["cl"].root_queryset  # the rows the persona may see
        for path in unprobeable_paths(model):
            value = probe_value(queryset, path)
            for lookup in LOOKUPS:
                response = changelist(model_admin, user, {path + lookup: probe(lookup, value)})
                tried.add(model)
                if response is None:
                    continue  # refused, as Django's admin refuses a lookup it does not allow
                if not hasattr(response, "context_data") or listed(response) != rows:
                    answered.append(f"{model._meta.label}: ?{path}{lookup}")
    assert not answered, "lookups on personal data that changed the list:\n" + "\n".join(answered)
    assert {Contact, Member} <= tried


def test_a_refused_lookup_is_the_400_page_and_logs_nothing(client, world):
    from members.models import SensitiveAccess

    client.force_login(world.inspector)
    response = client.get(reverse("admin:members_contact_changelist"), {"phone__startswith": "138"})
    assert response.status_code == 400
    assert response.templates[0].name == "400.html"
    assert "13812345678" not in response.content.decode()
    assert not SensitiveAccess.objects.exists()


def test_the_filters_a_list_offers_still_filter(client, world):
    """The allowlist is the list's own filters: they keep working, and only in their own shapes."""
    client.force_login(world.inspector)
    changelist = reverse("admin:members_contact_changelist")
    by_branch = client.get(changelist, {"organisation__id__exact": world.branch_b.pk})
    assert by_branch.status_code == 200
    assert listed(by_branch) == [world.contact_b.pk]
    assert client.get(changelist, {"category__exact": "student"}).status_code == 200
    # A filter on a relation chooses by the related row's key; it is no way into the related model.
    assert client.get(changelist, {"organisation__name__startswith": "乙"}).status_code == 400
    assert client.get(changelist, {"organisation__secretary__phone__startswith": "139"}).status_code == 400
    visits = reverse("admin:visits_visit_changelist")
    assert client.get(visits, {"happened_on__year": "2026"}).status_code == 200  # the date hierarchy
    assert client.get(visits, {"pairing__contact__phone__startswith": "138"}).status_code == 400


def sorts_by_unprobeable(model: type[Model], term) -> bool:
    if isinstance(term, str):
        return path_is_unprobeable(model, term)
    if isinstance(term, OrderBy):
        term = term.expression
    nodes = term.flatten() if isinstance(term, BaseExpression) else [term]
    return any(isinstance(node, F) and path_is_unprobeable(model, node.name) for node in nodes)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_admin_list_sorts_by_personal_data(everything, persona):  # noqa: F811
    user = persona_user(everything, persona)
    sorted_by = []
    for model, model_admin in admin_site._registry.items():
        baseline = changelist(model_admin, user)
        if baseline == "forbidden":
            continue
        for index in range(len(baseline.context_data["cl"].list_display)):
            response = changelist(model_admin, user, {"o": f"-{index}"})
            if response is None:
                continue
            ordering = response.context_data["cl"].queryset.query.order_by
            if any(sorts_by_unprobeable(model, term) for term in ordering):
                sorted_by.append(f"{model._meta.label}: ?o=-{index}")
        for parameter in ORDER_PARAMETERS:
            # Compared with a name that means nothing: Django drops an `o` it cannot read, and
            # then sorts by the primary key alone.
            meaningless = changelist(model_admin, user, {parameter: "nothing"})
            expected = None if meaningless is None else listed(meaningless)
            for path in unprobeable_paths(model, hops=1):
                response = changelist(model_admin, user, {parameter: path})
                if (None if response is None else listed(response)) != expected:
                    sorted_by.append(f"{model._meta.label}: ?{parameter}={path}")
    assert not sorted_by, "lists sorted by personal data:\n" + "\n".join(sorted_by)


def test_a_masked_column_is_never_sortable_by_the_value_it_masks(client, world, monkeypatch):
    """A masked phone column that declared `ordering="phone"` would sort by the hidden number."""
    contact_admin = admin_site._registry[Contact]

    @admin.display(description="phone", ordering="phone")
    def phone_sorted_by_number(obj: Contact) -> str:
        return obj.masked_phone

    monkeypatch.setattr(contact_admin, "list_display", [*contact_admin.list_display, phone_sorted_by_number])
    client.force_login(world.inspector)
    changelist = reverse("admin:members_contact_changelist")
    page = client.get(changelist)
    cl = page.context["cl"]
    index = cl.list_display.index(phone_sorted_by_number)
    assert phone_sorted_by_number not in cl.sortable_by, "the header offers no sorting"
    for order in (str(index), f"-{index}"):
        response = client.get(changelist, {"o": order})
        assert response.status_code == 400, order


def test_no_admin_declares_personal_data_as_a_search_a_filter_or_an_order():
    declared = []
    for model, model_admin in admin_site._registry.items():
        filters = [item[0] if isinstance(item, (list, tuple)) else item for item in model_admin.list_filter]
        names: dict[str, list] = {
            "search_fields": [name.lstrip("^=@") for name in model_admin.search_fields],
            "list_filter": [item for item in filters if isinstance(item, str)],
            "ordering": list(model_admin.ordering or ()),
            "date_hierarchy": [model_admin.date_hierarchy] if model_admin.date_hierarchy else [],
            "list_display": list(model_admin.list_display),
            "allowed_lookups": list(getattr(model_admin, "allowed_lookups", ())),
        }
        for kind, paths in names.items():
            declared += [
                f"{model_admin}.{kind}: {path}"
                for path in paths
                if isinstance(path, str) and path_is_unprobeable(model, path)
            ]
        declared += [  # a display column that sorts by personal data (a masked column's `ordering`)
            f"{model_admin}.list_display: {column}"
            for column in model_admin.list_display
            if isinstance(model_admin, UnprobeableMixin) and model_admin._sorts_by_unprobeable(column)
        ]
    assert not declared, "\n".join(declared)


def test_the_admin_search_never_matches_personal_data(client, world):
    client.force_login(world.inspector)
    for url in (reverse("admin:members_contact_changelist"), reverse("admin:pairings_pairing_changelist")):
        for value in ("13812345678", "110101199003076632", "学府路"):
            response = client.get(url, {"q": value})
            assert response.status_code == 200
            assert listed(response) == [], (url, value)


# The app's own list pages ----------------------------------------------------------------------


def list_pages(world) -> dict[str, tuple[str, type[Model]]]:
    """Every page of the app that lists rows with filters: its address, and the model of its rows."""
    from reports.models import Evaluation
    from visits.pledges.models import Pledge
    from visits.requests.models import Request

    return {
        "contacts": (reverse("members:contact_list"), Contact),
        "quota board": (reverse("pairings:board"), Member),
        "candidates to pair": (reverse("pairings:member_pair", args=[world.member_a1.pk]), Contact),
        "evaluation": (reverse("reports:evaluation_list"), Evaluation),
        "request ledger": (reverse("requests:request_ledger"), Request),
        "pledge review": (reverse("pledges:pledge_review"), Pledge),
    }


# Each FilterSet and the page that shows it; a new FilterSet without a page here fails below.
FILTERSET_PAGES = {
    "ContactFilter": "contacts",
    "BoardFilter": "quota board",
    "EvaluationFilter": "evaluation",
    "RequestFilter": "request ledger",
    "MemberFilter": None,  # declared, shown on no page yet
}


def page_rows(response) -> list:
    return [getattr(row, "pk", row) for row in response.context["page"].object_list]


def all_filtersets() -> Iterable[type[django_filters.FilterSet]]:
    import liaison.urls  # noqa: F401  (imports every view, so every FilterSet is defined)

    pending = list(django_filters.FilterSet.__subclasses__())
    while pending:
        filterset = pending.pop()
        pending += filterset.__subclasses__()
        if filterset.__module__.split(".")[0] in {"members", "pairings", "visits", "reports", "liaison"}:
            yield filterset


def test_no_filterset_declares_a_filter_on_personal_data():
    found = {filterset.__name__ for filterset in all_filtersets()}
    assert found == set(FILTERSET_PAGES), "declare the page of each FilterSet in FILTERSET_PAGES"
    declared = [
        f"{filterset.__name__}.{name}: {declared_filter.field_name}"
        for filterset in all_filtersets()
        for name, declared_filter in filterset.base_filters.items()
        if path_is_unprobeable(filterset._meta.model, declared_filter.field_name or name)  # type: ignore[attr-defined]
    ]
    assert not declared, "\n".join(declared)


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_list_page_answers_a_lookup_or_an_order_on_personal_data(everything, persona):  # noqa: F811
    client = Client(raise_request_exception=True)
    client.force_login(persona_user(everything, persona))
    answered = []
    for name, (url, model) in list_pages(everything).items():
        baseline = client.get(url)
        if baseline.status_code != 200:
            continue  # the secretary's candidates page; the inspector pairs no one
        rows = page_rows(baseline)
        queryset = model._default_manager.filter(pk__in=rows)
        for path in unprobeable_paths(model):
            # The page's filters ignore what they do not declare, so all five lookups go in one
            # request: any one of them applied would change the rows (exact and gt exclude each other).
            value = probe_value(queryset, path)
            response = client.get(url, {path + lookup: probe(lookup, value) for lookup in LOOKUPS})
            if response.status_code != 400 and page_rows(response) != rows:
                answered.append(f"{name}: ?{path}__…")
        for path in unprobeable_paths(model, hops=1):
            for order in (path, f"-{path}"):
                response = client.get(url, dict.fromkeys(ORDER_PARAMETERS, order))
                if response.status_code != 400 and page_rows(response) != rows:
                    answered.append(f"{name}: ?o={order}")
    assert not answered, "list pages that answered:\n" + "\n".join(answered)


def test_the_search_boxes_never_match_personal_data(client, world):
    contact = world.contact_a1
    client.force_login(world.secretary_a.user)
    for value in (contact.phone, contact.id_number, contact.address, contact.phone[:7]):
        response = client.get(reverse("members:contact_list"), {"q": value})
        assert page_rows(response) == [], value


def test_every_unprobeable_field_exists():
    """A renamed field would silently stop being protected: each declared name is a real field."""
    from django.apps import apps

    for label, names in UNPROBEABLE_FIELDS.items():
        model = apps.get_model(label)
        for name in names:
            model._meta.get_field(name)
