"""In Chromium, as a reader in Hong Kong or Taiwan: the home page in Traditional Chinese
shows the numbers to call and the total's history, drawn without a script of its own and
under the Content Security Policy (the suite watches every browser test for violations)."""

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from tuidang.calls.models import Call
from tuidang.declarations.services import Person, declaration_record
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.volunteers.models import Volunteer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "phone_network"]),
]


def test_a_reader_switches_to_traditional_chinese_and_finds_the_numbers_and_the_chart(
    browser: Browser,
    live_server: LiveServer,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
) -> None:
    numbers["banknotes"].public = True
    numbers["banknotes"].save()
    call: Call = connect(network, mei)
    people = [Person(alias=f"Wang {i}", organizations=frozenset({"party"})) for i in range(3)]
    declaration_record(call=call, people=people, recorded_by=mei.user)
    publish()

    page = browser.new_context(locale="en-US").new_page()
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="繁體中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hant")
    expect(page.get_by_role("heading", name="撥打的號碼")).to_be_visible()
    number = page.get_by_test_id("numbers-to-call").get_by_role("link", name="+1 800-555-0100")
    expect(number).to_have_attribute("href", "tel:+18005550100")
    expect(page.get_by_test_id("numbers-to-call")).to_contain_text("全天二十四小時")
    chart = page.locator('svg[data-chart="total-over-time"]')
    expect(chart).to_be_visible()
    expect(chart.locator("text.count")).to_have_text("3")
    assert chart.bounding_box() is not None and chart.bounding_box()["width"] > 200  # type: ignore[index]

    page.get_by_role("link", name="總數的歷史").click()
    party = page.locator('svg[data-chart="by-organization"] g[data-key="party"] text.count')
    expect(party).to_have_text("3")
    expect(page.locator('svg[data-chart="by-organization"]')).to_contain_text("共產黨")
