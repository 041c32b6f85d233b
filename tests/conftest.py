import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from liaison.celery import app as celery_app
from members import services
from members.models import Appointment, ContactCategory, MemberCategory, OrganisationKind
from tests.factories import ContactFactory, MemberFactory, OrganisationFactory, PairingFactory, TermFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
BASE_DIR = Path(__file__).resolve().parent.parent

# Every test runs at this instant, inside the personas' autumn term (2026-09-01 to 2027-01-20),
# whatever the machine's clock says. A test that needs another day travels there explicitly
# (`time_machine.travel(...)`), which nests inside this one.
FROZEN_AT = datetime(2026, 10, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# Playwright's sync API runs an event loop in the test thread; the ORM must still work there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _redis_reachable() -> bool:
    url = settings.REDIS_URL
    if not url:
        return False
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def _browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


def pytest_runtest_setup(item):
    """Service and browser tests skip on a laptop without those parts, and fail in CI."""
    missing = []
    if item.get_closest_marker("postgres") and settings.DATABASES["default"]["ENGINE"] != (
        "django.db.backends.postgresql"
    ):
        missing.append("PostgreSQL (set DATABASE_URL)")
    if item.get_closest_marker("redis") and not _redis_reachable():
        missing.append("Redis (set REDIS_URL)")
    if item.get_closest_marker("browser") and not _browser_available():
        missing.append(f"Chromium at {CHROMIUM} and the playwright package")
    if missing:
        message = "needs " + ", ".join(missing)
        if IN_CI:
            pytest.fail(message + " — CI=true, so this is a failure, not a skip", pytrace=False)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _frozen_clock():
    """No test reads the real clock: the suite passes on any date."""
    with time_machine.travel(FROZEN_AT, tick=False):
        yield


@pytest.fixture(autouse=True)
def _eager_celery(request):
    """Tasks run in-process, except in tests that start a real worker."""
    if {"celery_worker", "celery_workers"} & set(request.fixturenames):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _files_outside_the_repository(settings, tmp_path_factory):
    """Uploaded files (visit photos) go to the test run's temporary directory, never the repository."""
    base = tmp_path_factory.getbasetemp()
    settings.MEDIA_ROOT = base / "media"
    settings.PRIVATE_MEDIA_ROOT = base / "private"
    settings.JOB_TEMP_ROOT = base / "jobs"


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def start_celery_worker(*options: str, **env: str) -> subprocess.Popen:
    """A real `celery worker` process on Redis, reading the test database (solo pool unless told)."""
    database = settings.DATABASES["default"]
    database_url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": settings.REDIS_URL,
        "JOB_TEMP_ROOT": str(settings.JOB_TEMP_ROOT),
        **env,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "liaison",
            "worker",
            *(options or ("--pool=solo",)),
            "-l",
            "warning",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=environment,
    )


def stop_celery_worker(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def celery_worker(transactional_db):
    """A real `celery worker` process (solo pool) on Redis, reading the test database."""
    celery_app.control.purge()
    process = start_celery_worker()
    yield process
    stop_celery_worker(process)


@pytest.fixture
def celery_workers(transactional_db):
    """Start real workers with `celery_workers(*options, **env)`; each is stopped at the end."""
    celery_app.control.purge()
    started: list[subprocess.Popen] = []

    def start(*options: str, **env: str) -> subprocess.Popen:
        process = start_celery_worker(*options, **env)
        started.append(process)
        return process

    yield start
    for process in started:
        stop_celery_worker(process)


def wait_for(predicate, timeout: float = 60.0, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(every)
    raise AssertionError("timed out waiting")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    }


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def world_committed(transactional_db):
    """The same personas, committed, for tests that another process or thread reads."""
    return build_world()


def build_world():
    """Personas, as healthchecks' alice/bob/charlie: who can see what.

    committee C ─ general branch G ─ branch A (secretary_a; members member_a1, member_a2; group A1)
                                   └ branch B (secretary_b)
    """
    committee = OrganisationFactory.create(name="学院党委", code="C", kind=OrganisationKind.COMMITTEE)
    general = OrganisationFactory.create(
        name="教工党总支", code="G", kind=OrganisationKind.GENERAL_BRANCH, parent=committee
    )
    branch_a = OrganisationFactory.create(name="甲党支部", code="A", parent=general)
    branch_b = OrganisationFactory.create(name="乙党支部", code="B", parent=general)
    group_a1 = OrganisationFactory.create(name="甲一党小组", code="A1", kind=OrganisationKind.GROUP, parent=branch_a)

    def member(name, organisation, username):
        person = MemberFactory.create(name=name, organisation=organisation)
        person.user = UserFactory.create(username=username)
        person.save()
        return person

    secretary_a = member("甲书记", branch_a, "secretary_a")
    secretary_b = member("乙书记", branch_b, "secretary_b")
    member_a1 = member("甲党员一", group_a1, "member_a1")
    member_a2 = member("甲党员二", branch_a, "member_a2")
    services.organisation_set_secretary(organisation=branch_a, secretary=secretary_a)
    services.organisation_set_secretary(organisation=branch_b, secretary=secretary_b)

    administrator = UserFactory.create(username="administrator")
    services.appointment_create(user=administrator, organisation=committee, role=Appointment.Role.ADMINISTRATOR)
    inspector = UserFactory.create(username="inspector")
    services.appointment_create(user=inspector, organisation=committee, role=Appointment.Role.INSPECTOR)
    outsider = UserFactory.create(username="outsider")

    term = TermFactory.create(organisation=committee, starts_on=date(2026, 9, 1), ends_on=date(2027, 1, 20))
    contact_a1 = ContactFactory.create(
        name="张同学",
        organisation=branch_a,
        phone="13812345678",
        id_number="110101199003076632",
        address="北京市海淀区学府路88号3栋502室",
    )
    contact_a2 = ContactFactory.create(name="李老师", organisation=branch_a, category=ContactCategory.STAFF)
    contact_b = ContactFactory.create(name="王同学", organisation=branch_b)
    PairingFactory.create(member=member_a1, contact=contact_a1, term=term)
    PairingFactory.create(member=member_a2, contact=contact_a2, term=term)

    return SimpleNamespace(
        committee=committee,
        general=general,
        branch_a=branch_a,
        branch_b=branch_b,
        group_a1=group_a1,
        secretary_a=secretary_a,
        secretary_b=secretary_b,
        member_a1=member_a1,
        member_a2=member_a2,
        administrator=administrator,
        inspector=inspector,
        outsider=outsider,
        term=term,
        contact_a1=contact_a1,
        contact_a2=contact_a2,
        contact_b=contact_b,
        category=MemberCategory,
    )


def second_factor_device(user):
    """The user's authenticator app (a confirmed TOTP device), made if they have none."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=True)


def totp_code(device, at: float | None = None) -> str:
    """The code the user's app would show now (the suite's frozen clock), or at the Unix time `at`."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def totp_code_for_secret(secret: str, at: float) -> str:
    """The code an authenticator app shows at Unix time `at` for the key printed on the enrol page."""
    from base64 import b32decode

    from django_otp.oath import TOTP

    totp = TOTP(b32decode(secret.replace(" ", "")))
    totp.time = at
    return f"{totp.token():06d}"


