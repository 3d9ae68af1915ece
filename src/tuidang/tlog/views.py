"""The log as static, cacheable files in the C2SP tlog-tiles layout, read from the read
replica when there is one (lib/replica.py)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from tuidang.lib.replica import replica_reads
from tuidang.tlog.models import SignedCheckpoint
from tuidang.tlog.services import entry_bundle, tile_hashes
from tuidang.tlog.tiles import TILE_WIDTH, parse_tile_path
from tuidang.tlog.witnessing import cosigned_note

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=5"


@require_GET
@replica_reads
def checkpoint(request: HttpRequest) -> HttpResponse:
    latest = SignedCheckpoint.objects.order_by("-size").first()
    if latest is None:
        raise Http404("No checkpoint has been signed yet.")
    # With the witnesses' cosignatures gathered so far, after the log's own signature.
    response = HttpResponse(cosigned_note(latest), content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = SHORT
    return response


def _tile_response(body: bytes | None, width: int) -> HttpResponse:
    if body is None:
        raise Http404("That tile does not exist (yet).")
    response = HttpResponse(body, content_type="application/octet-stream")
    # A full tile never changes; a partial one is replaced by a wider one as the log grows.
    response["Cache-Control"] = IMMUTABLE if width == TILE_WIDTH else SHORT
    return response


@require_GET
@replica_reads
def tile(request: HttpRequest, level: str, path: str) -> HttpResponse:
    try:
        index, width = parse_tile_path(path)
    except ValueError:
        raise Http404("Not a tile path.") from None
    if int(level) > 63 or level != str(int(level)):
        raise Http404("No such tile level.")
    return _tile_response(tile_hashes(int(level), index, width), width)


@require_GET
@replica_reads
def entries(request: HttpRequest, path: str) -> HttpResponse:
    try:
        index, width = parse_tile_path(path)
    except ValueError:
        raise Http404("Not an entry bundle path.") from None
    return _tile_response(entry_bundle(index, width), width)


@require_GET
@replica_reads
def proof(request: HttpRequest, index: str) -> HttpResponse:
    """The entry's proof bundle, which `tuidang verify-receipt` checks offline."""
    from tuidang.tlog.inclusion import proof_bundle

    if len(index) > 19 or int(index) >= 2**63:
        raise Http404("No such entry.")
    bundle = proof_bundle(int(index))
    if bundle is None:
        raise Http404("No signed checkpoint holds that entry yet.")
    response = HttpResponse(bundle, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="proof-{int(index)}.txt"'
    response["Cache-Control"] = SHORT
    return response
