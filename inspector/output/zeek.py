"""``--format zeek``: the flows as Zeek's ``ssl.log`` and the certificates as its ``x509.log``.

The field names and types are those of Zeek's default logs (base/protocols/ssl/main.zeek,
base/files/x509/main.zeek; the Zeek >= 6 layout of the baselines in
``shared/corpus/public/zeek-zeek/baselines``), written the way Zeek's ASCII writer writes them:
TSV with the ``#separator``/``#set_separator``/``#empty_field``/``#unset_field``/``#path``/
``#open``/``#fields``/``#types`` header and a ``#close`` line, ``-`` for unset, ``(empty)`` for an
empty vector, ``T``/``F``, times as epoch seconds with 6 decimals, and non-printable bytes, the
separators and backslashes escaped (``\\x09``, ``\\x2c``, ``\\\\``).  With ``json=True`` each row is
one JSON object per line, as Zeek's ``LogAscii::use_json`` writes it (unset fields left out).

Where tlsinspect and Zeek spell a value differently, the Zeek spelling is used: ``TLSv12``,
``prime256v1``, ``ecdsa``, ``rsaEncryption``, an ``ssl_history`` without the F/f letters of
encrypted Finished messages (Zeek letters only what it parses in clear).  ``uid`` is Zeek-shaped
(``C`` + 17 base62 characters) and stable: derived from the capture name, flow id and 4-tuple.
Subjects and issuers are cryptography's RFC 4514 strings (Zeek writes OpenSSL's; they differ
only in the spelling of a few attribute types, e.g. STREET vs street).
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, TextIO

from ..model import Alert

SSL_FIELDS = (
    ("ts", "time"), ("uid", "string"), ("id.orig_h", "addr"), ("id.orig_p", "port"),
    ("id.resp_h", "addr"), ("id.resp_p", "port"), ("version", "string"), ("cipher", "string"),
    ("curve", "string"), ("server_name", "string"), ("resumed", "bool"), ("last_alert", "string"),
    ("next_protocol", "string"), ("established", "bool"), ("ssl_history", "string"),
    ("cert_chain_fps", "vector[string]"), ("client_cert_chain_fps", "vector[string]"),
    ("sni_matches_cert", "bool"),
)
X509_FIELDS = (
    ("ts", "time"), ("fingerprint", "string"), ("certificate.version", "count"),
    ("certificate.serial", "string"), ("certificate.subject", "string"),
    ("certificate.issuer", "string"), ("certificate.not_valid_before", "time"),
    ("certificate.not_valid_after", "time"), ("certificate.key_alg", "string"),
    ("certificate.sig_alg", "string"), ("certificate.key_type", "string"),
    ("certificate.key_length", "count"), ("certificate.exponent", "string"),
    ("certificate.curve", "string"), ("san.dns", "vector[string]"), ("san.uri", "vector[string]"),
    ("san.email", "vector[string]"), ("san.ip", "vector[addr]"), ("basic_constraints.ca", "bool"),
    ("basic_constraints.path_len", "count"), ("host_cert", "bool"), ("client_cert", "bool"),
)
LOGS = {"ssl": SSL_FIELDS, "x509": X509_FIELDS}

VERSIONS = {"SSL 2.0": "SSLv2", "SSL 3.0": "SSLv3", "TLS 1.0": "TLSv10", "TLS 1.1": "TLSv11",
            "TLS 1.2": "TLSv12", "TLS 1.3": "TLSv13"}
KEY_ALGS = {"1.2.840.113549.1.1.1": "rsaEncryption", "1.2.840.10045.2.1": "id-ecPublicKey",
            "1.2.840.10040.4.1": "dsaEncryption", "1.3.101.112": "ED25519", "1.3.101.113": "ED448",
            "1.2.840.113549.1.1.10": "rsassaPss"}
KEY_TYPES = {"RSA": "rsa", "EC": "ecdsa", "DSA": "dsa"}
CURVES = {"secp256r1": "prime256v1", "secp192r1": "prime192v1"}  # OpenSSL's short names
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def uid(*parts: Any) -> str:
    n = int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:13], "big")
    out = []
    for _ in range(17):
        n, r = divmod(n, 62)
        out.append(_B62[r])
    return "C" + "".join(out)


def _epoch(v: Any) -> float | None:
    if v is None:
        return None
    if isinstance(v, (int, float)):
        return float(v)
    return datetime.fromisoformat(str(v)).timestamp()


def ssl_rows(flows: Iterable[dict[str, Any]], certs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Flow rows (`inspector.output.report.table_rows(cap, "flows")`) -> ssl.log rows."""
    from ..x509 import hostname_matches

    out = []
    for f in flows:
        plain = [a.description for a in Alert.all_of(f.get("alerts")) if a.level != "encrypted"]
        hist = f.get("history") or None
        chain = list(f.get("server_chain_sha256") or [])
        sni = f.get("sni")
        matches = None
        if sni and chain and chain[0] in certs:
            leaf = certs[chain[0]]
            names = list(leaf.get("san_dns") or []) or ([leaf["subject_cn"]] if leaf.get("subject_cn") else [])
            matches = any(hostname_matches(n, sni) for n in names)
        out.append({
            "ts": _epoch(f.get("ts_start")),
            "uid": uid(f.get("capture"), f.get("flow_id"), f.get("client_ip"), f.get("client_port"),
                       f.get("server_ip"), f.get("server_port")),
            "id.orig_h": f.get("client_ip"), "id.orig_p": f.get("client_port"),
            "id.resp_h": f.get("server_ip"), "id.resp_p": f.get("server_port"),
            "version": VERSIONS.get(f.get("tls_version"), f.get("tls_version")),
            "cipher": f.get("cipher"), "curve": f.get("kx_group"), "server_name": sni,
            "resumed": bool(f.get("resumed")), "last_alert": plain[-1] if plain else None,
            "next_protocol": f.get("alpn"), "established": f.get("outcome") == "established",
            "ssl_history": (hist.replace("F", "").replace("f", "") or None) if hist else None,
            "cert_chain_fps": chain, "client_cert_chain_fps": list(f.get("client_chain_sha256") or []),
            "sni_matches_cert": matches,
        })
    return out


