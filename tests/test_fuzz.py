"""Hostile input on every page: never a 500, never a half-write, nothing absurd stored.

The pages come from the URL resolver (every named route outside the admin), their forms
from the HTML each page renders (every `<form>`, GET filters and POST forms alike), and the
query parameters from those GET forms plus `READ_PARAMETERS`, the parameters the views
read by hand; `test_the_declared_parameters_are_every_one_the_views_read` greps the views
so a new `request.GET.get("x")` cannot escape. Each field gets a few of the hostile values
(a fixed rotation, so every value reaches every kind of field somewhere), as a branch
secretary, as a plain member and, on the public pages, as nobody.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from itertools import cycle, islice
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from liaison.admin import admin_site
from members.models import Contact
from pairings.models import MatchingRun
from reports.models import ExportJob, SurveyLink
from tests.conftest import open_term
from visits.pledges import services as pledge_services
from visits.requests import services as request_services
from visits.services import VisitData, visit_log

pytestmark = pytest.mark.django_db

HOSTILE = [
    "\x00",
    "²",
    "-1",
    "9" * 40,
    "9999-12-31",
    "0000-00-00",
    "x" * 100_000,
    "<script>alert(1)</script>",
    "１２３",
    "' OR 1=1 --",
    "1; DROP TABLE members_member",
    "12\x00",
]
VALUES_PER_FIELD = 2
ROOT = Path(__file__).resolve().parent.parent

# Query parameters the views read themselves (not through a form or a filterset).
READ_PARAMETERS = {"term", "organisation", "page", "category", "contact", "visit", "next"}


def hostile_values(start: int) -> list[str]:
    return list(islice(cycle(HOSTILE), start, start + VALUES_PER_FIELD))


# The pages -----------------------------------------------------------------------------------------


def named_routes() -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []

    def walk(patterns, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name == "admin" or str(pattern.pattern).startswith("i18n"):
                    continue
                walk(pattern.url_patterns, f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace)
            elif pattern.name:
                found.append((namespace + pattern.name, pattern))

    walk(get_resolver().url_patterns, "")
    return found


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)


class FormParser(HTMLParser):
    """Every form on a page, with the values it would submit as rendered."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            method = (attributes.get("method") or "get").lower()
            action = attributes.get("action") or attributes.get("hx-post") or attributes.get("hx-get") or self.url
            self.form = Form(action=action, method="post" if attributes.get("hx-post") else method)
            self.forms.append(self.form)
            return
        if self.form is None:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = (attributes.get("type") or "text").lower()
            if kind == "file":
                self.form.files.append(name)
            elif kind == "radio":
                # The checked choice, else the first one, as a person would pick.
                values = self.form.fields.setdefault(name, [])
                if "checked" in attributes:
                    values[:] = [attributes.get("value") or "on"]
                elif not values:
                    values.append(attributes.get("value") or "on")
            elif kind == "checkbox":
                values = self.form.fields.setdefault(name, [])
                if "checked" in attributes:
                    values.append(attributes.get("value") or "on")
            elif kind not in ("submit", "button", "reset", "image"):
                self.form.fields.setdefault(name, []).append(attributes.get("value") or "")
        elif tag == "button" and name and attributes.get("value"):
            self.form.fields.setdefault(name, [attributes["value"]])
        elif tag == "select" and name:
            self.select, self.select_first, self.select_chosen = name, None, False
            self.form.fields.setdefault(name, [])
        elif tag == "option" and self.select:
            value = attributes.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in attributes:
                self.form.fields[self.select].append(value)
                self.select_chosen = True
        elif tag == "textarea" and name:
            self.textarea = name
            self.form.fields.setdefault(name, [""])

    def handle_data(self, data):
        if self.form is not None and self.textarea:
            self.form.fields[self.textarea] = [self.form.fields[self.textarea][0] + data]

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select" and self.form is not None and self.select:
            if not self.select_chosen and self.select_first is not None:
                self.form.fields[self.select].append(self.select_first)
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_on(url: str, html: str) -> list[Form]:
    parser = FormParser(url)
    parser.feed(html)
    return [form for form in parser.forms if not form.action.startswith(("http", "/i18n/", "/accounts/logout/"))]


