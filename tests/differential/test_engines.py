"""Differential test: the native engine against the tshark engine (`inspector.engines.tshark`).

Both engines run over every capture in ``pcaps/`` and over a fixed subset of the public corpus
(`CORPUS_SUBSET`, ~15 files; all of them with ``TLSINSPECT_FULL=1``).  Flows are matched by
client ip:port -> server ip:port and compared field by field (`FIELDS`): endpoints (a flow only
one engine has, or has with the roles swapped), version, cipher (code and name), SNI, both chains
by SHA-256, leaf subject/issuer, alerts, outcome, and the handshake details both engines can read
(ALPN, key exchange group, DH size, resumption, CertificateRequest and its CA names, JA3/JA3S,
STARTTLS).  Fields tshark cannot give or that the engines define differently are listed in
`NOT_COMPARED` with the reason.

Every disagreement is either a bug to fix or an entry of `KNOWN_DIFFERENCES` (file, field) ->
reason.  An entry that no longer matches a disagreement fails the test, so the table cannot go
stale.  ``python tests/differential/test_engines.py [--full]`` prints the agreement table.

pyshark is slow (one tshark run per file, its PDML parsed in Python): ~0.4 s per small file.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for _p in (ROOT, ROOT / "tests"):  # script mode: `python tests/differential/test_engines.py`
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import inspector  # noqa: E402
from inspector.api import Capture  # noqa: E402
from inspector.errors import CaptureError  # noqa: E402
from inspector.engines.tshark import analyze_with_tshark, tshark_available  # noqa: E402
import corpus  # noqa: E402
from corpus import CORPUS_SPREAD, corpus_files as all_corpus_files, corpus_id, corpus_subset, sample_files  # noqa: E402

if not tshark_available():
    pytest.skip("tshark or pyshark not available", allow_module_level=True)

SAMPLES = sample_files()


#: corpus files run by plain `make test` (tests/corpus.py)
CORPUS_SUBSET = CORPUS_SPREAD


def corpus_files() -> list[Path]:
    return corpus_subset(CORPUS_SUBSET)


#: extra TLS ports where tshark needs to be told (the native engine finds TLS by content)
PORTS: dict[str, tuple[int, ...]] = {
    "sslv2.pcapng": (4433,),
    "tls_port_80.pcapng": (80,),
    "irc-starttls.pcap": (6667,),
}

#: compared per matched flow
FIELDS = (
    "tls_version", "cipher_id", "cipher", "sni", "server_chain_sha256", "client_chain_sha256",
    "server_subject", "server_issuer", "client_subject", "client_issuer", "alerts", "outcome",
    "client_max_version", "alpn", "kx_group", "dh_bits", "resumed", "certs_visible",
    "client_cert_requested", "requested_ca_names", "client_cert_kind", "ja3", "ja3s", "starttls",
    "ip_version", "first_frame", "history",
)

#: flow columns not compared, and why
NOT_COMPARED = {
    "flow_id": "a numbering; flows are matched by endpoints instead",
    "ts_start": "follows first_frame (compared)",
    "ts_end": "the last packet looked at: the native engine sees every packet of the connection "
              "(pure ACKs included), the tshark engine only the display-filtered ones",
    "last_frame": "as ts_end",
    "packets": "tshark engine: None (only filtered packets are seen)",
    "outcome_detail": "wording follows outcome (compared); the 'after the X' part is the same logic",
    "decrypted": "tshark engine: no key log support (always False)",
    "ja4": "tshark 4.0 has no JA4 (None)",
    "warnings": "anomaly codes are engine-specific (tshark's expert info vs the native checks)",
    "capture": "the same file name",
}

_STARTTLS_PORT = ("{} before TLS: the native engine names the prelude protocol from its first "
                  "bytes; tshark 4.0 has no {} dissector on that port, so the tshark engine says "
                  "'unknown'")

#: (file name, field) -> why the engines legitimately disagree there.  field "flows": a flow
#: only one engine reports.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    ("bug-1450-04__tls_DER-incomplete-header.pcap", "server_chain_sha256"):
        "tshark's tls.handshake.certificate value stops where its X.509 dissector threw (7 of "
        "the 9 bytes the Certificate message declares); the native engine hashes all 9 as sent "
        "(same as in test_corpus_tshark)",
    ("tls-fragmented-handshake.pcap", "server_chain_sha256"):
        "handshake messages split over many tiny records: tshark 4.0 shows 'Encrypted Handshake "
        "Message' and no Certificate; the native engine reassembles it (CN=Bro), as Zeek's "
        "fragment baseline does",
    ("tls-fragmented-handshake.pcap", "server_subject"): "as server_chain_sha256",
    ("tls-fragmented-handshake.pcap", "server_issuer"): "as server_chain_sha256",
    ("tls-fragmented-handshake.pcap", "certs_visible"): "as server_chain_sha256",
    ("tls-fragmented-handshake.pcap", "history"): "as server_chain_sha256 (no x: tshark sees no "
                                                  "Certificate message)",
    ("tls_invalid_reads.pcap", "history"):
        "the server's second handshake record (758 bytes, right after the ServerHello, before any "
        "ChangeCipherSpec) is not a valid message: the native engine letters it z (unknown "
        "type), tshark calls it 'Encrypted Handshake Message' and the tshark engine adds no letter",
    ("tls_invalid_reads.pcap", "flows"):
        "10.191.139.17:58552 -> 54.221.224.45:443 is TCP inside a GTP-U tunnel (UDP 2152): tshark "
        "decapsulates it, the native engine does not decode UDP tunnels (skipped_not_tcp)",
    ("tls_invalid_reads.pcap", "ja3"):
        "ClientHello without extensions: tshark 4.0's JA3 string is '769,<ciphers>,' (two fields "
        "missing), the reference ja3.py keeps the empty fields ('769,<ciphers>,,,'), as the "
        "native engine does",
    ("chrome-1250-tls-x25519-kyber.pcap", "kx_group"):
        "group 0x6399 (X25519Kyber768Draft00) has no name in tshark 4.0 ('Unknown'): the tshark "
        "engine prints the code",
    ("tls_2_reasms.pcapng", "outcome"):
        "TLS 1.3 with 0-RTT: the client's only encrypted record after its CCS starts before the "
        "ServerHello (frame 3) and ends after it (frame 6).  The native engine places a record at "
        "its header (before the ServerHello: outside the TLS 1.3 outcome heuristic, so "
        "'incomplete'), tshark at the segment that completes it (after: 'established').  Without "
        "keys neither can tell",
    ("smtp2525-ssl.pcapng", "starttls"): _STARTTLS_PORT.format("SMTP on 2525", "SMTP"),
    ("psql-aws-ssl-require-15432.pcap", "starttls"): _STARTTLS_PORT.format(
        "PostgreSQL on 15432", "PostgreSQL SSLRequest"),
    ("xmpp-dialback-starttls.pcap", "starttls"): _STARTTLS_PORT.format(
        "XMPP server-to-server on 5269", "XMPP"),
}

#: (file name, field) -> suspected native-engine bug (xfail strict until fixed)
SUSPECTED_BUGS: dict[tuple[str, str], str] = {}

CRASHES = ROOT / "tests" / "data" / "crashes"


# ------------------------------------------------------------------------------------------


def _norm(v):
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return list(v)
    return v


@dataclass
class Comparison:
    name: str
    flows: int = 0  # matched flows
    checks: Counter = field(default_factory=Counter)
    disagreements: list[tuple[str, str]] = field(default_factory=list)  # (field, detail)

    def check(self, fld: str, native, tshark, where: str) -> None:
        self.checks[fld] += 1
        if _norm(native) != _norm(tshark):
            self.disagreements.append((fld, f"{where}: native {native!r} / tshark {tshark!r}"))

    @property
    def fields_compared(self) -> int:
        return sum(self.checks.values())


@lru_cache(maxsize=None)
def both(path: Path):
    ports = PORTS.get(path.name, ())
    native = inspector.read_capture(path, ports=ports).analysis
    tshark = analyze_with_tshark(path, ports=ports)
    return native, tshark


def compare(path: Path) -> Comparison:
    native, tshark = both(path)
    res = Comparison(path.name)
    errors = [w for w in tshark.capture_warnings if w.startswith("tshark_engine_error")]
    assert not errors, errors  # a pyshark field layout the engine does not understand
    key = lambda f: (f.client_ip, f.client_port, f.server_ip, f.server_port)  # noqa: E731
    mine = {key(f): f for f in native.flows}
    theirs = {key(f): f for f in tshark.flows}
    res.checks["flows"] += len(set(mine) | set(theirs))
    for k in sorted(set(mine) ^ set(theirs), key=str):
        who = "native" if k in mine else "tshark"
        flipped = (k[2], k[3], k[0], k[1])
        note = " (the other engine has it with client and server swapped)" if flipped in (
            theirs if k in mine else mine) else ""
        res.disagreements.append(("flows", f"{k[0]}:{k[1]} -> {k[2]}:{k[3]} only in {who}{note}"))
    for k in sorted(set(mine) & set(theirs), key=str):
        a, b = mine[k], theirs[k]
        res.flows += 1
        where = f"{k[0]}:{k[1]} -> {k[2]}:{k[3]}"
        for fld in FIELDS:
            res.check(fld, getattr(a, fld), getattr(b, fld), where)
    return res


def _cases():
    out = []
    for p in SAMPLES:
        out.append(pytest.param(p, id=f"pcaps/{p.name}"))
    for p in corpus_files():
        rel = corpus_id(p)
        bugs = [r for (n, _f), r in SUSPECTED_BUGS.items() if n == p.name]
        marks = [pytest.mark.xfail(strict=True, reason="; ".join(bugs))] if bugs else []
        out.append(pytest.param(p, id=rel, marks=marks))
    return out


@pytest.mark.parametrize("path", _cases())
def test_engines_agree(path: Path):
    res = compare(path)
    known = {f: r for (n, f), r in KNOWN_DIFFERENCES.items() if n == path.name}
    unexplained = [(f, d) for f, d in res.disagreements if f not in known]
    stale = sorted(set(known) - {f for f, _ in res.disagreements})
    report = "\n".join(f"  [{f}] {d}" for f, d in unexplained)
    assert not unexplained, f"native and tshark engines disagree on {path.name}:\n{report}"
    assert not stale, f"{path.name}: KNOWN_DIFFERENCES entries no longer needed: {stale}"


def test_known_differences_name_real_files():
    names = {p.name for p in SAMPLES} | {p.name for p in all_corpus_files()}
    listed = {n for n, _ in KNOWN_DIFFERENCES} | {n for n, _ in SUSPECTED_BUGS}
    assert listed <= names, sorted(listed - names)


def test_same_tables_from_both_engines():
    """`Capture` over a tshark `Analysis` gives the same four tables (columns and dtypes)."""
    path = ROOT / "pcaps" / "lsc_rejected_unknown_ca.pcap"
    nat = inspector.read_capture(path)
    ts = inspector.read_capture(path, engine="tshark")
    assert isinstance(ts, Capture)
    assert ts.format == nat.format and ts.bytes_read == path.stat().st_size
    for table in ("flows", "certificates", "events", "findings"):
        a, b = getattr(nat, table), getattr(ts, table)
        assert list(a.columns) == list(b.columns), table
        assert list(a.dtypes) == list(b.dtypes), table
        assert len(a) == len(b), table
    assert list(ts.findings["code"]) == list(nat.findings["code"])
    assert ts.stats["frames"] == nat.stats["frames"]
    alerts = ts.events[ts.events["kind"] == "alert"]
    assert list(alerts["code"]) == ["unknown_ca"] and list(alerts["sender"]) == ["server"]


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_same_findings_certificates_and_alerts_on_the_samples(path: Path):
    """Beyond the flow fields: the diagnoses, the certificate table and the alert events."""
    native, tshark = both(path)
    a = Capture(path, native, format="", bytes_read=0)
    b = Capture(path, tshark, format="", bytes_read=0)
    assert sorted(zip(a.findings.flow_id, a.findings.code)) == sorted(zip(b.findings.flow_id, b.findings.code))
    assert sorted(a.certificates.sha256) == sorted(b.certificates.sha256)
    for col in ("roles", "flow_ids"):
        assert dict(zip(a.certificates.sha256, map(list, a.certificates[col]))) == \
            dict(zip(b.certificates.sha256, map(list, b.certificates[col]))), col

    def alerts(cap):
        ev = cap.events[cap.events["kind"] == "alert"]
        return sorted(zip(ev.flow_id, ev.frame, ev.sender, ev.code, ev.detail))
    assert alerts(a) == alerts(b)


def test_works_inside_a_running_event_loop():
    """Jupyter runs an asyncio loop in the main thread; pyshark's own loop must not clash."""
    import asyncio

    async def main():
        return analyze_with_tshark(ROOT / "pcaps" / "tls13_443.pcap")

    an = asyncio.run(main())
    assert [f.outcome for f in an.flows] == ["established"]


