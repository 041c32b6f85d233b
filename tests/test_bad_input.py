"""The causes of the fuzzer's 500s, one test each, and the caps on absurd values (issue 12)."""

import importlib
import inspect
from datetime import date
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse
from django.utils import translation

from liaison.params import LONG_TEXT_MAX, SEARCH_MAX_LENGTH, int_param
from pairings import services as pairing_services
from pairings.models import Term, TermKind
from tests.conftest import open_term
from tests.visits.test_visits import visit_form
from visits.models import Visit

pytestmark = pytest.mark.django_db

FORM_ENCODED = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def english_messages():
    """The services' messages below are quoted in English (pages choose it with the language cookie)."""
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12),
        (12, 12),
        ("0", 0),
        ("²", None),
        ("١٢", None),
        ("１２", None),
        ("-1", None),
        (" 1", None),
        ("9" * 40, None),
        ("9" * 19, None),
        (str(2**63 - 1), 2**63 - 1),
        ("", None),
        (None, None),
        ("1.0", None),
    ],
)
def test_int_param_takes_ascii_digits_within_a_bigint_only(value, expected):
    assert int_param(value) == expected


# ?term=, ?organisation=, ?contact= and the pair form's contact ----------------------------------


def test_a_superscript_term_id_shows_the_current_term(client, world, term):
    client.force_login(world.secretary_a.user)
    response = client.get(reverse("pairings:board"), {"term": "²"})
    assert response.status_code == 200
    assert response.context["term"] == term


def test_a_superscript_organisation_id_on_the_dashboard_is_not_found(client, world, term):
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("reports:dashboard"), {"organisation": "²"}).status_code == 404
    assert client.get(reverse("reports:survey_print"), {"organisation": "9" * 40}).status_code == 200


def test_a_superscript_contact_preset_on_the_request_form_is_ignored(client, world, term):
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("requests:request_create"), {"contact": "²"}).status_code == 200


@pytest.mark.parametrize("contact", ["abc", "²", "9" * 40, ""])
def test_a_malformed_contact_on_the_pair_form_is_not_found(client, world, term, contact):
    client.force_login(world.secretary_a.user)
    pairings_before = world.member_a1.pairings.count()
    response = client.post(
        reverse("pairings:member_pair", args=[world.member_a1.pk]), {"term": term.pk, "contact": contact}
    )
    assert response.status_code == 404
    assert world.member_a1.pairings.count() == pairings_before


# NUL, huge numbers and huge text -----------------------------------------------------------------


def test_a_nul_byte_in_a_query_or_a_form_is_a_bad_request(client, world, term):
    login = client.post(reverse("login"), urlencode({"username": "a\x00", "password": "x"}), content_type=FORM_ENCODED)
    assert login.status_code == 400
    client.force_login(world.secretary_a.user)
    assert client.get(reverse("members:contact_list"), {"category": "stu\x00dent"}).status_code == 400
    assert client.get(reverse("members:contact_list"), {"category": "student"}).status_code == 200


@pytest.mark.parametrize(
    "query",
    [{"secretary__gte": "9" * 40}, {"name__startswith": "x\x00"}, {"q": "x" * 100_000}, {"id__in": "1," + "9" * 30}],
)
def test_absurd_admin_filters_are_a_bad_request(client, world, query):
    client.force_login(world.administrator)
    response = client.get(reverse("admin:members_organisation_changelist"), query)
    assert response.status_code == 400


def test_a_hundred_thousand_character_search_is_a_form_error_not_a_database_error(client, world):
    client.force_login(world.secretary_a.user)
    response = client.get(reverse("members:contact_list"), {"q": "x" * 100_000})
    assert response.status_code == 200
    assert response.context["filter"].form.errors["q"]
    assert client.get(reverse("members:contact_list"), {"q": "x" * SEARCH_MAX_LENGTH}).status_code == 200


