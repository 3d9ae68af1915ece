"""The transparency log is public and never rewritten: the bytes of its entries, key names
and values, are pinned here. Renaming a field in the database must not change them."""

import datetime
import uuid

import pytest

from tuidang.declarations import services
from tuidang.declarations.models import Declaration, Revocation
from tuidang.declarations.services import declaration_entry, log_entry, revocation_entry


def _declaration() -> Declaration:
    declaration = Declaration(
        public_id=uuid.UUID("0b8f6c1e-2f4a-4c3b-9d7e-5a6b7c8d9e0f"),
        log_index=41,
        subject="family",
        relationship="parent",
        party=True,
        young_pioneers=True,
        declared_on=datetime.date(2026, 11, 24),
        region="CN-BJ",
        how_heard="banknotes",
        channel="relayed",
        receipt_salt=bytes(range(10)),
    )
    declaration.alias = "Wang Ming"
    return declaration


COMMITMENT = "daHoDonpPSlTIoGjCBtvPFD6GJIysGTDtMlG4+9D1LA="


def test_a_declaration_entry_keeps_its_bytes() -> None:
    """Version 2: the region is a code of the closed list (version 1 held free text)."""
    assert declaration_entry(
        declared_on="2026-11-24",
        organizations=("party", "youth_league"),
        region="CN-BJ",
        channel="hotline",
        commitment=COMMITMENT,
    ) == (
        b'{"channel":"hotline","commitment":"daHoDonpPSlTIoGjCBtvPFD6GJIysGTDtMlG4+9D1LA=",'
        b'"date":"2026-11-24","kind":"declaration","organizations":["party","youth_league"],'
        b'"region":"CN-BJ","v":2}'
    )


@pytest.mark.django_db
def test_a_recorded_declaration_logs_its_medium_as_channel_and_not_how_heard() -> None:
    assert log_entry(_declaration()) == (
        b'{"channel":"relayed","commitment":"daHoDonpPSlTIoGjCBtvPFD6GJIysGTDtMlG4+9D1LA=",'
        b'"date":"2026-11-24","kind":"declaration","organizations":["party","young_pioneers"],'
        b'"region":"CN-BJ","v":2}'
    )


@pytest.mark.django_db
def test_a_revocation_entry_keeps_its_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "hotline_today", lambda: datetime.date(2026, 11, 30))
    revocation = Revocation(declaration=_declaration(), reason="withdrawn")
    assert revocation_entry(revocation) == (
        b'{"date":"2026-11-30","kind":"revocation","organizations":["party","young_pioneers"],'
        b'"reason":"withdrawn","revokes":41,"v":1}'
    )
