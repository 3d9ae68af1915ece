"""DataKey moved from lib to vault, PeriodicJob from lib to jobs: an installation that
migrates from before the move keeps its keys (and with them everything sealed) and its
schedule."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tuidang.jobs.models import PeriodicJob
from tuidang.vault import keys
from tuidang.vault.models import DataKey

BEFORE = [("vault", None), ("jobs", None), ("lib", "0001_initial")]


@pytest.mark.django_db(transaction=True)
def test_migrating_from_before_the_move_keeps_the_data_keys_and_the_schedule() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(("lib", "0001_initial")).apps
    kek = keys.configured_kek()
    old.get_model("lib", "DataKey").objects.create(
        version=7, wrapped=keys.wrap(b"k" * 32, version=7, kek=kek), kek_id=keys.kek_id(kek)
    )
    old.get_model("lib", "PeriodicJob").objects.create(name="retention", last_result="kept")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    [key] = DataKey.objects.all()
    assert key.version == 7
    assert keys.unwrap(bytes(key.wrapped), version=7, kek=kek) == b"k" * 32
    assert PeriodicJob.objects.get(name="retention").last_result == "kept"
    executor.loader.build_graph()  # what is applied now
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
