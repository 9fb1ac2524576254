"""JSON lines: one row (a flow, a certificate, an event, a finding) per line, written as it comes.

The rows are those of `inspector.output.report.table_rows` / `plain` (ISO 8601 UTC times, lists as
arrays, NA as null); a column holding JSON text (a finding's ``evidence``) is embedded as the object.  Each line is flushed,
so ``tlsinspect - --format jsonl | jq`` and ``tlsinspect live --format jsonl`` show flows as they end.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, TextIO

from ..schema import JSON_TEXT_COLUMNS


def embed_json(row: dict[str, Any]) -> dict[str, Any]:
    """A row with its JSON-text columns (`Column.embeds_json`) as the objects they hold."""
    for name in JSON_TEXT_COLUMNS.intersection(row):
        if isinstance(row[name], str):
            try:
                row = {**row, name: json.loads(row[name])}
            except ValueError:
                pass
    return row


def line(row: dict[str, Any]) -> str:
    row = embed_json(row)
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str)


class JsonlStream:
    """Rows in batches -> lines; ``flush`` after each batch (a pipe reader sees them at once)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.rows = 0

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        for r in rows:
            self.out.write(line(r) + "\n")
            self.rows += 1
        self.out.flush()
