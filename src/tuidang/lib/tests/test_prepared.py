"""What lib/prepared.py stores and reads is what the ORM would have stored and read."""

from typing import Any, cast

import pytest
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models.signals import post_save, pre_save
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tuidang.calls.models import Call, HotlineNumber, Offer, Voicemail
from tuidang.lib.prepared import (
    Prepared,
    PreparedCount,
    Slot,
    insert,
    update,
    update_query,
    update_while,
)
from tuidang.testing.personas import HotlineNumbers, make_volunteer


def _call(number: HotlineNumber, sid: str, code: str) -> Call:
    return Call(
        provider_sid=sid,
        hotline_number=number,
        how_heard=number.how_heard,
        caller_key="k" * 64,
        region="Jiangsu",
        last_digits="78",
        case_code=code,
        started_at=timezone.now(),
        screening_score=1.5,
        challenge_digit="4",
        first_call=True,
    )


def _stored(pk: int) -> dict[str, object]:
    row = model_to_dict(Call.objects.get(pk=pk))
    del row["id"], row["provider_sid"], row["case_code"]
    return row


def test_the_row_is_the_one_the_orm_stores(numbers: HotlineNumbers) -> None:
    number = numbers["banknotes"]
    ours = insert(_call(number, "CA1", "100000001"))
    theirs = _call(number, "CA2", "100000002")
    theirs.started_at = ours.started_at
    theirs.save()
    assert ours.pk is not None and ours.pk != theirs.pk
    assert not ours._state.adding
    assert _stored(ours.pk) == _stored(theirs.pk)
    assert Call.objects.get(pk=ours.pk).first_call is True


def test_a_duplicate_is_refused_and_the_transaction_goes_on(
    numbers: HotlineNumbers,
) -> None:
    number = numbers["banknotes"]
    insert(_call(number, "CA1", "100000001"))
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic():
            insert(_call(number, "CA1", "100000002"))
        insert(_call(number, "CA3", "100000003"))
    assert sorted(Call.objects.values_list("provider_sid", flat=True)) == ["CA1", "CA3"]


