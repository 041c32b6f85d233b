"""A real browser (Debian's Chromium, driven by Playwright) logs in as a secretary and as a member."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.conftest import browser_log_in, second_factor_device, totp_code, totp_code_for_secret
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def log_in(page, live_server, username, secrets=None):
    """The password, then the second factor where it is asked (set up at the first login)."""
    browser_log_in(page, live_server.url, username, PASSWORD, secrets={} if secrets is None else secrets)
    page.wait_for_url(f"{live_server.url}/")


def test_secretary_sees_their_branch_and_reveals_a_phone_on_purpose(page, live_server, world_committed):
    world = world_committed
    log_in(page, live_server, "secretary_a")
    page.get_by_role("link", name="联系对象").first.click()
    contact_list = page.get_by_test_id("contact-list")
    assert world.contact_a1.name in contact_list.inner_text()
    assert world.contact_a2.name in contact_list.inner_text()
    assert world.contact_b.name not in contact_list.inner_text()
    assert world.contact_a1.phone not in page.content()

    page.get_by_text(world.contact_a1.name).click()
    assert page.get_by_test_id("phone").inner_text() == "138****5678"
    page.get_by_role("button", name="显示完整信息").click()
    page.get_by_test_id("phone").filter(has_text="13812345678").wait_for()
    assert "110101199003076632" in page.get_by_test_id("id-number").inner_text()


def test_member_on_a_phone_sees_only_their_own_contact_masked(browser, live_server, world_committed):
    world = world_committed
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, "member_a1")
    assert page.get_by_test_id("contact-count").inner_text() == "1"
    page.get_by_test_id("contact-count").click()
    contact_list = page.get_by_test_id("contact-list")
    assert world.contact_a1.name in contact_list.inner_text()
    assert world.contact_a2.name not in contact_list.inner_text()
    page.get_by_text(world.contact_a1.name).click()
    assert page.get_by_test_id("phone").inner_text() == "138****5678"
    assert page.get_by_role("button", name="显示完整信息").count() == 0
    assert "13812345678" not in page.content()
    context.close()


def test_administrator_opens_a_term_runs_the_matching_and_accepts_it(page, live_server, world_committed):
    from pairings.models import Pairing, QuotaStatus, Term

    world = world_committed
    log_in(page, live_server, "administrator")
    page.get_by_role("link", name="指标看板").first.click()
    page.get_by_role("link", name="开启新学期").click()
    page.fill("input[name=name]", "2027春季学期")
    page.fill("input[name=starts_on]", "2027-02-20")
    page.fill("input[name=ends_on]", "2027-07-10")
    page.get_by_role("button", name="开启").click()
    page.get_by_test_id("quota-board").wait_for()
    term = Term.objects.get(is_current=True)
    assert term.name == "2027春季学期"
    # The two pairings of the fixture were carried over.
    assert Pairing.objects.filter(term=term).count() == 2

    page.get_by_role("button", name=f"为{world.committee.name}推荐结对").click()
    page.get_by_test_id("proposals").wait_for()
    proposed = page.get_by_test_id("proposals").locator("tbody tr").count()
    assert proposed >= 1
    page.get_by_role("button", name="确认勾选的结对").click()
    page.get_by_test_id("quota-board").wait_for()
    assert Pairing.objects.filter(term=term).count() == 2 + proposed
    assert QuotaStatus.objects.filter(term=term).exists()
    assert "/ 5" in page.get_by_test_id("quota-board").inner_text()


def test_member_logs_a_talk_on_a_phone(browser, live_server, world_committed):
    from visits.models import Visit

    world = world_committed
    term = world.term
    today = timezone.localdate()
    term.starts_on, term.ends_on = today - timedelta(days=30), today + timedelta(days=90)
    term.save()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN")
    page = context.new_page()
    log_in(page, live_server, "member_a1")
    page.locator(".navbar-toggler").click()  # the menu folds away on a phone
    page.get_by_role("link", name="本周待联系").first.click()
    page.get_by_test_id("due-list").get_by_text(world.contact_a1.name).click()
    page.get_by_label("谈心谈话").check()
    page.get_by_label("交流内容").fill("谈了学习计划，对食堂有意见")
    page.get_by_label("群众意见和诉求").fill("希望延长图书馆开放时间")
    page.locator("input[name=request_summary]").fill("图书馆开放时间")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{live_server.url}/contacts/{world.contact_a1.pk}/")
    visit = Visit.objects.get()
    assert visit.mode == "talk"
    assert visit.views_and_requests == "希望延长图书馆开放时间"
    assert visit.requests.get().summary == "图书馆开放时间"
    assert "谈心谈话" in page.get_by_test_id("visits").inner_text()
    context.close()


def policy_violations(page) -> list[str]:
    """What the Content-Security-Policy blocked on this page, as Chromium reports it in the console."""
    blocked: list[str] = []
    page.on(
        "console", lambda message: blocked.extend([message.text] if "Content Security Policy" in message.text else [])
    )
    return blocked


def test_administrator_sets_up_a_second_factor_at_first_login_and_only_then_gets_in(page, live_server, world_committed):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    blocked = policy_violations(page)
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    page.fill("input[name=username]", "administrator")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/two-factor/enrol/?next=%2Fadmin%2F")
    assert page.get_by_role("heading", name="设置两步验证").is_visible()
    # With the password alone nothing else opens: not the pages, not the admin.
    for path in ("/", "/reports/dashboard/", "/admin/", "/admin/members/contact/"):
        page.goto(f"{live_server.url}{path}")
        assert "/accounts/two-factor/enrol/" in page.url, path
    assert page.locator("#main-nav").count() == 0

    page.goto(f"{live_server.url}/accounts/two-factor/enrol/?next=/admin/")
    svg = page.get_by_test_id("qr-code").locator("svg")
    assert svg.get_attribute("viewBox").startswith("0 0 ")
    assert svg.bounding_box()["width"] == 200  # sized by the stylesheet, not cropped
    secret = page.get_by_test_id("secret").inner_text()
    # A wrong code first: refused, with a message.
    right = totp_code_for_secret(secret, time.time())
    page.fill("input[name=code]", f"{(int(right) + 1) % 1_000_000:06d}")
    page.click("main button[type=submit]")
    assert "验证码不对" in page.locator("main").inner_text()

    # The suite's clock stands still: travel past the throttle's wait (and into the next 30-second step).
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        page.fill("input[name=code]", totp_code_for_secret(secret, time.time()))
        page.click("main button[type=submit]")
        codes = page.get_by_test_id("recovery-codes").locator("code")
        assert codes.count() == 10
        page.get_by_test_id("continue").click()
        page.wait_for_url(f"{live_server.url}/admin/")
        assert TOTPDevice.objects.get(user=world_committed.administrator).confirmed
        # The admin works under the policy: its scripts are files, nothing inline is blocked.
        for path in (
            "/admin/members/contact/",
            f"/admin/members/contact/{world_committed.contact_a1.pk}/change/",
            "/admin/pairings/term/add/",
        ):
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, path
        page.locator("#id_starts_on").wait_for()
        assert page.locator(".datetimeshortcuts a").count() >= 1  # the date widget's script ran
        # The autocomplete (select2, jQuery) too: it opens and lists the members in scope.
        page.goto(f"{live_server.url}/admin/pairings/pairing/add/")
        page.locator("#id_member + .select2").click()
        page.locator(".select2-search__field").fill("甲")
        page.locator(".select2-results__option", has_text="甲党员一").wait_for()
        page.goto(f"{live_server.url}/reports/dashboard/")
        page.wait_for_function("() => window.Chart && Chart.getChart('chart-weeks') !== undefined")
    assert blocked == []


def test_inspector_with_an_app_is_asked_for_its_code(page, live_server, world_committed):
    device = second_factor_device(world_committed.inspector)
    blocked = policy_violations(page)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "inspector")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/accounts/two-factor/verify/**")
    page.goto(f"{live_server.url}/admin/")
    assert "/accounts/two-factor/verify/" in page.url
    page.fill("input[name=code]", totp_code(device))
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    page.goto(f"{live_server.url}/pairings/board/")
    page.get_by_test_id("quota-board").wait_for()
    assert blocked == []


def test_the_pages_behaviours_work_from_the_static_script(page, live_server, world_committed):
    """What used to be inline handlers: the progress bar, confirm dialogs, the language switcher."""
    from reports.models import ExportJob

    world = world_committed
    blocked = policy_violations(page)
    log_in(page, live_server, "secretary_a")
    job = ExportJob.objects.create(
        user=world.secretary_a.user, term=world.term, organisation=world.branch_a, kind="visits", progress=40
    )
    page.goto(f"{live_server.url}/reports/export/{job.pk}/")
    bar = page.locator("#export-job .progress-bar")
    page.wait_for_function("bar => bar.getBoundingClientRect().width > 0", arg=bar.element_handle())
    ratio = page.evaluate(
        "bar => bar.getBoundingClientRect().width / bar.parentElement.getBoundingClientRect().width",
        bar.element_handle(),
    )
    assert 0.35 < ratio < 0.45
    # The poll swaps the bar in again with its width (htmx:load), and says it is a poll.
    with page.expect_request(lambda request: request.url.endswith(f"/reports/export/{job.pk}/")) as polled:
        pass
    assert polled.value.headers.get("x-liaison-poll") == "1"
    page.wait_for_timeout(300)
    swapped = page.locator("#export-job .progress-bar").element_handle()
    assert page.evaluate("bar => bar.getBoundingClientRect().width", swapped) > 0

    # A secretary turns two-factor authentication on; making new recovery codes asks first.
    page.goto(f"{live_server.url}/accounts/two-factor/")
    page.get_by_test_id("enrol").click()
    page.fill("input[name=code]", totp_code_for_secret(page.get_by_test_id("secret").inner_text(), time.time()))
    page.click("main button[type=submit]")
    first = page.get_by_test_id("recovery-codes").inner_text()
    page.goto(f"{live_server.url}/accounts/two-factor/recovery-codes/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="重新生成恢复码").click()
    page.wait_for_timeout(300)
    assert page.get_by_test_id("codes-left").is_visible()  # dismissed: nothing was made
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="重新生成恢复码").click()
    page.get_by_test_id("recovery-codes").wait_for()
    assert page.get_by_test_id("recovery-codes").inner_text() != first

    # Changing the language submits its form by itself: the page comes back in English.
    with page.expect_navigation():
        page.select_option("#language", "en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert blocked == []
