"""The desk in Debian's Chromium, around the main path: what a volunteer types stays."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from tuidang.literature.models import Title
from tuidang.testing.browser import log_in, place_call, take_a_call
from tuidang.testing.personas import HotlineNumbers
from tuidang.volunteers.models import Volunteer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "phone_network"]),
]


def test_recording_one_part_of_the_call_keeps_what_was_typed_in_the_others(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    mei: Volunteer,
    titles: list[Title],
) -> None:
    desk = browser.new_context().new_page()
    take_a_call(browser, live_server.url, desk)

    kinds = desk.get_by_role("region", name="What this call was")
    kinds.get_by_label("Note").fill("Her uncle wants to quit too")
    caller_box = desk.get_by_role("group", name="The caller", exact=True)
    caller_box.get_by_label("Alias").fill("Wang Ming")
    # Screen readers name the organizations' boxes by their group.
    expect(caller_box.get_by_role("group", name="Organizations")).to_be_visible()
    books = desk.get_by_role("region", name="Book request")
    books.get_by_label("九评共产党").check()
    books.get_by_label("By post").check()
    books.get_by_role("button", name="Record the book request").click()
    # Refused (no address): the book form says why, the rest of the desk is as typed.
    expect(books).to_contain_text("A book sent by post needs an address.")
    expect(kinds.get_by_label("Note")).to_have_value("Her uncle wants to quit too")
    expect(caller_box.get_by_label("Alias")).to_have_value("Wang Ming")

    books.get_by_label("Address (sealed, deleted once sent)").fill("河北省石家庄市某路12号")
    books.get_by_role("button", name="Record the book request").click()
    expect(desk.get_by_role("status")).to_contain_text("The book request is recorded.")
    expect(kinds.get_by_label("Note")).to_have_value("Her uncle wants to quit too")
    expect(caller_box.get_by_label("Alias")).to_have_value("Wang Ming")

    kinds.get_by_label("Enquiry").check()
    kinds.get_by_role("button", name="Save the call record").click()
    expect(desk.get_by_role("status")).to_contain_text("The call is recorded.")
    expect(caller_box.get_by_label("Alias")).to_have_value("Wang Ming")


def test_on_a_laptop_the_renunciation_form_is_in_view_and_keys_work(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    mei: Volunteer,
    titles: list[Title],
) -> None:
    base = live_server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    log_in(desk, base, "mei")
    desk.get_by_role("button", name="Go available").click()
    place_call(browser.new_context().new_page(), base)
    # The ringing phone is in the tab's title too, for a volunteer in another tab.
    expect(desk).to_have_title(re.compile("A call is ringing"), timeout=10_000)
    expect(desk.get_by_test_id("shortcuts")).to_contain_text("Alt+A")
    expect(desk.get_by_test_id("phone-ringing")).to_be_visible()
    desk.keyboard.press("Alt+KeyA")  # accept
    phone = desk.locator("#phone")
    expect(phone).to_contain_text("Hotline call in Mandarin. Press 1 to accept.")
    phone.get_by_role("button", name="1", exact=True).click()
    expect(desk.get_by_test_id("case-code")).to_be_visible(timeout=10_000)
    expect(desk).not_to_have_title(re.compile("ringing"))

    assert desk.evaluate("window.scrollY") == 0
    for name in ["Record renunciations", "Save the call record", "Record the book request"]:
        button = desk.get_by_role("button", name=name)
        expect(button).to_be_in_viewport()
        box = button.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 800, name
    caller_box = desk.get_by_role("group", name="The caller", exact=True)
    expect(caller_box.get_by_label("Alias")).to_be_in_viewport()

    desk.keyboard.press("Alt+KeyE")  # end call
    expect(
        desk.get_by_role("button", name="Finish wrap-up: ready for the next call")
    ).to_be_visible(timeout=10_000)
    expect(desk.get_by_test_id("call-state")).to_have_text("Completed")


def _tops(desk: Page) -> list[float]:
    """Where each part of the call starts on the page (from its top, scrolled or not), in
    the order a volunteer works through them."""
    parts = [
        desk.get_by_test_id("case-code"),  # the call in front of the volunteer
        desk.get_by_role("group", name="The caller", exact=True).get_by_label("Alias"),
        desk.get_by_role("region", name="What this call was").get_by_label("Enquiry"),
        desk.get_by_role("region", name="What this call was").get_by_label("Note"),
        desk.get_by_role("region", name="Book request"),
    ]
    return [
        part.evaluate("element => element.getBoundingClientRect().top + window.scrollY")
        for part in parts
    ]


def test_on_a_phone_the_call_reads_in_the_same_order_as_on_a_laptop(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    mei: Volunteer,
    titles: list[Title],
) -> None:
    desk = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    take_a_call(browser, live_server.url, desk)
    expect(desk.get_by_test_id("case-code")).to_be_visible(timeout=10_000)
    laptop = _tops(desk)

    desk.set_viewport_size({"width": 390, "height": 844})
    desk.reload()
    expect(desk.get_by_test_id("case-code")).to_be_visible(timeout=10_000)
    phone = _tops(desk)

    # Top to bottom on the phone: the call, the renunciation form, the call types, the
    # note, the book request; and in that order on the laptop too.
    assert phone == sorted(phone) and len(set(phone)) == len(phone), phone
    assert laptop == sorted(laptop), laptop
    # Nothing wider than the phone: no sideways scrolling to reach a form.
    assert desk.evaluate("document.documentElement.scrollWidth") <= 390
