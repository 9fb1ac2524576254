"""Terminal-escape injection (issue 14, item 2): one escaping rule for every human-facing output."""

from __future__ import annotations

import csv
import io

import pytest

from inspector.textsafe import csv_cell, is_safe, visible, visible_multiline

HOSTILE_CN = "evil\x1b[2J\x1b]8;;http://x.example/\x1b\\click\x1b]8;;\x1b\\\u202egpj.exe\x9b31m\x7f"


@pytest.mark.parametrize("raw, shown", [
    ("plain.example.com", "plain.example.com"),
    ("caf\u00e9 \u6771\u4eac \U0001F512", "caf\u00e9 \u6771\u4eac \U0001F512"),  # not controls: kept
    ("a\x1b[2Jb", "a\\x1b[2Jb"),
    ("tab\there\nnew", "tab\\x09here\\x0anew"),
    ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
    ("\u202eexe.pdf", "\\u202eexe.pdf"),
    ("\u2066x\u2069\u2028", "\\u2066x\\u2069\\u2028"),
    (None, ""),
    (443, "443"),
])
def test_visible_escapes_controls_and_bidi(raw, shown):
    assert visible(raw) == shown


def test_visible_leaves_no_raw_control_character():
    out = visible(HOSTILE_CN)
    assert is_safe(out)
    assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in out)
    assert "\\x1b[2J" in out and "\\u202e" in out and "\\x9b" in out


def test_visible_multiline_keeps_newlines_only():
    assert visible_multiline("line 1\nline\x1b 2\r") == "line 1\nline\\x1b 2\\x0d"


def test_csv_cell_has_no_raw_control_bytes():
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([csv_cell(HOSTILE_CN), csv_cell(3), csv_cell(None)])
    text = buf.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    body = text[:-1]
    assert is_safe(body)
    assert list(csv.reader(io.StringIO(text)))[0][1] == "3"
