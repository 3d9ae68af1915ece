"""What a person does in a browser, in Debian's Chromium: the foundation's whole path.

A volunteer goes available in one browser; a caller in another places a call on the
simulated phone network, hears the menu and presses 1; the volunteer's phone rings on the
desk, they accept, record the caller's renunciation and two family members', a book
request and the call's types, end the call and finish wrap-up; the public page's total
goes up once the batch is published. Once at a desktop's size, once on a phone's.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tuidang.literature.models import Title
from tuidang.testing.browser import (
    DESK,
    answer_on_desk,
    enter_password,
    log_in,
    log_in_with_code,
    place_call,
    take_a_call,
)
from tuidang.testing.personas import PASSWORD, HotlineNumbers, totp_code_to_type
from tuidang.testing.publication import publish
from tuidang.volunteers.models import Volunteer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "phone_network"]),
]


def test_a_coordinator_logs_in_with_the_code_from_their_authenticator_app(
    browser: Browser, live_server: LiveServer, lin: Volunteer
) -> None:
    page = browser.new_context().new_page()
    enter_password(page, live_server.url, "lin")
    expect(page.get_by_role("heading", name="Second factor")).to_be_visible()
    page.get_by_label("Code").fill(totp_code_to_type())
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(DESK)
    page.goto(f"{live_server.url}/desk/team/")
    expect(page).to_have_url(re.compile(r"/desk/team/$"))


def test_a_coordinator_adds_a_security_key_and_logs_in_with_it(
    browser: Browser, live_server: LiveServer, lin: Volunteer, settings: Settings
) -> None:
    from allauth.mfa.models import Authenticator

    # WebAuthn wants HTTPS; Chromium counts localhost as secure, fido2 must be told to.
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
    base = live_server.url
    context = browser.new_context()
    page = context.new_page()
    # Chromium's virtual authenticator plays the security key (and its touch).
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    log_in_with_code(page, base, "lin")

    page.goto(f"{base}/accounts/2fa/webauthn/add/")
    page.get_by_label("Password").fill(PASSWORD)  # allauth asks again before a change
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("Lin's key")
    page.get_by_role("button", name="Add").click()
    expect(page).not_to_have_url(re.compile(r"/webauthn/add/"))
    assert Authenticator.objects.filter(user=lin.user, type="webauthn").count() == 1

    page.get_by_role("button", name="Log out").click()
    enter_password(page, base, "lin")
    page.get_by_role("button", name="Use a security key").click()
    expect(page).to_have_url(DESK)


def total(page: Page, base: str) -> tuple[int, int]:
    page.goto(f"{base}/")
    read = page.get_by_test_id
    return int(read("total").inner_text().replace(",", "")), int(read("today").inner_text())


def record_the_call(desk: Page) -> None:
    """What a volunteer records in a call where the caller renounces for two relatives
    too and asks for a book: the caller, two family members, the book, the call's types."""
    caller_box = desk.get_by_role("group", name="The caller", exact=True)
    caller_box.get_by_label("The caller renounces").check()
    caller_box.get_by_label("Alias").fill("Wang Ming")
    caller_box.get_by_label("Communist Party").check()
    caller_box.get_by_label("Communist Youth League").check()
    desk.get_by_role("button", name="Add a family member").click()
    # The new row comes in place, with what was typed kept.
    expect(desk.get_by_role("group", name="Family member 2")).to_be_visible()
    expect(caller_box.get_by_label("Alias")).to_have_value("Wang Ming")
    relatives = [
        ("Parent", "Old Wang", "Communist Party"),
        ("Child", "Little Wang", "Young Pioneers"),
    ]
    for index, (relationship, alias, organization) in enumerate(relatives, start=1):
        family = desk.get_by_role("group", name=f"Family member {index}")
        family.get_by_label("Relationship").select_option(label=relationship)
        family.get_by_label("Alias").fill(alias)
        family.get_by_label(organization).check()
        family.get_by_label("They asked the caller to renounce for them").check()
    desk.get_by_role("button", name="Record renunciations").click()
    expect(desk.get_by_role("status")).to_contain_text("3 declarations recorded.")

    books = desk.get_by_role("region", name="Book request")
    books.get_by_label("九评共产党").check()
    books.get_by_label("By post").check()
    books.get_by_label("Address (sealed, deleted once sent)").fill("河北省石家庄市某路12号")
    books.get_by_role("button", name="Record the book request").click()
    expect(desk.get_by_role("status")).to_contain_text("The book request is recorded.")

    kinds = desk.get_by_role("region", name="What this call was")
    kinds.get_by_label("Renunciation").check()
    kinds.get_by_label("Book request").check()
    kinds.get_by_role("button", name="Save the call record").click()
    expect(desk.get_by_role("status")).to_contain_text("The call is recorded.")