def _der_facts(der: bytes | None) -> dict[str, Any]:
    """What x509.log wants and the certificates table does not hold, read from the DER."""
    facts: dict[str, Any] = {}
    if not der:
        return facts
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import rsa

        c = x509.load_der_x509_certificate(der)
        facts["certificate.version"] = c.version.value + 1
        oid = c.public_key_algorithm_oid.dotted_string
        facts["certificate.key_alg"] = KEY_ALGS.get(oid, oid)
        try:
            key = c.public_key()
            if isinstance(key, rsa.RSAPublicKey):
                facts["certificate.exponent"] = str(key.public_numbers().e)
        except Exception:  # noqa: BLE001 - an undecodable key leaves the field unset
            pass
        try:
            san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            facts["san.uri"] = san.get_values_for_type(x509.UniformResourceIdentifier)
            facts["san.email"] = san.get_values_for_type(x509.RFC822Name)
        except (x509.ExtensionNotFound, ValueError):
            pass
    except Exception:  # noqa: BLE001 - garbage DER: the row keeps what the table has
        pass
    return facts


def x509_rows(certs: Iterable[dict[str, Any]], flow_ts: dict[int, float | None],
              ders: dict[str, bytes]) -> list[dict[str, Any]]:
    """Certificate rows (`table_rows(cap, "certificates")`) -> x509.log rows; ``ts`` is the start
    of the first flow that sent the certificate."""
    out = []
    for c in certs:
        ids = [i for i in c.get("flow_ids") or [] if i in flow_ts]
        facts = _der_facts(ders.get(c["sha256"]))
        roles = c.get("roles") or []
        serial = c.get("serial")
        out.append({
            "ts": min((flow_ts[i] for i in ids if flow_ts[i] is not None), default=None),
            "fingerprint": c["sha256"],
            "certificate.version": facts.get("certificate.version"),
            "certificate.serial": serial.upper() if isinstance(serial, str) else serial,
            "certificate.subject": c.get("subject"), "certificate.issuer": c.get("issuer"),
            "certificate.not_valid_before": _epoch(c.get("not_before")),
            "certificate.not_valid_after": _epoch(c.get("not_after")),
            "certificate.key_alg": facts.get("certificate.key_alg"),
            "certificate.sig_alg": c.get("signature_algorithm"),
            "certificate.key_type": KEY_TYPES.get(c.get("key_type"), (c.get("key_type") or "").lower() or None),
            "certificate.key_length": c.get("key_bits"),
            "certificate.exponent": facts.get("certificate.exponent"),
            "certificate.curve": CURVES.get(c.get("curve"), c.get("curve")),
            "san.dns": c.get("san_dns") or None, "san.uri": facts.get("san.uri") or None,
            "san.email": facts.get("san.email") or None, "san.ip": c.get("san_ip") or None,
            "basic_constraints.ca": c.get("is_ca"), "basic_constraints.path_len": c.get("path_length"),
            "host_cert": "server" in roles, "client_cert": "client" in roles,
        })
    return out


