"""Classification of a certificate: LSC (issued by a cluster's CAPF), MIC (Cisco manufacturing CA)
or other; the well-known special CAs; the short name people call a certificate by.

The classification table is the ONE place issuer patterns live (see /work/shared/domain/DOMAIN.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .._lazy import lazy_import
from .info import CertInfo

#: cryptography, imported when an issuer's O= attributes are first read
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "NameOID": ("cryptography.x509.oid", "NameOID"),
})

#: LSC: issued by the cluster's CAPF, issuer CN "CAPF-" + 8 hex digits.
CAPF_ISSUER_CN = re.compile(r"^CAPF-[0-9a-fA-F]{8}$")

#: Organisation names (normalised: casefolded, "," and "." removed, spaces
#: collapsed) accepted as Cisco for MIC issuers.
CISCO_ORGS = frozenset({"cisco", "cisco systems", "cisco systems inc"})

#: MIC issuers: issuer CN (compared casefolded) -> ``org_required``.
#: Policy (documented): for every MIC issuer, if the issuer name carries an
#: O= attribute it must be a Cisco organisation (an "O=Acme, CN=Cisco
#: Manufacturing CA" lab imitation is "other").  For the generic-looking names
#: (CAP-RTP-00x, ACT2 SUDI CA) an O= Cisco attribute is additionally REQUIRED,
#: because those CNs alone say nothing about Cisco.  The names that already
#: contain "Cisco" are accepted without an O= attribute.
MIC_ISSUERS: dict[str, bool] = {
    "cisco manufacturing ca": False,
    "cisco manufacturing ca sha2": False,
    "cap-rtp-001": True,
    "cap-rtp-002": True,
    "act2 sudi ca": True,
    # roots, for completeness (a MIC chain may be shown up to its root)
    "cisco root ca 2048": False,
    "cisco root ca m2": False,
}


@dataclass(frozen=True, slots=True)
class _KnownCA:
    cn: re.Pattern[str]           # matched (search) against a subject/issuer CN
    sha1: frozenset[str]          # SHA-1 fingerprints of the CA cert itself
    note: str


#: Well-known special CAs (DOMAIN.md "Expired roots on phones", "SPA ...").
KNOWN_CAS: tuple[_KnownCA, ...] = (
    _KnownCA(
        re.compile(r"^AddTrust External CA Root$", re.I),
        frozenset({"02faf3e291435468607857694df5e45b68851868"}),
        "AddTrust External CA Root (expired 2020-05-30)",
    ),
    _KnownCA(
        re.compile(r"^AddTrust Class 1 CA Root$", re.I),
        frozenset({"ccab0ea04c2301d6697bdd379fcd12eb24e3949d"}),
        "AddTrust Class 1 CA Root (expired 2020-05-30)",
    ),
    _KnownCA(
        re.compile(r"^Cisco Small Business Provisioning Root Authority [12]$", re.I),
        frozenset(),
        "Cisco Small Business provisioning root CA (SPA/ATA provisioning servers)",
    ),
    _KnownCA(
        re.compile(r"^Cisco Small Business Client Root Authority [12]$", re.I),
        frozenset(),
        "Cisco Small Business client root CA (SPA/ATA device certificates)",
    ),
    _KnownCA(
        re.compile(r"^Cisco 2k Small Business CA\b", re.I),
        frozenset(),
        "Cisco 2k Small Business CA (SPA/ATA provisioning servers)",
    ),
    _KnownCA(
        re.compile(r"^Linksys\b.*(Authority|\bCA\b)", re.I),
        frozenset(),
        "Linksys provisioning CA (legacy SPA/PAP; expired June 2015, enforced from SPA50x fw 7.6.2)",
    ),
    _KnownCA(
        re.compile(r"^Sipura\b.*(Authority|\bCA\b)", re.I),
        frozenset(),
        "Sipura provisioning CA (legacy SPA/PAP)",
    ),
)


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