def whole_path(browser: Browser, base: str, desk: Page) -> None:
    public = browser.new_page()
    before_total, before_today = total(public, base)
    log_in(desk, base, "mei")
    desk.get_by_role("button", name="Go available").click()
    expect(desk.get_by_test_id("presence")).to_have_text("Available")

    caller = browser.new_context().new_page()
    place_call(caller, base)
    answer_on_desk(desk)
    expect(desk.get_by_test_id("how-heard")).to_have_text("Banknotes")
    expect(desk.get_by_test_id("region")).to_have_text("Beijing")
    expect(caller.get_by_test_id("transcript")).to_contain_text("正在为您接通志愿者")

    record_the_call(desk)
    receipts = desk.get_by_test_id("receipt")
    expect(receipts).to_have_count(3)
    expect(receipts.first).to_contain_text(re.compile(r"checkable from about \d\d:\d\d"))
    desk.get_by_role("button", name="End call").click()
    expect(desk.get_by_test_id("presence")).to_have_text("Wrap-up", timeout=10_000)
    expect(caller.get_by_test_id("call-status")).to_have_text("completed", timeout=10_000)
    desk.get_by_role("button", name="Finish wrap-up: ready for the next call").click()
    expect(desk.get_by_test_id("presence")).to_have_text("Available")

    # Recorded, not yet public: the total moves only when the batch is published.
    assert total(public, base) == (before_total, before_today)
    publish()  # what the worker does at the next interval
    after_total, after_today = total(public, base)
    assert (after_total, after_today) == (before_total + 3, before_today + 3)


def test_a_call_from_the_ringing_phone_to_the_public_total(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    mei: Volunteer,
    titles: list[Title],
) -> None:
    whole_path(browser, live_server.url, browser.new_context().new_page())


def test_the_whole_call_works_on_a_phone_sized_screen(
    browser: Browser,
    live_server: LiveServer,
    numbers: HotlineNumbers,
    mei: Volunteer,
    titles: list[Title],
) -> None:
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    whole_path(browser, live_server.url, phone)
    # Nothing wider than the screen: no sideways scrolling at 3 a.m.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_form_with_errors_says_what_is_wrong_and_keeps_what_was_typed(
    browser: Browser, live_server: LiveServer, numbers: HotlineNumbers, mei: Volunteer
) -> None:
    desk = browser.new_context().new_page()
    take_a_call(browser, live_server.url, desk)

    desk.get_by_label("The caller renounces").check()
    desk.get_by_role("group", name="The caller", exact=True).get_by_label("Alias").fill("Wang Ming")
    desk.get_by_role("button", name="Record renunciations").click()

    caller_box = desk.get_by_role("group", name="The caller", exact=True)
    expect(caller_box).to_contain_text("Choose at least one organization.")
    expect(caller_box.get_by_label("Alias")).to_have_value("Wang Ming")
    expect(desk.get_by_label("The caller renounces")).to_be_checked()


def test_the_admin_and_its_scripts_work_under_the_content_security_policy(
    browser: Browser, live_server: LiveServer, ada: Volunteer, mei: Volunteer
) -> None:
    """Django's admin runs under the hotline's policy too: its pages show, its scripts run
    (the inline forms' "Add another" link and the date shortcuts are made by them)."""
    base = live_server.url
    page = browser.new_context().new_page()
    log_in_with_code(page, base, "ada")

    page.goto(f"{base}/admin/")
    expect(page.get_by_role("link", name="Audit events")).to_be_visible()
    page.goto(f"{base}/admin/volunteers/volunteer/{mei.pk}/change/")
    expect(page.get_by_role("button", name="Add another Volunteer language")).to_be_visible()
    expect(page.get_by_role("link", name="Today")).to_be_visible()
    page.goto(f"{base}/admin/audit/auditevent/")
    expect(page.get_by_role("cell", name="volunteers.Volunteer")).to_be_visible()
