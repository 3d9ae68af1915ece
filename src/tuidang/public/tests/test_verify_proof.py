"""Anyone uploads a proof file on /verify and learns what it proves, with no request to
the log: the entry, the checkpoint's size, the witnesses who cosigned it; or why not."""

from collections.abc import Iterator

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings

from tuidang.testing.witnesses import serving
from tuidang.tlog.cosignature import Cosigner
from tuidang.tlog.services import log_append, log_checkpoint_sign, signer
from tuidang.tlog.witnessing import cosignatures_gather
from tuidang.witness.services import Witness

pytestmark = pytest.mark.django_db(transaction=True)

W1 = Cosigner("witness.example/w1", bytes(range(32, 64)))
W2 = Cosigner("witness.example/w2", bytes(range(64, 96)))


@pytest.fixture
def urls(settings: Settings) -> Iterator[tuple[str, str]]:
    """Two witnesses of this log, configured, quorum 2 of 2."""
    trusted = {signer().verifier.name: signer().verifier}
    with serving(Witness(W1, trusted)) as url1, serving(Witness(W2, trusted)) as url2:
        settings.TLOG_WITNESSES = f"{W1.key} {url1};{W2.key} {url2}"
        yield url1, url2


def logged(count: int = 5) -> None:
    log_append(entries=[b"entry %d\n" % i for i in range(count)])
    log_checkpoint_sign()


def upload(client: Client, content: bytes, name: str = "proof-3.txt") -> tuple[int, str]:
    page = client.post("/verify/proof", {"bundle": SimpleUploadedFile(name, content)})
    return page.status_code, page.text


def test_a_cosigned_proof_says_what_it_proves(urls: tuple[str, str]) -> None:
    logged()
    cosignatures_gather()
    bundle = Client().get("/log/proof/3").content
    status, page = upload(Client(), bundle)
    assert status == 200
    assert 'data-testid="proof-verified"' in page
    assert "entry 3 is in the log's checkpoint of 5 entries" in page
    assert f"cosigned by 2 witnesses: {W1.name}, {W2.name}" in page
    assert "entry 3\n" in page


def test_a_proof_with_a_byte_changed_says_why_it_fails(urls: tuple[str, str]) -> None:
    logged()
    cosignatures_gather()
    raw = bytearray(Client().get("/log/proof/3").content)
    raw[raw.index(b"entry ") + 8] ^= 0x01  # in the entry's base64
    status, page = upload(Client(), bytes(raw))
    assert status == 200
    assert 'data-testid="proof-failed"' in page
    assert "does NOT verify" in page
    assert 'data-testid="proof-verified"' not in page


def test_a_proof_not_cosigned_by_the_quorum_is_not_called_witnessed(settings: Settings) -> None:
    logged()  # signed while no witness was configured
    settings.TLOG_WITNESSES = f"{W1.key} http://127.0.0.1:9;{W2.key} http://127.0.0.1:9"
    status, page = upload(Client(), Client().get("/log/proof/3").content)
    assert status == 200
    assert 'data-testid="proof-not-witnessed"' in page
    assert "only 0 of its witnesses cosigned" in page
    assert "2 are needed" in page


def test_a_file_that_is_not_a_proof_is_refused_plainly() -> None:
    for content in (b"", b"\xff\xfe not text", b"hello\n"):
        status, page = upload(Client(), content)
        assert status in (200, 400)
        assert 'data-testid="proof-verified"' not in page
    status, page = upload(Client(), b"\xff\xfe not text")
    assert (status, "not text" in page) == (400, True)
    status, page = upload(Client(), b"hello\n")
    assert (status, "does NOT verify" in page) == (200, True)


def test_a_file_too_large_is_refused_before_it_is_read() -> None:
    status, page = upload(Client(), b"x" * 100_000)
    assert status == 413
    assert "too large to be a proof" in page


def test_an_upload_needs_the_pages_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    status, _page = upload(client, b"hello\n")
    assert status == 403
    form = client.get("/verify").text
    assert 'action="/verify/proof"' in form
    assert 'enctype="multipart/form-data"' in form
    token = client.cookies["csrftoken"].value
    page = client.post(
        "/verify/proof",
        {"bundle": SimpleUploadedFile("p.txt", b"hello\n"), "csrfmiddlewaretoken": token},
    )
    assert page.status_code == 200


def test_the_page_speaks_chinese() -> None:
    page = Client(headers={"accept-language": "zh-hans"}).get("/verify").text
    assert "检查证明文件" in page