def browser_log_in(page, base_url: str, username: str, password: str, *, secrets: dict, clock=time.time) -> None:
    """Log in through the pages as a person would: the password, then the second factor if asked.

    Asked to set one up (an administrator's or inspector's first login), read the key off the
    enrol page into `secrets[username]` and type the code an app would show; asked for a code
    later, compute it from that key. A code is accepted once per 30-second step, so a second
    login in the same step waits for the next one. `clock` is the server's clock: the suite's
    frozen one for the live server, the machine's for the production processes.
    """
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main button[type=submit]")
    page.wait_for_url(lambda url: urlsplit(url).path != "/accounts/login/")
    path = urlsplit(page.url).path
    if path not in ("/accounts/two-factor/enrol/", "/accounts/two-factor/verify/"):
        return
    if path == "/accounts/two-factor/enrol/":
        secrets[username] = {"secret": page.get_by_test_id("secret").inner_text(), "step": None}
    known = secrets[username]
    while int(clock() // 30) == known["step"]:
        time.sleep(0.5)
    known["step"] = int(clock() // 30)
    page.fill("input[name=code]", totp_code_for_secret(known["secret"], clock()))
    page.click("main button[type=submit]")
    if path == "/accounts/two-factor/enrol/":
        page.get_by_test_id("recovery-codes").wait_for()
        page.get_by_test_id("continue").click()
    page.wait_for_url(lambda url: not urlsplit(url).path.startswith("/accounts/"))


_django_force_login = Client.force_login


def _force_login_with_second_factor(self, user, backend=None, *, second_factor=True):
    """`force_login` logs in completely: for a user who needs a second factor (or has one), the
    session has given it too, with a device made for them if they have none.

    Enforcement stays on: tests of the second factor log in through the login form, or pass
    `second_factor=False`.
    """
    from django.contrib.auth import get_user_model
    from django_otp import DEVICE_ID_SESSION_KEY

    from liaison.security.selectors import second_factor_enrolled, second_factor_required

    _django_force_login(self, user, backend)
    if not second_factor:
        return
    fresh = get_user_model().objects.get(pk=user.pk)  # the scope is memoised on the user object
    if not (second_factor_required(fresh) or second_factor_enrolled(fresh)):
        return
    session = self.session
    session[DEVICE_ID_SESSION_KEY] = second_factor_device(fresh).persistent_id
    session.save()


@pytest.fixture(autouse=True)
def _force_login_gives_the_second_factor(monkeypatch):
    monkeypatch.setattr(Client, "force_login", _force_login_with_second_factor)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def open_term(world, organisation=None):
    """The autumn term of the personas' committee, opened through the service (school rule included)."""
    from pairings import services as pairing_services
    from pairings.models import Term, TermKind

    # Terms of a tree do not overlap: the personas' factory-made term becomes last spring's.
    Term.objects.filter(pk=world.term.pk).update(starts_on=date(2026, 2, 20), ends_on=date(2026, 7, 10))
    return pairing_services.term_create(
        organisation=organisation or world.committee,
        name="2026秋",
        kind=TermKind.SEMESTER,
        starts_on=date(2026, 9, 1),
        ends_on=date(2027, 1, 20),
        is_current=True,
    )


@pytest.fixture
def term(world):
    return open_term(world)
