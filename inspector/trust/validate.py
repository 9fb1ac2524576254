"""Validating one chain at a time: path building (names plus AKI/SKI, trusted store first), the
checks in OpenSSL's order, cryptography's own RFC 5280 verifier; see `inspector.trust` for the
statuses."""

from __future__ import annotations

import ipaddress
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, Sequence

from .._lazy import lazy_import
from ..model import validity
from ..x509 import hostname_matches, verify_with_key
from .nodes import _attr, _der_of, _ext, _guard, _key_cert_sign, _label_of_name, _label_of_string, _node, _Node, _rfc4514
from .store import Anchor, TrustStore

#: cryptography, imported when the first chain is judged
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "InvalidSignature": ("cryptography.exceptions", "InvalidSignature"),
    "UnsupportedAlgorithm": ("cryptography.exceptions", "UnsupportedAlgorithm"),
    "ExtendedKeyUsageOID": ("cryptography.x509.oid", "ExtendedKeyUsageOID"),
    "NameOID": ("cryptography.x509.oid", "NameOID"),
    "PolicyBuilder": ("cryptography.x509.verification", "PolicyBuilder"),
    "Store": ("cryptography.x509.verification", "Store"),
    "VerificationError": ("cryptography.x509.verification", "VerificationError"),
})

Purpose = Literal["server", "client"]

MAX_DEPTH = 16
"""Longest path built (certificates, leaf included)."""


@dataclass(frozen=True)
class Validation:
    """How a chain fares against a trust store at one time.

    ``status``: ``ok``, ``ok_by_name:<CN>``, ``self_signed``, ``unknown_issuer:<issuer CN>``,
    ``expired:<CN>``, ``not_yet_valid:<CN>``, ``bad_signature:<CN>``, ``name_mismatch``,
    ``not_a_ca:<CN>``, ``path_length_exceeded``, ``wrong_purpose:<CN>``, ``no_certificate``,
    ``unparseable:<sha256 prefix>``.  ``path``: SHA-256 of each certificate from the leaf to the
    anchor as built (a name-only anchor has no certificate, so it is not in ``path``).
    ``anchor``: subject of the trust anchor reached, else None.  ``missing_issuer``: the name a
    trust store would have to hold (``"<RFC 4514> [AKI <hex>]"``), when the path is not anchored.
    ``problems``: every problem found, in the order above, the status first (``explain`` has a
    sentence for each).  ``verifier``:
    cryptography's RFC 5280 verifier's verdict (``"ok"``, ``"rejected: ..."``), None when not run.
    """

    status: str
    detail: str
    path: list[str] = field(default_factory=list)
    anchor: str | None = None
    missing_issuer: str | None = None
    problems: list[str] = field(default_factory=list)
    verifier: str | None = None
    at: datetime | None = None
    explain: dict[str, str] = field(default_factory=dict, compare=False)
    """One sentence per entry of ``problems``."""

    @property
    def ok(self) -> bool:
        """Trusted: ``ok``, or ``ok_by_name:`` (anchored by a name-only anchor)."""
        return self.status == "ok" or self.status.startswith("ok_by_name:")

    @property
    def code(self) -> str:
        """The status without its ``:<name>`` argument."""
        return self.status.split(":", 1)[0]


#: the ExtendedKeyUsageOID each purpose needs (looked up at use: cryptography is imported lazily)
_PURPOSE_OID = {"server": "SERVER_AUTH", "client": "CLIENT_AUTH"}


def _aware(at: Any) -> datetime:
    if hasattr(at, "to_pydatetime"):
        at = at.to_pydatetime()
    if isinstance(at, (int, float)):
        return datetime.fromtimestamp(float(at), tz=timezone.utc)
    if not isinstance(at, datetime):
        raise TypeError(f"at must be a datetime, not {type(at).__name__}")
    return at.replace(tzinfo=timezone.utc) if at.tzinfo is None else at.astimezone(timezone.utc)


