"""tlsinspect against Zeek's own expected output for the Zeek traces of the public corpus.

``shared/corpus/public/zeek-zeek/baselines/<btest>/`` holds the ``ssl.log`` (and, for most,
``x509.log``) that Zeek's test suite expects for the trace(s) named in ``TRACES.txt``.  For each
baseline the trace is read with `inspector.read_capture` and every field both tools have is
compared:

- ``ssl.log`` rows, matched to flows by ``id.orig_h/p -> id.resp_h/p``: ``version``, ``cipher``,
  ``curve`` (kx_group), ``server_name`` (sni), ``resumed``, ``last_alert`` (last plaintext alert),
  ``established``, ``ssl_history`` (both use Zeek's letters), ``cert_chain_fps`` /
  ``client_cert_chain_fps`` (Zeek >= 6 logs SHA-256, 64 hex digits: checked), and where the
  btest logs them ``subject``/``issuer`` and ``requested_client_certificate_authorities``;
- ``x509.log`` rows, matched to the ``certificates`` table by ``fingerprint`` (SHA-256):
  ``certificate.subject``/``issuer`` (RFC 2253 strings, as OpenSSL prints them),
  ``not_valid_before``/``not_valid_after`` (epoch seconds), ``key_length``, ``san.dns``,
  ``basic_constraints.ca``.

Every mismatch must be listed in `EXPLAINED` ((btest, field) -> why); an entry that no longer
matches a mismatch fails, so the list cannot go stale.  ``python tests/differential/test_zeek_baselines.py``
prints the agreement per field.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import inspector  # noqa: E402
from corpus import corpus_file  # noqa: E402


ZEEK = corpus_file("zeek-zeek")
if not (ZEEK / "baselines").is_dir():
    pytest.skip("Zeek baselines (shared/corpus/public/zeek-zeek/baselines) not available",
                allow_module_level=True)

BASELINES = sorted(p for p in (ZEEK / "baselines").iterdir() if (p / "ssl.log").is_file())

VERSIONS = {"SSLv2": "SSL 2.0", "SSLv3": "SSL 3.0", "TLSv10": "TLS 1.0", "TLSv11": "TLS 1.1",
            "TLSv12": "TLS 1.2", "TLSv13": "TLS 1.3"}

_FINISHED = ("tlsinspect writes F/f for the encrypted Finished that follows each side's "
             "ChangeCipherSpec (and t for NewSessionTicket before it, like Zeek); Zeek letters "
             "only messages it parses in the clear, so its history has no F/f.  Every other letter "
             "agrees, in order")

#: (btest, field) -> why tlsinspect and Zeek differ there
EXPLAINED: dict[tuple[str, str], str] = {
    ("basic", "ssl_history"): _FINISHED,
    ("cve-2015-3194", "ssl_history"): _FINISHED,
    ("ecdsa", "ssl_history"): _FINISHED,
    ("policy.certificate-request-info", "ssl_history"): _FINISHED,
    ("policy.validate-certs-no-cache", "ssl_history"): _FINISHED,
    ("tls-1.2", "ssl_history"): _FINISHED,
    ("tls1_1", "ssl_history"): _FINISHED,
    ("tls-1.2", "x509.subject"):
        "same name, different spelling of two attribute types: cryptography's RFC 4514 string "
        "writes streetAddress as STREET and postalCode (not in RFC 4514's keyword table) as "
        "2.5.4.17=94568; OpenSSL (Zeek) writes street= and postalCode=",
}


# ------------------------------------------------------------------------------------------
# Zeek logs


def read_zeek_log(path: Path) -> list[dict[str, str]]:
    """A Zeek TSV log as dicts (``-`` unset, ``(empty)`` empty set: kept as text)."""
    fields: list[str] = []
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif line and not line.startswith("#"):
            rows.append(dict(zip(fields, line.split("\t"))))
    return rows


def _unset(v: str | None) -> str | None:
    return None if v in (None, "-", "") else v


def _vec(v: str | None) -> list[str]:
    """A Zeek vector: ',' separates, a ',' inside an element is logged as \\x2c."""
    if v in (None, "-", "(empty)", ""):
        return []
    return [e.replace("\\x2c", ",") for e in v.split(",")]


def _bool(v: str | None) -> bool | None:
    return {"T": True, "F": False}.get(v or "")


def traces(baseline: Path) -> list[Path]:
    text = (baseline / "TRACES.txt").read_text(encoding="utf-8")
    names = text.split(":", 1)[1].split() if ":" in text else text.split()
    out = []
    for n in names:
        base = Path(n).name
        if base.endswith(".gz"):
            base = base[:-3]
        p = ZEEK / base
        if p.is_file():
            out.append(p)
    return out


# ------------------------------------------------------------------------------------------
# comparison


def _na(v):
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return list(v)
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return v


@dataclass
class Result:
    name: str
    checks: Counter = field(default_factory=Counter)
    mismatches: list[tuple[str, str]] = field(default_factory=list)

    def check(self, fld: str, ours, zeeks, where: str) -> None:
        self.checks[fld] += 1
        if ours != zeeks:
            self.mismatches.append((fld, f"{where}: tlsinspect {ours!r} / Zeek {zeeks!r}"))


@lru_cache(maxsize=None)
def _capture(path: Path):
    return inspector.read_capture(path)


def compare(baseline: Path) -> Result:
    res = Result(baseline.name)
    caps = [_capture(p) for p in traces(baseline)]
    assert caps, f"{baseline.name}: trace not in the corpus ({(baseline / 'TRACES.txt').read_text()})"
    flows = pd.concat([c.flows for c in caps], ignore_index=True)
    certs = pd.concat([c.certificates for c in caps], ignore_index=True)
    by_key = {(str(r.client_ip), int(r.client_port), str(r.server_ip), int(r.server_port)): r
              for r in flows.itertuples(index=False)}
    for z in read_zeek_log(baseline / "ssl.log"):
        key = (z["id.orig_h"], int(z["id.orig_p"]), z["id.resp_h"], int(z["id.resp_p"]))
        where = f"{key[0]}:{key[1]} -> {key[2]}:{key[3]}"
        row = by_key.get(key)
        res.checks["connection"] += 1
        if row is None:
            res.mismatches.append(("connection", f"{where}: in Zeek's ssl.log, not in tlsinspect"))
            continue
        v = _unset(z.get("version"))
        res.check("version", _na(row.tls_version), VERSIONS.get(v, v) if v else None, where)
        res.check("cipher", _na(row.cipher), _unset(z.get("cipher")), where)
        res.check("curve", _na(row.kx_group), _unset(z.get("curve")), where)
        res.check("server_name", _na(row.sni), _unset(z.get("server_name")), where)
        res.check("resumed", bool(row.resumed), _bool(z.get("resumed")), where)
        plain = [a.split(":")[2] for a in (_na(row.alerts) or []) if ":encrypted:" not in a]
        res.check("last_alert", plain[-1] if plain else None, _unset(z.get("last_alert")), where)
        res.check("established", row.outcome == "established", _bool(z.get("established")), where)
        hist = _na(row.history) or None
        res.check("ssl_history", hist, _unset(z.get("ssl_history")), where)
        # the same without the encrypted-Finished letters Zeek does not write (see _FINISHED)
        res.check("ssl_history without F/f", hist and hist.replace("F", "").replace("f", "") or None,
                  _unset(z.get("ssl_history")), where)
        for zf, ours in (("cert_chain_fps", row.server_chain_sha256),
                         ("client_cert_chain_fps", row.client_chain_sha256)):
            fps = _vec(z.get(zf))
            assert all(len(fp) == 64 for fp in fps), f"{zf} is not SHA-256 in {baseline.name}"
            res.check(zf, _na(ours) or [], fps, where)
        for zf, ours in (("subject", row.server_subject), ("issuer", row.server_issuer)):
            if zf in z:
                res.check(f"ssl.{zf}", _na(ours), _unset(z[zf]), where)
        if "requested_client_certificate_authorities" in z:
            res.check("requested_client_certificate_authorities", _na(row.requested_ca_names) or [],
                      _vec(z["requested_client_certificate_authorities"]), where)
    x509 = baseline / "x509.log"
    if x509.is_file():
        by_fp = {r.sha256: r for r in certs.itertuples(index=False)}
        for z in read_zeek_log(x509):
            fp = z["fingerprint"]
            assert len(fp) == 64, f"x509.log fingerprint is not SHA-256 in {baseline.name}"
            where = fp[:16]
            c = by_fp.get(fp)
            res.checks["fingerprint"] += 1
            if c is None:
                res.mismatches.append(("fingerprint", f"{where}: in Zeek's x509.log, not in tlsinspect"))
                continue
            res.check("x509.subject", _na(c.subject), _unset(z["certificate.subject"]), where)
            res.check("x509.issuer", _na(c.issuer), _unset(z["certificate.issuer"]), where)
            for zf, ours in (("certificate.not_valid_before", c.not_before),
                             ("certificate.not_valid_after", c.not_after)):
                ours_s = None if _na(ours) is None else pd.Timestamp(ours).timestamp()
                res.check(zf.split(".")[1], ours_s, float(z[zf]) if _unset(z[zf]) else None, where)
            kl = _unset(z.get("certificate.key_length"))
            res.check("key_length", _na(c.key_bits), int(kl) if kl else None, where)
            res.check("san.dns", sorted(_na(c.san_dns) or []), sorted(_vec(z.get("san.dns"))), where)
            res.check("basic_constraints.ca", _na(c.is_ca), _bool(z.get("basic_constraints.ca")), where)
    return res


@pytest.mark.parametrize("baseline", BASELINES, ids=[b.name for b in BASELINES])
def test_matches_zeek_baseline(baseline: Path):
    res = compare(baseline)
    explained = {f: r for (b, f), r in EXPLAINED.items() if b == baseline.name}
    open_ = [(f, d) for f, d in res.mismatches if f not in explained]
    stale = sorted(set(explained) - {f for f, _ in res.mismatches})
    report = "\n".join(f"  [{f}] {d}" for f, d in open_)
    assert not open_, f"tlsinspect and Zeek's {baseline.name} baseline disagree:\n{report}"
    assert not stale, f"{baseline.name}: EXPLAINED entries no longer needed: {stale}"


def test_every_baseline_has_its_trace():
    missing = [b.name for b in BASELINES if not traces(b)]
    assert not missing, missing
    assert {b for b, _ in EXPLAINED} <= {b.name for b in BASELINES}


def agreement_table() -> str:
    checks: Counter = Counter()
    bad: Counter = Counter()
    lines = []
    for b in BASELINES:
        res = compare(b)
        checks.update(res.checks)
        for f, d in res.mismatches:
            bad[f] += 1
            why = EXPLAINED.get((b.name, f))
            lines.append(f"  {b.name} [{f}] {d}" + (f"\n      explained: {why}" if why else "  ** UNEXPLAINED"))
    out = [f"{len(BASELINES)} Zeek baselines, {sum(checks.values())} values compared, "
           f"{sum(bad.values())} mismatches", "", "| field | compared | mismatch | agree % |",
           "|---|---:|---:|---:|"]
    for f in checks:
        n, d = checks[f], bad[f]
        out.append(f"| {f} | {n} | {d} | {100.0 * (n - d) / n:.1f} |")
    return "\n".join(out + ["", *lines])


if __name__ == "__main__":
    print(agreement_table())
