"""Bulk import and export: idempotent, every bad row reported with its line, nothing half-done."""

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given
from hypothesis import strategies as st

from tuidang.declarations.models import Declaration, DeclarationChannel, Organization, Rollup
from tuidang.declarations.receipts import receipt_confirm
from tuidang.declarations.selectors import public_totals
from tuidang.declarations.services import (
    canonical_json,
    declaration_entry,
    log_entry,
    receipt_code,
)
from tuidang.lib import regions
from tuidang.tlog.models import LogEntry
from tuidang.tlog.services import log_checkpoint_sign

CSV = """key,date,organizations,region,channel,relationship,alias,consent
fax-2019-001,2019-03-02,party;youth_league,Jilin,fax,,Zhang,true
fax-2019-002,2019-03-02,young_pioneers,Jilin,fax,child,,false
web-2020-117,2020-07-01,party,,web,,Li,
"""


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "history.csv"
    path.write_text(CSV)
    return path


@pytest.mark.django_db
def test_an_import_stores_logs_and_counts_every_row_once(
    csv_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("import_declarations", str(csv_file))
    assert "Imported 3 declarations; 0 were already there." in capsys.readouterr().out
    assert Declaration.objects.count() == LogEntry.objects.count() == 3
    assert public_totals().total == 3
    family = Declaration.objects.get(import_key="fax-2019-002")
    assert (family.subject, family.relationship, family.young_pioneers) == ("family", "child", True)
    assert Declaration.objects.get(import_key="fax-2019-001").alias == "Zhang"
    call_command("import_declarations", str(csv_file))
    assert "Imported 0 declarations; 3 were already there." in capsys.readouterr().out
    assert LogEntry.objects.count() == 3
    log_checkpoint_sign()
    call_command("verify_log")


@pytest.mark.django_db
def test_an_import_that_stops_half_way_says_how_to_go_on(
    csv_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from tuidang.declarations.imports import ImportFailed

    command = importlib.import_module(
        "tuidang.declarations.management.commands.import_declarations"
    )

    def stops(*args: Any, **kwargs: Any) -> NoReturn:
        raise ImportFailed("OperationalError: disk I/O error")

    monkeypatch.setattr(command, "import_declarations", stops)
    with pytest.raises(CommandError, match=r"disk I/O error.*running the same command again"):
        call_command("import_declarations", str(csv_file))


@pytest.mark.django_db
def test_bad_rows_are_all_reported_with_their_lines_and_nothing_is_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        CSV
        + "bad-date,2019-13-40,party,,fax,,,\n"
        + "bad-org,2019-01-01,party;politburo,,fax,,,\n"
        + "fax-2019-001,2019-01-01,party,,fax,,,\n"
    )
    with pytest.raises(CommandError, match="3 bad rows; nothing was imported"):
        call_command("import_declarations", str(path))
    err = capsys.readouterr().err
    assert "line 5: date must be YYYY-MM-DD" in err
    assert "line 6: organizations must be some of" in err
    assert "line 7: the key 'fax-2019-001' appears twice" in err
    assert not Declaration.objects.exists() and not LogEntry.objects.exists()


@pytest.mark.django_db
def test_json_lines_import_and_the_export_holds_no_alias(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "history.jsonl"
    path.write_text(
        json.dumps({"key": "e-1", "date": "2021-05-05", "organizations": ["party"],
                    "channel": "email", "alias": "Secret Name"}) + "\n"
        + "not json\n"
    )  # fmt: skip
    with pytest.raises(CommandError, match="1 bad rows"):
        call_command("import_declarations", str(path))
    assert "line 2: not JSON" in capsys.readouterr().err
    path.write_text(path.read_text().splitlines()[0] + "\n")
    call_command("import_declarations", str(path))
    capsys.readouterr()
    call_command("export_declarations", format="jsonl")
    exported = capsys.readouterr().out
    record = json.loads(exported.splitlines()[0])
    assert record["key"] == "e-1" and record["organizations"] == "party"
    assert "Secret Name" not in exported


@pytest.mark.django_db
def test_organizations_that_are_not_names_are_bad_rows_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"key": "e-1", "date": "2021-05-05", "organizations": ["party"], "channel": "email"}
    path = tmp_path / "history.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({**good, "key": f"e-{number}", "organizations": organizations})
            for number, organizations in enumerate(
                [["party"], [1], [["party"]], [{"party": True}], [None, "party"]], start=1
            )
        )
        + "\n"
    )
    with pytest.raises(CommandError, match="4 bad rows; nothing was imported"):
        call_command("import_declarations", str(path))
    err = capsys.readouterr().err
    for line in (2, 3, 4, 5):
        assert f"line {line}: organizations must be some of" in err
    assert not Declaration.objects.exists() and not LogEntry.objects.exists()


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "history.csv"
    path.write_bytes(CSV.replace("Zhang", "Zh\u00e4ng").encode("latin-1"))
    with pytest.raises(CommandError, match=r"is not UTF-8 text.*Nothing was imported"):
        call_command("import_declarations", str(path))
    assert not Declaration.objects.exists() and not LogEntry.objects.exists()