def _fmt_time(t: datetime | None) -> str:
    return "?" if t is None else t.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass
class _Built:
    path: list[_Node]
    anchor_kind: Literal["cert", "name", None] = None
    anchor_name: str | None = None  # display of the anchor
    anchor_source: str | None = None
    top_self_signed: bool = False
    missing: x509.Name | None = None
    missing_aki: bytes | None = None
    near_misses: list[_Node] = field(default_factory=list)
    loop: bool = False


class _Sig:
    """Signature checks, each done once: True, False, or None (unsupported key/algorithm)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], tuple[bool | None, str]] = {}

    def check(self, child: _Node, parent: _Node) -> tuple[bool | None, str]:
        key = (child.sha256, parent.sha256)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if child.cert is None or parent.cert is None:
            res: tuple[bool | None, str] = (None, "certificate not decodable")
        else:
            _load_cryptography()  # the except clauses below need the real classes
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        child.cert.verify_directly_issued_by(parent.cert)
                    except (ValueError, TypeError, UnsupportedAlgorithm) as first:
                        # cryptography's X.509 layer refuses SHA-1/MD5 signatures; the
                        # primitives still check them (certs.verify_with_key)
                        verify_with_key(child.cert, parent.cert.public_key(), None, first)
                res = (True, "")
            except InvalidSignature:
                res = (False, "signature does not verify")
            except ValueError as e:
                res = (False, str(e)[:120])
            except (TypeError, UnsupportedAlgorithm) as e:
                res = (None, f"unsupported: {str(e)[:120]}")
        self.cache[key] = res
        return res


def _valid_at(n: _Node, at: datetime) -> bool:
    return validity(n.not_before, n.not_after, at) == "valid"


def _build_path(chain: list[_Node], store: TrustStore | None, name_anchors: Sequence[Anchor],
                at: datetime, sig: _Sig) -> _Built:
    """Leaf to anchor, the way OpenSSL's build_chain goes (trusted store first), by names and
    AKI/SKI; among several candidate issuers prefer a key-id match, then a good signature, then
    one from the store, then one valid at ``at``."""
    b = _Built(path=[chain[0]])
    used = {chain[0].sha256}
    store_nodes = store._nodes if store is not None else []
    while True:
        cur = b.path[-1]
        depth = len(b.path) - 1
        if store is not None:
            hit = store._lookup(cur)
            if hit is not None:
                b.anchor_kind = "cert"
                b.anchor_name = _rfc4514(hit.subject) or hit.sha256
                b.anchor_source = store.source_of(hit.sha256)
                if hit.sha256 != cur.sha256:  # same name and key, other DER: the store's copy is the anchor
                    b.path[-1] = hit
                return b
        if depth >= 1:
            for a in name_anchors:
                if a.matches_name(cur.subject):
                    b.anchor_kind, b.anchor_name, b.anchor_source = "name", a.subject, a.source
                    return b
        if cur.self_issued:
            b.top_self_signed = True
            return b
        if len(b.path) >= MAX_DEPTH:
            b.loop = True
            b.missing, b.missing_aki = cur.issuer, cur.aki
            return b
        cands: list[tuple[_Node, bool]] = [(n, True) for n in store_nodes if n.could_issue(cur)]
        cands += [(n, False) for n in chain[1:] if n.sha256 not in used and n.could_issue(cur)]
        if cands:
            def rank(c: tuple[_Node, bool]) -> tuple[bool, bool, bool, bool]:
                n, in_store = c
                keyid = bool(cur.aki and n.ski and cur.aki == n.ski)
                return (not keyid, sig.check(cur, n)[0] is not True, not in_store, not _valid_at(n, at))
            best, in_store = min(cands, key=rank)
            b.path.append(best)
            used.add(best.sha256)
            if in_store:
                b.anchor_kind = "cert"
                b.anchor_name = _rfc4514(best.subject) or best.sha256
                b.anchor_source = store.source_of(best.sha256) if store is not None else None
                return b
            continue
        for a in name_anchors:
            if a.matches_name(cur.issuer):
                b.anchor_kind, b.anchor_name, b.anchor_source = "name", a.subject, a.source
                return b
        b.missing, b.missing_aki = cur.issuer, cur.aki
        pool = list(store_nodes) + [n for n in chain[1:] if n.sha256 not in used]
        b.near_misses = [n for n in pool if n.subject_key is not None and n.subject_key == cur.issuer_key]
        return b


def _is_ip(s: str) -> bool:
    try:
        ipaddress.ip_address(s)
        return True
    except ValueError:
        return False


def _name_check(leaf: _Node, hostname: str) -> tuple[bool, str]:
    """Does the leaf cover ``hostname`` (DNS or IP SANs; the CN only when no SAN of that kind)?"""
    cert = leaf.cert
    san = _guard(lambda: _ext(cert, x509.SubjectAlternativeName), None) if cert is not None else None
    dns = list(san.get_values_for_type(x509.DNSName)) if san is not None else []
    ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)] if san is not None else []
    cns = _attr(leaf.subject, NameOID.COMMON_NAME)
    if _is_ip(hostname):
        want = ipaddress.ip_address(hostname)
        if any(ipaddress.ip_address(a) == want for a in ips):
            return True, f"{hostname} is in the SAN"
        if san is None and any(c.strip() == hostname for c in cns):
            return True, f"{hostname} is the CN (no SAN)"
        names = ", ".join(ips + dns) or ("CN " + ", ".join(cns) if cns else "none")
        return False, f"{hostname} is not among the certificate's addresses/names ({names})"
    if any(hostname_matches(d, hostname) for d in dns):
        return True, f"{hostname} is in the SAN"
    if not dns and any(hostname_matches(c, hostname) for c in cns):
        return True, f"{hostname} matches the CN (no DNS SAN)"
    names = ", ".join(dns) if dns else ("CN " + ", ".join(cns) if cns else "none")
    return False, f"{hostname} is not in the certificate's names ({names})"


def _subject_for(hostname: str | None, leaf: _Node) -> x509.verification.Subject | None:
    from cryptography.x509 import DNSName, IPAddress
    name = hostname
    if name is None and leaf.cert is not None:
        san = _guard(lambda: _ext(leaf.cert, x509.SubjectAlternativeName), None)
        if san is not None:
            vals = list(san.get_values_for_type(x509.DNSName))
            vals = vals or [str(a) for a in san.get_values_for_type(x509.IPAddress)]
            name = vals[0] if vals else None
    if not name:
        return None
    try:
        return IPAddress(ipaddress.ip_address(name)) if _is_ip(name) else DNSName(name.rstrip("."))
    except Exception:  # noqa: BLE001
        return None


def _crypto_verdict(store: TrustStore, chain: list[_Node], purpose: Purpose, hostname: str | None,
                    at: datetime) -> str | None:
    """cryptography's own RFC 5280 verifier over the chain as sent, or None when it cannot run."""
    cstore = store._crypto_store
    leaf = chain[0].cert
    if cstore is None or leaf is None:
        return None
    inters = [n.cert for n in chain[1:] if n.cert is not None]
    _load_cryptography()  # the except clause below needs the real VerificationError
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _run_verifier(cstore, leaf, inters, chain[0], purpose, hostname, at)
    except VerificationError as e:
        return f"rejected: {' '.join(str(e).split())[:300]}"
    except Exception as e:  # noqa: BLE001 - e.g. an unsupported key type: record, never fail
        return f"error: {type(e).__name__}: {' '.join(str(e).split())[:200]}"


