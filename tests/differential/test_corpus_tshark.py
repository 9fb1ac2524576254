"""tlsinspect vs tshark, flow by flow, on every capture of the public corpus.

For each capture file the engine (`inspector.read_capture`) and the tshark oracle
(`oracle.tshark_flows`, one tshark run per file, all started in a thread pool on first
use, see `tshark_result`) are compared.  Flows are matched by client ip:port and server ip:port.  Compared:

- ``flows``: the set of TCP connections with a ClientHello or ServerHello (and who is client);
- ``sni``: server_name of the ClientHello (when tshark saw the ClientHello);
- ``server_chain`` / ``client_chain``: SHA-256 of each certificate of the first Certificate
  message each side sent, in order (tshark's DER, hashed here);
- ``server_subject`` / ``server_issuer`` (and client_*): the engine's RFC 4514 strings against
  ``cryptography``'s for the first certificate tshark saw (skipped for a certificate
  ``cryptography`` cannot load);
- ``alerts``: plaintext alerts as ``sender:level:description``, also on flows that both tools
  know but where neither saw a hello (a capture started mid-connection).  The engine's ``encrypted``
  alerts are left out (tshark has no fields for them).  The engine stops looking at a flow when
  the handshake is over (``last_frame``), so for an ``established`` flow tshark's alerts after
  ``last_frame`` (close_notify at the end of the session) are out of scope; for any other
  outcome every alert tshark read must be there;
- ``version`` and ``cipher``: negotiated version name and cipher suite code (when tshark saw a
  ServerHello; no cipher for SSL 2.0).

Each case must compare at least one flow.  ``DECODE_AS`` gives tshark the hint it needs where it
does not dissect TLS on its own.  ``KNOWN_DIFFERENCES`` lists files where the tools legitimately
disagree (such a case is skipped with its reason, and fails if the difference has gone, so the
entry cannot go stale); ``SUSPECTED_BUGS`` are engine bugs, ``xfail(strict=True)`` until fixed.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow plain `pytest` without an install
    sys.path.insert(0, str(ROOT))

import inspector  # noqa: E402
from oracle import TsharkError, TsharkFlow, find_tshark, tshark_flows  # noqa: E402
from corpus import CORPUS, corpus_files, corpus_id  # noqa: E402


TSHARK = find_tshark()
if CORPUS is None:
    pytest.skip("public corpus (shared/corpus/public) not available", allow_module_level=True)
if TSHARK is None:
    pytest.skip("tshark not available", allow_module_level=True)

FILES = corpus_files()

#: tshark -d hints for files where it does not dissect TLS by itself (the TCP heuristic only
#: catches streams that start with a TLS record, and SSLv2 records not even then)
DECODE_AS: dict[str, tuple[str, ...]] = {
    "sslv2.pcapng": ("tcp.port==4433,tls",),  # SSLv2 on 4433: no heuristic match
    "tls_port_80.pcapng": ("tcp.port==80,tls",),  # port 80 goes to HTTP
    "irc-starttls.pcap": ("tcp.port==6667,tls",),  # tshark's IRC has no STARTTLS hand-off
}

#: file name -> why tlsinspect and tshark legitimately disagree there
KNOWN_DIFFERENCES: dict[str, str] = {
    "dtls1_2.pcap": "DTLS over UDP: tlsinspect is TCP-only and the oracle reads TCP streams only, "
                    "so neither reports a flow",
    "dtls13-wolfssl.pcap": "DTLS 1.3 over UDP: tlsinspect is TCP-only and the oracle reads TCP "
                           "streams only, so neither reports a flow",
    "bug-1450-04__tls_DER-incomplete-header.pcap": "tshark calls the file corrupt after frame 6 "
        "(a 4325376-byte record; both tools keep the 6 frames before it) and its "
        "tls.handshake.certificate value stops where its X.509 dissector threw: 7 of the 9 "
        "bytes the Certificate message declares; tlsinspect hashes all 9 as sent",
    "tls-fragmented-handshake.pcap": "handshake messages split across many small TLS records: "
                                     "tshark 4.0 shows 'Encrypted Handshake Message' and no "
                                     "Certificate; tlsinspect reassembles it (CN=Bro, chain "
                                     "af4a46e9...), as Zeek's fragment/ssl.log baseline does",
}

#: files where tshark computes a fingerprint that no flows row carries, and why (the row keeps one
#: ClientHello and one ServerHello; a flow with more, or a hello we reject, shows fewer): the
#: entry names the fingerprint kind that is missing, and an entry that stops matching fails
ONE_HELLO_PER_ROW: dict[str, tuple[str, str]] = {
    "tls-duplicate-hello__input.pcap": ("ja3", "a second, malformed ClientHello on the same connection "
                                        "(warning duplicate_client_hello); the row keeps the first"),
    "tls13-draft22__tls13_draft22.pcap": ("ja3s", "a draft-22 HelloRetryRequest (a ServerHello) then the "
                                          "ServerHello: the row's JA3S is the final ServerHello's"),
    "hrr.pcap": ("ja3s", "HelloRetryRequest: tshark fingerprints the HRR, the row the final ServerHello"),
    "tls_invalid_reads.pcap": ("ja3", "a malformed ClientHello (extension_overrun): tshark hashes the "
                               "extensions it truncates, we hash the ones that parse"),
}

#: file name -> suspected tlsinspect bug (the case is xfail(strict=True) until the engine is fixed)
SUSPECTED_BUGS: dict[str, str] = {}


# ------------------------------------------------------------------------------------------
# running both tools


def _run_tshark(p: Path) -> list[TsharkFlow] | TsharkError:
    try:
        return tshark_flows(p, extra_decode_as=DECODE_AS.get(p.name, ()), tshark=TSHARK)
    except TsharkError as e:
        return e


_FUTURES: dict[Path, Future] = {}


def tshark_result(path: Path) -> list[TsharkFlow] | TsharkError:
    """tshark's flows for one corpus file, each file run once per process.

    In a plain run the first call starts tshark on every file in a thread pool (one tshark per
    CPU, tshark being single-threaded) and later calls find theirs done; under pytest-xdist each
    worker runs only the files it is given.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        if path not in _FUTURES:
            fut: Future = Future()
            fut.set_result(_run_tshark(path))
            _FUTURES[path] = fut
    elif not _FUTURES:
        pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
        for p in FILES:
            _FUTURES[p] = pool.submit(_run_tshark, p)
        pool.shutdown(wait=False)
    return _FUTURES[path].result()