def test_unusable_input_is_a_capture_error(tmp_path):
    text = tmp_path / "notes.pcap"
    text.write_text("this is not a capture\n")
    with pytest.raises(CaptureError):
        analyze_with_tshark(text)
    with pytest.raises(CaptureError):
        analyze_with_tshark(tmp_path / "missing.pcap")
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    with pytest.raises(CaptureError):
        analyze_with_tshark(empty)


def test_cut_capture_keeps_flows_and_warns(tmp_path):
    raw = (ROOT / "pcaps" / "lsc_rejected_unknown_ca.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(raw[:-10])
    an = analyze_with_tshark(cut)
    assert len(an.flows) == 1
    assert any(w.startswith("capture_truncated") for w in an.capture_warnings)


# ------------------------------------------------------------------------------------------
# native-engine bugs the differential run found (reproducers in tests/data/crashes/)


def test_bug_pppoe_payload_length():
    """pppoe-over-qinq.pcap, frames 1-21: a healthy TLS 1.2 handshake over PPPoE in QinQ."""
    path = CRASHES / "pppoe_padding_overlap.pcap"
    assert [f.history for f in analyze_with_tshark(path).flows] == ["CsxnGIFif"]
    flow = inspector.read_capture(path).flows.iloc[0]
    assert "overlap_different_data" not in list(flow["warnings"])
    assert flow["history"] == "CsxnGIFif"


def test_bug_tls13_draft_key_share():
    """tls13draft16-ff52.a01.pcap, frames 1-8: draft-16 ServerHello with key_share secp384r1."""
    path = CRASHES / "tls13_draft16_key_share.pcap"
    assert [f.kx_group for f in analyze_with_tshark(path).flows] == ["secp384r1"]
    flow = inspector.read_capture(path).flows.iloc[0]
    assert flow["tls_version"] == "TLS 1.3 (draft 16)"
    assert flow["kx_group"] == "secp384r1"


# ------------------------------------------------------------------------------------------
# the agreement table (python tests/differential/test_engines.py [--full])


def agreement_table(paths: list[Path]) -> str:
    tot_checks: Counter = Counter()
    tot_diff: Counter = Counter()
    files = flows = 0
    lines = []
    for p in paths:
        res = compare(p)
        files += 1
        flows += res.flows
        tot_checks.update(res.checks)
        for f, d in res.disagreements:
            tot_diff[f] += 1
            known = KNOWN_DIFFERENCES.get((p.name, f))
            lines.append(f"  {p.name} [{f}] {d}" + (f"\n      known: {known}" if known else "  ** UNEXPLAINED"))
    out = [f"files {files}, matched flows {flows}, fields compared {sum(tot_checks.values())}, "
           f"disagreements {sum(tot_diff.values())}", "", "| field | compared | disagree | agree % |",
           "|---|---:|---:|---:|"]
    for f in ["flows", *FIELDS]:
        n, d = tot_checks[f], tot_diff[f]
        out.append(f"| {f} | {n} | {d} | {100.0 * (n - d) / n if n else 100:.1f} |")
    return "\n".join(out + ["", *lines])


if __name__ == "__main__":
    if "--full" in sys.argv:
        corpus.FULL = True
    print(agreement_table(SAMPLES + corpus_files()))