def _run_verifier(cstore: Store, leaf: x509.Certificate, inters: list[x509.Certificate], leaf_node: _Node,
                  purpose: Purpose, hostname: str | None, at: datetime) -> str | None:
    builder = PolicyBuilder().store(cstore).time(at)
    if purpose == "server":
        subject = _subject_for(hostname, leaf_node)
        if subject is None:
            return None
        builder.build_server_verifier(subject).verify(leaf, inters)
    else:
        builder.build_client_verifier().verify(leaf, inters)
    return "ok"


def _aki_text(name: x509.Name | None, aki: bytes | None) -> str | None:
    if name is None:
        return None
    text = _rfc4514(name) or "?"
    return f"{text} [AKI {aki.hex()}]" if aki else text


def _validate(chain: list[_Node], *, at: datetime, store: TrustStore | None, purpose: Purpose,
              hostname: str | None, extra_anchor_names: Sequence[str] = (), sig: _Sig | None = None
              ) -> Validation:
    if purpose not in _PURPOSE_OID:
        raise ValueError(f'purpose must be "server" or "client", not {purpose!r}')
    if not chain:
        return Validation("no_certificate", "No certificate was sent (or none was visible in the capture).",
                          at=at, problems=["no_certificate"])
    leaf = chain[0]
    if leaf.cert is None or leaf.subject_key is None:
        st = f"unparseable:{leaf.sha256[:16]}"
        return Validation(st, f"The leaf certificate ({leaf.sha256[:16]}...) does not decode; nothing was checked.",
                          path=[leaf.sha256], at=at, problems=[st])
    sig = sig or _Sig()
    name_anchors = list(store.name_anchors) if store is not None else []
    name_anchors += TrustStore.from_names(extra_anchor_names, name="extra").anchors
    b = _build_path(chain, store, name_anchors, at, sig)
    path = b.path
    problems: list[tuple[str, str]] = []
    store_txt = f"trust store '{store.name}'" if store is not None else "no trust store (none given)"

    # 1. trust
    if b.anchor_kind is None:
        top = path[-1]
        if b.top_self_signed and len(path) == 1:
            problems.append(("self_signed", f"'{leaf.label}' is self-signed and is not in {store_txt}; "
                             f"the peer accepts it only if it holds this very certificate."))
        elif b.top_self_signed:
            problems.append((f"unknown_issuer:{top.label}",
                             f"The chain ends at the self-signed CA '{top.label}', which is not in {store_txt}."))
        else:
            miss = _label_of_name(b.missing)
            why = (f"No certificate for the issuer '{_aki_text(b.missing, b.missing_aki)}' of '{top.label}' "
                   f"was sent or is in {store_txt}.")
            if b.loop:
                why = f"The path grew past {MAX_DEPTH} certificates without reaching an anchor."
            if b.near_misses:
                nm = b.near_misses[0]
                nm_ski = nm.ski.hex() if nm.ski else "-"
                want_aki = b.missing_aki.hex() if b.missing_aki else "-"
                why += (f" A CA with that name is there ({nm.sha256[:16]}..., SKI {nm_ski}) but it holds another "
                        f"key: the chain wants AKI {want_aki}.")
            problems.append((f"unknown_issuer:{miss}", why))

    # 2. chain extensions, leaf first (OpenSSL check_chain_extensions)
    want = getattr(ExtendedKeyUsageOID, _PURPOSE_OID[purpose])
    anchored_cert = b.anchor_kind == "cert"
    for i, n in enumerate(path):
        is_anchor = anchored_cert and i == len(path) - 1 and i > 0  # a pinned leaf is still checked
        if i >= 1:
            bc = n.basic
            ksign = _key_cert_sign(n.key_usage)
            if bc is not None and not bc.ca:
                problems.append((f"not_a_ca:{n.label}", f"'{n.label}' issued '{path[i - 1].label}' but its "
                                 f"basicConstraints say CA:FALSE."))
            elif bc is None and not (ksign or (n.version == 1 and n.self_issued)):
                problems.append((f"not_a_ca:{n.label}", f"'{n.label}' issued '{path[i - 1].label}' but has no "
                                 f"basicConstraints CA:TRUE."))
            elif ksign is False:
                problems.append((f"not_a_ca:{n.label}", f"'{n.label}' issued '{path[i - 1].label}' but its "
                                 f"keyUsage lacks keyCertSign."))
        if n.eku is not None and not is_anchor and want not in n.eku \
                and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in n.eku:
            have = ", ".join(getattr(o, "_name", o.dotted_string) for o in n.eku) or "none"
            problems.append((f"wrong_purpose:{n.label}", f"'{n.label}' is used as a TLS {purpose} certificate but "
                             f"its extendedKeyUsage ({have}) lacks {purpose}Auth."))
        if i == 0 and n.key_usage is not None:
            ku = n.key_usage
            usable = ku.digital_signature or ku.key_agreement or (purpose == "server" and ku.key_encipherment)
            if not usable:
                problems.append((f"wrong_purpose:{n.label}", f"'{n.label}' keyUsage allows neither digitalSignature "
                                 f"nor key exchange, so it cannot authenticate a TLS {purpose}."))
        if i >= 1 and n.basic is not None and n.basic.path_length is not None:
            below = sum(1 for m in path[1:i] if not m.self_issued)
            if below > n.basic.path_length:
                problems.append(("path_length_exceeded", f"'{n.label}' allows {n.basic.path_length} CA(s) below it "
                                 f"(pathLenConstraint) but the path has {below}."))

    # 3. the name the client asked for
    if purpose == "server" and hostname:
        matched, why = _name_check(leaf, hostname)
        if not matched:
            problems.append(("name_mismatch", f"Name mismatch: {why}."))

    # 4. signatures and validity, from the anchor down to the leaf (OpenSSL internal_verify)
    unchecked = None
    for i in range(len(path) - 1, -1, -1):
        n = path[i]
        if i < len(path) - 1:
            ok, why = sig.check(n, path[i + 1])
            if ok is False:
                problems.append((f"bad_signature:{n.label}", f"The signature on '{n.label}' does not verify with "
                                 f"the key of '{path[i + 1].label}' ({why})."))
            elif ok is None:
                unchecked = f"the signature on '{n.label}' could not be checked ({why})"
        elif n.self_issued and not anchored_cert:
            ok, why = sig.check(n, n)
            if ok is False:
                problems.append((f"bad_signature:{n.label}", f"'{n.label}' names itself as issuer but its "
                                 f"self-signature does not verify ({why})."))
        if n.not_before is not None and at < n.not_before:
            problems.append((f"not_yet_valid:{n.label}", f"'{n.label}' is valid only from {_fmt_time(n.not_before)}, "
                             f"after the time judged ({_fmt_time(at)})."))
        elif n.not_after is not None and at > n.not_after:
            problems.append((f"expired:{n.label}", f"'{n.label}' expired on {_fmt_time(n.not_after)}, before the "
                             f"time judged ({_fmt_time(at)})."))

    # verdict
    if problems:
        status, detail = problems[0]
        others = [p for p, _ in problems[1:]]
        if others:
            detail += " Also: " + ", ".join(dict.fromkeys(others)) + "."
    elif b.anchor_kind == "name":
        name = b.anchor_name or "?"
        status = f"ok_by_name:{_label_of_string(name) if '=' in name else name}"
        detail = (f"The chain ends at '{name}', a name-only anchor ({b.anchor_source}): trusted by its name, "
                  f"as no certificate (no key) is known for it; everything else checks out at {_fmt_time(at)}.")
    else:
        status = "ok"
        detail = (f"{len(path)} certificate(s) lead to the trust anchor '{b.anchor_name}' ({b.anchor_source}); "
                  f"signatures, CA flags, purpose and validity check out at {_fmt_time(at)}.")
        if purpose == "server" and hostname:
            detail += f" {_name_check(leaf, hostname)[1]}."
    if unchecked:
        detail += f" Note: {unchecked}."
    statuses = [p for p, _ in problems] or [status]

    verdict = None
    if store is not None and anchored_cert:
        verdict = _crypto_verdict(store, chain, purpose, hostname, at)
        mine_ok = status == "ok"
        if verdict is not None and (verdict == "ok") != mine_ok:
            if mine_ok:
                why = verdict[len("rejected: "):] if verdict.startswith("rejected: ") else verdict
                detail += f" cryptography's RFC 5280 verifier is stricter and refuses it: {why}."
            else:
                detail += " cryptography's RFC 5280 verifier accepts the chain."

    missing = None
    if b.anchor_kind is None:
        if b.top_self_signed:
            missing = _aki_text(path[-1].subject, path[-1].ski)
            if missing and path[-1].ski:
                missing = missing.replace("[AKI", "[SKI")
        else:
            missing = _aki_text(b.missing, b.missing_aki)
    explain: dict[str, str] = {}
    for p, why in problems:
        explain.setdefault(p, why)
    if not problems:
        explain[status] = detail
    return Validation(status=status, detail=detail, path=[n.sha256 for n in path], anchor=b.anchor_name,
                      missing_issuer=missing, problems=list(dict.fromkeys(statuses)), verifier=verdict, at=at,
                      explain=explain)


