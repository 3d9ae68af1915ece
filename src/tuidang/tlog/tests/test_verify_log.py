"""`tuidang verify-log`, against this database and over HTTP, as an outsider would run it."""

import pytest
from django.core.management import CommandError, call_command

from tuidang.desk.tests.test_call_record import connect
from tuidang.tlog.models import LogEntry
from tuidang.tlog.services import log_checkpoint_sign


def renounce(client, call, count: int) -> None:
    client.post(
        f"/desk/calls/{call.pk}/declarations",
        {
            "caller-renounces": "on",
            "caller-organizations": ["party"],
            "family-TOTAL_FORMS": str(count - 1),
            "family-INITIAL_FORMS": "0",
            **{
                key: value
                for i in range(count - 1)
                for key, value in {
                    f"family-{i}-relationship": "parent",
                    f"family-{i}-organizations": ["youth_league"],
                    f"family-{i}-asked_for_it": "on",
                }.items()
            },
        },
    )


@pytest.fixture
def declared(client, network, numbers, mei):
    from tuidang.testing.personas import PASSWORD

    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    renounce(client, call, 3)
    log_checkpoint_sign()
    return call


pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_the_log_verifies_and_the_state_file_remembers_it(declared, tmp_path, capsys):
    state = tmp_path / "seen.json"
    call_command("verify-log", state=state)
    out = capsys.readouterr().out
    assert "all 3 entries hash to the signed root" in out
    assert "the public total, 3, is what the log counts" in out
    assert "The log verifies at size 3." in out
    call_command("verify-log", state=state)
    assert "extends the checkpoint seen before (size 3)" in capsys.readouterr().out


def test_an_altered_entry_is_found(declared):
    entry = LogEntry.objects.get(index=1)
    LogEntry.objects.filter(index=1).update(
        data=bytes(entry.data).replace(b"youth_league", b"party")
    )
    with pytest.raises(CommandError, match="do not hash to the checkpoint"):
        call_command("verify-log")


def test_a_rewritten_history_is_found_with_the_state_file(declared, tmp_path):
    state = tmp_path / "seen.json"
    state.write_text('{"size": 2, "root": "' + "A" * 43 + '="}')
    with pytest.raises(CommandError, match="not an extension"):
        call_command("verify-log", state=state)


def test_a_checkpoint_under_another_key_is_refused(declared):
    from tuidang.tlog.note import Signer

    other = Signer("tuidang-hotline.example/log", bytes(32)).verifier
    with pytest.raises(CommandError, match="no signature"):
        call_command("verify-log", key=str(other))


def test_the_log_verifies_over_http(declared, live_server, capsys):
    call_command("verify-log", url=live_server.url)
    assert "The log verifies at size 3." in capsys.readouterr().out


def test_log_key_prints_the_verifier_key(capsys):
    call_command("log-key")
    key = capsys.readouterr().out.strip()
    assert key.startswith("tuidang-hotline.example/log+")
