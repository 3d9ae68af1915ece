"""Shifts in Debian's Chromium: a coordinator in Toronto creates a weekly shift with a target
of two, a volunteer in Taipei signs up for it, and the coverage gap for that slot narrows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tuidang.shifts.models import Slot
from tuidang.testing.browser import log_in, log_in_with_code
from tuidang.volunteers.models import Volunteer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "phone_network"]),
]


def test_a_volunteer_in_another_zone_signs_up_and_the_coverage_gap_narrows(
    browser: Browser,
    live_server: LiveServer,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    base = live_server.url
    lin.time_zone = "America/Toronto"
    lin.save(update_fields=["time_zone"])
    mei.time_zone = "Asia/Taipei"
    mei.save(update_fields=["time_zone"])
    tomorrow = (timezone.now().astimezone(lin.zone()) + timedelta(days=1)).date()

    coordinator = browser.new_context().new_page()
    log_in_with_code(coordinator, base)
    coordinator.get_by_role("link", name="Coverage").click()
    coordinator.get_by_role("link", name="New shift").click()
    coordinator.get_by_label("Language queue").select_option("cmn")
    coordinator.get_by_label("Time zone").select_option("America/Toronto")
    coordinator.get_by_label("Date (the first, for a weekly shift)").fill(tomorrow.isoformat())
    coordinator.get_by_label(re.compile(r"^Starts")).fill("22:00")
    coordinator.get_by_label(re.compile(r"^Ends")).fill("02:00")
    coordinator.get_by_label("Minimum volunteers").fill("1")
    coordinator.get_by_label("Target volunteers").fill("2")
    coordinator.get_by_role("button", name="Create the shift").click()
    expect(coordinator.get_by_role("status")).to_contain_text("Shift created")

    slot = Slot.objects.order_by("starts_at").first()
    assert slot is not None
    row = coordinator.locator(f'tr[data-starts="{slot.starts_at:%Y-%m-%dT%H:%MZ}"]')
    expect(row).to_have_class("gap")
    expect(row.get_by_test_id("scheduled")).to_have_text("0")
    expect(row).to_contain_text(f"{tomorrow:%m-%d} 22:00")  # the coordinator's own clock

    volunteer = browser.new_context().new_page()
    log_in(volunteer, base, "mei")
    volunteer.get_by_role("link", name="Shifts").click()
    in_taipei = slot.starts_at.astimezone(mei.zone())
    offered = (
        volunteer.get_by_test_id("open-shifts")
        .get_by_role("row")
        .filter(has_text=f"{in_taipei:%Y-%m-%d %H:%M}")
    )
    offered.get_by_role("button", name="Sign up").click()
    expect(volunteer.get_by_role("status")).to_contain_text("You are on this shift.")
    expect(volunteer.get_by_test_id("my-shifts")).to_contain_text(f"{in_taipei:%Y-%m-%d %H:%M}")

    coordinator.reload()
    expect(row).to_have_class("short")
    expect(row.get_by_test_id("scheduled")).to_have_text("1")
    row.get_by_role("link", name="Short: fill it").click()
    expect(coordinator.get_by_test_id("on-slot")).to_contain_text("Mei")
