"""A session ends after 30 idle minutes (job pages polling in the background are not activity)
and 8 hours after its login, whatever the activity; the login page says why."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

POLL = {"HTTP_X_LIAISON_POLL": "1", "HTTP_HX_REQUEST": "true"}


def later(minutes: float):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def login_page_says(client, response, text: str) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    page = client.get(response["Location"])
    assert text in page.content.decode()


def test_29_idle_minutes_are_fine_and_31_end_the_session(client, world):
    client.force_login(world.administrator)
    with later(29):
        assert client.get(reverse("home")).status_code == 200
        with later(29):  # 29 minutes after that activity: still fine
            assert client.get(reverse("home")).status_code == 200
            with later(31):
                response = client.get(reverse("members:contact_list"))
                assert response["Location"] == f"{reverse('login')}?next=%2Fcontacts%2F"
                login_page_says(client, response, "30 分钟未操作，已自动退出，请重新登录")
                # Logged out for good: the next page asks for the login again.
                assert client.get(reverse("home")).status_code == 302


def test_the_idle_limit_comes_from_the_environment(client, world, settings):
    settings.SESSION_IDLE_TIMEOUT_MINUTES = 10
    client.force_login(world.secretary_a.user)
    with later(11):
        login_page_says(client, client.get(reverse("home")), "10 分钟未操作")


def test_polling_of_a_job_page_does_not_keep_the_session_alive(client, world, term):
    client.force_login(world.secretary_a.user)
    poll = f"{reverse('reports:evaluation_runs')}?term={term.pk}"
    for minute in (10, 20, 29):
        with later(minute):
            assert client.get(poll, **POLL).status_code == 200
    with later(31):
        response = client.get(
            poll, **POLL, HTTP_HX_CURRENT_URL=f"http://testserver{reverse('reports:evaluation_list')}"
        )
        # htmx follows HX-Redirect with the whole page, and comes back to where the user was.
        assert response.status_code == 200
        assert response["HX-Redirect"] == f"{reverse('login')}?next=%2Freports%2Fevaluation%2F"


def test_the_same_request_without_the_polling_header_is_activity(client, world, term):
    client.force_login(world.secretary_a.user)
    runs = f"{reverse('reports:evaluation_runs')}?term={term.pk}"
    with later(20):
        assert client.get(runs).status_code == 200
    with later(31):
        assert client.get(reverse("home")).status_code == 200


def test_every_polling_element_says_it_polls():
    """Each `hx-trigger="every …"` in the templates sends the header that marks it as not activity."""
    found = 0
    for template in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        for element in re.findall(r"<[^>]*hx-trigger=\"every [^>]*>", template.read_text(encoding="utf-8")):
            found += 1
            assert """hx-headers='{"X-Liaison-Poll": "1"}'""" in element, template
    assert found >= 4


def test_a_session_ends_eight_hours_after_its_login_however_busy(client, world):
    client.force_login(world.member_a1.user)
    for step in range(1, 24):  # a page every 20 minutes
        with later(20 * step):
            assert client.get(reverse("home")).status_code == 200, step
    with later(8 * 60 + 1):
        login_page_says(client, client.get(reverse("home")), "每次登录最长 8 小时")


def test_logging_in_again_starts_a_new_session(client, world):
    client.force_login(world.member_a1.user)
    with later(40):
        assert client.get(reverse("home")).status_code == 302
        client.force_login(world.member_a1.user)
        assert client.get(reverse("home")).status_code == 200