# Writes during one request -----------------------------------------------------------------------


class Writes:
    # Bookkeeping, not the user's data: sessions, login counters, and the authenticator app the
    # enrol page sets up (unconfirmed) when it is shown, so its key survives a reload.
    IGNORED = {"sessions.session", "axes.accessattempt", "axes.accesslog", "auth.user", "otp_totp.totpdevice"}

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, sender, **kwargs):
        label = sender._meta.label_lower
        if label not in self.IGNORED and not label.startswith("axes."):
            self.seen.append(label)

    def __enter__(self) -> Writes:
        for signal in (post_save, post_delete, m2m_changed):
            signal.connect(self, weak=False, dispatch_uid="fuzz")
        return self

    def __exit__(self, *exc) -> None:
        for signal in (post_save, post_delete, m2m_changed):
            signal.disconnect(dispatch_uid="fuzz")


def refused(response) -> bool:
    """A request that said no: an error status, or a form shown again with its errors."""
    if response.status_code >= 400:
        return True
    if response.status_code == 200 and response.context is not None:
        contexts = response.context if isinstance(response.context, list) else [response.context]
        for context in contexts:
            for value in context.flatten().values():
                if hasattr(value, "errors") and getattr(value, "is_bound", False) and value.errors:
                    return True
    return False


def check(client: Client, method: str, url: str, data: dict, failures: list[str], files: dict | None = None) -> None:
    with Writes() as writes:
        try:
            response = client.post(url, {**data, **(files or {})}) if method == "post" else client.get(url, data)
        except Exception as error:  # the test client re-raises what the view raised: a 500
            failures.append(f"{method.upper()} {url} {shorten(data)}: {type(error).__name__}: {str(error)[:200]}")
            return
    if response.status_code >= 500:
        failures.append(f"{method.upper()} {url} {shorten(data)}: {response.status_code}")
    elif refused(response) and writes.seen:
        failures.append(
            f"{method.upper()} {url} {shorten(data)}: refused ({response.status_code}) but wrote {writes.seen}"
        )


def shorten(data: dict) -> str:
    return repr(
        {
            key: (value if len(str(value)) < 30 else f"{str(value)[:12]}…({len(str(value))})")
            for key, value in data.items()
        }
    )


# The objects the routes name ------------------------------------------------------------------------


@pytest.fixture
def fuzz_world(world):
    term = open_term(world)
    pairing = world.member_a1.pairings.get(contact=world.contact_a1)
    pairing.term = term
    pairing.save()
    world.term = term
    visit = visit_log(
        user=world.member_a1.user,
        contact=world.contact_a1,
        data=VisitData(happened_on=date(2026, 10, 10), mode="talk", discussed="谈心"),
    )
    request = request_services.request_create(
        organisation=world.branch_a,
        source="visit",
        summary="路灯坏了",
        contact=world.contact_a1,
        by=world.secretary_a.user,
    )
    pledge = pledge_services.pledge_create(member=world.member_a1, by=world.member_a1.user, year=2026, title="帮扶")
    post = pledge_services.service_post_create(organisation=world.branch_a, by=world.secretary_a.user, title="志愿者")
    run = MatchingRun.objects.create(term=term, organisation=world.branch_a, created_by=world.secretary_a.user)
    export = ExportJob.objects.create(
        user=world.secretary_a.user, term=term, organisation=world.branch_a, kind="visits"
    )
    link = SurveyLink.objects.create(
        term=term,
        member=world.member_a1,
        contact=world.contact_a1,
        token="fuzz-token",
        expires_at=datetime(2026, 12, 31, tzinfo=UTC),
        created_by=world.secretary_a.user,
    )
    world.route_arguments = {
        "contact_id": world.contact_a1.pk,
        "member_id": world.member_a1.pk,
        "job_id": export.pk,
        "run_id": run.pk,
        "pairing_id": pairing.pk,
        "evaluation_id": 1,
        "visit_id": visit.pk,
        "photo_id": 1,
        "pledge_id": pledge.pk,
        "post_id": post.pk,
        "request_id": request.pk,
        "token": link.token,
        "code": world.branch_a.code,
        "kind": "members",
    }
    return world