def validate_chain(chain_ders: Sequence[object], *, at: datetime, store: TrustStore | None = None,
                   purpose: Purpose = "server", hostname: str | None = None,
                   extra_anchor_names: Sequence[str] = ()) -> Validation:
    """Validate a chain as sent (leaf first; DER bytes, ``x509.Certificate`` or ``CertInfo``) at
    ``at`` (the capture time; a naive datetime is UTC).

    The path is built from the leaf by names and AKI/SKI (two CAs can share a name), trusted store
    first, then the certificates the peer sent, then name-only anchors (those of ``store`` and
    ``extra_anchor_names``: RFC 4514 DNs or bare CNs).  Without a store, the best answer is
    ``self_signed`` or ``unknown_issuer:<top issuer>`` (other problems are in ``problems``).
    """
    return _validate([_node(_der_of(c)) for c in chain_ders], at=_aware(at), store=store, purpose=purpose,
                     hostname=hostname, extra_anchor_names=extra_anchor_names)


def _request_validation(chain: list[_Node], names: Sequence[str], at: datetime, sig: _Sig | None = None
                        ) -> Validation:
    names = [str(n) for n in names if n]
    v = _validate(chain, at=at, store=None, purpose="client", hostname=None, extra_anchor_names=names, sig=sig)
    if not names:
        return Validation(v.status, v.detail + " The server's CertificateRequest listed no CA names, so it "
                          "did not say which CAs it trusts.", v.path, v.anchor, v.missing_issuer, v.problems,
                          v.verifier, v.at, v.explain)
    if v.status.startswith("ok_by_name:"):
        detail = (f"The chain reaches '{v.anchor}', one of the {len(names)} CA names the server listed in its "
                  f"CertificateRequest (matched by name: that CA's certificate is not in the capture, so its "
                  f"signature is unchecked); everything else checks out at {_fmt_time(at)}.")
        return Validation("ok", detail, v.path, v.anchor, None, ["ok"], None, v.at, {"ok": detail})
    if v.code == "unknown_issuer" or v.code == "self_signed":
        return Validation(v.status, v.detail + f" None of the {len(names)} CA names the server listed in its "
                          f"CertificateRequest is on the chain's issuer path.", v.path, v.anchor,
                          v.missing_issuer, v.problems, None, v.at, v.explain)
    return v


def validate_client_chain_against_request(chain_ders: Sequence[object], requested_ca_names: Sequence[str],
                                          at: datetime) -> Validation:
    """Judge a client chain by the server's own statement of trust: the CA names it listed in its
    CertificateRequest.  ``ok`` when the chain's issuer path reaches one of those names (and
    nothing else is wrong); ``unknown_issuer:<top issuer>`` when it reaches none."""
    return _request_validation([_node(_der_of(c)) for c in chain_ders], requested_ca_names, _aware(at))
