"""The one schema (issue 15): every table's columns carry their type, and every form derives from it."""

from __future__ import annotations

import pyarrow as pa
import pytest

from inspector.arrow import arrow_schema, arrow_type
from inspector.schema import (BYTES_COLUMNS, TABLES, TIME_COLUMNS, VALIDATION_COLUMNS, B, Column, F, I, L, S,
                              T, X, schema_markdown)


def test_every_column_has_a_known_type_and_one_type_wherever_its_name_appears():
    seen: dict[str, tuple[str, str]] = {}
    for table, cols in TABLES.items():
        assert len({c.name for c in cols}) == len(cols), table
        for c in cols:
            assert c.dtype in (S, I, B, T, L, F, X), (table, c.name)
            kind = (c.dtype, c.item if c.dtype == L else "")
            assert seen.setdefault(c.name, kind) == kind, f"{c.name} has two types"
            assert c.doc


def test_list_items_and_bytes_are_stated_not_guessed_by_name():
    cols = {(t, c.name): c for t, cs in TABLES.items() for c in cs}
    assert cols["certificates", "flow_ids"].item == I and cols["findings", "flow_ids"].item == I
    assert cols["flows", "alerts"].item == S and cols["certificates", "roles"].item == S
    assert cols["certificates", "der"].dtype == X
    assert BYTES_COLUMNS == {"der"}
    assert TIME_COLUMNS == {"ts_start", "ts_end", "ts", "not_before", "not_after"}


def test_arrow_types_follow_the_columns():
    assert arrow_type(Column("a", L, "", item=I)) == pa.list_(pa.int64())
    assert arrow_type(Column("a", L, "")) == pa.list_(pa.string())
    assert arrow_type(Column("a", X, "")) == pa.binary()
    assert arrow_type(Column("a", T, "")) == pa.timestamp("ns", tz="UTC")
    flows = arrow_schema(TABLES["flows"])
    assert flows.field("warnings").type == pa.list_(pa.string())
    assert flows.field("client_port").type == pa.int64()
    assert flows.field("certs_visible").type == pa.bool_()


def test_the_json_form_of_each_type():
    assert Column("a", T, "").json_form == "string, ISO 8601 UTC"
    assert Column("a", L, "", item=I).json_form == "array of integers"
    assert Column("a", X, "").json_form is None  # bytes are not written
    evidence = next(c for c in TABLES["findings"] if c.name == "evidence")
    assert evidence.dtype == S and evidence.json_form == "object"
    assert Column("a", I, "").pandas_dtype == "Int64" and Column("a", X, "").pandas_dtype == "object"


def test_a_column_refuses_a_type_it_cannot_carry():
    with pytest.raises(ValueError):
        Column("a", "int", "")
    with pytest.raises(ValueError):
        Column("a", L, "", item=B)


def test_the_readme_tables_name_list_item_types():
    md = schema_markdown()
    assert "| `flow_ids` | list<int64> |" in md and "| `alerts` | list<string> |" in md
    assert "| `der` | bytes |" in md


def test_the_validation_columns_are_flows_columns():
    names = [c.name for c in TABLES["flows"]]
    assert set(VALIDATION_COLUMNS) <= set(names)
