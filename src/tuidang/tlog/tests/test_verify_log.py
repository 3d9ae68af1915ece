"""`tuidang verify-log`, against this database and over HTTP, as an outsider would run it."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from pytest_django.live_server_helper import LiveServer

from tuidang.calls.models import Call
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.tlog.models import LogEntry
from tuidang.tlog.services import log_checkpoint_sign
from tuidang.volunteers.models import Volunteer


def renounce(client: Client, call: Call, count: int, alias: str = "Wang Ming") -> None:
    client.post(
        f"/desk/calls/{call.pk}/declarations",
        {
            "caller-renounces": "on",
            "caller-alias": alias,
            "caller-organizations": ["party"],
            "family-TOTAL_FORMS": str(count - 1),
            "family-INITIAL_FORMS": "0",
            **{
                key: value
                for i in range(count - 1)
                for key, value in {
                    f"family-{i}-relationship": "parent",
                    f"family-{i}-alias": f"Old {alias} {i}",
                    f"family-{i}-organizations": ["youth_league"],
                    f"family-{i}-asked_for_it": "on",
                }.items()
            },
        },
    )


@pytest.fixture
def declared(
    client: Client, network: PhoneNetwork, numbers: HotlineNumbers, mei: Volunteer
) -> Call:
    from tuidang.testing.personas import PASSWORD

    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    renounce(client, call, 3)
    publish()
    return call


pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


def test_the_log_verifies_and_the_state_file_remembers_it(
    declared: Call, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "seen.json"
    call_command("verify_log", state=state)
    out = capsys.readouterr().out
    assert "all 3 entries hash to the signed root" in out
    assert "the public total, 3, is what the log counts" in out
    assert "The log verifies at size 3." in out
    call_command("verify_log", state=state)
    assert "extends the checkpoint seen before (size 3)" in capsys.readouterr().out


def test_an_altered_entry_is_found(declared: Call) -> None:
    # Batches are shuffled: whichever entry names the Youth League is changed.
    entry = next(e for e in LogEntry.objects.all() if b"youth_league" in bytes(e.data))
    LogEntry.objects.filter(index=entry.index).update(
        data=bytes(entry.data).replace(b"youth_league", b"party")
    )
    with pytest.raises(CommandError, match="do not hash to the checkpoint"):
        call_command("verify_log")


def test_a_rewritten_history_is_found_with_the_state_file(declared: Call, tmp_path: Path) -> None:
    state = tmp_path / "seen.json"
    state.write_text('{"size": 2, "root": "' + "A" * 43 + '="}')
    with pytest.raises(CommandError, match="not an extension"):
        call_command("verify_log", state=state)


def test_a_checkpoint_under_another_key_is_refused(declared: Call) -> None:
    from tuidang.tlog.note import Signer

    other = Signer("tuidang-hotline.example/log", bytes(32)).verifier
    with pytest.raises(CommandError, match="no signature"):
        call_command("verify_log", key=str(other))


def test_the_log_verifies_over_http(
    declared: Call, live_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("verify_log", url=live_server.url)
    assert "The log verifies at size 3." in capsys.readouterr().out


def test_log_key_prints_the_verifier_key(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("log_key")
    key = capsys.readouterr().out.strip()
    assert key.startswith("tuidang-hotline.example/log+")


def test_the_log_checks_the_total_it_is_given(declared: Call) -> None:
    from tuidang.tlog.verify import BadKey, VerificationError, log_verify

    report = log_verify(url=None, key=None, state=None, local_total=lambda: 3)
    assert report.checkpoint.size == 3
    with pytest.raises(VerificationError, match="the public total is 4, the log counts 3"):
        log_verify(url=None, key=None, state=None, local_total=lambda: 4)
    with pytest.raises(BadKey):
        log_verify(url=None, key="not a key", state=None, local_total=lambda: 3)


def test_a_batch_published_between_the_checkpoint_and_the_total_is_no_disagreement(
    declared: Call, client: Client
) -> None:
    """On a live hotline a batch may land after the checkpoint was read and before the
    total: the check is made again against the new checkpoint, not failed."""
    from tuidang.tlog.verify import log_verify

    totals = iter([5, 5, 5])

    def total_after_a_batch_lands() -> int:
        if LogEntry.objects.count() == 3:
            renounce(client, declared, 2, alias="Li Hua")
            publish()
        return next(totals)

    report = log_verify(url=None, key=None, state=None, local_total=total_after_a_batch_lands)
    assert report.checkpoint.size == 5


def test_an_entry_is_proven_once_a_checkpoint_holds_it(declared: Call) -> None:
    from tuidang.tlog.inclusion import entry_signed
    from tuidang.tlog.services import log_append

    signed = entry_signed(2)
    assert signed is not None and signed.checkpoint.size == 3
    signed.prove()
    assert entry_signed(3) is None  # no such entry yet
    log_append(entries=[b'{"kind":"other"}'])
    log_checkpoint_sign()
    later = entry_signed(3)
    assert later is not None and later.data == b'{"kind":"other"}'
    later.prove()