def route_urls(world) -> list[str]:
    urls = []
    for name, pattern in named_routes():
        if name in ("logout",):
            continue
        arguments = {key: world.route_arguments[key] for key in pattern.pattern.converters}
        urls.append(reverse(name, kwargs=arguments))
    return urls


def fuzz_pages(client: Client, urls: list[str], failures: list[str]) -> None:
    rotation = 0
    for url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            failures.append(f"GET {url}: {response.status_code}")
            continue
        html = (
            response.content.decode(errors="replace")
            if response.get("Content-Type", "").startswith("text/html")
            else ""
        )
        forms = forms_on(url, html)
        parameters = set(READ_PARAMETERS)
        for form in forms:
            if form.method == "get":
                parameters |= set(form.fields)
        for parameter in sorted(parameters):
            check(client, "get", url, {parameter: HOSTILE[rotation % len(HOSTILE)]}, failures)
            rotation += 1
        for value in hostile_values(rotation):
            check(client, "get", url, dict.fromkeys(parameters, value), failures)
        rotation += VALUES_PER_FIELD
        for form in forms:
            if form.method != "post":
                continue
            action = form.action if form.action.startswith("/") else url
            baseline = {name: values for name, values in form.fields.items() if name != "csrfmiddlewaretoken"}
            for name in baseline:
                for value in hostile_values(rotation):
                    check(client, "post", action, {**baseline, name: value}, failures)
                rotation += 1
            for value in hostile_values(rotation):
                files = {name: SimpleUploadedFile("x.xlsx", value.encode()) for name in form.files}
                check(client, "post", action, dict.fromkeys(baseline, value), failures, files)
            rotation += VALUES_PER_FIELD


# The tests -------------------------------------------------------------------------------------------


def test_the_declared_parameters_are_every_one_the_views_read():
    read = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        read |= set(re.findall(r"request\.(?:GET|POST)\.get(?:list)?\(\s*[\"'](\w+)[\"']", path.read_text()))
    # Fields posted by forms are found on the pages; these are read from the query string too.
    # `target` and `relation` are what the admin's organisation tree posts when a node is dragged.
    posted_only = {"theme", "proposal", "username", "target", "relation"}
    assert read - posted_only <= READ_PARAMETERS, read - posted_only - READ_PARAMETERS


def test_every_route_argument_is_provided(fuzz_world):
    needed = {key for _name, pattern in named_routes() for key in pattern.pattern.converters}
    assert needed <= set(fuzz_world.route_arguments), needed - set(fuzz_world.route_arguments)


@pytest.mark.parametrize("persona", ["secretary", "member", "administrator", "anonymous"])
def test_hostile_values_on_every_page_and_form_never_give_a_500_or_a_half_write(client, fuzz_world, persona):
    """The administrator goes only where the secretary may not (opening a term, the score sheet)."""
    client.raise_request_exception = True
    urls = route_urls(fuzz_world)
    if persona == "administrator":
        client.force_login(fuzz_world.secretary_a.user)
        urls = [url for url in urls if client.get(url).status_code in (403, 404)]
        client.force_login(fuzz_world.administrator)
    elif persona == "secretary":
        client.force_login(fuzz_world.secretary_a.user)
    elif persona == "member":
        client.force_login(fuzz_world.member_a1.user)
    else:
        urls = [reverse("login"), reverse("survey_answer", args=[fuzz_world.route_arguments["token"]])]
    failures: list[str] = []

    fuzz_pages(client, urls, failures)

    assert failures == [], "\n".join(failures[:60]) + f"\n({len(failures)} in all)"
    assert absurd_values() == []


