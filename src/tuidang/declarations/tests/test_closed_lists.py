"""Nothing but closed lists ever enters a log entry (issue #15, finding 1).

The log is public and can never be edited: a region typed as free text ("Wuhan, Hongshan
district, +86 139 7777 1234") would be served to anyone for ever. Every path that writes
an entry refuses a value that is not on its list, and whatever text reaches those paths,
every entry in the log holds only list values, a date and a commitment.
"""

from __future__ import annotations

import io
import itertools
import json
import re
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuidang.calls.models import Call
from tuidang.calls.services import call_receive
from tuidang.declarations.forms import CallerDeclarationForm, FamilyFormSet
from tuidang.declarations.imports import ImportRejected, import_declarations, parse_all
from tuidang.declarations.models import (
    Declaration,
    DeclarationChannel,
    Organization,
    Relationship,
    RevocationReason,
)
from tuidang.declarations.services import (
    NotOnTheList,
    Person,
    declaration_record,
    declaration_revoke,
    log_entry,
)
from tuidang.lib.regions import is_region, region_named
from tuidang.testing.personas import BANKNOTES_LINE, CALLER, PASSWORD, HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.tlog.models import LogEntry
from tuidang.volunteers.models import Presence, Volunteer

FINDING = "Wuhan, Hongshan district, +86 139 7777 1234"
COMMITMENT = re.compile(r"[A-Za-z0-9+/]{43}=")
# Whatever a person could type or a file could hold, the finding's text among it.
texts = st.one_of(st.just(FINDING), st.text(max_size=100))


def assert_only_closed_lists_in_the_log() -> None:
    """Every entry, field by field: a value of its list, a day, or a commitment."""
    for entry in LogEntry.objects.order_by("index"):
        data = json.loads(bytes(entry.data))
        organizations = data["organizations"]
        assert organizations == [org for org in Organization.values if org in organizations]
        assert organizations
        assert date.fromisoformat(data["date"]).isoformat() == data["date"]
        if data["kind"] == "declaration":
            assert set(data) == {
                *("channel", "commitment", "date", "kind", "organizations", "region", "v")
            }
            assert data["v"] == 2
            assert data["channel"] in DeclarationChannel.values
            assert is_region(data["region"])
            assert COMMITMENT.fullmatch(data["commitment"])
        else:
            assert data["kind"] == "revocation"
            assert set(data) == {"date", "kind", "organizations", "reason", "revokes", "v"}
            assert data["v"] == 1
            assert data["reason"] in RevocationReason.values
            assert type(data["revokes"]) is int


@pytest.fixture
def call(numbers: HotlineNumbers, mei: Volunteer) -> Call:
    """A call from Beijing, connected to Mei."""
    call = call_receive(provider_sid="CA-closed-lists", caller_from=CALLER, dialled=BANKNOTES_LINE)
    assert call is not None
    Call.objects.filter(pk=call.pk).update(volunteer=mei, state=Call.State.CONNECTED)
    Volunteer.objects.filter(pk=mei.pk).update(presence=Presence.ON_CALL)
    call.refresh_from_db()
    return call


def _post(client: Client, call: Call, **fields: Any) -> Any:
    return client.post(
        reverse("desk:record-declarations", args=[call.pk]),
        {
            "caller-renounces": "on",
            "caller-alias": "Wang Ming",
            "caller-organizations": ["party"],
            "family-TOTAL_FORMS": "0",
            "family-INITIAL_FORMS": "0",
            **fields,
        },
    )


@pytest.mark.django_db
def test_the_region_of_the_finding_is_refused_at_the_desk_and_never_logged(
    client: Client, call: Call
) -> None:
    client.login(username="mei", password=PASSWORD)
    response = _post(client, call, **{"caller-region": FINDING})
    assert response.status_code == 400
    assert "Select a valid choice" in response.text
    assert not Declaration.objects.exists() and not LogEntry.objects.exists()
    # The region is chosen from the list instead: the log holds its code.
    assert _post(client, call, **{"caller-region": "CN-HB"}).status_code == 302
    publish()
    tile = client.get("/log/tile/entries/000.p/1").content
    assert b'"region":"CN-HB"' in tile
    assert b"139" not in tile and b"Wuhan" not in tile


@pytest.mark.django_db
def test_the_desk_offers_the_regions_by_name_in_the_volunteers_language(
    client: Client, call: Call
) -> None:
    client.login(username="mei", password=PASSWORD)
    english = client.get(reverse("desk:desk")).text
    assert '<option value="CN-BJ" selected>Beijing</option>' in english
    assert '<option value="HK">Hong Kong</option>' in english
    assert '<option value="US">United States</option>' in english
    chinese = client.get(reverse("desk:desk"), headers={"accept-language": "zh-hans"}).text
    assert '<option value="CN-BJ" selected>北京</option>' in chinese
    assert '<option value="HK">香港</option>' in chinese
    assert '<option value="US">美国</option>' in chinese
    assert '<optgroup label="港澳台">' in chinese


