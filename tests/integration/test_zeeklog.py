"""--format zeek: ssl.log and x509.log with Zeek's own header, names, types and values, compared
with the logs Zeek's test suite expects (shared/corpus/public/zeek-zeek/baselines)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.output.zeek import SSL_FIELDS, X509_FIELDS, tsv_value
from corpus import corpus_file

ROOT = Path(__file__).resolve().parents[2]
ZEEK = corpus_file("zeek-zeek") if (corpus_file("zeek-zeek") / "baselines").is_dir() else None
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def zeek_log(path: Path):
    meta, rows = {}, []
    fields = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            key, _, val = line.partition("\t") if "\t" in line else line.partition(" ")
            meta[key] = val
            if key == "#fields":
                fields = val.split("\t")
        elif line:
            rows.append(dict(zip(fields, line.split("\t"))))
    return meta, rows


def write_zeek(capture: Path, out: Path, *extra):
    r = subprocess.run([sys.executable, "-m", "inspector", str(capture), "--format", "zeek", "-o", str(out), *extra],
                       capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    return out


needs_zeek = pytest.mark.skipif(ZEEK is None, reason="Zeek baselines not available")


@needs_zeek
def test_header_names_and_types_are_zeeks(tmp_path):
    out = write_zeek(ZEEK / "tls-conn-with-extensions.pcap", tmp_path / "z")
    for log in ("ssl", "x509"):
        ours, _ = zeek_log(out / f"{log}.log")
        theirs, _ = zeek_log(ZEEK / "baselines" / "tls-1.2" / f"{log}.log")
        for key in ("#separator", "#set_separator", "#empty_field", "#unset_field", "#path", "#fields", "#types"):
            assert ours[key] == theirs[key], key
        assert "#open" in ours and "#close" in ours


@needs_zeek
@pytest.mark.parametrize("baseline", ["tls-1.2", "basic"])
def test_rows_match_zeeks_baseline(tmp_path, baseline):
    trace = (ZEEK / "baselines" / baseline / "TRACES.txt").read_text().split(":", 1)[1].split()[0]
    out = write_zeek(ZEEK / Path(trace).name, tmp_path / "z")
    _, ssl = zeek_log(out / "ssl.log")
    _, zssl = zeek_log(ZEEK / "baselines" / baseline / "ssl.log")
    by_conn = {(r["id.orig_h"], r["id.orig_p"], r["id.resp_h"], r["id.resp_p"]): r for r in ssl}
    same = ("id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "version", "cipher", "curve", "server_name",
            "resumed", "last_alert", "next_protocol", "established", "ssl_history", "cert_chain_fps",
            "client_cert_chain_fps", "sni_matches_cert")
    for z in zssl:
        ours = by_conn[(z["id.orig_h"], z["id.orig_p"], z["id.resp_h"], z["id.resp_p"])]
        assert {k: ours[k] for k in same} == {k: z[k] for k in same}
        assert ours["uid"].startswith("C") and len(ours["uid"]) == 18
    _, x509 = zeek_log(out / "x509.log")
    _, zx = zeek_log(ZEEK / "baselines" / baseline / "x509.log")
    by_fp = {r["fingerprint"]: r for r in x509}
    same = ("certificate.version", "certificate.serial", "certificate.not_valid_before",
            "certificate.not_valid_after", "certificate.key_alg", "certificate.sig_alg", "certificate.key_type",
            "certificate.key_length", "certificate.exponent", "certificate.curve", "san.dns", "san.uri",
            "san.email", "san.ip", "basic_constraints.ca", "basic_constraints.path_len", "host_cert", "client_cert")
    for z in zx:
        ours = by_fp[z["fingerprint"]]
        assert {k: ours[k] for k in same} == {k: z[k] for k in same}
        assert ours["certificate.issuer"].lower() == z["certificate.issuer"].lower()


def test_json_lines_and_stdout(tmp_path, lab_capture, lab_expect):
    out = write_zeek(lab_capture, tmp_path / "j", "--zeek-json")
    rows = [json.loads(x) for x in (out / "ssl.log").read_text().splitlines()]
    assert [r["established"] for r in rows] == [e["established"] for e in lab_expect]
    assert rows[1]["last_alert"] == "unknown_ca" and "next_protocol" not in rows[1]  # unset: left out
    assert isinstance(rows[0]["cert_chain_fps"], list) and isinstance(rows[0]["ts"], float)
    certs = [json.loads(x) for x in (out / "x509.log").read_text().splitlines()]
    assert any(c["client_cert"] for c in certs) and any(c["host_cert"] for c in certs)
    r = subprocess.run([sys.executable, "-m", "inspector", str(lab_capture), "--format", "zeek", "--table", "flows",
                        "--failed"], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    body = [x for x in r.stdout.splitlines() if not x.startswith("#")]
    failed = sum(not e["established"] for e in lab_expect)
    assert r.returncode == 0 and len(body) == failed and all("\tF\t" in x for x in body)


def test_tsv_escaping_like_zeeks_ascii_writer():
    assert tsv_value("a\tb", "string") == "a\\x09b"
    assert tsv_value("-", "string") == "\\x2d"
    assert tsv_value("", "string") == "(empty)"
    assert tsv_value(["a,b", "c"], "vector[string]") == "a\\x2cb,c"
    assert tsv_value([], "vector[string]") == "(empty)"
    assert tsv_value(None, "bool") == "-" and tsv_value(True, "bool") == "T"
    assert tsv_value(1.5, "time") == "1.500000"
    assert len(SSL_FIELDS) == 18 and len(X509_FIELDS) == 22
