"""The facts of Cisco collaboration networks that the tool relies on, each stated once.

Ports and their roles, the Cisco manufacturing and provisioning CAs, and the name patterns of
phones and CAPFs (source: /work/shared/domain/DOMAIN.md).  Every other module imports them from
here: the engines (which ports are TLS even mid-connection), the classification of client
certificates (`inspector.x509`), the diagnoses, the trust-store hints, the reports.  The Rust
engine's `DEFAULT_TLS_PORTS` (rust/core/src/flow/mod.rs, exported as `_core.DEFAULT_TLS_PORTS`)
must equal `TLS_PORTS` (tests/unit/test_domain.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CAPF_ISSUER_CN", "CISCO_MIC_CA_NAMES", "CISCO_ORGS", "CUCM_PORTS", "EXPRESSWAY_PORTS", "KNOWN_CAS",
    "MIC_ISSUERS", "PHONE_NAME", "PHONE_PORTS", "PORT_ROLES", "PROVISIONING_CA_WORDS", "SERVICES",
    "TLS_PORTS", "KnownCA",
]

# ---------------------------------------------------------------------------
# Ports
# ---------------------------------------------------------------------------

#: Decoded as TLS even when the capture starts mid-connection (and the tshark engine's `-d` ports).
TLS_PORTS: tuple[int, ...] = (443, 2443, 3804, 5061, 6972, 8443)

#: Phone -> CUCM: SIP over TLS, SCCP over TLS, CAPF (the phone presents its LSC or MIC).
PHONE_PORTS = frozenset((5061, 2443, 3804))
#: Expressway-C -> CUCM/IM&P/Unity: Tomcat HTTPS and TFTP over HTTPS (Expressway verifies the name).
EXPRESSWAY_PORTS = frozenset((8443, 6972))
CUCM_PORTS = PHONE_PORTS | EXPRESSWAY_PORTS

#: Short service names, the table's `service` column.
PORT_ROLES: dict[int, str] = {
    5061: "SIP-TLS", 2443: "SCCP-TLS", 3804: "CAPF", 8443: "Tomcat", 6972: "TFTP-HTTPS",
    443: "HTTPS", 636: "LDAPS", 993: "IMAPS", 995: "POP3S", 465: "SMTPS", 25: "SMTP", 587: "SMTP",
    389: "LDAP", 5222: "XMPP", 5269: "XMPP-S2S", 5432: "PostgreSQL", 3306: "MySQL", 21: "FTP",
}

#: What a Cisco service port carries, in the diagnoses' words.
SERVICES: dict[int, str] = {
    5061: "SIP over TLS (phone -> CUCM)", 2443: "SCCP over TLS (phone -> CUCM)",
    3804: "CAPF (phone -> CUCM CAPF)", 8443: "Tomcat HTTPS (Expressway-C -> CUCM/IM&P/Unity)",
    6972: "TFTP over HTTPS (Expressway-C -> CUCM)", 443: "HTTPS (provisioning / MRA edge)",
}

# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------

#: LSC: issued by the cluster's CAPF, issuer CN "CAPF-" + 8 hex digits.
CAPF_ISSUER_CN = re.compile(r"^CAPF-[0-9a-fA-F]{8}$")

#: A phone's certificate CN: "SEP" + its MAC address (12 hex digits).
PHONE_NAME = re.compile(r"^SEP[0-9A-F]{12}$", re.IGNORECASE)

# ---------------------------------------------------------------------------
# CAs
# ---------------------------------------------------------------------------

#: Organisation names (normalised: casefolded, "," and "." removed, spaces collapsed) accepted
#: as Cisco for MIC issuers.
CISCO_ORGS = frozenset({"cisco", "cisco systems", "cisco systems inc"})

#: The Cisco manufacturing CAs that issue phone MICs, and their roots -> ``org_required``.
#: Policy: for every MIC issuer, if the issuer name carries an O= attribute it must be a Cisco
#: organisation (an "O=Acme, CN=Cisco Manufacturing CA" lab imitation is "other").  For the
#: generic-looking names (CAP-RTP-00x, ACT2 SUDI CA) an O= Cisco attribute is additionally
#: REQUIRED, because those CNs alone say nothing about Cisco.
_MIC_CAS: dict[str, bool] = {
    "Cisco Manufacturing CA": False,
    "Cisco Manufacturing CA SHA2": False,
    "CAP-RTP-001": True,
    "CAP-RTP-002": True,
    "ACT2 SUDI CA": True,
    # roots, for completeness (a MIC chain may be shown up to its root)
    "Cisco Root CA 2048": False,
    "Cisco Root CA M2": False,
}
#: Their names, as written (the `cisco-mic` built-in trust set).
CISCO_MIC_CA_NAMES: tuple[str, ...] = tuple(_MIC_CAS)
#: Issuer CN (casefolded) -> ``org_required``.
MIC_ISSUERS: dict[str, bool] = {cn.casefold(): req for cn, req in _MIC_CAS.items()}

#: The words that mark an SPA/ATA provisioning CA (Cisco Small Business, Linksys, Sipura) in a
#: `KNOWN_CAS` note.
PROVISIONING_CA_WORDS: tuple[str, ...] = ("Small Business", "Linksys", "Sipura")


@dataclass(frozen=True, slots=True)
class KnownCA:
    cn: re.Pattern[str]  # matched (search) against a subject/issuer CN
    sha1: frozenset[str]  # SHA-1 fingerprints of the CA cert itself
    note: str


#: Well-known special CAs (DOMAIN.md "Expired roots on phones", "SPA ...").
KNOWN_CAS: tuple[KnownCA, ...] = (
    KnownCA(re.compile(r"^AddTrust External CA Root$", re.I),
            frozenset({"02faf3e291435468607857694df5e45b68851868"}),
            "AddTrust External CA Root (expired 2020-05-30)"),
    KnownCA(re.compile(r"^AddTrust Class 1 CA Root$", re.I),
            frozenset({"ccab0ea04c2301d6697bdd379fcd12eb24e3949d"}),
            "AddTrust Class 1 CA Root (expired 2020-05-30)"),
    KnownCA(re.compile(r"^Cisco Small Business Provisioning Root Authority [12]$", re.I), frozenset(),
            "Cisco Small Business provisioning root CA (SPA/ATA provisioning servers)"),
    KnownCA(re.compile(r"^Cisco Small Business Client Root Authority [12]$", re.I), frozenset(),
            "Cisco Small Business client root CA (SPA/ATA device certificates)"),
    KnownCA(re.compile(r"^Cisco 2k Small Business CA\b", re.I), frozenset(),
            "Cisco 2k Small Business CA (SPA/ATA provisioning servers)"),
    KnownCA(re.compile(r"^Linksys\b.*(Authority|\bCA\b)", re.I), frozenset(),
            "Linksys provisioning CA (legacy SPA/PAP; expired June 2015, enforced from SPA50x fw 7.6.2)"),
    KnownCA(re.compile(r"^Sipura\b.*(Authority|\bCA\b)", re.I), frozenset(),
            "Sipura provisioning CA (legacy SPA/PAP)"),
)


def is_provisioning_note(note: object) -> bool:
    """A `known_ca_note` that names an SPA/ATA provisioning CA (Small Business, Linksys, Sipura)."""
    return isinstance(note, str) and any(w in note for w in PROVISIONING_CA_WORDS)
