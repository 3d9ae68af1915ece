"""``channel`` on numbers and calls, and ``source`` on declarations, became ``how_heard``:
an installation that migrates from before the rename keeps its rows, their values, and
the indexes and constraints of the tables renamed in."""

import base64
import datetime
import textwrap

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tuidang.calls.models import Call, HotlineNumber, HowHeard
from tuidang.declarations.models import Declaration, DeclarationChannel, MonthlyRollup, Rollup
from tuidang.declarations.receipts import receipt_confirm
from tuidang.declarations.selectors import counts_by_region, public_totals
from tuidang.declarations.services import canonical_json
from tuidang.tlog.services import commitment, log_append, log_checkpoint_sign

BEFORE = [
    ("calls", "0010_call_screening_policy_choices"),
    ("declarations", "0009_declared_on_unindexed"),
]


def _constraints(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db(transaction=True)
def test_migrating_from_before_the_rename_keeps_how_callers_heard_of_the_number() -> None:
    kept = {
        table: _constraints(table)
        for table in (Call._meta.db_table, HotlineNumber._meta.db_table, Declaration._meta.db_table)
    }
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    number = old.get_model("calls", "HotlineNumber").objects.create(
        e164="+18005550177", name="Radio line", channel="radio"
    )
    call = old.get_model("calls", "Call").objects.create(
        provider_sid="CA-before-the-rename",
        hotline_number=number,
        channel="radio",
        caller_key="k" * 64,
        case_code="123456789",
    )
    old.get_model("declarations", "Declaration").objects.create(
        call=call,
        subject="self",
        party=True,
        declared_on=datetime.date(2026, 11, 24),
        source="radio",
        channel="hotline",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert HotlineNumber.objects.get(e164="+18005550177").how_heard == HowHeard.RADIO
    assert Call.objects.get(provider_sid="CA-before-the-rename").how_heard == HowHeard.RADIO
    declaration = Declaration.objects.get(call__provider_sid="CA-before-the-rename")
    assert (declaration.how_heard, declaration.channel) == ("radio", DeclarationChannel.HOTLINE)
    for table, names in kept.items():
        assert _constraints(table) == names
    executor.loader.build_graph()  # what is applied now
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())


REGIONS_BEFORE = [
    ("calls", "0011_rename_channel_how_heard"),
    ("declarations", "0010_rename_source_how_heard"),
]
FINDING = "Wuhan, Hongshan district, +86 139 7777 1234"


@pytest.mark.django_db(transaction=True)
def test_migrating_free_text_regions_keeps_codes_counts_and_receipts_but_no_other_text() -> None:
    """Regions were free text: what names a region of the list becomes its code, anything
    else unknown; the counts are all kept, and the old entries, never edited, still
    verify with their receipts."""
    executor = MigrationExecutor(connection)
    executor.migrate(REGIONS_BEFORE)
    old = executor.loader.project_state(REGIONS_BEFORE).apps
    number = old.get_model("calls", "HotlineNumber").objects.create(
        e164="+18005550178", name="Line", how_heard="banknotes"
    )
    calls = old.get_model("calls", "Call").objects
    for sid, region in [("CA-js", "Jiangsu"), ("CA-hk", "Hong Kong"), ("CA-us", "NY")]:
        calls.create(
            provider_sid=sid,
            hotline_number=number,
            region=region,
            caller_key="k" * 64,
            case_code=sid,
        )
    day = datetime.date(2026, 11, 24)
    entries, salts = [], []
    declarations = old.get_model("declarations", "Declaration").objects
    for index, region in enumerate(["Beijing", "北京", FINDING]):
        salt = bytes([index]) * 10
        declarations.create(
            subject="self",
            party=True,
            declared_on=day,
            region=region,
            channel="hotline",
            receipt_salt=salt,
            log_index=index,
        )
        # The entry as version 1 wrote it, free text and all.
        entries.append(
            canonical_json(
                {
                    "v": 1,
                    "kind": "declaration",
                    "date": day.isoformat(),
                    "organizations": ["party"],
                    "region": region,
                    "channel": "hotline",
                    "commitment": commitment(salt, ""),
                }
            )
        )
        salts.append(salt)
    rollups = old.get_model("declarations", "Rollup").objects
    monthly = old.get_model("declarations", "MonthlyRollup").objects
    for region, count in [("Beijing", 2), ("北京", 1), (FINDING, 1), ("", 3)]:
        rollups.create(day=day, organization="party", region=region, channel="hotline", count=count)
        monthly.create(
            month=day.replace(day=1), organization="party", region=region, channel="hotline",
            count=count,
        )  # fmt: skip
    old.get_model("declarations", "DailyTotal").objects.create(day=day, people=3, party=3)
    log_append(entries=entries)
    log_checkpoint_sign()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert dict(Call.objects.values_list("provider_sid", "region")) == {
        "CA-js": "CN-JS",
        "CA-hk": "HK",
        "CA-us": "",  # a state, not on the list
    }
    assert list(Declaration.objects.order_by("log_index").values_list("region", flat=True)) == [
        "CN-BJ",
        "CN-BJ",
        "",
    ]
    assert counts_by_region(since=day, until=day, organization="party") == {"": 4, "CN-BJ": 3}
    assert counts_by_region(since=day.replace(day=1), until=day.replace(day=30),
                            organization="party") == {"": 4, "CN-BJ": 3}  # fmt: skip
    for model in (Declaration, Rollup, MonthlyRollup, Call):
        assert not model.objects.filter(region__contains="139").exists()
    assert public_totals().total == 3
    # The log is as it was: each receipt still confirms its entry, and the log verifies.
    for index, salt in enumerate(salts):
        code = "-".join(textwrap.wrap(base64.b32encode(salt).decode(), 4))
        assert receipt_confirm(index=index, code=code, alias="") is not None
    call_command("verify_log")
