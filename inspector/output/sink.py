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
from .._lazy import lazy_import
from ..filters import Filter

lazy_import(globals(), {"Console": ("rich.console", "Console")})  # for warnings and the table only

def _severity(name: str) -> int:
    from ..diagnose import Severity
    return int(Severity[name])


ALL_TABLES = ("flows", "certificates", "events", "findings")


def select(cap, flt: Filter | None, tables: tuple[str, ...] = ALL_TABLES
           ) -> tuple[set[int] | None, dict[str, list[dict[str, Any]]]]:
    """The rows of ``tables`` restricted to the flows ``flt`` matches (all when None); the tables
    not asked for are left out (a CSV of the flows never runs the diagnoses)."""
    wanted = set(tables) | ({"flows"} if flt is not None else set())
    rows = {t: render.table_rows(cap, t) for t in ALL_TABLES if t in wanted}
    if flt is None:
        return None, rows
    flows = [r for r in rows["flows"] if flt.matches(r)]
    ids = {r["flow_id"] for r in flows}
    out = {"flows": flows}
    if "certificates" in rows:
        out["certificates"] = [c for c in rows["certificates"] if ids & set(c.get("flow_ids") or [])]
    for t in ("events", "findings"):
        if t in rows:
            out[t] = [r for r in rows[t] if r.get("flow_id") in ids]
    return ids, out


class Sink:
    def __init__(self, fmt: str, table: str, output: Path | None, *, zeek_json: bool,
                 flt: Filter | None, quiet: bool, need_worst: bool = True) -> None:
        self.fmt = fmt
        self.need_worst = need_worst  # the worst finding severity is asked for (--fail-on)
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
            from . import zeek as zeeklog
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
        if not self.quiet and self.fmt != "table" and cap.warnings:
            sys.stderr.write("".join(f"tlsinspect: warning: {render.cell(w)}\n" for w in cap.warnings))
            sys.stderr.flush()

    # ---- whole captures -----------------------------------------------------------------------
    def add(self, cap) -> int:
        """Write one capture; return the worst severity among the reported flows' findings."""
        self._warn(cap)
        self.count += 1
        if self.fmt in ("csv", "jsonl"):
            return self._rows_out(cap)
        ids, rows = select(cap, self.flt)
        worst = max((_severity(r["severity"]) for r in rows["findings"]), default=-1)
        if self.fmt == "table":
            console = render_console(self.fh)
            if self.count > 1:
                console.print()
            render.render_table(cap, console, quiet=self.quiet, flow_ids=ids, findings=rows["findings"])
        elif self.fmt == "json":
            self.docs.append(render.json_doc(cap, rows))
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
                from ..errors import InspectError
                raise InspectError("--format html takes one capture per page (or --merge)")
            from .html import render_report
            page = render_report(cap)
            if self.output is not None:
                self.output.write_text(page, encoding="utf-8")
            else:
                self.out.write(page)
        return worst

    def _rows_out(self, cap) -> int:
        """CSV or JSON lines of the chosen table, building only the tables needed: that one, the
        flows for --filter, the findings for --fail-on.  The flows of an unfiltered CSV go
        column by column, straight from the records."""
        tables = (self.table,) + (("findings",) if self.need_worst else ())
        if self.flt is None and self.table == "flows":
            names, columns = render.flow_columns(cap)
            if self.fmt == "csv":
                self.csv.write_columns(names, columns)
            else:
                self.jsonl.write(dict(zip(names, row)) for row in zip(*columns))
            rows = {"findings": render.table_rows(cap, "findings")} if self.need_worst else {}
        else:
            _ids, rows = select(cap, self.flt, tables)
            (self.csv if self.fmt == "csv" else self.jsonl).write(rows[self.table])
        return max((_severity(r["severity"]) for r in rows.get("findings", ())), default=-1)

    def _zeek(self, cap, rows) -> None:
        from .zeek import capture_logs
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
            rows = [render.plain(r) for r in rows]
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
                render.write_parquet(df, self.table, self.output)
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
    from ..cli.terminal import table_console
    return table_console(fh)
