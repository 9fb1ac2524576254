"""Rows -> pandas DataFrames with the fixed, documented schema of `inspector.schema`.

The only module that touches pandas for the tables.  ``python -m inspector.frame`` prints the
README's schema section.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import pandas as pd

from .model import Analysis
from .schema import (CERT_COLUMNS, EVENT_COLUMNS, FINDING_COLUMNS, FLOW_COLUMNS, MESSAGE_COLUMNS, B, Column,
                     F, I, L, S, T, X, cert_row, cert_rows, event_rows, flow_rows, message_rows,
                     schema_markdown)

__all__ = ["CERT_COLUMNS", "EVENT_COLUMNS", "FINDING_COLUMNS", "FLOW_COLUMNS", "MESSAGE_COLUMNS", "Column", "B", "F", "I",
           "L", "S", "T", "X", "cert_row", "cert_rows", "event_rows", "flow_rows",
           "make_frame", "flows_frame", "certificates_frame", "events_frame", "findings_frame",
           "messages_frame", "message_rows", "schema_markdown"]


def _ts(v: float | datetime | None) -> pd.Timestamp | None:
    if v is None:
        return None
    if isinstance(v, datetime):
        return pd.Timestamp(v).tz_convert("UTC") if v.tzinfo else pd.Timestamp(v, tz="UTC")
    return pd.Timestamp(int(round(v * 1e6)), unit="us", tz="UTC")


def make_frame(rows: Iterable[dict[str, Any]], columns: tuple[Column, ...]) -> pd.DataFrame:
    rows = list(rows)
    data: dict[str, pd.Series] = {}
    for col in columns:
        values = [r.get(col.name) for r in rows]
        if col.dtype == T:
            values = [_ts(v) for v in values]
            data[col.name] = pd.Series(pd.to_datetime(values, utc=True), dtype=T)
        elif col.pandas_dtype == "object":  # lists, bytes
            data[col.name] = pd.Series(values, dtype=object)
        else:
            data[col.name] = pd.Series([None if v is None else v for v in values], dtype=col.dtype)
    return pd.DataFrame(data, columns=[c.name for c in columns])


def flows_frame(analysis: Analysis, trust=None) -> pd.DataFrame:
    from .trust import validated_flow_rows
    return make_frame(validated_flow_rows(analysis.flows, analysis.certificates, trust), FLOW_COLUMNS)


def certificates_frame(analysis: Analysis) -> pd.DataFrame:
    return make_frame(cert_rows(analysis), CERT_COLUMNS)


def events_frame(analysis: Analysis) -> pd.DataFrame:
    return make_frame(event_rows(analysis.events), EVENT_COLUMNS)


def findings_frame(analysis: Analysis) -> pd.DataFrame:
    from .diagnose import finding_rows
    return make_frame(finding_rows(analysis), FINDING_COLUMNS)


def messages_frame(analysis: Analysis) -> pd.DataFrame:
    return make_frame(message_rows(getattr(analysis, "messages", ())), MESSAGE_COLUMNS)


if __name__ == "__main__":
    print(schema_markdown())
