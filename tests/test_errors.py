"""Error pages: in the layout with its menu, in Chinese first, with a way back, never a traceback."""

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.error_urls")]

BOARD_REFUSAL_ZH = "只有书记、党委管理员和纪检监督人员可以查看指标看板。"


@pytest.fixture(autouse=True)
def _production(settings):
    """What a user sees in production: DEBUG off, so Django's own handlers pick the templates."""
    settings.DEBUG = False


@pytest.fixture
def member_client(world):
    client = Client(raise_request_exception=False)
    client.force_login(world.member_a1.user)
    return client


def has_menu(page: str) -> bool:
    return 'id="main-nav"' in page and f'href="{reverse("members:contact_list")}"' in page


def has_way_back(page: str) -> bool:
    return f'href="{reverse("home")}"' in page


def test_a_member_refused_the_quota_board_sees_why_in_chinese_in_the_layout(member_client):
    response = member_client.get(reverse("pairings:board"))
    page = response.content.decode()
    assert response.status_code == 403
    assert response.templates[0].name == "403.html"
    assert BOARD_REFUSAL_ZH in page
    assert "您无权打开此页面" in page
    assert has_menu(page) and has_way_back(page)


def test_a_refusal_without_a_message_says_so_in_general_terms(member_client):
    response = member_client.get("/test-errors/refuse/")
    page = response.content.decode()
    assert response.status_code == 403
    assert "您的角色无权访问此页面" in page
    assert has_menu(page) and has_way_back(page)


def test_an_unknown_address_is_a_chinese_404_in_the_layout(member_client):
    response = member_client.get("/no-such-page/<script>alert(1)</script>/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "此页面不存在" in page
    assert has_menu(page) and has_way_back(page)
    assert "<script>alert(1)</script>" not in page


def test_the_404_is_english_for_someone_who_chose_english(member_client, settings):
    member_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = member_client.get("/no-such-page/").content.decode()
    assert "This page does not exist" in page
    assert "页面不存在" not in page
    assert has_menu(page)


def test_an_anonymous_visitor_gets_the_404_with_a_way_back():
    client = Client(raise_request_exception=False)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
    assert has_way_back(response.content.decode())


def test_a_bug_in_a_view_is_a_chinese_500_in_the_layout_without_a_traceback(member_client):
    response = member_client.get("/test-errors/boom/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "服务器出了点问题" in page
    assert has_menu(page) and has_way_back(page)
    assert "s3cr3t" not in page and "Traceback" not in page


def test_the_500_page_still_renders_when_the_layout_cannot(member_client, monkeypatch):
    # The database is the usual culprit: the menu's roles come from it.
    def database_down(user):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("members.context_processors.get_scope", database_down)
    response = member_client.get("/test-errors/boom/")
    page = response.content.decode()
    assert response.status_code == 500
    assert "服务器出了点问题" in page
    assert 'href="/"' in page
    assert 'id="main-nav"' not in page
    assert "s3cr3t" not in page and "could not connect" not in page and "Traceback" not in page


def test_the_minimal_500_page_is_english_for_someone_who_chose_english(member_client, monkeypatch, settings):
    monkeypatch.setattr("members.context_processors.get_scope", lambda user: 1 / 0)
    member_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = member_client.get("/test-errors/boom/").content.decode()
    assert "Something went wrong on our side" in page


def test_a_bad_host_header_is_a_chinese_400():
    client = Client(raise_request_exception=False)
    response = client.get("/", HTTP_HOST="attacker.example.com")
    page = response.content.decode()
    assert response.status_code == 400
    assert "无法理解此请求" in page
    assert has_way_back(page)


def test_a_rate_limit_raised_by_any_view_is_the_429_page(member_client):
    response = member_client.get("/test-errors/limited/")
    page = response.content.decode()
    assert response.status_code == 429
    assert "请求过于频繁" in page
    assert has_menu(page) and has_way_back(page)


def test_the_survey_keeps_its_own_429_page(settings):
    settings.SURVEY_RATE_LIMIT = "1/m"
    client = Client(raise_request_exception=False)
    url = reverse("survey_answer", kwargs={"token": "guess"})
    client.get(url)
    response = client.get(url)
    assert response.status_code == 429
    assert 'data-reason="limited"' in response.content.decode()


def test_a_locked_account_sees_the_lockout_page_in_the_layout(world):
    client = Client(raise_request_exception=False)
    for _attempt in range(5):
        client.post(reverse("login"), {"username": "member_a1", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "member_a1", "password": "a-long-test-password-42"})
    page = response.content.decode()
    assert response.status_code == 429
    assert "登录失败次数过多" in page
    assert 'class="navbar' in page and 'class="navbar-brand"' in page