@pytest.mark.django_db
def test_whatever_is_typed_at_the_desk_only_list_values_reach_the_log(
    call: Call, mei: Volunteer
) -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(region=texts, relationship=texts, alias=texts, statement=texts)
    def record(region: str, relationship: str, alias: str, statement: str) -> None:
        alias = alias if alias.strip() else "Wang"  # a name is required (its receipt's check)
        before = LogEntry.objects.count()
        caller = CallerDeclarationForm(
            {
                "caller-renounces": "on",
                "caller-alias": alias,
                "caller-organizations": ["party"],
                "caller-region": region,
                "caller-statement": statement,
            },
            prefix="caller",
        )
        family = FamilyFormSet(
            {
                "family-TOTAL_FORMS": "1",
                "family-INITIAL_FORMS": "0",
                "family-0-relationship": relationship,
                "family-0-alias": alias,
                "family-0-organizations": ["youth_league"],
                "family-0-asked_for_it": "on",
            },
            prefix="family",
        )
        if region not in ("", *_codes()) or relationship not in Relationship.values:
            assert not (caller.is_valid() and family.is_valid())
        # The service refuses the same, whoever calls it.
        people = [
            Person(alias=alias, organizations=frozenset({"party"}), region=region),
            Person(alias=alias, organizations=frozenset({"party"}), relationship=relationship),
        ]
        if is_region(region.strip()) and relationship in ("", *Relationship.values):
            declaration_record(call=call, people=people, recorded_by=mei.user)
            publish()
            assert LogEntry.objects.count() > before
        else:
            with pytest.raises(NotOnTheList):
                declaration_record(call=call, people=people, recorded_by=mei.user)
            publish()
            assert LogEntry.objects.count() == before

    record()
    assert_only_closed_lists_in_the_log()


def _codes() -> list[str]:
    from tuidang.lib.regions import CODES

    return sorted(CODES)


@pytest.mark.django_db
def test_whatever_a_history_file_holds_only_list_values_reach_the_log() -> None:
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        key=st.text(min_size=1, max_size=20),
        region=texts,
        channel=st.one_of(st.sampled_from(DeclarationChannel.values), texts),
        organization=st.one_of(st.sampled_from(Organization.values), texts),
        relationship=st.one_of(st.sampled_from(Relationship.values), texts),
        alias=texts,
    )
    def imported(
        key: str, region: str, channel: str, organization: str, relationship: str, alias: str
    ) -> None:
        record = {
            "key": key,
            "date": "2019-03-02",
            "organizations": [organization],
            "region": region,
            "channel": channel,
            "relationship": relationship,
            "alias": alias,
        }
        good = {
            "key": "good-row",
            "date": "2019-03-02",
            "organizations": ["party"],
            "channel": "fax",
        }
        lines = json.dumps(good) + "\n" + json.dumps(record) + "\n"
        before = LogEntry.objects.count()
        valid = (
            is_region(region.strip())
            or region.strip().upper() in _codes()
            or region_named(region) is not None
        ) and channel.strip() in DeclarationChannel.values
        valid = valid and organization.strip() in Organization.values
        valid = valid and relationship.strip() in ("", *Relationship.values)
        if not (valid and key.strip() and key.strip() != "good-row"):
            with pytest.raises(ImportRejected) as rejected:
                parse_all(io.StringIO(lines), "jsonl")
            # The bad row, by its line, and nothing else.
            assert [error.split(":")[0] for error in rejected.value.errors] == ["line 2"]
            assert LogEntry.objects.count() == before
            return
        rows = parse_all(io.StringIO(lines), "jsonl")
        assert is_region(rows[1].region)
        import_declarations(rows)

    imported()
    assert_only_closed_lists_in_the_log()


@pytest.mark.django_db
def test_a_history_row_of_the_finding_is_refused_by_its_line() -> None:
    lines = (
        "key,date,organizations,region,channel\n"
        "a,2019-03-02,party,Hubei,fax\n"
        f'b,2019-03-02,party,"{FINDING}",fax\n'
        "c,2019-03-02,party,CN-HB,fax\n"
    )
    with pytest.raises(ImportRejected) as rejected:
        parse_all(io.StringIO(lines), "csv")
    assert rejected.value.errors == [
        "line 3: region must be empty, or a code or name from the list of regions "
        "(CN-BJ or Beijing, HK, US...; docs/counting.md)"
    ]
    rows = parse_all(io.StringIO(lines.replace(f'"{FINDING}"', "湖北")), "csv")
    assert [row.region for row in rows] == ["CN-HB", "CN-HB", "CN-HB"]


@pytest.mark.django_db
def test_whatever_reason_a_revocation_is_given_only_list_values_reach_the_log(
    call: Call, mei: Volunteer
) -> None:
    aliases = (f"Wang {n}" for n in itertools.count())  # never a duplicate of the last

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(reason=st.one_of(st.sampled_from(RevocationReason.values), texts))
    def revoke(reason: str) -> None:
        [declaration] = declaration_record(
            call=call,
            people=[Person(alias=next(aliases), organizations=frozenset({"party"}))],
            recorded_by=mei.user,
        )
        publish()
        before = LogEntry.objects.count()
        if reason in RevocationReason.values:
            declaration_revoke(declaration=declaration, reason=reason, by=mei.user)
            publish()
            assert LogEntry.objects.count() == before + 1
        else:
            with pytest.raises(NotOnTheList):
                declaration_revoke(declaration=declaration, reason=reason, by=mei.user)
            publish()
            assert LogEntry.objects.count() == before
            assert not hasattr(Declaration.objects.get(pk=declaration.pk), "revocation")

    revoke()
    assert_only_closed_lists_in_the_log()


@pytest.mark.django_db
def test_an_entry_is_never_built_from_a_row_whose_values_are_not_on_the_lists(
    call: Call, mei: Volunteer
) -> None:
    """``log_entry`` builds an entry from a stored row, as publication will: a row changed
    outside the services is refused there too."""
    [declaration] = declaration_record(
        call=call,
        people=[Person(alias="Wang", organizations=frozenset({"party"}))],
        recorded_by=mei.user,
    )

    @settings(max_examples=60, deadline=None)
    @given(region=texts, channel=texts)
    def build(region: str, channel: str) -> None:
        declaration.region, declaration.channel = region, channel
        if is_region(region) and channel in DeclarationChannel.values:
            assert json.loads(log_entry(declaration))["region"] == region
        else:
            with pytest.raises(NotOnTheList):
                log_entry(declaration)

    build()
