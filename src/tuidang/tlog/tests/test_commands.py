"""Commands are typed hyphenated (`tuidang verify-log`) and live in modules of importable
names (verify_log.py): the `tuidang` entry point maps one to the other."""

import sys

import pytest

from tuidang import manage


def tuidang(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["tuidang", *args])
    with pytest.raises(SystemExit) as exited:
        manage.main()
    return int(exited.value.code or 0)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("verify-log", "Check the transparency log"),
        ("log-key", "Print the verifier key"),
        ("import-declarations", "Import declarations from CSV"),
        ("export-declarations", "Export declarations"),
    ],
)
def test_a_hyphenated_command_runs_its_module(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], typed: str, says: str
) -> None:
    assert tuidang(monkeypatch, typed, "--help") == 0
    out = capsys.readouterr().out
    assert says in out
    assert f"tuidang {typed}" in out  # the usage line says it as it was typed


def test_help_knows_a_hyphenated_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["tuidang", "help", "verify-log"])
    manage.main()
    out = capsys.readouterr().out
    assert "Check the transparency log" in out and "tuidang verify-log" in out


def test_the_underscored_name_works_too_and_a_wrong_one_is_unknown(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert tuidang(monkeypatch, "verify_log", "--help") == 0
    assert "Check the transparency log" in capsys.readouterr().out
    assert tuidang(monkeypatch, "verify-logs") == 1
    assert "Unknown command: 'verify-logs'" in capsys.readouterr().err


def test_command_name() -> None:
    assert manage.command_name("verify-log") == "verify_log"
    assert manage.command_name("migrate") == "migrate"
    assert manage.command_name("no-such-command") == "no-such-command"