def _escape(s: str, in_set: bool = False) -> str:
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F or (in_set and ch == ","):
            out.append(f"\\x{o:02x}")
        else:
            out.append(ch)
    s = "".join(out)
    if s in ("-", "(empty)"):  # a value that reads like the unset/empty markers
        return "".join(f"\\x{ord(ch):02x}" for ch in s)
    return s if s or in_set else "(empty)"


def tsv_value(v: Any, ztype: str) -> str:
    if v is None:
        return "-"
    if ztype.startswith("vector") or ztype.startswith("set"):
        items = list(v)
        return ",".join(_escape(str(x), in_set=True) for x in items) if items else "(empty)"
    if ztype == "bool":
        return "T" if v else "F"
    if ztype == "time":
        return f"{float(v):.6f}"
    if ztype in ("count", "port", "int"):
        return str(int(v))
    return _escape(str(v))


class ZeekLog:
    """One log file (or stream): the header on the first write, ``#close`` on `close`."""

    def __init__(self, out: TextIO, path: str, *, json_lines: bool = False) -> None:
        self.out = out
        self.path = path
        self.fields = LOGS[path]
        self.json = json_lines
        self.started = False

    def _header(self) -> None:
        names = "\t".join(n for n, _t in self.fields)
        types = "\t".join(t for _n, t in self.fields)
        self.out.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
                       f"#path\t{self.path}\n#open\t{time.strftime('%Y-%m-%d-%H-%M-%S')}\n"
                       f"#fields\t{names}\n#types\t{types}\n")

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        if not self.started:
            self.started = True
            if not self.json:
                self._header()
        for r in rows:
            if self.json:
                obj = {n: (list(r[n]) if t.startswith("vector") else r[n])
                       for n, t in self.fields if r.get(n) is not None}
                self.out.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
            else:
                self.out.write("\t".join(tsv_value(r.get(n), t) for n, t in self.fields) + "\n")
        self.out.flush()

    def close(self) -> None:
        if not self.started:
            self.write([])
        if not self.json:
            self.out.write(f"#close\t{time.strftime('%Y-%m-%d-%H-%M-%S')}\n")
        self.out.flush()


def capture_logs(cap, flows: list[dict[str, Any]], certs: list[dict[str, Any]]) -> tuple[list, list]:
    """The ssl.log and x509.log rows of one `Capture` (flows/certs: its rows, maybe filtered)."""
    by_fp = {c["sha256"]: c for c in certs}
    ders = {fp: seen.info.der for fp, seen in cap.analysis.certificates.items()}
    flow_ts = {f["flow_id"]: _epoch(f.get("ts_start")) for f in flows}
    return ssl_rows(flows, by_fp), x509_rows(certs, flow_ts, ders)


def open_logs(directory: Path, *, json_lines: bool = False) -> dict[str, ZeekLog]:
    """``ssl.log`` and ``x509.log`` in ``directory`` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    return {name: ZeekLog(open(directory / f"{name}.log", "w", encoding="utf-8"), name,
                          json_lines=json_lines) for name in LOGS}
