"""The wallboard and the report in Chromium, as a coordinator watches a call come and go."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tuidang.reports.counting import reports_run
from tuidang.testing.browser import answer_on_desk, log_in, log_in_with_code, place_call
from tuidang.testing.personas import HotlineNumbers
from tuidang.volunteers.models import Volunteer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "phone_network"]),
]


def test_the_waiting_count_rises_and_falls_without_a_reload_and_the_report_shows_the_call(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    base = live_server.url
    wall = browser.new_context().new_page()
    log_in_with_code(wall, base)
    wall.goto(f"{base}/desk/wallboard/")
    waiting = wall.get_by_test_id("waiting-cmn")
    expect(waiting).to_have_text("0")
    wall.evaluate("window.sameDocument = true")  # gone if the page reloads

    desk = browser.new_context().new_page()
    log_in(desk, base, "mei")
    desk.get_by_role("button", name="Go available").click()
    expect(wall.get_by_test_id("available-cmn")).to_have_text("1", timeout=5_000)
    caller = browser.new_context().new_page()
    place_call(caller, base)  # waits while Mei's phone rings
    expect(waiting).to_have_text("1", timeout=5_000)
    answer_on_desk(desk)
    expect(waiting).to_have_text("0", timeout=5_000)
    expect(wall.get_by_test_id("queue-cmn")).to_contain_text("1 answered")
    assert wall.evaluate("window.sameDocument") is True

    caller.get_by_role("button", name="Hang up").click()
    expect(wall.get_by_test_id("wrap-up-cmn")).to_have_text("1", timeout=10_000)
    reports_run(timezone.now())  # the worker's next run of the reports job
    wall.goto(f"{base}/desk/reports/")
    total = wall.get_by_test_id("report").locator("tfoot td")
    expect(total.nth(0)).to_have_text("1")  # offered
    expect(total.nth(1)).to_have_text("1")  # answered
    expect(wall.get_by_test_id("chart-day")).to_be_visible()


def test_a_wall_screen_shows_the_board_without_a_login_and_loses_it_once_revoked(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    lin: Volunteer,
) -> None:
    base = live_server.url
    coordinator = browser.new_context().new_page()
    log_in_with_code(coordinator, base)
    coordinator.goto(f"{base}/desk/wallboard/")
    coordinator.get_by_label("Name of the screen").fill("Taipei office")
    coordinator.get_by_role("button", name="Make a link").click()
    link = coordinator.get_by_test_id("new-link").inner_text()

    screen = browser.new_context().new_page()  # no login
    screen.goto(link)
    expect(screen.get_by_test_id("waiting-cmn")).to_have_text("0")
    expect(screen.locator("#wallboard")).to_contain_text("Mandarin")

    coordinator.get_by_role("button", name="Revoke").click()
    expect(coordinator.get_by_role("status")).to_contain_text("no longer opens the wallboard")
    # The screen's next poll is refused: the board leaves the screen without a reload.
    expect(screen.get_by_role("alert")).to_have_text(
        "This wallboard link no longer works.", timeout=5_000
    )
    expect(screen.get_by_test_id("waiting-cmn")).to_have_count(0)