def test_a_hundred_thousand_character_log_is_refused_with_the_limit(client, world, term, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    pairing_services.pairing_create(member=world.member_a1, contact=world.contact_a1, term=term)
    client.force_login(world.member_a1.user)
    response = client.post(
        reverse("visits:visit_create", args=[world.contact_a1.pk]),
        visit_form(happened_on="2026-10-14", discussed="谈" * 100_000),
    )
    assert response.status_code == 200
    assert f"at most {LONG_TEXT_MAX} characters" in response.content.decode()
    assert not Visit.objects.exists()


def test_a_login_username_longer_than_any_account_is_a_form_error_and_axes_stores_it_cut(client, world):
    response = client.post(reverse("login"), {"username": "u" * 300, "password": "x"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert all(len(attempt.username) <= 150 for attempt in AccessAttempt.objects.all())


# Text the system writes itself (a job's message), never typed into a box.
SYSTEM_WRITTEN = {"message"}


def test_every_free_text_column_and_text_box_is_capped():
    uncapped = []
    for model in apps.get_models():
        if model._meta.app_label not in {"members", "pairings", "visits", "requests", "pledges", "reports"}:
            continue
        for field in model._meta.concrete_fields:
            if field.name in SYSTEM_WRITTEN:
                continue
            if isinstance(field, models.TextField) and not any(
                isinstance(validator, MaxLengthValidator) for validator in field.validators
            ):
                uncapped.append(f"{model._meta.label}.{field.name}")
    for module_name in (
        "members.forms",
        "pairings.forms",
        "visits.forms",
        "visits.requests.forms",
        "visits.pledges.forms",
        "reports.forms",
    ):
        module = importlib.import_module(module_name)
        for name, form_class in inspect.getmembers(module, inspect.isclass):
            if issubclass(form_class, forms.BaseForm) and form_class.__module__ == module_name:
                for field_name, field in form_class.base_fields.items():  # type: ignore[attr-defined]
                    if type(field) in (forms.CharField,) and field.max_length is None:
                        uncapped.append(f"{module_name}.{name}.{field_name}")
    assert uncapped == []


# Terms: within working dates, at most a year, never overlapping in a tree --------------------------


def make_term(world, starts_on, ends_on, name="测试学期"):
    return pairing_services.term_create(
        organisation=world.branch_a, name=name, kind=TermKind.SEMESTER, starts_on=starts_on, ends_on=ends_on
    )


# The personas' term runs 2026-09-01 to 2027-01-20 in the committee's tree; these start after it.


def test_a_term_ending_9999_12_31_is_refused(world):
    with pytest.raises(ValidationError, match="between 2000-01-01 and 2036-10-15"):
        make_term(world, date(2027, 2, 1), date(9999, 12, 31))
    with pytest.raises(ValidationError, match="between 2000-01-01"):
        make_term(world, date(1999, 2, 1), date(1999, 7, 1))


def test_a_term_longer_than_a_year_is_refused(world):
    with pytest.raises(ValidationError, match="at most a year"):
        make_term(world, date(2027, 2, 1), date(2028, 3, 1))
    assert make_term(world, date(2027, 2, 1), date(2028, 1, 31)).organisation == world.committee


def test_overlapping_terms_in_one_tree_are_refused_but_the_next_one_is_fine(world):
    for number in range(3):
        with pytest.raises(ValidationError, match="overlap"):
            make_term(world, date(2026, 10, 1), date(2027, 1, 31), name=f"重叠{number}")
    make_term(world, date(2027, 2, 20), date(2027, 7, 10))
    assert Term.objects.filter(organisation=world.committee).count() == 2


def test_the_open_term_page_refuses_9999_12_31_with_a_form_error(client, world, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    open_term(world)
    client.force_login(world.administrator)
    terms_before = Term.objects.count()
    response = client.post(
        reverse("pairings:term_open"),
        {"name": "永远", "kind": "semester", "starts_on": "2027-02-20", "ends_on": "9999-12-31"},
    )
    assert response.status_code == 200
    assert "Enter a date between" in response.content.decode()
    assert Term.objects.count() == terms_before


def test_the_admin_refuses_an_overlapping_term_with_a_form_error(client, world, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(world.administrator)
    terms_before = Term.objects.count()
    response = client.post(
        reverse("admin:pairings_term_add"),
        {
            "organisation": world.committee.pk,
            "name": "重叠",
            "kind": "semester",
            "starts_on": "2026-10-01",
            "ends_on": "2027-01-31",
        },
    )
    assert response.status_code == 200
    assert "overlap" in response.content.decode()
    assert Term.objects.count() == terms_before
