"""The numbers to call, the total's history and the open data, as the public reads them."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration, Rollup
from tuidang.declarations.selectors import public_totals
from tuidang.declarations.services import Person, declaration_record, declaration_revoke
from tuidang.lib.regions import region_name
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.volunteers.models import Volunteer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])

HEADER = ["day", "region", "organization", "channel", "count"]


def declare(call: Call, mei: Volunteer) -> list[Declaration]:
    """The caller for themselves (the Party), and for their mother (Party and League)."""
    return declaration_record(
        call=call,
        people=[
            Person(alias="Wang Ming", organizations=frozenset({"party"})),
            Person(
                alias="Old Wang",
                organizations=frozenset({"party", "youth_league"}),
                relationship="parent",
            ),
        ],
        recorded_by=mei.user,
    )


@pytest.fixture
def call(network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer) -> Call:
    return connect(network, mei)


def daily_rows(client: Client) -> list[dict[str, str]]:
    response = client.get(reverse("public:data-daily"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    assert reader.fieldnames == HEADER
    return list(reader)


def test_the_open_data_adds_up_to_what_the_log_counts(
    client: Client, call: Call, mei: Volunteer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    declarations = declare(call, mei)
    publish()
    totals = json.loads(client.get(reverse("public:data-totals")).content)
    assert totals["total"] == public_totals().total == 2
    assert totals["people_by_organization"] == {
        "party": 2,
        "youth_league": 1,
        "young_pioneers": 0,
    }
    rows = daily_rows(client)
    by_org = {
        org: sum(int(r["count"]) for r in rows if r["organization"] == org)
        for org in ("party", "youth_league")
    }
    assert by_org == {"party": 2, "youth_league": 1}
    assert {r["channel"] for r in rows} == {"hotline", "relayed"}
    assert {r["region"] for r in rows} == {call.region}
    assert sum(totals["renunciations_by_channel"].values()) == 3
    assert totals["renunciations_by_region"] == {call.region: 3}
    assert totals["people_by_how_heard"] == {"banknotes": 2}

    # The log's own count, written by verify-log, is the published file, line for line.
    figures = tmp_path / "figures.csv"
    call_command("verify_log", figures=True, write_figures=figures)
    assert "(3 cells, 3 renunciations) are what the log counts" in capsys.readouterr().out
    assert figures.read_bytes() == client.get(reverse("public:data-daily")).content

    # Withdrawn, the mother's declaration leaves the files and the log's count alike.
    mother = next(d for d in declarations if d.relationship)
    declaration_revoke(declaration=mother, reason="withdrawn", by=None)
    publish()
    rows = daily_rows(client)
    assert sum(int(r["count"]) for r in rows) == 1
    totals = json.loads(client.get(reverse("public:data-totals")).content)
    assert totals["total"] == 1
    assert totals["people_by_how_heard"] == {"banknotes": 1}
    call_command("verify_log", figures=True, write_figures=figures)
    assert figures.read_bytes() == client.get(reverse("public:data-daily")).content


def test_verify_log_finds_a_daily_count_that_the_log_does_not_hold(
    client: Client, call: Call, mei: Volunteer
) -> None:
    declare(call, mei)
    publish()
    Rollup.objects.filter(organization="party", channel="hotline").update(count=5)
    with pytest.raises(CommandError, match="daily counts published are not what the log"):
        call_command("verify_log", figures=True)


def test_a_data_file_is_not_sent_again_until_a_publication_changes_it(
    client: Client, call: Call, mei: Volunteer
) -> None:
    for name in ("public:data-daily", "public:data-totals"):
        first = client.get(reverse(name))
        etag = first["ETag"]
        assert "max-age=300" in first["Cache-Control"] and "public" in first["Cache-Control"]
        again = client.get(reverse(name), headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again["ETag"] == etag
    etag = client.get(reverse("public:data-daily"))["ETag"]
    declare(call, mei)
    publish()
    changed = client.get(reverse("public:data-daily"), headers={"if-none-match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert len(list(csv.reader(io.StringIO(changed.content.decode())))) == 1 + 3  # header, cells


def test_a_data_file_is_gzipped_for_a_client_that_accepts_it_with_an_etag_of_its_own(
    client: Client,
) -> None:
    plain = client.get(reverse("public:data-daily"))
    zipped = client.get(reverse("public:data-daily"), headers={"accept-encoding": "gzip"})
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped["ETag"] != plain["ETag"]
    assert "Accept-Encoding" in zipped["Vary"]
    # Each representation is revalidated by its own ETag, not by the other's.
    again = client.get(
        reverse("public:data-daily"),
        headers={"accept-encoding": "gzip", "if-none-match": zipped["ETag"]},
    )
    assert again.status_code == 304
    other = client.get(
        reverse("public:data-daily"),
        headers={"accept-encoding": "gzip", "if-none-match": plain["ETag"]},
    )
    assert other.status_code == 200 and other["Content-Encoding"] == "gzip"


def test_the_charts_say_the_counts_of_the_registry(
    client: Client, call: Call, mei: Volunteer
) -> None:
    declare(call, mei)
    publish()
    page = client.get(reverse("public:history"), headers={"accept-language": "en"}).text
    assert bar_count(page, "by-organization", "party") == 2
    assert bar_count(page, "by-organization", "youth_league") == 1
    assert bar_count(page, "by-channel", "relayed") == 2
    assert bar_count(page, "by-region", call.region) == 3
    # Both people called the banknotes line: all of those who said how they heard.
    assert call.how_heard == "banknotes"
    assert bar_count(page, "by-how-heard", "banknotes") == 2
    assert "Banknotes (100%)" in page
    assert region_name(call.region, chinese=False) in page
    total = re.search(r'data-chart="total-over-time".*?data-count="(\d+)"', page, re.S)
    assert total is not None and int(total.group(1)) == 2
    # The home page draws the total over time too, and the same number.
    home = client.get(reverse("public:home")).text
    assert 'data-chart="total-over-time"' in home and 'data-count="2"' in home


def bar_count(page: str, chart: str, key: str) -> int:
    svg = re.search(rf'<svg class="chart" data-chart="{chart}".*?</svg>', page, re.S)
    assert svg is not None, chart
    bar = re.search(
        rf'<g class="bar" data-key="{re.escape(key)}">.*?class="count" data-count="(\d+)">'
        r"([\d,]+)</text>",
        svg.group(0),
        re.S,
    )
    assert bar is not None, (chart, key)
    assert bar.group(2).replace(",", "") == bar.group(1)  # the label says the number
    return int(bar.group(1))


def test_the_numbers_to_call_are_those_marked_public(
    client: Client, numbers: HotlineNumbers
) -> None:
    numbers["banknotes"].public = False
    numbers["banknotes"].save()
    numbers["website"].public = True
    numbers["website"].hours = "每天 24 小时"
    numbers["website"].save()
    for url in (reverse("public:home"), reverse("public:numbers")):
        page = client.get(url, headers={"accept-language": "en"}).text
        assert "+1 800-555-0199" in page
        assert "+1 800-555-0100" not in page  # printed on banknotes only
        assert "Mandarin, Cantonese, English" in page
    traditional = client.get(reverse("public:numbers"), headers={"accept-language": "zh-hant"})
    assert "每天 24 小時" in traditional.text  # a coordinator's words, in the reader's script
    assert "普通話, 粵語, 英語" in traditional.text


def test_the_history_and_the_data_page_speak_traditional_chinese(
    client: Client, call: Call, mei: Volunteer
) -> None:
    declare(call, mei)
    publish()
    history = client.get(reverse("public:history"), headers={"accept-language": "zh-hant"})
    assert '<html lang="zh-hant">' in history.text
    assert "共產黨" in history.text  # the organization's bar, in Traditional characters
    data = client.get(reverse("public:data"), headers={"accept-language": "zh-hant"}).text
    assert "verify-log" in data and "--figures" in data
    assert "開放資料" in data