def _na(v):
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


def _list(v) -> list:
    v = _na(v) if not isinstance(v, (list, tuple)) else v
    return list(v) if v is not None else []


def _ip(text: str) -> str:
    return str(ipaddress.ip_address(text))


def _engine_has_hello(row) -> bool:
    history = _na(row.history) or ""
    return (_na(row.tls_version) is not None or _na(row.client_max_version) is not None
            or "C" in history or "s" in history)


@lru_cache(maxsize=None)
def _cert_names(der: bytes) -> tuple[str, str] | None:
    from cryptography import x509
    try:
        cert = x509.load_der_x509_certificate(der)
        return cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
    except Exception:  # noqa: BLE001 - cryptography refuses some real-world DER
        return None


@dataclass
class Comparison:
    """What was compared in one file and where the tools disagree."""

    flows: int = 0  # matched flows with a ClientHello or ServerHello
    alert_only_flows: int = 0  # matched flows without one (midstream): only alerts compared
    checks: Counter = field(default_factory=Counter)  # field -> values compared
    disagreements: list[tuple[str, str]] = field(default_factory=list)  # (category, detail)
    fingerprints_missing: set[tuple[str, str]] = field(default_factory=set)  # tshark's JA3/JA3S on no row

    def differ(self, category: str, detail: str) -> None:
        self.disagreements.append((category, detail))

    def check(self, category: str, mine, theirs, where: str) -> None:
        self.checks[category] += 1
        if mine != theirs:
            self.differ(category, f"{where}: tlsinspect {mine!r} / tshark {theirs!r}")


