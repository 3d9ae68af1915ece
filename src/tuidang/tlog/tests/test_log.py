"""The stored log: appends, checkpoints, and tiles in the C2SP tlog-tiles layout."""

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tuidang.tlog import merkle
from tuidang.tlog.models import FullTile, LogEntry, SignedCheckpoint, TreeHead
from tuidang.tlog.note import Checkpoint, open_note
from tuidang.tlog.services import (
    frontier_extend,
    frontier_root,
    log_append,
    log_checkpoint_sign,
    log_size,
    signer,
    tile_hashes,
)
from tuidang.tlog.tiles import encode_index, parse_tile_path, tile_path


def entries(count: int, start: int = 0) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(start, start + count)]


@pytest.mark.django_db
def test_appends_give_consecutive_indexes_and_the_rfc_root() -> None:
    assert log_append(entries=entries(3)) == [0, 1, 2]
    assert log_append(entries=entries(2, start=3)) == [3, 4]
    head = TreeHead.objects.get()
    assert head.size == log_size() == 5
    assert bytes(head.root) == merkle.root([merkle.leaf_hash(e) for e in entries(5)])


@pytest.mark.django_db
def test_a_checkpoint_is_signed_and_served_and_verifies_with_the_public_key(client: Client) -> None:
    log_append(entries=entries(7))
    log_checkpoint_sign()
    response = client.get(reverse("tlog:checkpoint"))
    assert response["Content-Type"].startswith("text/plain")
    text = open_note(response.content.decode(), signer().verifier)
    checkpoint = Checkpoint.parse(text)
    assert checkpoint.size == 7
    assert checkpoint.root == merkle.root([merkle.leaf_hash(e) for e in entries(7)])


@pytest.mark.django_db
def test_a_new_checkpoint_must_be_consistent_with_the_last(client: Client) -> None:
    log_append(entries=entries(4))
    log_checkpoint_sign()
    log_append(entries=entries(2, start=4))
    # History rewritten under the log's feet: entry 1 replaced.
    LogEntry.objects.filter(index=1).update(leaf_hash=merkle.leaf_hash(b"rewritten"))
    with pytest.raises(merkle.ProofError):
        log_checkpoint_sign()
    assert SignedCheckpoint.objects.count() == 1


@pytest.mark.django_db
def test_tiles_and_entry_bundles_are_served_in_the_tlog_tiles_layout(client: Client) -> None:
    log_append(entries=entries(300))
    full = client.get("/log/tile/0/000")
    assert full.status_code == 200 and len(full.content) == 256 * 32
    assert "immutable" in full["Cache-Control"]
    assert full.content == b"".join(merkle.leaf_hash(e) for e in entries(256))
    # A tile that filled before full tiles had rows of their own is served from its hashes.
    FullTile.objects.all().delete()
    assert client.get("/log/tile/0/000").content == full.content
    partial = client.get("/log/tile/0/001.p/44")
    assert len(partial.content) == 44 * 32 and "immutable" not in partial["Cache-Control"]
    level_one = client.get("/log/tile/1/000.p/1")
    assert level_one.content == merkle.root([merkle.leaf_hash(e) for e in entries(256)])
    bundle = client.get("/log/tile/entries/001.p/44").content
    assert bundle[:2] == len(b"entry 256").to_bytes(2, "big") and bundle[2:11] == b"entry 256"
    assert client.get("/log/tile/0/001").status_code == 404  # not full yet
    assert client.get("/log/tile/0/001.p/45").status_code == 404  # wider than the log
    assert client.get("/log/tile/0/x000/001").status_code == 404  # not a canonical path
    assert client.get("/log/tile/0/1").status_code == 404


def test_tile_paths_encode_indexes_in_groups_of_three() -> None:
    assert encode_index(0) == "000"
    assert encode_index(1234067) == "x001/x234/067"
    assert tile_path(5, 17) == "005.p/17"
    assert parse_tile_path("x001/x234/067") == (1234067, 256)
    assert parse_tile_path("005.p/17") == (5, 17)
    for bad in ("5", "005.p/256", "005.p/0", "005.p/017", "x000/005"):
        with pytest.raises(ValueError, match="tile"):
            parse_tile_path(bad)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_tree() -> None:
    errors = []

    def writer(number: int) -> None:
        try:
            for batch in range(5):
                log_append(entries=[f"w{number}-{batch}".encode()])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = list(LogEntry.objects.order_by("index").values_list("index", "leaf_hash"))
    assert [index for index, _ in stored] == list(range(20))
    head = TreeHead.objects.get()
    assert bytes(head.root) == merkle.root([bytes(leaf) for _, leaf in stored])
    assert tile_hashes(0, 0, 20) is not None


