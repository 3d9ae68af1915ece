"""A warm transfer and a listen-in in Debian's Chromium: Mei, who answers in Mandarin,
hands her caller to Lin, the coordinator, who records the renunciation; and Lin listening
in, which Mei's desk shows."""

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tuidang.declarations.models import Declaration
from tuidang.testing.browser import log_in_with_code, take_a_call
from tuidang.testing.personas import HotlineNumbers
from tuidang.volunteers.models import Volunteer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "phone_network"]),
]


def test_mei_hands_her_caller_to_the_coordinator_who_records_the_renunciation(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    base = live_server.url
    mei_desk = browser.new_context().new_page()
    take_a_call(browser, base, mei_desk)
    lin_desk = browser.new_context().new_page()
    log_in_with_code(lin_desk, base)
    lin_desk.get_by_role("button", name="Go available").click()

    mei_desk.reload()  # the colleagues free now
    mei_desk.get_by_text("Transfer the call").click()
    mei_desk.get_by_label("Transfer to").select_option(
        label="Lin (Mandarin, English · coordinator)"
    )
    mei_desk.get_by_label("Warm: talk with them first while the caller holds").check()
    mei_desk.get_by_role("button", name="Transfer", exact=True).click()
    expect(mei_desk.get_by_test_id("transfer")).to_contain_text("Transferring to Lin")

    expect(lin_desk.get_by_test_id("phone-ringing")).to_be_visible(timeout=10_000)
    lin_desk.keyboard.press("Alt+KeyA")  # answer: the phone panel is redrawn every second
    phone = lin_desk.locator("#phone")
    expect(phone).to_contain_text("A colleague transfers a call in Mandarin to you.")
    phone.get_by_role("button", name="1", exact=True).click()
    # Lin's desk shows the case while the two talk, and she records on it.
    expect(lin_desk.get_by_test_id("transfer")).to_contain_text(
        "Mei is handing you this call", timeout=10_000
    )
    case_code = mei_desk.get_by_test_id("case-code").inner_text()
    expect(lin_desk.get_by_test_id("case-code")).to_have_text(case_code)
    caller_box = lin_desk.get_by_role("group", name="The caller", exact=True)
    caller_box.get_by_label("The caller renounces").check()
    caller_box.get_by_label("Alias").fill("Wang Ming")
    caller_box.get_by_label("Communist Party").check()
    lin_desk.get_by_role("button", name="Record renunciations").click()
    expect(lin_desk.get_by_test_id("recorded")).to_contain_text("1 declaration recorded")

    mei_desk.get_by_role("button", name="Hand the caller over").click(timeout=10_000)
    expect(mei_desk.get_by_role("status")).to_contain_text("The caller is with your colleague")
    expect(lin_desk.get_by_role("button", name="End call")).to_be_visible(timeout=10_000)
    expect(lin_desk.get_by_test_id("transfer")).to_have_count(0)
    declaration = Declaration.objects.get()
    assert declaration.recorded_by == lin.user
    assert declaration.call is not None and declaration.call.volunteer == lin


def test_mei_sees_the_coordinator_listening_in_and_whispering(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    mei: Volunteer,
    lin: Volunteer,
) -> None:
    base = live_server.url
    mei_desk = browser.new_context().new_page()
    take_a_call(browser, base, mei_desk)
    expect(mei_desk.get_by_test_id("listener")).to_have_count(0)

    lin_context = browser.new_context()
    lin_desk = lin_context.new_page()
    log_in_with_code(lin_desk, base)
    lin_desk.get_by_role("button", name="Go available").click()
    team = lin_context.new_page()
    team.goto(f"{base}/desk/team/")
    team.get_by_role("button", name="Listen in").click(timeout=10_000)
    expect(team.get_by_test_id("listening")).to_contain_text("Your phone rings", timeout=10_000)

    expect(lin_desk.get_by_test_id("phone-ringing")).to_be_visible(timeout=10_000)
    lin_desk.keyboard.press("Alt+KeyA")  # answer: the phone panel is redrawn every second
    expect(mei_desk.get_by_test_id("listener")).to_have_text(
        "Lin is listening in, muted.", timeout=10_000
    )

    team.reload()
    team.get_by_role("button", name="Whisper to Mei").click(timeout=10_000)
    expect(mei_desk.get_by_test_id("listener")).to_contain_text(
        "whispering to you; the caller cannot hear them", timeout=10_000
    )
    team.get_by_role("button", name="Stop listening").click(timeout=10_000)
    expect(mei_desk.get_by_test_id("listener")).to_have_count(0, timeout=10_000)