def compare(path: Path) -> Comparison:
    theirs = tshark_result(path)
    if isinstance(theirs, TsharkError):
        raise theirs
    res = Comparison()
    mine_all = {}
    frame = inspector.read_capture(path).flows
    ours = {("ja3", v) for v in frame.ja3.dropna()} | {("ja3s", v) for v in frame.ja3s.dropna()}
    fingerprints = {("ja3", v) for f in theirs for v in f.ja3} | {("ja3s", v) for f in theirs for v in f.ja3s}
    res.checks["fingerprints"] += len(fingerprints)
    res.fingerprints_missing = fingerprints - ours
    for row in frame.itertuples(index=False):
        key = (_ip(row.client_ip), int(row.client_port), _ip(row.server_ip), int(row.server_port))
        mine_all[key] = row
    ts_all = {f.key: f for f in theirs}
    mine = {k: r for k, r in mine_all.items() if _engine_has_hello(r)}
    ts = {k: f for k, f in ts_all.items() if f.has_hello}

    res.checks["flows"] += len(set(mine) | set(ts))
    for key in sorted(set(mine) ^ set(ts), key=str):
        who = "tlsinspect" if key in mine else "tshark"
        flipped = (key[2], key[3], key[0], key[1])
        note = " (the other tool has it with client and server swapped)" if flipped in (
            ts if key in mine else mine) else ""
        res.differ("flows", f"{key[0]}:{key[1]} -> {key[2]}:{key[3]} only in {who}{note}")

    # flows without a hello on either side (midstream): both tools still report their alerts
    for key in sorted((set(mine_all) & set(ts_all)) - set(mine) - set(ts), key=str):
        res.alert_only_flows += 1
        _compare_alerts(res, mine_all[key], ts_all[key], f"{key[0]}:{key[1]} -> {key[2]}:{key[3]}")

    for key in sorted(set(mine) & set(ts), key=str):
        row, fl = mine[key], ts[key]
        res.flows += 1
        where = f"{key[0]}:{key[1]} -> {key[2]}:{key[3]}"
        if fl.client_hellos:
            res.check("sni", _na(row.sni), fl.sni, where)
        if fl.server_hellos:
            res.check("version", _na(row.tls_version), fl.tls_version, where)
            if fl.version != 0x0002:
                cid = _na(row.cipher_id)
                res.check("cipher", None if cid is None else int(cid), fl.cipher_id, where)
        for side in ("server", "client"):
            chain = fl.server_chain if side == "server" else fl.client_chain
            fps = fl.server_chain_sha256 if side == "server" else fl.client_chain_sha256
            res.check(f"{side}_chain", _list(getattr(row, f"{side}_chain_sha256")), list(fps), where)
            names = _cert_names(chain[0]) if chain else (None, None)
            if names is not None:  # None: cryptography cannot load tshark's certificate
                res.check(f"{side}_subject", _na(getattr(row, f"{side}_subject")), names[0], where)
                res.check(f"{side}_issuer", _na(getattr(row, f"{side}_issuer")), names[1], where)
        _compare_alerts(res, row, fl, where)
    return res


def _compare_alerts(res: Comparison, row, fl: TsharkFlow, where: str) -> None:
    ours = [a for a in _list(row.alerts) if ":encrypted:" not in a]
    last = _na(row.last_frame)
    in_scope = [a for a in fl.alerts
                if not (row.outcome == "established" and last is not None and a.frame > last)]
    res.check("alerts", ours, [str(a) for a in in_scope], where)


# ------------------------------------------------------------------------------------------
# the tests


def _case(p: Path):
    rel = corpus_id(p)
    if p.name in SUSPECTED_BUGS:
        return pytest.param(p, id=rel, marks=pytest.mark.xfail(strict=True, reason=SUSPECTED_BUGS[p.name]))
    return pytest.param(p, id=rel)


def test_corpus_is_there():
    assert len(FILES) >= 50, f"only {len(FILES)} captures under {CORPUS}"
    names = [p.name for p in FILES]
    assert len(names) == len(set(names)), "file names must be unique (tables are keyed by name)"
    listed = set(DECODE_AS) | set(KNOWN_DIFFERENCES) | set(SUSPECTED_BUGS) | set(ONE_HELLO_PER_ROW)
    assert listed <= set(names), f"entries for files not in the corpus: {sorted(listed - set(names))}"
    assert not set(KNOWN_DIFFERENCES) & set(SUSPECTED_BUGS)


@pytest.mark.parametrize("path", [_case(p) for p in FILES])
def test_matches_tshark(path: Path):
    """Every field both tools report agrees, flow by flow; and every JA3/JA3S tshark computes is on
    one of our rows (all files, known differences included)."""
    res = compare(path)
    known = ONE_HELLO_PER_ROW.get(path.name)
    if known is None:
        assert not res.fingerprints_missing, f"tshark's fingerprints not on any row: {sorted(res.fingerprints_missing)}"
    else:
        kind, _why = known
        assert res.fingerprints_missing and {k for k, _ in res.fingerprints_missing} == {kind}, (
            res.fingerprints_missing, known)
    report = "\n".join(f"  [{cat}] {detail}" for cat, detail in res.disagreements)
    if path.name in KNOWN_DIFFERENCES:
        assert res.disagreements or res.flows == 0, (
            f"{path.name} now agrees with tshark on {res.flows} flows: "
            "remove its KNOWN_DIFFERENCES entry")
        pytest.skip(f"known difference: {KNOWN_DIFFERENCES[path.name]}")
    assert not res.disagreements, f"tlsinspect and tshark disagree on {path.name}:\n{report}"
    assert res.flows > 0, (
        f"no TLS flow compared in {path.name}: give tshark a DECODE_AS hint or explain it "
        "in KNOWN_DIFFERENCES")
