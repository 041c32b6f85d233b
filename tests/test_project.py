"""The project as a whole: settings, migrations, translations, login lockout."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "k3Jp9-production-secret-that-is-long-and-random-enough-x7Qz!vL2m",
    "ALLOWED_HOSTS": "liaison.example.edu.cn",
    "DATABASE_URL": "postgres://liaison@127.0.0.1:5432/liaison",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def test_production_profile_passes_check_deploy_without_warnings():
    # The test run's own DJANGO_ALLOW_ASYNC_UNSAFE (for Playwright) is not part of production.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in PRODUCTION_ENV and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    } | PRODUCTION_ENV
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {key: value for key, value in os.environ.items() if key != "SECRET_KEY"} | {"DEBUG": "false"}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_every_message_is_translated_to_chinese():
    po = (BASE_DIR / "locale/zh_Hans/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    entries = po.split("\n\n")[1:]
    untranslated = [entry for entry in entries if entry.rstrip().endswith('msgstr ""') or "#, fuzzy" in entry]
    assert not untranslated, "\n\n".join(untranslated[:5])


@pytest.mark.django_db
def test_pages_are_in_chinese_by_default_even_for_an_english_browser(client, world):
    client.force_login(world.member_a1.user)
    chinese = client.get(reverse("members:contact_list"), HTTP_ACCEPT_LANGUAGE="en-US,en").content.decode()
    assert "我的联系对象" in chinese


@pytest.mark.django_db
def test_the_language_switcher_turns_pages_english(client, world):
    client.force_login(world.member_a1.user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("members:contact_list")).content.decode()
    assert "My contacts" in english
    assert "我的联系对象" not in english


@pytest.mark.django_db
def test_five_wrong_passwords_lock_the_account(client, world):
    url = reverse("login")
    for _attempt in range(5):
        client.post(url, {"username": "member_a1", "password": "wrong"})
    response = client.post(url, {"username": "member_a1", "password": "a-long-test-password-42"})
    assert response.status_code == 429
    assert "/accounts/login/" not in response.get("Location", "")


@pytest.mark.django_db
def test_logging_in_with_the_right_password_opens_my_page(client, world):
    response = client.post(reverse("login"), {"username": "member_a1", "password": "a-long-test-password-42"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_no_page_loads_assets_from_a_cdn():
    for template in (BASE_DIR / "templates").rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "cdn." not in text and "https://" not in text, template
