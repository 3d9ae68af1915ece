"""Bulk import and export: idempotent, every bad row reported with its line, nothing half-done."""

import json

import pytest
from django.core.management import CommandError, call_command

from tuidang.declarations.models import Declaration
from tuidang.declarations.selectors import public_totals
from tuidang.tlog.models import LogEntry
from tuidang.tlog.services import log_checkpoint_sign

CSV = """key,date,organizations,region,channel,relationship,alias,consent
fax-2019-001,2019-03-02,party;youth_league,Jilin,fax,,Zhang,true
fax-2019-002,2019-03-02,young_pioneers,Jilin,fax,child,,false
web-2020-117,2020-07-01,party,,web,,Li,
"""


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text(CSV)
    return path


@pytest.mark.django_db
def test_an_import_stores_logs_and_counts_every_row_once(csv_file, capsys):
    call_command("import-declarations", str(csv_file))
    assert "Imported 3 declarations; 0 were already there." in capsys.readouterr().out
    assert Declaration.objects.count() == LogEntry.objects.count() == 3
    assert public_totals().total == 3
    family = Declaration.objects.get(import_key="fax-2019-002")
    assert (family.subject, family.relationship, family.young_pioneers) == ("family", "child", True)
    assert Declaration.objects.get(import_key="fax-2019-001").alias == "Zhang"
    call_command("import-declarations", str(csv_file))
    assert "Imported 0 declarations; 3 were already there." in capsys.readouterr().out
    assert LogEntry.objects.count() == 3
    log_checkpoint_sign()
    call_command("verify-log")


@pytest.mark.django_db
def test_bad_rows_are_all_reported_with_their_lines_and_nothing_is_imported(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text(
        CSV
        + "bad-date,2019-13-40,party,,fax,,,\n"
        + "bad-org,2019-01-01,party;politburo,,fax,,,\n"
        + "fax-2019-001,2019-01-01,party,,fax,,,\n"
    )
    with pytest.raises(CommandError, match="3 bad rows; nothing was imported"):
        call_command("import-declarations", str(path))
    err = capsys.readouterr().err
    assert "line 5: date must be YYYY-MM-DD" in err
    assert "line 6: organizations must be some of" in err
    assert "line 7: the key 'fax-2019-001' appears twice" in err
    assert not Declaration.objects.exists() and not LogEntry.objects.exists()


@pytest.mark.django_db
def test_json_lines_import_and_the_export_holds_no_alias(tmp_path, capsys):
    path = tmp_path / "history.jsonl"
    path.write_text(
        json.dumps({"key": "e-1", "date": "2021-05-05", "organizations": ["party"],
                    "channel": "email", "alias": "Secret Name"}) + "\n"
        + "not json\n"
    )  # fmt: skip
    with pytest.raises(CommandError, match="1 bad rows"):
        call_command("import-declarations", str(path))
    assert "line 2: not JSON" in capsys.readouterr().err
    path.write_text(path.read_text().splitlines()[0] + "\n")
    call_command("import-declarations", str(path))
    capsys.readouterr()
    call_command("export-declarations", format="jsonl")
    exported = capsys.readouterr().out
    record = json.loads(exported.splitlines()[0])
    assert record["key"] == "e-1" and record["organizations"] == "party"
    assert "Secret Name" not in exported


@pytest.mark.django_db
def test_a_file_that_cannot_be_read_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import-declarations", str(tmp_path / "missing.csv"))
