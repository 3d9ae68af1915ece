"""Declaring online in Chromium, as a new user would: in Simplified Chinese, for oneself
and three family members, with a statement; the receipts, one checked at /verify, the
total risen by four; a coordinator publishes the statement with its phone number masked.
And the same declaration with JavaScript off."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tuidang.declarations.models import Statement, StatementStatus
from tuidang.testing.browser import log_in_with_code
from tuidang.testing.publication import publish
from tuidang.volunteers.models import Volunteer

PHONE = "13812345678"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def total(page: Page, base: str) -> int:
    page.goto(f"{base}/")
    return int(page.get_by_test_id("total").inner_text().replace(",", ""))


def fill_four_people(page: Page) -> None:
    page.locator("#id_you-alias").fill("明心")
    page.locator("#id_you-organizations_1").check()  # the Youth League
    page.locator("#id_you-region").select_option("CN-GD")
    page.locator("#id_you-statement").fill(f"我退出共青团，再也不受欺骗。有事打{PHONE}。")
    page.locator("#id_you-consent").check()
    family = [("大山", "parent", 0), ("小红", "sibling", 2), ("阿明", "spouse", 0)]
    for n, (alias, relationship, organization) in enumerate(family, start=1):
        block = page.get_by_test_id(f"person-p{n}")
        if not block.is_visible():
            page.locator("summary").nth(n - 1).click()
        page.locator(f"#id_p{n}-alias").fill(alias)
        page.locator(f"#id_p{n}-relationship").select_option(relationship)
        page.locator(f"#id_p{n}-organizations_{organization}").check()
        page.locator(f"#id_p{n}-region").select_option("CN-GD")


def declare_in_chinese(browser: Browser, base: str, *, javascript: bool) -> Page:
    page = browser.new_context(
        locale="zh-CN", java_script_enabled=javascript, viewport={"width": 390, "height": 844}
    ).new_page()
    page.goto(f"{base}/")
    page.get_by_role("link", name="在线三退").click()
    expect(page.get_by_role("heading", name="在线三退")).to_be_visible()
    fill_four_people(page)
    page.get_by_role("button", name="声明三退").click()
    expect(page.get_by_role("heading", name="您的声明已记录")).to_be_visible()
    expect(page.get_by_test_id("receipt-code")).to_have_count(4)
    expect(page.get_by_test_id("keep-offline")).to_be_visible()
    # Nothing runs past a phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    return page


def check_receipt(page: Page, base: str, *, row: int, alias: str) -> None:
    code = page.get_by_test_id("receipt-code").nth(row).inner_text()
    page.get_by_test_id("verify-link").click()
    page.locator("#id_code").fill(code)
    page.locator("#id_alias").fill(alias)
    page.locator("#id_alias").press("Enter")


def test_a_declarant_renounces_for_four_in_chinese_and_a_coordinator_publishes_the_statement(
    browser: Browser, live_server: LiveServer, lin: Volunteer, csp_violations: list[str]
) -> None:
    base = live_server.url
    reader = browser.new_context(locale="zh-CN").new_page()
    before = total(reader, base)

    page = declare_in_chinese(browser, base, javascript=True)
    check_receipt(page, base, row=1, alias="大山")
    expect(page.get_by_test_id("pending")).to_be_visible()
    publish()
    page.reload()  # posts the receipt again, now published
    expect(page.get_by_test_id("confirmed")).to_be_visible()
    assert total(reader, base) == before + 4
    # The statement came with a solved proof of work: waiting in the ordinary queue.
    assert Statement.objects.get().status == StatementStatus.PENDING

    desk = browser.new_context().new_page()
    log_in_with_code(desk, base, "lin")
    desk.goto(f"{base}/desk/statements/")
    text = desk.get_by_label("Text to publish")
    expect(text).to_have_value(re.compile(r"\[☎ \*\*\*\]"))
    assert PHONE not in text.input_value()
    # The coordinator takes out the masked number altogether, and publishes.
    text.fill(text.input_value().replace("有事打[☎ ***]。", ""))
    desk.get_by_test_id("approve").click()
    expect(desk.get_by_text("The statement is published.")).to_be_visible()

    reader.goto(f"{base}/")
    reader.get_by_test_id("statements-link").click()
    statement = reader.get_by_test_id("statement-text")
    expect(statement).to_have_text("我退出共青团，再也不受欺骗。")
    expect(reader.get_by_test_id("permalink")).to_have_text("明心")
    reader.get_by_test_id("permalink").click()
    expect(reader.get_by_test_id("proof-link")).to_be_visible()
    assert csp_violations == []


def test_the_same_declaration_succeeds_with_javascript_off(
    browser: Browser, live_server: LiveServer, settings: Settings, csp_violations: list[str]
) -> None:
    # Without scripts the server asks for a short wait instead of the proof of work; the
    # test does not race a clock, so the wait is none here (test_declare.py holds it).
    settings.ONLINE_NO_SCRIPT_DELAY_SECONDS = 0
    page = declare_in_chinese(browser, live_server.url, javascript=False)
    check_receipt(page, live_server.url, row=0, alias="明心")
    expect(page.get_by_test_id("pending")).to_be_visible()
    # Without the proof of work, the statement is held for moderation behind the rest.
    assert Statement.objects.get().status == StatementStatus.HELD
    assert csp_violations == []
