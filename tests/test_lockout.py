"""Login lockout: a (login name, address) pair, an address that sprays, the proxy, and lifting it.

Behind the production proxy every connection comes from the proxy; the client's address is
read from X-Forwarded-For, trusting exactly TRUSTED_PROXY_COUNT proxies. Failures lock the
pair they came from, so a stranger who knows a secretary's login name cannot lock the
secretary out of their own address; an address that fails on many names is locked as a whole.
"""

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.urls import reverse

from liaison.http import client_ip
from members.models import AccountEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.9"
SECRETARY = "198.51.100.7"


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


def log_in(username: str, password: str, address: str, client: Client | None = None):
    client = client or Client()
    # The proxy appends the address it was reached from; REMOTE_ADDR is the proxy's (127.0.0.1).
    return client.post(reverse("login"), {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=address)


def fail(username: str, address: str, times: int = 5) -> None:
    """Wrong passwords; the one that reaches a limit is answered with the locked-out page already."""
    for _attempt in range(times):
        assert log_in(username, "wrong", address).status_code in (200, 429)


# The client's address ---------------------------------------------------------------------


def address_of(forwarded: str | None, settings, proxies: int) -> str:
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/")
    request.META["REMOTE_ADDR"] = "10.0.0.2"
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(request)


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    assert address_of(ATTACKER, settings, proxies=0) == "10.0.0.2"


def test_behind_one_proxy_the_address_it_saw_counts_not_what_the_client_wrote(settings):
    assert address_of(ATTACKER, settings, proxies=1) == ATTACKER
    # A client that sends its own header gets the proxy's entry appended: its own is ignored.
    assert address_of(f"{SECRETARY}, {ATTACKER}", settings, proxies=1) == ATTACKER


def test_behind_two_proxies_the_first_proxys_entry_counts(settings):
    assert address_of(f"{SECRETARY}, {ATTACKER}, 10.0.0.1", settings, proxies=2) == ATTACKER


def test_a_request_that_bypassed_the_proxies_or_a_malformed_header_is_the_connections_address(settings):
    assert address_of(None, settings, proxies=1) == "10.0.0.2"
    assert address_of(ATTACKER, settings, proxies=2) == "10.0.0.2"
    assert address_of("not-an-address", settings, proxies=1) == "10.0.0.2"


# Locking ------------------------------------------------------------------------------------


def test_failures_lock_the_name_at_that_address_only(world):
    fail("secretary_a", ATTACKER)

    locked = log_in("secretary_a", PASSWORD, ATTACKER)
    assert locked.status_code == 429
    # The secretary, at their own address, is not locked out by someone else's guesses.
    assert log_in("secretary_a", PASSWORD, SECRETARY).status_code == 302
    # Nor is anyone else at the attacker's address.
    assert log_in("member_a1", PASSWORD, ATTACKER).status_code == 302


def test_an_address_that_fails_on_many_names_is_locked_as_a_whole(world, settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 8
    for index in range(7):
        fail(f"guess{index}", ATTACKER, times=1)
    assert log_in("member_a1", PASSWORD, ATTACKER).status_code == 302  # 7 failures: below the limit

    fail("guess7", ATTACKER, times=1)

    response = log_in("member_a2", PASSWORD, ATTACKER)
    assert response.status_code == 429
    assert log_in("member_a2", PASSWORD, SECRETARY).status_code == 302


def test_the_locked_out_page_is_translated_and_says_for_how_long(world):
    fail("member_a1", ATTACKER)

    page = log_in("member_a1", PASSWORD, ATTACKER).content.decode()
    assert "登录失败次数过多" in page and "30 分钟" in page

    english = Client()
    english.cookies["django_language"] = "en"
    page = log_in("member_a1", PASSWORD, ATTACKER, client=english).content.decode()
    assert "Too many failed log-in attempts" in page and "Try again in 30 minutes" in page


def test_the_address_lock_says_it_is_the_address(world, settings):
    settings.LOCKOUT_ADDRESS_FAILURE_LIMIT = 3
    for index in range(3):
        fail(f"guess{index}", ATTACKER, times=1)
    english = Client()
    english.cookies["django_language"] = "en"

    page = log_in("member_a1", PASSWORD, ATTACKER, client=english).content.decode()

    assert "came from your network address" in page


# Lifting a lockout from the admin ------------------------------------------------------------


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def test_an_administrator_lifts_a_lockout_from_the_admin_and_it_is_logged(world):
    fail("member_a1", ATTACKER)
    attempt = AccessAttempt.objects.get(username="member_a1")
    client = admin_client(world.administrator)
    url = reverse("admin:axes_accessattempt_changelist")

    assert "member_a1" in client.get(url).content.decode()
    response = client.post(url, {"action": "unlock", "_selected_action": [attempt.pk]})

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    event = AccountEvent.objects.get()
    assert (event.kind, event.by, event.account, event.ip_address) == (
        AccountEvent.Kind.UNLOCKED,
        world.administrator,
        world.member_a1.user,
        ATTACKER,
    )
    assert log_in("member_a1", PASSWORD, ATTACKER).status_code == 302


def test_deleting_an_attempt_on_its_page_lifts_it_too_and_is_logged(world):
    fail("member_a1", ATTACKER)
    attempt = AccessAttempt.objects.get(username="member_a1")

    response = admin_client(world.administrator).post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert AccountEvent.objects.get().kind == AccountEvent.Kind.UNLOCKED


def test_the_failures_on_the_inspectors_account_are_not_the_administrators(world):
    fail("inspector", ATTACKER)
    attempt = AccessAttempt.objects.get(username="inspector")
    client = admin_client(world.administrator)

    assert "inspector" not in client.get(reverse("admin:axes_accessattempt_changelist")).content.decode()
    assert client.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk])).status_code == 404
    client.post(reverse("admin:axes_accessattempt_changelist"), {"action": "unlock", "_selected_action": [attempt.pk]})
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
    assert not AccountEvent.objects.exists()


def test_failures_on_names_that_are_no_account_are_shown_to_administrators(world):
    fail("no_such_person", ATTACKER, times=1)

    page = admin_client(world.administrator).get(reverse("admin:axes_accessfailurelog_changelist")).content.decode()

    assert "no_such_person" in page and ATTACKER in page


@pytest.mark.parametrize("persona", ["secretary_a", "inspector"])
def test_secretaries_and_inspectors_do_not_see_or_lift_lockouts(world, persona):
    fail("member_a1", ATTACKER)
    attempt = AccessAttempt.objects.get(username="member_a1")
    user = world.inspector if persona == "inspector" else world.secretary_a.user
    client = admin_client(user)

    for name in ("axes_accessattempt_changelist", "axes_accessfailurelog_changelist"):
        assert client.get(reverse(f"admin:{name}")).status_code == 403
    assert client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}).status_code in (
        403,
        404,
    )
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
