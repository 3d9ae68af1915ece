"""What the browser tests do in Debian's Chromium: start it, log in, ring the hotline, answer.

``tuidang.conftest`` turns the start into the ``browser`` fixture (one Chromium per test
module) and watches every page of a test marked ``browser`` for the Content Security
Policy's reports (``csp_violations``); the helpers here drive the pages a test opens.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright, expect

from tuidang.testing.personas import PASSWORD, totp_code_to_type

# Debian's package: the browser Playwright downloads for itself cannot be fetched here.
CHROMIUM = "/usr/bin/chromium"
# No sandbox for root in a container; nothing of a GPU, nor Chromium's calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

DESK = re.compile(r"/desk/$")


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def watch_for_csp_violations(context: BrowserContext | Page, violations: list[str]) -> None:
    """Chromium reports on the console a script, style or event handler the Content
    Security Policy blocked; each report lands in ``violations``."""

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(f"{message.location.get('url')}: {message.text}")

    context.on("console", watch)


def enter_password(page: Page, base: str, username: str) -> None:
    """The login form's first step: the username and the personas' password."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def log_in(page: Page, base: str, username: str) -> None:
    """A volunteer's login, the password alone, which lands on the desk."""
    enter_password(page, base, username)
    expect(page).to_have_url(DESK)


def log_in_with_code(page: Page, base: str, username: str = "lin") -> None:
    """A coordinator's or an administrator's login: the password, then the authenticator
    app's code."""
    enter_password(page, base, username)
    page.get_by_label("Code").fill(totp_code_to_type())
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(DESK)


def place_call(page: Page, base: str) -> None:
    """A caller on the simulated network rings the banknotes line and presses 1 for
    Mandarin; returns once the call waits in the queue."""
    page.goto(f"{base}/sim/")
    page.get_by_label("Hotline number").select_option(value="+18005550100")
    page.get_by_role("button", name="Call", exact=True).click()
    expect(page.get_by_test_id("transcript")).to_contain_text("普通话请按1")
    page.get_by_role("button", name="1", exact=True).click()
    expect(page.get_by_test_id("transcript")).to_contain_text("Waiting in queue cmn")


def answer_on_desk(desk: Page) -> None:
    """The volunteer answers the ringing phone on the desk and accepts the call."""
    expect(desk.get_by_test_id("phone-ringing")).to_be_visible(timeout=10_000)
    desk.get_by_role("button", name="Answer").click()
    phone = desk.locator("#phone")
    expect(phone).to_contain_text("Hotline call in Mandarin. Press 1 to accept.")
    phone.get_by_role("button", name="1", exact=True).click()
    # The desk reloads by itself when the call is in front of the volunteer.
    expect(desk.get_by_test_id("case-code")).to_have_text(
        re.compile(r"^\d{3} \d{3} \d{3}$"), timeout=10_000
    )


def take_a_call(browser: Browser, base: str, desk: Page, username: str = "mei") -> Page:
    """``username`` logs in on ``desk`` and goes available; a caller in another browser
    rings, and the volunteer answers. Returns the caller's page."""
    log_in(desk, base, username)
    desk.get_by_role("button", name="Go available").click()
    caller = browser.new_context().new_page()
    place_call(caller, base)
    answer_on_desk(desk)
    return caller
