"""Every output format read back and compared, value by value and type by type, with the DataFrames
of `inspector.read_capture` (issue 15, one schema): JSON, JSON lines, CSV, ``--format parquet`` and
the batch dataset, all four tables, on the bundled mixed capture.  How to read a value back is
decided by its `Column`, never by its name."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

import pandas as pd
import pyarrow.parquet as pq
import pytest

import inspector
from inspector.arrow import arrow_schema
from inspector.schema import TABLES, B, Column, F, I, L, S, T, X
from corpus import PCAPS, ROOT

SAMPLE = PCAPS / "cisco_lab_mix.pcapng"
OUT_TABLES = ("flows", "certificates", "events", "findings")


def tlsinspect(*args) -> subprocess.CompletedProcess:
    r = subprocess.run([sys.executable, "-m", "inspector", *map(str, args)], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def cap():
    return inspector.read_capture(SAMPLE)


def _na(v) -> bool:
    return v is None or (not isinstance(v, (list, tuple, bytes)) and bool(pd.isna(v)))


def expected(col: Column, v):
    """A DataFrame cell as plain Python, for comparison."""
    if col.dtype == L:
        return None if _na(v) else list(v)
    if _na(v):
        return None
    if col.dtype == T:
        return pd.Timestamp(v)
    if col.dtype in (I, B, F):
        return v.item() if hasattr(v, "item") else v
    return v


def from_json(col: Column, v):
    if v is None:
        return None
    if col.embeds_json:  # the JSON text of the DataFrame cell, embedded as the object
        assert isinstance(v, dict), v
        return json.dumps(v, sort_keys=True)
    if col.dtype == T:
        assert isinstance(v, str) and v.endswith("+00:00"), v  # ISO 8601, UTC
        return pd.Timestamp(datetime.fromisoformat(v))
    if col.dtype == L:
        assert isinstance(v, list)
        assert all(isinstance(x, int if col.item == I else str) for x in v), v
        return v
    want = {S: str, I: int, B: bool, F: (int, float)}[col.dtype]
    assert isinstance(v, want) and (col.dtype != I or not isinstance(v, bool)), (col.name, v)
    return v


def from_csv(col: Column, cell: str):
    if cell == "":
        return [] if col.dtype == L else None  # an empty list and NA look alike in CSV
    if col.dtype == T:
        return pd.Timestamp(datetime.fromisoformat(cell))
    if col.dtype == L:
        return [int(x) if col.item == I else x for x in cell.split(";")]
    if col.dtype == I:
        return int(cell)
    if col.dtype == B:
        assert cell in ("True", "False"), cell
        return cell == "True"
    if col.dtype == F:
        return float(cell)
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def compare(table: str, df: pd.DataFrame, rows: list[dict], decode, csv: bool = False) -> None:
    cols = [c for c in TABLES[table] if c.dtype != X]  # bytes are not in the text formats
    assert len(rows) == len(df), table
    for i, row in enumerate(rows):
        assert list(row) == [c.name for c in cols], table
        for c in cols:
            want = expected(c, df[c.name].iloc[i])
            if csv and c.dtype == L and want is None:
                want = []
            assert decode(c, row[c.name]) == want, (table, i, c.name, row[c.name], want)


def test_json_round_trips_every_table(cap):
    doc = json.loads(tlsinspect(SAMPLE, "--format", "json").stdout)
    for table in OUT_TABLES:
        compare(table, getattr(cap, table), doc[table], from_json)
    assert len(doc["flows"]) == 11 and doc["certificates"]


@pytest.mark.parametrize("table", OUT_TABLES)
def test_jsonl_round_trips(cap, table):
    lines = tlsinspect(SAMPLE, "--format", "jsonl", "--table", table).stdout.splitlines()
    compare(table, getattr(cap, table), [json.loads(line) for line in lines], from_json)


@pytest.mark.parametrize("table", OUT_TABLES)
def test_csv_round_trips(cap, table, tmp_path):
    import csv
    out = tmp_path / f"{table}.csv"
    tlsinspect(SAMPLE, "--format", "csv", "--table", table, "-o", out)
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    compare(table, getattr(cap, table), rows, from_csv, csv=True)


def _parquet_rows(path, columns) -> list[dict]:
    df = pd.read_parquet(path)
    return [{c.name: (list(df[c.name].iloc[i]) if c.dtype == L and df[c.name].iloc[i] is not None
                      else df[c.name].iloc[i]) for c in columns} for i in range(len(df))]


@pytest.mark.parametrize("table", OUT_TABLES)
def test_format_parquet_has_the_schema_types_and_round_trips(cap, table, tmp_path):
    out = tmp_path / f"{table}.parquet"
    tlsinspect(SAMPLE, "--format", "parquet", "--table", table, "-o", out)
    cols = TABLES[table]
    assert pq.read_schema(out).remove_metadata() == arrow_schema(cols)
    back = pd.read_parquet(out)
    df = getattr(cap, table)
    assert list(back.dtypes.astype(str)) == list(df.dtypes.astype(str)), table
    for i in range(len(df)):
        for c in cols:
            got, want = back[c.name].iloc[i], df[c.name].iloc[i]
            if c.dtype == X:
                assert got == want
            else:
                got = list(got) if c.dtype == L and got is not None else got
                assert expected(c, got) == expected(c, want), (table, i, c.name)


def test_empty_list_columns_stay_typed_in_parquet(cap, tmp_path):
    """The bug: pandas guessed ``list<null>`` for a list column whose lists were all empty
    (cisco_lab_mix: ``warnings``, ``requested_ca_names``) where batch writes ``list<string>``."""
    assert cap.flows.warnings.map(len).sum() == 0
    out = tmp_path / "flows.parquet"
    tlsinspect(SAMPLE, "--format", "parquet", "-o", out)
    schema = pq.read_schema(out)
    assert str(schema.field("warnings").type) == "list<element: string>"
    assert str(schema.field("requested_ca_names").type) == "list<element: string>"


def test_batch_parquet_has_the_same_types_as_format_parquet(cap, tmp_path):
    d = tmp_path / "captures"
    d.mkdir()
    (d / SAMPLE.name).symlink_to(SAMPLE)
    subprocess.run([sys.executable, "-m", "inspector", "batch", str(d), "-o", str(tmp_path / "results"), "--quiet"],
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    for table in OUT_TABLES:
        [part] = (tmp_path / "results" / table).glob("*.parquet")
        batch = pq.read_schema(part).remove_metadata()
        assert batch.remove(batch.get_field_index("capture_path")) == arrow_schema(TABLES[table]), table
        back = pd.read_parquet(part).drop(columns=["capture_path"])
        df = getattr(cap, table)
        assert len(back) == len(df)
        for c in TABLES[table]:
            if c.dtype == X:
                assert list(back[c.name]) == list(df[c.name])
                continue
            for i in range(len(df)):
                got = back[c.name].iloc[i]
                got = list(got) if c.dtype == L and got is not None else got
                assert expected(c, got) == expected(c, df[c.name].iloc[i]), (table, i, c.name)


def test_streamed_rows_have_every_column_of_their_table():
    """Live capture and pipes stream rows as flows end: the same columns as the tables (the
    live path built its findings rows by hand and left out ``flow_ids``)."""
    from inspector.cli.live import analyze_stream
    got: dict[str, list[dict]] = {}
    with SAMPLE.open("rb") as fh:
        analyze_stream(fh, lambda name, rows: got.setdefault(name, []).extend(rows))
    assert len(got["flows"]) == 11 and got["findings"] and got["events"]
    for table in ("flows", "events", "findings"):
        for row in got[table]:
            assert list(row) == [c.name for c in TABLES[table]], table
