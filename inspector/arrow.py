"""The tables' Arrow schema, derived from `inspector.schema`'s columns (the one place pyarrow types
are chosen): Parquet from ``--format parquet`` and from ``tlsinspect batch`` carry the same types,
empty tables and all-NA columns included (an empty list column is ``list<string>``, never the
``list<null>`` pandas would guess)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .schema import B, F, I, L, S, T, X, Column

__all__ = ["arrow_schema", "arrow_type", "to_arrow", "write_parquet"]

_SCALARS = {S: pa.string(), I: pa.int64(), B: pa.bool_(), F: pa.float64(),
            T: pa.timestamp("ns", tz="UTC"), X: pa.binary()}


def arrow_type(col: Column) -> pa.DataType:
    """A column's Arrow type: its dtype's, lists of their ``item`` type."""
    return pa.list_(_SCALARS[col.item]) if col.dtype == L else _SCALARS[col.dtype]


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    """The fixed Arrow schema of a table."""
    return pa.schema([pa.field(c.name, arrow_type(c)) for c in columns])


def to_arrow(df: pd.DataFrame, columns: Sequence[Column]) -> pa.Table:
    """DataFrame -> Arrow with the fixed schema.  The pandas metadata rides along, so
    ``pd.read_parquet`` gives back the library's dtypes."""
    return pa.Table.from_pandas(df, schema=arrow_schema(columns), preserve_index=False)


def write_parquet(df: pd.DataFrame, columns: Sequence[Column], path: str | Path) -> None:
    """One table as a Parquet file, with the fixed schema."""
    pq.write_table(to_arrow(df, columns), path)
