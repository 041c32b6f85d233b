"""The production shape, booted as the README says, tried in Chromium as each persona.

The fixture runs the Procfile's lines themselves (release, then web, worker and beat as separate
processes) with `DEBUG=false`, a random secret, PostgreSQL and Redis, after building the demo with
`seed_demo`. TLS ends at a proxy in a real deployment: the browser sends the header that proxy
sets (`X-Forwarded-Proto: https`), so every security setting stays on.

These processes run on the machine's own clock, not the suite's frozen one: the demo builds its
term around the day it is built, and nothing here asserts a date.
"""

import io
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import openpyxl
import pytest
from PIL import Image
from time_machine import escape_hatch

from tests.conftest import browser_log_in

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

BASE_DIR = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "liaison-demo-2026"  # the demo's documented password
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
PHONE = {"width": 390, "height": 844}
SERVER_ERROR = re.compile(r'" 5\d\d ')


def procfile() -> dict[str, str]:
    lines = (BASE_DIR / "Procfile").read_text(encoding="utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_path(url: str, path: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=path))


@dataclass
class Site:
    url: str
    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def tails(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in self.processes)

    def run(self, name: str, command: str, timeout: float = 300) -> None:
        with open(self.logs / f"{name}.log", "w", encoding="utf-8") as out:
            result = subprocess.run(
                ["bash", "-c", command],
                cwd=BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        assert result.returncode == 0, f"{command} failed:\n{self.log(name)[-5000:]}"

    def start(self, name: str, command: str) -> None:
        out = open(self.logs / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115 — closed with the process
        self.processes[name] = subprocess.Popen(
            ["bash", "-c", f"exec {command}"], cwd=BASE_DIR, env=self.env, stdout=out, stderr=subprocess.STDOUT
        )

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _database(url: str, action: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if action == "create":
            connection.execute(f'CREATE DATABASE "{name}"')


def _wait_until_serving(site: Site, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(site.url + "/accounts/login/", headers=PROXY_HEADERS)  # noqa: S310 — loopback
    while time.monotonic() < deadline:
        for name, process in site.processes.items():
            assert process.poll() is None, f"{name} exited:\n{site.tails()}"
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 — loopback
                if response.status == 200:
                    return
        except OSError:  # not listening yet, or a worker still booting
            time.sleep(0.5)
    raise AssertionError(f"gunicorn did not answer in {timeout} s:\n{site.tails()}")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Migrate, collect static files, build the demo, then gunicorn, a Celery worker and beat."""
    root = tmp_path_factory.mktemp("production")
    port = free_port()
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/liaison")
    database_url = with_path(database_url, urlsplit(database_url).path + "_production")
    # A Redis database of its own (flushed here): /14 beside the suite's, or PRODUCTION_REDIS_URL.
    redis_url = os.environ.get("PRODUCTION_REDIS_URL") or with_path(
        os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15"), "/14"
    )
    venv_bin = str(Path(sys.executable).parent)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"} and not key.startswith("PYTEST")
    } | {
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # The browser reaches gunicorn over plain HTTP on loopback, where a proxy would speak TLS.
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CONN_MAX_AGE": "60",
        "CONN_HEALTH_CHECKS": "true",
        "STATIC_ROOT": str(root / "static"),
        "MEDIA_ROOT": str(root / "media"),
        "PRIVATE_MEDIA_ROOT": str(root / "private"),
        "EXPORT_ROOT": str(root / "exports"),
        "CELERY_BEAT_SCHEDULE_FILENAME": str(root / "celerybeat-schedule"),
        # Small, so that a ledger of the demo goes through the worker.
        "EXPORT_INLINE_MAX_ROWS": "50",
        "BIND": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    _database(database_url, "create")
    logs = root / "logs"
    logs.mkdir()
    site = Site(url=f"http://127.0.0.1:{port}", env=env, logs=logs)
    lines = procfile()
    try:
        site.run("release", lines["release"])
        site.run("check", "python manage.py check --deploy --fail-level WARNING")
        site.run("seed", "python manage.py seed_demo")
        for name in ("web", "worker", "beat"):
            site.start(name, lines[name])
        _wait_until_serving(site)
        yield site
    finally:
        site.stop()
        _database(database_url, "drop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(autouse=True)
def _no_server_errors(site):
    """Whatever a test does, gunicorn answered it without a 5xx, and no process died."""
    before = len(site.log("web"))
    yield
    errors = [line for line in site.log("web")[before:].splitlines() if SERVER_ERROR.search(line)]
    assert not errors, "\n".join(errors) + "\n" + site.log("web")[-5000:]
    for name, process in site.processes.items():
        assert process.poll() is None, f"{name} exited:\n{site.tails()}"


# The keys of the authenticator apps the administrator and inspector set up at their first login,
# kept for their later logins in this module (the demo is built once per module).
AUTHENTICATOR_KEYS: dict[str, dict] = {}


@pytest.fixture
def open_as(browser, site):
    """A browser context behind the proxy, logged in as one of the demo's personas (or nobody).

    The administrator and the inspector set up two-factor authentication at their first login
    and give a code at the next, as the README tells the demo's users; the codes are computed
    on the machine's clock, which the processes run on, not the suite's frozen one.
    """
    contexts = []

    def open_as(username: str | None, **options):
        context = browser.new_context(
            base_url=site.url, extra_http_headers=PROXY_HEADERS, locale="zh-CN", accept_downloads=True, **options
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        if username:
            browser_log_in(
                page, site.url, username, DEMO_PASSWORD, secrets=AUTHENTICATOR_KEYS, clock=escape_hatch.time.time
            )
            page.wait_for_url(f"{site.url}/")
        return page

    yield open_as
    for context in contexts:
        context.close()


def a_photo() -> bytes:
    image = Image.new("RGB", (640, 480), (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "Phone camera"  # Model
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_anonymous_is_sent_to_a_styled_chinese_login(open_as):
    page = open_as(None)
    response = page.goto("/")
    assert response.ok
    assert page.url.endswith("/accounts/login/?next=/")
    assert page.get_by_role("heading", name="登录").is_visible()
    # The stylesheet is the manifest's hashed copy, served by whitenoise for a year.
    href = page.locator("link[rel=stylesheet]").first.get_attribute("href")
    assert re.search(r"bootstrap\.min\.[0-9a-f]{12}\.css$", href), href
    css = page.request.get(href)
    assert css.ok and "max-age=315360000" in css.headers["cache-control"]
    assert "no-store" not in css.headers["cache-control"]
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.btn-danger')).backgroundColor") != "rgba(0, 0, 0, 0)"
    )


def test_member_logs_a_visit_with_a_photo_and_a_request_from_a_phone(open_as, site):
    page = open_as("member", viewport=PHONE, is_mobile=True, has_touch=True)
    assert page.get_by_test_id("contact-count").inner_text() != "0"
    page.get_by_test_id("contact-count").click()
    page.get_by_test_id("contact-list").locator("a").first.click()
    contact_url = page.url
    assert re.fullmatch(r"1\d{2}\*{4}\d{4}", page.get_by_test_id("phone").inner_text().strip())  # masked
    page.get_by_test_id("log-visit").click()
    page.get_by_label("谈心谈话").check()
    page.get_by_label("交流内容").fill("生产环境试运行：谈了学习计划")
    page.get_by_label("群众意见和诉求").fill("希望增加自习室座位")
    page.locator("input[name=request_summary]").fill("自习室座位不够")
    page.locator("input[name=photos]").set_input_files(
        [{"name": "visit.jpg", "mimeType": "image/jpeg", "buffer": a_photo()}]
    )
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(contact_url)
    page.get_by_test_id("visits").get_by_text("谈心谈话").first.click()
    photo = page.locator("img.img-thumbnail").first
    photo.wait_for()
    # Loaded (never from a cache: the page and the photo are no-store), at its stored size.
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert page.evaluate("img => img.naturalWidth", photo.element_handle()) == 640
    # The photo is private: another browser, logged in as nobody, gets a 404 for it.
    source = photo.get_attribute("src")
    assert not source.startswith("/media/")
    stranger = open_as(None)
    assert stranger.request.get(source, max_redirects=0).status == 404
    # The request raised in the talk is in the branch's problem ledger.
    page.goto("/work/requests/")
    assert "自习室座位不够" in page.get_by_test_id("request-list").inner_text()


def test_errors_are_pages_of_the_site_in_chinese(open_as, site):
    page = open_as("member")
    response = page.goto("/pairings/board/")
    assert response.status == 403
    assert page.get_by_test_id("error-page").get_attribute("data-status") == "403"
    assert "只有书记、党委管理员和纪检监督人员可以查看指标看板" in page.get_by_test_id("error-page").inner_text()
    assert page.locator("nav.navbar").get_by_role("link", name="本周待联系").count() == 1
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert page.get_by_test_id("error-page").get_attribute("data-status") == "404"
    page.get_by_test_id("error-page").get_by_role("link").click()
    page.wait_for_url(f"{site.url}/")


def test_secretary_sees_the_dashboard_with_its_charts_drawn(open_as):
    page = open_as("secretary")
    page.goto("/reports/dashboard/")
    for chart in ("chart-weeks", "chart-states"):
        page.locator(f"#{chart}").wait_for()
        page.wait_for_function(f"() => window.Chart && Chart.getChart('{chart}') !== undefined")
        drawn = page.evaluate(f"Chart.getChart('{chart}').data.datasets.length")
        assert drawn >= 1


def test_secretary_downloads_a_ledger_prepared_by_the_worker(open_as):
    page = open_as("secretary")
    page.goto("/reports/export/")
    page.locator("select[name=kind]").select_option("visits")
    page.get_by_role("button", name="导出").click()
    page.locator("#export-job[data-status=succeeded]").wait_for(timeout=120_000)
    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(download.value.path().read_bytes()), read_only=True)
    assert len(workbook.sheetnames) == 1
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert len(rows) > 50  # more than EXPORT_INLINE_MAX_ROWS: the worker wrote it
    header = next(index for index, row in enumerate(rows) if "日期" in row)  # Chinese headers
    phone = rows[header].index("联系对象手机号")
    phones = {row[phone] for row in rows[header + 1 :] if row[phone]}
    assert phones and all(
        isinstance(value, str) and re.fullmatch(r"1\d{2}\*{4}\d{4}", value) for value in phones
    )  # masked: not asked in full


def test_the_public_answers_the_survey_from_a_printed_card(open_as):
    secretary = open_as("secretary")
    secretary.goto("/reports/survey/")
    secretary.get_by_test_id("create-links").first.click()
    secretary.locator(".alert-success").wait_for()
    secretary.goto("/reports/survey/print/")
    card_url = secretary.locator(".text-break").first.inner_text().strip()
    path = urlsplit(card_url).path
    assert re.fullmatch(r"/s/[\w-]{20,}/", path), card_url

    public = open_as(None, viewport=PHONE, is_mobile=True, has_touch=True)
    public.goto(path)
    public.get_by_label("满意", exact=True).check()
    public.get_by_role("button", name="提交").click()
    public.get_by_role("heading", name="谢谢您").wait_for()
    # A link answers once.
    assert public.goto(path).status == 410


def test_administrator_and_inspector_cannot_get_in_with_the_password_alone(open_as):
    for username in ("admin", "inspector"):
        page = open_as(None)
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(re.compile(r"/accounts/two-factor/(enrol|verify)/"))
        for path in ("/", "/admin/", "/reports/dashboard/"):
            page.goto(path)
            assert "/accounts/two-factor/" in page.url, (username, path)


def test_pages_carry_the_security_headers(open_as):
    page = open_as("secretary")
    response = page.goto("/contacts/")
    headers = response.headers
    assert "no-store" in headers["cache-control"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["referrer-policy"] == "same-origin"


def test_inspector_reads_the_dashboard_and_the_access_log_but_changes_nothing(open_as):
    page = open_as("inspector")
    assert page.goto("/reports/dashboard/").ok
    response = page.goto("/admin/members/sensitiveaccess/")
    assert response.ok
    assert page.locator(".object-tools a.addlink").count() == 0


def test_every_admin_page_answers_for_the_administrator(open_as):
    page = open_as("admin")
    page.goto("/admin/")
    changelists = sorted(
        {
            href
            for href in page.locator("#content-main a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
            if href and re.fullmatch(r"/admin/\w+/\w+/", href)
        }
    )
    assert len(changelists) >= 20, changelists
    failures, without_rows = [], []
    for changelist in changelists:
        response = page.goto(changelist)
        if response.status != 200:
            failures.append((changelist, response.status))
            continue
        if page.locator(".object-tools a.addlink").count():  # only where the administrator may add
            add = page.request.get(changelist + "add/")
            if add.status != 200:
                failures.append((changelist + "add/", add.status))
        first = page.locator(f'#changelist a[href^="{changelist}"][href$="/change/"]').first
        if not first.count():
            without_rows.append(changelist)
            continue
        change = first.get_attribute("href")
        for url in (change, change.removesuffix("change/") + "history/"):
            answer = page.request.get(url)
            if answer.status != 200:
                failures.append((url, answer.status))
    assert not failures, failures
    print("admin pages without rows in the demo (history not tried):", without_rows)
