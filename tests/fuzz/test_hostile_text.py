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


# ---- a certificate whose subject carries ANSI, OSC 8 and bidi sequences --------------------------

def _raw_controls(text: str) -> list[str]:
    return [c for c in text if not is_safe(c) and c != "\n"]


@pytest.fixture(scope="module")
def hostile_capture(tmp_path_factory):
    from cryptography.hazmat.primitives.serialization import Encoding

    from synth import pki
    from test_hostile import certificate_message, client_hello, server_hello_record, write

    der = pki.make_leaf(HOSTILE_CN, self_signed=True).cert.public_bytes(Encoding.DER)
    body = (len(der) + 3).to_bytes(3, "big") + len(der).to_bytes(3, "big") + der
    return write(tmp_path_factory.mktemp("hostile"),
                 [("c2s", client_hello()), ("s2c", server_hello_record() + certificate_message(body))])


def test_hostile_subject_is_kept_raw_in_the_data(hostile_capture):
    import inspector

    cap = inspector.read_capture(hostile_capture)
    assert cap.certificates.iloc[0].subject_cn == HOSTILE_CN  # the data is what was sent


def test_certs_command_shows_the_subject_escaped(hostile_capture):
    from typer.testing import CliRunner

    from inspector.cli.app import app

    r = CliRunner().invoke(app, ["certs", str(hostile_capture)])
    assert r.exit_code == 0, r.output
    assert _raw_controls(r.output) == []
    assert "evil\\x1b[2J" in r.output.replace("\n", "")


def test_notebook_reprs_show_the_subject_escaped(hostile_capture):
    import inspector

    cap = inspector.read_capture(hostile_capture)
    fid = int(cap.flows.iloc[0].flow_id)
    for text in (repr(cap.flow(fid)), repr(cap.chain(fid)), repr(cap.cert(cap.certificates.iloc[0].sha256[:12]))):
        assert "evil\\x1b[2J" in text
        assert _raw_controls(text) == [], text


def test_csv_certificates_table_has_no_raw_control_bytes(hostile_capture, tmp_path):
    from typer.testing import CliRunner

    from inspector.cli.app import app

    out = tmp_path / "certs.csv"
    r = CliRunner().invoke(app, ["report", str(hostile_capture), "--format", "csv", "--table", "certificates",
                                 "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert _raw_controls(text) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 and rows[0]["subject_cn"].startswith("evil\\x1b[2J")
