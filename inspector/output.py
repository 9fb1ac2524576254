"""Where ``tlsinspect report`` writes: one `Sink` per run, fed one `Capture` after another.

Each format is a small writer (`report` for the table/JSON/CSV/Parquet, `jsonl`, `zeeklog`);
the sink applies ``--filter`` the same way for all of them: the flows that match, and the
certificates, events and findings of those flows.  Several captures go to the same output: one
table per capture, one CSV header, JSON lines in order, a JSON array when there is more than one
document, one ssl.log/x509.log.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any, Callable

from . import report as render
from ._lazy import lazy_import
from .filters import Filter

lazy_import(globals(), {"Console": ("rich.console", "Console")})  # for warnings and the table only

def _severity(name: str) -> int:
    from .diagnose import Severity
    return int(Severity[name])


def select(cap, flt: Filter | None) -> tuple[set[int] | None, dict[str, list[dict[str, Any]]]]:
    """The rows of every table restricted to the flows ``flt`` matches (all when None)."""
    tables = {t: render.table_rows(cap, t) for t in ("flows", "certificates", "events", "findings")}
    if flt is None:
        return None, tables
    flows = [r for r in tables["flows"] if flt.matches(r)]
    ids = {r["flow_id"] for r in flows}
    return ids, {
        "flows": flows,
        "certificates": [c for c in tables["certificates"] if ids & set(c.get("flow_ids") or [])],
        "events": [e for e in tables["events"] if e.get("flow_id") in ids],
        "findings": [x for x in tables["findings"] if x.get("flow_id") in ids],
    }


class Sink:
    def __init__(self, fmt: str, table: str, output: Path | None, *, zeek_json: bool,
                 flt: Filter | None, quiet: bool) -> None:
        self.fmt = fmt
        self.table = table
        self.output = output
        self.flt = flt
        self.quiet = quiet
        self.zeek_json = zeek_json
        self.stack = contextlib.ExitStack()
        self.docs: list[dict] = []
        self.frames: list = []
        self.count = 0
        self.stream_worst = -1
        self.fh = None
        if fmt in ("table", "csv", "jsonl", "json") and output is not None:
            self.fh = self.stack.enter_context(open(output, "w", encoding="utf-8", newline=""))
        self.out = self.fh or sys.stdout
        self.csv = render.CsvStream(self.out) if fmt == "csv" else None
        if fmt == "jsonl":
            from .jsonl import JsonlStream
            self.jsonl = JsonlStream(self.out)
        self.logs = None
        if fmt == "zeek":
            from . import zeeklog
            if output is not None:
                self.logs = zeeklog.open_logs(output, json_lines=zeek_json)
                for log in self.logs.values():
                    self.stack.callback(log.out.close)
            else:
                name = "ssl" if table == "flows" else "x509"
                self.logs = {name: zeeklog.ZeekLog(sys.stdout, name, json_lines=zeek_json)}

    @classmethod
    def open(cls, fmt, table: str, output: Path | None, **kw) -> "Sink":
        return cls(getattr(fmt, "value", fmt), table, output, **kw)

    def _warn(self, cap) -> None:
        if not self.quiet and self.fmt != "table":
            from rich.text import Text
            err = Console(stderr=True, highlight=False, soft_wrap=True)
            for w in cap.warnings:
                err.print(Text(f"tlsinspect: warning: {render.cell(w)}"))

    # ---- whole captures -----------------------------------------------------------------------
    def add(self, cap) -> int:
        """Write one capture; return the worst severity among the reported flows' findings."""
        self._warn(cap)
        ids, rows = select(cap, self.flt)
        worst = max((_severity(r["severity"]) for r in rows["findings"]), default=-1)
        self.count += 1
        if self.fmt == "table":
            console = render_console(self.fh)
            if self.count > 1:
                console.print()
            render.render_table(cap, console, quiet=self.quiet, flow_ids=ids)
        elif self.fmt == "json":
            self.docs.append(render.json_doc(cap, rows))
        elif self.fmt == "csv":
            self.csv.write(rows[self.table])
        elif self.fmt == "jsonl":
            self.jsonl.write(rows[self.table])
        elif self.fmt == "parquet":
            df = getattr(cap, self.table)
            if ids is not None:
                df = df[df.flow_id.isin(ids)] if self.table != "certificates" else \
                    df[df.flow_ids.map(lambda v: bool(ids & set(v or [])))]
            self.frames.append(df)
        elif self.fmt == "zeek":
            self._zeek(cap, rows)
        elif self.fmt == "html":
            if self.count > 1:
                from .errors import InspectError
                raise InspectError("--format html takes one capture per page (or --merge)")
            from .htmlreport import render_report
            page = render_report(cap)
            if self.output is not None:
                self.output.write_text(page, encoding="utf-8")
            else:
                self.out.write(page)
        return worst

    def _zeek(self, cap, rows) -> None:
        from .zeeklog import capture_logs
        ssl, x509 = capture_logs(cap, rows["flows"], rows["certificates"])
        if "ssl" in self.logs:
            self.logs["ssl"].write(ssl)
        if "x509" in self.logs:
            self.logs["x509"].write(x509)

    # ---- streaming (--stream, jsonl from a pipe) ----------------------------------------------
    def stream_rows(self) -> Callable[[str, list[dict]], None]:
        """An ``on_rows`` for `inspector.api.stream_capture` writing the chosen table as it comes."""
        writer = self.csv if self.fmt == "csv" else self.jsonl
        flt = self.flt
        matched: set[int] = set()

        def on_rows(name: str, rows: list[dict]) -> None:
            drop = ("der",) if name == "certificates" else ()
            rows = [render.plain(r, drop=drop) for r in rows]
            if name == "flows":
                if flt is not None:
                    rows = [r for r in rows if flt.matches(r)]
                matched.update(r["flow_id"] for r in rows)
            elif flt is not None:
                if name == "certificates":
                    rows = [r for r in rows if matched & set(r.get("flow_ids") or [])]
                else:
                    rows = [r for r in rows if r.get("flow_id") in matched]
            if name == "findings" and rows:
                self.stream_worst = max(self.stream_worst, max(_severity(r["severity"]) for r in rows))
            if name == self.table:
                writer.write(rows)
        return on_rows

    def stream_done(self, cap) -> None:
        self._warn(cap)

    # ---- the end ------------------------------------------------------------------------------
    def close(self) -> None:
        try:
            if self.fmt == "json":
                doc: Any = self.docs[0] if len(self.docs) == 1 else self.docs
                self.out.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
            elif self.fmt == "parquet" and self.frames:
                import pandas as pd
                df = self.frames[0] if len(self.frames) == 1 else pd.concat(self.frames, ignore_index=True)
                render.write_parquet(df, self.output)
            elif self.fmt == "zeek":
                for log in self.logs.values():
                    log.close()
            self.out.flush()
        finally:
            self.stack.close()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.stack.close()


def render_console(fh=None) -> Console:
    from .cli import table_console
    return table_console(fh)
