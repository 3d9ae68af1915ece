"""The witness over HTTP on 127.0.0.1, and `tuidang witness`'s key file."""

import stat
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tuidang.testing.witnesses import ToyLog, a_witness, serving
from tuidang.tlog.cosignature import Cosignature, WitnessKey
from tuidang.tlog.note import NoteError
from tuidang.witness.keys import decode_key, load_or_create_key

pytestmark = pytest.mark.django_db(transaction=True)


def post(url: str, body: bytes) -> tuple[int, str, str]:
    request = urllib.request.Request(f"{url}/add-checkpoint", data=body, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_a_witness_cosigns_over_http_and_answers_409_with_its_size() -> None:
    log = ToyLog()
    witness = a_witness(log)
    with serving(witness) as url:
        status, _type, body = post(url, log.request(0, 7))
        assert status == 200
        assert witness.cosigner.key.verify(Cosignature.parse(body), log.checkpoint(7).body())
        assert post(url, log.request(0, 9)) == (409, "text/x.tlog.size", "7\n")
        assert post(url, log.request(7, 9))[0] == 200
        assert post(url, b"old 0\n")[0] == 400
        with urllib.request.urlopen(f"{url}/", timeout=10) as response:  # noqa: S310
            assert str(witness.cosigner.key) in response.read().decode()


def test_the_key_file_is_created_once_for_its_owner_alone(tmp_path: Path) -> None:
    path = tmp_path / "witness.key"
    created = load_or_create_key(path, "witness.example/w1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == created == decode_key(path.read_text())
    with pytest.raises(NoteError, match=r"not witness\.example/w2"):
        load_or_create_key(path, "witness.example/w2")


def test_witness_print_key_prints_a_verifier_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "w.key"
    call_command("witness", key=path, name="witness.example/w1", print_key=True)
    key = WitnessKey.parse(capsys.readouterr().out)
    assert key == load_or_create_key(path).key


def test_witness_refuses_a_bad_log_key_clearly(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="verifier key"):
        call_command("witness", key=tmp_path / "w.key", name="w.example/w", log=["nonsense"])
