"""A real browser (Debian's Chromium, driven by Playwright) logs in as a secretary and as a member."""

from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "a-long-test-password-42")
    page.click("button[type=submit]")
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
