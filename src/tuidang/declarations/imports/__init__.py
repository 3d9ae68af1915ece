"""Bulk import and export of historical declarations (CSV or JSON lines).

An import validates every row before it writes anything, and reports every bad row with
its line number (``rows``). It then writes in batches, each batch in one transaction with
its log entries and rollups (``batches``): killed half-way, it leaves whole batches only,
and running it again skips the rows already imported (each row has a key). On a machine
of two cores, two processes take the batches in turns (``relay``). ``export`` writes what
may be public of every declaration.
"""

from tuidang.declarations.imports.batches import BATCH, registry_analyze
from tuidang.declarations.imports.export import export_declarations
from tuidang.declarations.imports.relay import ImportFailed, import_declarations
from tuidang.declarations.imports.rows import (
    FIELDS,
    ImportRejected,
    Row,
    Unreadable,
    open_text,
    parse_all,
    rows_read,
)

__all__ = [
    "BATCH",
    "FIELDS",
    "ImportFailed",
    "ImportRejected",
    "Row",
    "Unreadable",
    "export_declarations",
    "import_declarations",
    "open_text",
    "parse_all",
    "registry_analyze",
    "rows_read",
]
