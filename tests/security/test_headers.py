"""Headers and the Content-Security-Policy: no-store on authenticated pages, no inline script anywhere."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def test_an_authenticated_page_is_not_stored(client, world):
    client.force_login(world.secretary_a.user)
    response = client.get(reverse("members:contact_detail", args=[world.contact_a1.pk]))
    assert response.status_code == 200
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives


def test_static_files_keep_their_cache_lifetime(client, world, settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    client.force_login(world.secretary_a.user)
    response = client.get(static("js/liaison.js"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_every_page_has_the_content_security_policy_and_referrer_policy(client, world):
    for response in (client.get(reverse("login")), client.get(reverse("home"))):
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["object-src"] == "'none'"
        assert "unsafe-inline" not in response["Content-Security-Policy"]
        assert "unsafe-eval" not in response["Content-Security-Policy"]
        assert response["Referrer-Policy"] == "same-origin"


class InlineCode(HTMLParser):
    """Collects what the policy would block: inline <script>, on*= handlers, style= and <style>."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.found.append("inline <script>")
        if tag == "style":
            self.found.append("<style>")
        for name, _value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name == "style":
                self.found.append(f"style= on <{tag}>")


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    return parser.found


def test_the_checker_sees_inline_code():
    assert inline_code('<script>alert(1)</script><a onclick="x()">') == ["inline <script>", "onclick= on <a>"]
    assert inline_code('<div style="width: 3%"></div><style>p{}</style>') == ["style= on <div>", "<style>"]
    assert inline_code('<script src="/s.js"></script><script type="application/json">{}</script>') == []


def test_no_template_holds_inline_script_or_style():
    offenders = {}
    for template in TEMPLATES.rglob("*.html"):
        text = re.sub(r"{#.*?#}", "", template.read_text(encoding="utf-8"))
        found = inline_code(text)
        if found:
            offenders[str(template.relative_to(TEMPLATES))] = found
    assert offenders == {}


def main_pages(world, term):
    pages = [
        reverse("home"),
        reverse("members:contact_list"),
        reverse("members:contact_detail", args=[world.contact_a1.pk]),
        reverse("members:roster_import"),
        reverse("pairings:board"),
        reverse("pairings:term_open"),
        reverse("reports:dashboard"),
        reverse("reports:evaluation_list"),
        reverse("reports:survey"),
        reverse("reports:survey_print"),
        reverse("reports:export"),
        reverse("requests:request_ledger"),
        reverse("pledges:pledge_review"),
        reverse("pledges:post_manage"),
        reverse("notifications:notifications"),
        reverse("twofactor:manage"),
        reverse("twofactor:enrol"),
        reverse("admin:index"),
        reverse("admin:members_contact_changelist"),
        reverse("admin:members_contact_change", args=[world.contact_a1.pk]),
        reverse("admin:members_contact_add"),
        reverse("admin:members_contact_history", args=[world.contact_a1.pk]),
    ]
    return pages


def test_the_main_pages_render_without_inline_script(client, world, term):
    client.force_login(world.administrator)
    rendered = {}
    for url in main_pages(world, term):
        response = client.get(url)
        assert response.status_code == 200, url
        rendered[url] = inline_code(response.content.decode())
    # django-simple-history's history page has one style= (the paginator's top border): blocked, harmless.
    history = reverse("admin:members_contact_history", args=[world.contact_a1.pk])
    assert rendered.pop(history) in ([], ["style= on <p>"])
    assert {url: found for url, found in rendered.items() if found} == {}


def test_the_member_pages_render_without_inline_script(client, world, term):
    client.force_login(world.member_a1.user)
    for url in (
        reverse("home"),
        reverse("visits:due"),
        reverse("members:contact_detail", args=[world.contact_a1.pk]),
        reverse("pledges:pledge_list"),
        reverse("pledges:post_list"),
        reverse("pledges:registration_mine"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert inline_code(response.content.decode()) == [], url