def test_receivers_hear_what_save_sends_them_and_the_row_is_one_insert(
    numbers: HotlineNumbers, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db.models.sql.compiler import SQLInsertCompiler

    compiled: list[str] = []
    orm_as_sql = SQLInsertCompiler.as_sql

    def as_sql(self: SQLInsertCompiler) -> Any:
        assert self.query.model is not None
        compiled.append(self.query.model._meta.label)
        return orm_as_sql(self)

    monkeypatch.setattr(SQLInsertCompiler, "as_sql", as_sql)
    heard: list[tuple[str, str, dict[str, Any]]] = []

    def receiver(signal: str) -> Any:
        def record(sender: type[Call], instance: Call, **kwargs: Any) -> None:
            kwargs.pop("signal")
            heard.append((signal, instance.provider_sid, kwargs))

        return record

    before, after = receiver("pre"), receiver("post")
    pre_save.connect(before, sender=Call)
    post_save.connect(after, sender=Call)
    try:
        with CaptureQueriesContext(connection) as queries:
            ours = insert(_call(numbers["banknotes"], "CA9", "100000009"))
        _call(numbers["banknotes"], "CA8", "100000008").save()
    finally:
        pre_save.disconnect(before, sender=Call)
        post_save.disconnect(after, sender=Call)
    ours_heard, theirs_heard = heard[:2], heard[2:]
    assert [(signal, sid) for signal, sid, _kwargs in ours_heard] == [
        ("pre", "CA9"),
        ("post", "CA9"),
    ]
    assert [kwargs for _s, _sid, kwargs in ours_heard] == [
        kwargs for _s, _sid, kwargs in theirs_heard
    ]
    assert ours_heard[1][2]["created"] is True
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["INSERT"]
    assert compiled == ["calls.Call"]  # the ORM's save() compiles; insert() did not
    assert Call.objects.get(pk=ours.pk).provider_sid == "CA9"


@pytest.mark.django_db(databases=["default", "phone_network"])
def test_a_database_that_cannot_return_the_key_gets_the_orms_insert(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # SQLite before 3.35 has no RETURNING. The simulated network's database is SQLite
    # in every run, so this holds whichever database the suite runs on.
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from tuidang.telephony.simulator.models import SimCall

    network = connections["phone_network"]
    monkeypatch.setattr(network.features, "can_return_columns_from_insert", False)
    with CaptureQueriesContext(network) as queries:
        call = insert(
            SimCall(sid="CA7", direction="inbound", status="ringing", url="http://x/"),
            using="phone_network",
        )
    assert call.pk is not None
    assert SimCall.objects.using("phone_network").get(pk=call.pk).sid == "CA7"
    assert queries.captured_queries
    assert not any("RETURNING" in query["sql"] for query in queries.captured_queries)


# --- Queries compiled once ------------------------------------------------------------


def _sid_slot() -> Slot:
    return Slot("sid", cast(models.Field[Any, Any], Call._meta.get_field("provider_sid")))


def test_a_prepared_query_gives_the_instances_the_orm_gives(numbers: HotlineNumbers) -> None:
    stored = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    insert(_call(numbers["banknotes"], "CA2", "100000002"))
    query = Prepared(lambda: Call.objects.filter(provider_sid=_sid_slot()).order_by("pk")[:1])
    for sid in ("CA1", "CA2", "CA1"):  # compiled once, run with each value
        ours = query.first(sid=sid)
        theirs = Call.objects.filter(provider_sid=sid).first()
        assert ours is not None and theirs is not None
        assert model_to_dict(ours) == model_to_dict(theirs)
        assert not ours._state.adding and ours._state.db == "default"
    found = query.first(sid="CA1")
    assert found is not None and found.started_at == Call.objects.get(pk=stored.pk).started_at
    assert query.first(sid="CA404") is None


def test_a_prepared_query_sends_the_orms_statement(numbers: HotlineNumbers) -> None:
    insert(_call(numbers["banknotes"], "CA1", "100000001"))
    query = Prepared(lambda: Call.objects.filter(provider_sid=_sid_slot()).order_by("pk")[:1])
    query.first(sid="CA1")
    with CaptureQueriesContext(connection) as ours:
        query.first(sid="CA1")
    with CaptureQueriesContext(connection) as theirs:
        Call.objects.filter(provider_sid="CA1").first()
    # The same statement; only the value is compared within parentheses.
    assert (
        ours.captured_queries[0]["sql"].replace("('CA1')", "'CA1'")
        == (theirs.captured_queries[0]["sql"])
    )


def test_values_come_back_converted_and_updates_count_their_rows(
    numbers: HotlineNumbers,
) -> None:
    call = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    heard = timezone.now()
    update: Prepared[Call] = Prepared(
        lambda: update_query(
            Call.objects.filter(provider_sid=_sid_slot()),
            heard_at=Slot("at", cast(models.Field[Any, Any], Call._meta.get_field("heard_at"))),
        )
    )
    assert update.update(sid="CA1", at=heard) == 1
    assert update.update(sid="CA404", at=heard) == 0
    values = Prepared(
        lambda: Call.objects.filter(provider_sid=_sid_slot()).values_list("heard_at", "first_call")
    )
    assert values.rows(sid="CA1") == [(heard, True)]
    assert Call.objects.get(pk=call.pk).heard_at == heard


def test_a_prepared_count_is_the_orms_and_is_not_counted_as_run_when_built(
    numbers: HotlineNumbers,
) -> None:
    insert(_call(numbers["banknotes"], "CA1", "100000001"))
    count = PreparedCount(lambda: Call.objects.filter(provider_sid=_sid_slot()).count())
    exists = PreparedCount(lambda: Call.objects.filter(provider_sid=_sid_slot()).exists())
    with CaptureQueriesContext(connection) as queries:
        assert count.row(sid="CA1") == (1,)
        assert count.row(sid="CA404") == (0,)
        assert exists.row(sid="CA1") is not None
        assert exists.row(sid="CA404") is None
    assert len(queries.captured_queries) == 4
    with transaction.atomic():
        assert count.row(sid="CA1") == (1,)
    assert not transaction.get_connection().needs_rollback


def test_a_count_built_under_a_wrapper_shows_it_only_the_statements_that_run(
    numbers: HotlineNumbers,
) -> None:
    """Building a count captures a statement that never runs: a wrapper that records
    statements (the query-plan test's) sees only the run, with its values."""
    insert(_call(numbers["banknotes"], "CA1", "0000001"))
    count = PreparedCount(lambda: Call.objects.filter(provider_sid=_sid_slot()).count())
    seen: list[tuple[str, ...]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(tuple(params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert count.row(sid="CA1") == (1,)
    assert seen == [("CA1",)]


def test_a_prepared_query_reads_the_related_model_it_selects(numbers: HotlineNumbers) -> None:
    volunteer = make_volunteer("mei", ["cmn"])
    call = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    offer = Offer.objects.create(call=call, volunteer=volunteer)
    token = Slot("token", cast(models.Field[Any, Any], Offer._meta.get_field("token")))
    query = Prepared(lambda: Offer.objects.filter(token=token).select_related("volunteer"))
    ours = query.first(token=offer.token)
    theirs = Offer.objects.select_related("volunteer").get(token=offer.token)
    assert ours is not None
    assert model_to_dict(ours) == model_to_dict(theirs)
    with CaptureQueriesContext(connection) as queries:
        assert model_to_dict(ours.volunteer) == model_to_dict(theirs.volunteer)
    assert not queries.captured_queries  # read with the offer


def test_a_column_left_to_its_database_default_is_inserted_by_the_orm(
    numbers: HotlineNumbers,
) -> None:
    call = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    # callback_leg_sid has a db_default, which only the ORM's INSERT can ask for.
    voicemail = insert(Voicemail(call=call, recording_sid="RE1", duration_seconds=3))
    assert Voicemail.objects.get(pk=voicemail.pk).callback_leg_sid == ""


# --- Updates built once -----------------------------------------------------------------


def test_an_update_stores_and_signals_what_save_with_update_fields_does(
    numbers: HotlineNumbers,
) -> None:
    ours = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    theirs = insert(_call(numbers["banknotes"], "CA2", "100000002"))
    heard: list[tuple[str, str, object]] = []

    def receiver(signal: str) -> Any:
        def record(sender: type[Call], instance: Call, **kwargs: Any) -> None:
            heard.append((signal, instance.provider_sid, kwargs["update_fields"]))
            assert kwargs.get("created", False) is False and kwargs["raw"] is False

        return record

    before, after = receiver("pre"), receiver("post")
    pre_save.connect(before, sender=Call)
    post_save.connect(after, sender=Call)
    try:
        for call in (ours, theirs):
            call.state = Call.State.QUEUED
            call.queued_at = timezone.now()
            call.language = "cmn"
        with CaptureQueriesContext(connection) as queries:
            update(ours, ["state", "queued_at", "language"])
        theirs.save(update_fields=["state", "queued_at", "language"])
    finally:
        pre_save.disconnect(before, sender=Call)
        post_save.disconnect(after, sender=Call)
    fields = frozenset({"state", "queued_at", "language"})
    assert heard == [(when, sid, fields) for sid in ("CA1", "CA2") for when in ("pre", "post")]
    assert len(queries.captured_queries) == 1
    ours_stored, theirs_stored = _stored(ours.pk), _stored(theirs.pk)
    for row in (ours_stored, theirs_stored):
        del row["started_at"], row["queued_at"]
    assert ours_stored == theirs_stored
    assert Call.objects.get(pk=ours.pk).queued_at == ours.queued_at


def test_an_update_of_a_row_gone_fails_as_save_does(numbers: HotlineNumbers) -> None:
    call = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    Call.objects.filter(pk=call.pk).delete()
    with transaction.atomic():
        with pytest.raises(DatabaseError, match="did not affect any rows"):
            update(call, ["state"])
        assert transaction.get_connection().needs_rollback
        transaction.set_rollback(False)


def test_an_update_while_the_row_holds_what_was_read_stores_it_as_update_does(
    numbers: HotlineNumbers,
) -> None:
    call = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    heard: list[object] = []

    def record(sender: type[Call], instance: Call, **kwargs: Any) -> None:
        heard.append(kwargs["update_fields"])

    call.state, call.language, call.queued_at = Call.State.QUEUED, "cmn", timezone.now()
    post_save.connect(record, sender=Call)
    try:
        with CaptureQueriesContext(connection) as queries:
            saved = update_while(
                call,
                ["state", "language", "queued_at"],
                still={"state": Call.State.IVR, "ended_at": None},
            )
    finally:
        post_save.disconnect(record, sender=Call)
    assert saved
    assert heard == [frozenset({"state", "language", "queued_at"})]
    assert len(queries.captured_queries) == 1
    stored = Call.objects.get(pk=call.pk)
    assert (stored.state, stored.language, stored.queued_at) == (
        Call.State.QUEUED,
        "cmn",
        call.queued_at,
    )


def test_an_update_while_another_writer_changed_the_row_stores_nothing(
    numbers: HotlineNumbers,
) -> None:
    call = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    read_attempts = call.menu_attempts
    # Another request ends the call between this one's read and its write.
    Call.objects.filter(pk=call.pk).update(
        state=Call.State.ABANDONED, menu_attempts=1, ended_at=timezone.now()
    )
    heard: list[object] = []

    def record(sender: type[Call], instance: Call, **kwargs: Any) -> None:
        heard.append(kwargs["update_fields"])

    call.state, call.menu_attempts = Call.State.QUEUED, read_attempts + 1
    post_save.connect(record, sender=Call)
    try:
        with transaction.atomic():
            saved = update_while(
                call,
                ["state", "menu_attempts"],
                still={"state": Call.State.IVR, "menu_attempts": read_attempts},
            )
            assert not update_while(call, ["state"], still={"ended_at": None})
            # Nothing failed: the transaction around it goes on.
            assert not transaction.get_connection().needs_rollback
    finally:
        post_save.disconnect(record, sender=Call)
    assert not saved and heard == []
    stored = Call.objects.get(pk=call.pk)
    assert (stored.state, stored.menu_attempts) == (Call.State.ABANDONED, 1)


def test_an_update_while_refuses_what_it_cannot_compare(numbers: HotlineNumbers) -> None:
    call = insert(_call(numbers["banknotes"], "CA1", "100000001"))
    with pytest.raises(TypeError):
        update_while(call, ["state"], still={})
    with pytest.raises(TypeError, match="saved by the ORM"):
        update_while(call, ["state", "not_a_field"], still={"state": Call.State.IVR})
