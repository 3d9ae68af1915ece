"""What may be public of every declaration, as CSV or JSON lines."""

from __future__ import annotations

import csv
import json
from typing import Protocol

from tuidang.declarations.models import Declaration


class Output(Protocol):
    """Where an export goes: a text file, or a command's output."""

    def write(self, text: str, /) -> object: ...


def export_declarations(out: Output, fmt: str) -> int:
    """What may be public of every declaration, with its log index; never aliases."""
    fields = [
        "log_index",
        "key",
        "date",
        "organizations",
        "region",
        "channel",
        "relationship",
        "revoked",
    ]
    writer = csv.DictWriter(out, fieldnames=fields) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    for declaration in (
        Declaration.objects.filter(log_index__isnull=False)
        .order_by("log_index")
        .select_related("revocation")
        .iterator()
    ):
        record = {
            "log_index": declaration.log_index,
            "key": declaration.import_key or str(declaration.public_id),
            "date": declaration.declared_on.isoformat(),
            "organizations": ";".join(declaration.organizations()),
            "region": declaration.region,
            "channel": declaration.channel,
            "relationship": declaration.relationship,
            "revoked": hasattr(declaration, "revocation"),
        }
        if writer:
            writer.writerow(record)
        else:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