@given(st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=6))
@hypothesis_settings(max_examples=60, deadline=None)
def test_batches_of_any_sizes_extend_the_tree_to_the_rfc_root_and_its_tiles(
    batches: list[int],
) -> None:
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(sum(batches))]
    frontier: list[bytes] = []
    size, nodes = 0, []
    for count in batches:
        frontier, formed = frontier_extend(frontier, size, leaves[size : size + count])
        size += count
        nodes += formed
        assert frontier_root(frontier) == merkle.root(leaves[:size])
    # Every subtree of 256 leaves completed, once, with its hash: the level-1 tiles.
    assert nodes == [
        (1, i, merkle.root(leaves[256 * i : 256 * (i + 1)])) for i in range(size // 256)
    ]


def test_a_second_level_tile_node_forms_when_65536_leaves_are_in() -> None:
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(65_536 + 10)]
    frontier: list[bytes] = []
    nodes, size = [], 0
    for count in (40_000, 25_535, 11):
        frontier, formed = frontier_extend(frontier, size, leaves[size : size + count])
        size += count
        nodes += formed
    assert (2, 0, merkle.root(leaves[:65_536])) in nodes
    assert len([node for node in nodes if node[0] == 1]) == 256
    assert frontier_root(frontier) == merkle.root(leaves[:size])


# The largest tile index whose entries a signed 64-bit index can number, and the next one.
LAST_TILE = (2**63 - 1) // 256 - 1
HUGE_PATHS = [
    "x036/x028/x797/x018/x963/967",  # the probe's path: LAST_TILE + 1
    encode_index(2**63),
    encode_index(2**64 - 1),
    encode_index(10**40),
]


@pytest.mark.django_db
@pytest.mark.parametrize("path", HUGE_PATHS)
def test_a_tile_past_any_log_that_can_exist_is_not_found_for_both_kinds(path: str) -> None:
    client = Client(raise_request_exception=False)
    log_append(entries=entries(3))
    for url in (f"/log/tile/0/{path}", f"/log/tile/3/{path}", f"/log/tile/entries/{path}"):
        for suffix in ("", ".p/7"):
            response = client.get(url + suffix)
            assert response.status_code == 404, url + suffix
            assert path not in response.text  # no traceback echoing the path


def test_tile_paths_stop_at_the_largest_index_a_log_can_reach() -> None:
    assert parse_tile_path(encode_index(LAST_TILE)) == (LAST_TILE, 256)
    assert parse_tile_path(encode_index(LAST_TILE + 1) + ".p/255") == (LAST_TILE + 1, 255)
    for too_far in (encode_index(LAST_TILE + 1), encode_index(2**63), "x" + "999/x" * 30 + "999"):
        with pytest.raises(ValueError, match="tile"):
            parse_tile_path(too_far)


segments = st.one_of(
    st.from_regex(r"\Ax[0-9]{3}\Z"),
    st.from_regex(r"\A[0-9]{1,4}\Z"),
    st.from_regex(r"\A[0-9]{3}\.p\Z"),
    st.sampled_from(["x999", "x000", "999", "000", "p", ".p", "x", ""]),
)


tile_paths = st.one_of(
    st.lists(segments, min_size=1, max_size=12).map("/".join),
    st.builds(
        str.__add__,
        st.integers(min_value=0, max_value=2**80).map(encode_index),
        st.sampled_from(["", ".p/1", ".p/255", ".p/256", ".p/07"]),
    ),
)


@pytest.mark.django_db
@hypothesis_settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["entries", "0", "1", "7", "63", "99"]), path=tile_paths)
def test_no_tile_url_answers_a_server_error(kind: str, path: str) -> None:
    client = Client(raise_request_exception=False)
    response = client.get(f"/log/tile/{kind}/{path}")
    assert response.status_code in (200, 404), response.status_code
