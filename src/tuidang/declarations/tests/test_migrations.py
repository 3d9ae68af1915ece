"""``channel`` on numbers and calls, and ``source`` on declarations, became ``how_heard``:
an installation that migrates from before the rename keeps its rows, their values, and
the indexes and constraints of the tables renamed in."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tuidang.calls.models import Call, HotlineNumber, HowHeard
from tuidang.declarations.models import Declaration, DeclarationChannel

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
