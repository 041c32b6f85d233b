"""Two-factor authentication: required for administrators, inspectors and superusers, optional for secretaries.

These tests log in through the login form (the password alone), as a person would; the other
tests' `force_login` gives the second factor too (tests/conftest.py).
"""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from liaison.security import services
from tests.conftest import second_factor_device, totp_code, totp_code_for_secret
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ENROL = reverse("twofactor:enrol")
VERIFY = reverse("twofactor:verify")
# Pages of every kind: the app's, a staff page, the admin's index, a changelist and a change page.
GUARDED = [
    reverse("home"),
    reverse("members:contact_list"),
    reverse("reports:dashboard"),
    reverse("admin:index"),
    reverse("admin:members_contact_changelist"),
]


def with_password(username: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    return client


def redirected_to(response) -> str:
    assert response.status_code == 302, response.status_code
    return urlsplit(response["Location"]).path


def enrol(client: Client, user) -> list[str]:
    """Set up the app as the enrol page asks: read its key, type the code; return the recovery codes shown."""
    page = client.get(ENROL)
    secret = page.context["secret"]
    response = client.post(ENROL, {"code": totp_code_for_secret(secret, timezone.now().timestamp()), "next": "/"})
    assert redirected_to(response) == reverse("twofactor:recovery_codes")
    return client.get(response["Location"]).context["codes"]


@pytest.mark.parametrize("persona", ["administrator", "inspector"])
def test_administrators_and_inspectors_can_use_nothing_after_the_password_alone(world, persona):
    client = with_password(persona)
    for url in GUARDED:
        response = client.get(url)
        assert redirected_to(response) == ENROL, url
        assert f"next={url.replace('/', '%2F')}" in response["Location"]
    change = client.get(reverse("admin:members_contact_change", args=[world.contact_a1.pk]))
    assert redirected_to(change) == ENROL
    # A write is refused too, not only the pages.
    response = client.post(reverse("pairings:term_open"), {"name": "2027春"})
    assert redirected_to(response) == ENROL


def test_the_admin_itself_refuses_a_session_without_the_second_factor(world, rf):
    from django.contrib.sessions.backends.db import SessionStore

    from liaison.admin import admin_site

    request = rf.get("/admin/")
    request.user = world.administrator
    request.session = SessionStore()
    request.user.is_verified = lambda: False
    assert admin_site.has_permission(request) is False
    request = rf.get("/admin/")
    request.user = get_user_model().objects.get(pk=world.administrator.pk)
    request.user.is_verified = lambda: True
    assert admin_site.has_permission(request) is True


def test_a_superuser_needs_it_too(world):
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    client = with_password("root")
    assert redirected_to(client.get(reverse("admin:index"))) == ENROL


def test_enrolling_shows_a_qr_code_and_the_key_and_then_opens_everything(world):
    client = with_password("administrator")
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg viewBox="0 0 ' in html and "<img" not in html.split('data-testid="qr-code"')[1].split("</div>")[0]
    secret = page.context["secret"]
    assert len(secret.replace(" ", "")) == 32 and secret in html
    # The menu is hidden meanwhile; logging out is not.
    assert 'id="main-nav"' not in html and reverse("logout") in html
    # Reloading keeps the key the user may already have scanned.
    assert client.get(ENROL).context["secret"] == secret

    codes = enrol(client, world.administrator)
    assert len(codes) == 10 and len(set(codes)) == 10
    for url in GUARDED:
        assert client.get(url).status_code == 200, url
    device = TOTPDevice.objects.get(user=world.administrator)
    assert device.confirmed
    # The codes are shown once.
    page = client.get(reverse("twofactor:recovery_codes"))
    assert page.context["codes"] is None and page.context["left"] == 10


def test_a_wrong_first_code_is_refused_and_nothing_is_confirmed(world):
    client = with_password("inspector")
    secret = client.get(ENROL).context["secret"]
    right = totp_code_for_secret(secret, timezone.now().timestamp())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 200
    assert "验证码不对" in response.content.decode()
    device = TOTPDevice.objects.get(user=world.inspector)
    assert not device.confirmed and device.throttling_failure_count == 1
    assert redirected_to(client.get(reverse("home"))) == ENROL


def test_with_an_app_the_login_asks_for_its_code_and_nothing_else_opens(world):
    device = second_factor_device(world.inspector)
    client = with_password("inspector")
    for url in [*GUARDED, ENROL]:  # not even setting up another app, with the password alone
        assert redirected_to(client.get(url)) == VERIFY, url
    response = client.post(VERIFY, {"code": totp_code(device), "next": reverse("reports:dashboard")})
    assert redirected_to(response) == reverse("reports:dashboard")
    assert client.get(reverse("reports:dashboard")).status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id


def test_a_wrong_code_is_refused_with_a_message_and_slows_the_next_try(world):
    device = second_factor_device(world.administrator)
    client = with_password("administrator")
    right = totp_code(device)
    response = client.post(VERIFY, {"code": f"{(int(right) + 1) % 1_000_000:06d}"})
    assert response.status_code == 200
    assert "验证码不对" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # Straight after a wrong code even the right one waits (django-otp's throttling: 1 s, then 2, 4 …).
    response = client.post(VERIFY, {"code": right})
    assert response.status_code == 200
    assert "错误次数过多" in response.content.decode()
    assert redirected_to(client.get(reverse("home"))) == VERIFY
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        response = client.post(VERIFY, {"code": right})
        assert redirected_to(response) == reverse("home")
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_a_recovery_code_works_once(world):
    client = with_password("administrator")
    codes = enrol(client, world.administrator)
    client.post(reverse("logout"))

    client = with_password("administrator")
    response = client.post(VERIFY, {"code": codes[0].upper()})  # as typed from paper
    assert redirected_to(response) == reverse("home")
    assert client.get(reverse("home")).status_code == 200
    assert StaticToken.objects.filter(device__user=world.administrator).count() == 9
    client.post(reverse("logout"))

    client = with_password("administrator")
    response = client.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 200 and "验证码不对" in response.content.decode()
    assert redirected_to(client.get(reverse("home"))) == VERIFY


def test_new_recovery_codes_replace_the_old_ones(world):
    client = with_password("administrator")
    old = enrol(client, world.administrator)
    response = client.post(reverse("twofactor:recovery_codes"))
    new = client.get(response["Location"]).context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert set(StaticToken.objects.filter(device__user=world.administrator).values_list("token", flat=True)) == set(new)


def test_a_secretary_without_an_app_logs_in_with_the_password_and_may_enrol(world):
    client = with_password("secretary_a")
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert reverse("twofactor:manage") in home.content.decode()  # in the account menu
    page = client.get(reverse("twofactor:manage"))
    assert page.context["enrolled"] is False and page.context["required"] is False
    enrol(client, world.secretary_a.user)
    client.post(reverse("logout"))
    # Once enrolled, they are asked for the code like everyone with an app.
    client = with_password("secretary_a")
    assert redirected_to(client.get(reverse("home"))) == VERIFY


def test_a_secretary_may_turn_it_off_but_an_administrator_may_not(world):
    secretary = Client()
    secretary.force_login(world.secretary_a.user)
    enrol(secretary, world.secretary_a.user)
    response = secretary.post(reverse("twofactor:remove"))
    assert redirected_to(response) == reverse("twofactor:manage")
    assert not TOTPDevice.objects.filter(user=world.secretary_a.user).exists()
    assert not StaticDevice.objects.filter(user=world.secretary_a.user).exists()
    assert secretary.get(reverse("home")).status_code == 200

    administrator = Client()
    administrator.force_login(world.administrator)
    assert administrator.post(reverse("twofactor:remove")).status_code == 403
    assert TOTPDevice.objects.filter(user=world.administrator, confirmed=True).exists()


def test_moving_to_a_new_phone_replaces_the_old_app_once_confirmed(world):
    client = Client()
    client.force_login(world.administrator)
    old = TOTPDevice.objects.get(user=world.administrator)
    page = client.get(ENROL)
    assert page.context["replacing"] is True
    assert TOTPDevice.objects.filter(user=world.administrator).count() == 2  # the old one still works
    client.post(ENROL, {"code": totp_code_for_secret(page.context["secret"], timezone.now().timestamp())})
    devices = TOTPDevice.objects.filter(user=world.administrator)
    assert devices.count() == 1 and devices.get().pk != old.pk and devices.get().confirmed


def test_the_reset_command_removes_a_lost_phone(world):
    from django.core.management import call_command

    second_factor_device(world.administrator)
    services.recovery_codes_generate(user=world.administrator)
    call_command("twofactor_reset", "administrator")
    assert not TOTPDevice.objects.filter(user=world.administrator).exists()
    assert not StaticDevice.objects.filter(user=world.administrator).exists()
    client = with_password("administrator")
    assert redirected_to(client.get(reverse("home"))) == ENROL


def test_the_pages_are_translated(world):
    client = with_password("administrator")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Set up two-factor authentication" in client.get(ENROL).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "设置两步验证" in client.get(ENROL).content.decode()
