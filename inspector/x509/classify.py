"""Classification of a certificate: LSC (issued by a cluster's CAPF), MIC (Cisco manufacturing CA)
or other; the well-known special CAs; the short name people call a certificate by.

The issuer patterns and CA tables live in `inspector.domain` (see /work/shared/domain/DOMAIN.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .._lazy import lazy_import
from ..domain import CAPF_ISSUER_CN, CISCO_ORGS, KNOWN_CAS, MIC_ISSUERS
from .info import CertInfo

#: cryptography, imported when an issuer's O= attributes are first read
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "NameOID": ("cryptography.x509.oid", "NameOID"),
})

# CAPF_ISSUER_CN, CISCO_ORGS, MIC_ISSUERS and KNOWN_CAS live in `inspector.domain`.


def _norm_org(o: str) -> str:
    return " ".join(o.replace(",", " ").replace(".", " ").casefold().split())


@lru_cache(maxsize=4096)
def _orgs_of(rfc4514: str) -> tuple[str, ...] | None:
    """O= values of a name given as an RFC 4514 string (re-parsed by
    cryptography); None when it cannot be re-parsed."""
    try:
        name = x509.Name.from_rfc4514_string(rfc4514)
        return tuple(str(a.value) for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    except Exception:  # noqa: BLE001
        return None


def _is_mic_issuer(cn: str | None, issuer: str | None) -> bool:
    if not cn:
        return False
    key = " ".join(cn.casefold().split())
    if key not in MIC_ISSUERS:
        return False
    org_required = MIC_ISSUERS[key]
    orgs = _orgs_of(issuer) if issuer else ()
    if orgs is None:  # issuer string not re-parseable: trust the CN only if O not required
        return not org_required
    if not orgs:
        return not org_required
    return any(_norm_org(o) in CISCO_ORGS for o in orgs)


def client_cert_kind(info: CertInfo) -> Literal["LSC", "MIC", "other"]:
    """LSC (issuer CN "CAPF-xxxxxxxx"), MIC (Cisco manufacturing CA), else other."""
    cn = info.issuer_cn
    if cn and CAPF_ISSUER_CN.match(cn.strip()):
        return "LSC"
    if _is_mic_issuer(cn, info.issuer):
        return "MIC"
    return "other"


def capf_id(info: CertInfo) -> str | None:
    """The issuing CAPF's CN ("CAPF-a6d4c572") for an LSC, else None."""
    cn = info.issuer_cn
    if cn and CAPF_ISSUER_CN.match(cn.strip()):
        return cn.strip()
    return None


def known_ca_note(info: CertInfo) -> str | None:
    """A note when the cert IS a well-known special CA (by SHA-1 fingerprint or
    subject CN), else "issued by <note>" when its issuer is one; None otherwise."""
    for ca in KNOWN_CAS:
        if info.sha1 in ca.sha1:
            return ca.note
    if info.subject_cn:
        for ca in KNOWN_CAS:
            if ca.cn.search(info.subject_cn.strip()):
                return ca.note
    if info.issuer_cn and not info.self_issued:
        for ca in KNOWN_CAS:
            if ca.cn.search(info.issuer_cn.strip()):
                return f"issued by {ca.note}"
    return None


def short_name(info: CertInfo) -> str:
    """CN, else RFC 4514 subject, else first 16 hex chars of the SHA-256."""
    if info.subject_cn and info.subject_cn.strip():
        return info.subject_cn
    if info.subject:
        return info.subject
    return info.sha256[:16]