def test_hostile_values_in_admin_filters_never_give_a_500(client, fuzz_world):
    client.force_login(fuzz_world.secretary_a.user)
    client.raise_request_exception = True
    failures: list[str] = []
    rotation = 0
    for model, model_admin in admin_site._registry.items():
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        lookups = [
            f"{f.name}__gte"
            for f in model._meta.concrete_fields
            if isinstance(f, (models.DateField, models.IntegerField, models.ForeignKey))
        ]
        for list_filter in model_admin.list_filter:
            entry: Any = list_filter
            if isinstance(entry, str):
                lookups.append(entry)
            elif isinstance(entry, (tuple, list)):
                lookups.append(str(entry[0]))
            else:
                lookups.append(str(entry.parameter_name))
        lookups += ["q", "o", "p", "e"]
        for lookup in lookups:
            check(client, "get", url, {lookup: HOSTILE[rotation % len(HOSTILE)]}, failures)
            rotation += 1
        check(client, "get", url, dict.fromkeys(lookups, "9" * 40), failures)
    assert failures == [], "\n".join(failures[:60]) + f"\n({len(failures)} in all)"


# Nothing absurd stored ------------------------------------------------------------------------------

LONGEST_TEXT = 5_000
SANE_YEARS = range(1900, 2101)
OUR_APPS = {"members", "pairings", "visits", "requests", "pledges", "notifications", "reports"}


def absurd_values() -> list[str]:
    """Text longer than its column (PostgreSQL would refuse it) or than any box allows; years out of range."""
    found = []
    for model in apps.get_models():
        ours = model._meta.app_label in OUR_APPS and not model.__name__.startswith("Historical")
        for model_field in model._meta.concrete_fields:
            if isinstance(model_field, (models.CharField, models.TextField)):
                limit = model_field.max_length or LONGEST_TEXT
                if isinstance(model_field, models.TextField) and not ours:
                    continue
                for value in model._default_manager.values_list(model_field.name, flat=True):
                    if value and len(value) > limit:
                        found.append(f"{model._meta.label}.{model_field.name}: {len(value)} characters")
            elif (
                ours and isinstance(model_field, models.DateField) and not isinstance(model_field, models.DateTimeField)
            ):
                for value in model._default_manager.values_list(model_field.name, flat=True):
                    if value and value.year not in SANE_YEARS:
                        found.append(f"{model._meta.label}.{model_field.name}: {value}")
    return found


def test_absurd_values_finds_a_hundred_thousand_characters(fuzz_world):
    fuzz_world.contact_a1.notes = "x" * 100_000
    fuzz_world.contact_a1.save()
    assert absurd_values() == ["members.Contact.notes: 100000 characters"]


def test_absurd_values_finds_text_longer_than_its_column(fuzz_world):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL refuses the over-long value itself; SQLite stores it, so the check is for SQLite")
    Contact.objects.filter(pk=fuzz_world.contact_a1.pk).update(name="名" * 51)
    assert absurd_values() == ["members.Contact.name: 51 characters"]


def test_the_form_parser_reads_inputs_selects_and_textareas():
    html = (
        '<form method="post" action="/x/"><input name="a" value="1"><select name="s"><option value="p">P</option>'
        '<option value="q" selected>Q</option></select><textarea name="t">hi</textarea>'
        '<input type="checkbox" name="c" value="v" checked><input type="file" name="f"></form>'
        '<form method="get"><input name="term"></form>'
    )
    post, get = forms_on("/page/", html)
    assert (post.action, post.method, post.fields, post.files) == (
        "/x/",
        "post",
        {"a": ["1"], "s": ["q"], "t": ["hi"], "c": ["v"]},
        ["f"],
    )
    assert (get.action, get.method, list(get.fields)) == ("/page/", "get", ["term"])
    assert urlsplit(post.action).path == "/x/"
