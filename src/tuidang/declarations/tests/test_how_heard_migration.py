"""People by how they heard of the number: an installation that migrates counts the
declarations it had already published, as the publications since count them."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tuidang.declarations.selectors import people_by_how_heard

BEFORE = [("declarations", "0013_online_declarations_and_statements")]
AFTER = [("declarations", "0014_how_heard_total")]


@pytest.mark.django_db(transaction=True)
def test_migrating_counts_the_published_people_by_how_they_heard() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Declaration = old.get_model("declarations", "Declaration")
    Revocation = old.get_model("declarations", "Revocation")

    def declared(index: int | None, how_heard: str) -> object:
        return Declaration.objects.create(
            subject="self",
            party=True,
            declared_on=datetime.date(2026, 11, 24),
            how_heard=how_heard,
            channel="hotline",
            log_index=index,
        )

    declared(0, "banknotes")
    declared(1, "banknotes")
    declared(2, "flyers")
    revoked = declared(3, "flyers")
    Revocation.objects.create(declaration=revoked, reason="withdrawn", log_index=5)
    pending = declared(4, "radio")
    Revocation.objects.create(declaration=pending, reason="withdrawn")  # not yet published
    declared(None, "website")  # recorded, not yet published

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    assert people_by_how_heard() == {"banknotes": 2, "flyers": 1, "radio": 1}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # as the other tests expect it