@pytest.mark.django_db
def test_a_file_that_cannot_be_read_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_declarations", str(tmp_path / "missing.csv"))


@pytest.mark.django_db
def test_imported_rows_are_what_the_log_and_rollups_say(csv_file: Path) -> None:
    call_command("import_declarations", str(csv_file))
    log_checkpoint_sign()
    entries = {entry.index: bytes(entry.data) for entry in LogEntry.objects.all()}
    assert Declaration.objects.filter(log_index__isnull=True).count() == 0
    for declaration in Declaration.objects.all():
        # The entry written in bulk is the one the model itself would write.
        assert entries[declaration.log_index or 0] == log_entry(declaration)
        # Time-ordered ids, so a big import appends to the end of their index.
        assert declaration.public_id.version == 7
    zhang = Declaration.objects.get(import_key="fax-2019-001")
    index, code = zhang.log_index, receipt_code(zhang)
    assert index is not None
    assert receipt_confirm(index=index, code=code, alias="Zhang") is not None
    assert receipt_confirm(index=index, code=code, alias="Li") is None
    cells = {
        (str(r.day), r.organization, r.region, r.channel): r.count for r in Rollup.objects.all()
    }
    assert cells == {
        # The file names the province; the registry keeps its code.
        ("2019-03-02", "party", "CN-JL", "fax"): 1,
        ("2019-03-02", "youth_league", "CN-JL", "fax"): 1,
        ("2019-03-02", "young_pioneers", "CN-JL", "fax"): 1,
        ("2020-07-01", "party", "", "web"): 1,
    }


def test_the_handwritten_entry_is_the_canonical_json() -> None:
    @given(
        region=st.sampled_from(sorted(regions.CODES | {regions.UNKNOWN})),
        channel=st.sampled_from(DeclarationChannel.values),
        organizations=st.sets(st.sampled_from(Organization.values), min_size=1).map(
            lambda chosen: [org for org in Organization.values if org in chosen]
        ),
        day=st.dates(),
        commitment=st.binary(min_size=32, max_size=32).map(
            lambda digest: base64.b64encode(digest).decode()
        ),
    )
    def same(
        region: str, channel: str, organizations: list[str], day: date, commitment: str
    ) -> None:
        fields: dict[str, Any] = {
            "declared_on": day.isoformat(),
            "organizations": tuple(organizations),
            "region": region,
            "channel": channel,
            "commitment": commitment,
        }
        assert declaration_entry(**fields) == canonical_json(
            {
                "v": 2,
                "kind": "declaration",
                "date": fields["declared_on"],
                "organizations": organizations,
                "region": region,
                "channel": channel,
                "commitment": commitment,
            }
        )

    same()


def test_rows_are_read_by_the_files_extension_unless_told(tmp_path: Path) -> None:
    from tuidang.declarations.imports import ImportRejected, Unreadable, rows_read

    keys = ["fax-2019-001", "fax-2019-002", "web-2020-117"]
    path = tmp_path / "history.csv"
    path.write_text(CSV)
    assert [row.key for row in rows_read(path)] == keys
    renamed = path.rename(tmp_path / "history.txt")
    with pytest.raises(ImportRejected):  # read as JSON lines
        rows_read(renamed)
    assert [row.key for row in rows_read(renamed, "csv")] == keys
    with pytest.raises(Unreadable, match="cannot read"):
        rows_read(tmp_path / "missing.csv")
