"""Trust stores: `Anchor` (a certificate, or a name only) and `TrustStore`, a named set of them
with where each came from (sans-I/O: the loaders are in `inspector.trust.load`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Iterable, Iterator, Sequence

from .._lazy import lazy_import
from ..errors import InspectError
from ..words import counted
from .nodes import _attr, _canon_value, _der_of, _name_key, _name_key_of_string, _node, _Node, _norm_org, _rfc4514

#: cryptography, imported when a store's certificates are first used
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "NameOID": ("cryptography.x509.oid", "NameOID"),
    "Store": ("cryptography.x509.verification", "Store"),
})

class TrustError(InspectError):
    """A trust store cannot be used (missing, unreadable, or holds no certificate)."""



@dataclass(frozen=True, slots=True)
class Anchor:
    """One trust anchor: a certificate (``der``), or only a name (``der`` is None).

    A name-only anchor matches an issuer by its full DN when ``subject`` is an RFC 4514 DN, or by
    CN (``cn``) plus, when ``orgs`` is set, an O= among ``orgs`` (required when ``org_required``).
    """

    subject: str
    source: str
    der: bytes | None = None
    sha256: str | None = None
    cn: str | None = None
    orgs: frozenset[str] | None = None
    org_required: bool = False

    @property
    def name_only(self) -> bool:
        return self.der is None

    def matches_name(self, name: x509.Name | None) -> bool:
        """Does a certificate name (an issuer, or a CA's subject) designate this anchor?"""
        if name is None:
            return False
        if self.cn is None:
            return _name_key(name) == _name_key_of_string(self.subject)
        cns = _attr(name, NameOID.COMMON_NAME)
        if not cns or _canon_value(cns[-1]) != _canon_value(self.cn):
            return False
        if self.orgs is None:
            return True
        orgs = [_norm_org(o) for o in _attr(name, NameOID.ORGANIZATION_NAME)]
        if not orgs:
            return not self.org_required
        return any(o in self.orgs for o in orgs)


@dataclass(frozen=True)
class TrustStore:
    """A named set of trust anchors, each with where it came from.

    ``skipped`` lists what a loader looked at and left out, one ``"<where>: <why>"`` each.
    """

    name: str
    anchors: tuple[Anchor, ...]
    skipped: tuple[str, ...] = ()

    @classmethod
    def from_certificates(cls, certs: Iterable[object], *, name: str = "custom",
                          source: str | None = None) -> "TrustStore":
        """A store from certificates (DER bytes, ``x509.Certificate``, ``CertInfo``...)."""
        anchors = []
        for i, c in enumerate(certs):
            der = _der_of(c)
            n = _node(der)
            anchors.append(Anchor(subject=_rfc4514(n.subject) or n.sha256, source=source or f"{name}#{i + 1}",
                                  der=der, sha256=n.sha256))
        return cls(name, _dedupe(anchors))

    @classmethod
    def from_names(cls, names: Iterable[str], *, name: str = "names", source: str | None = None) -> "TrustStore":
        """A store of name-only anchors: RFC 4514 DNs (``"CN=...,O=..."``), or bare CNs."""
        anchors = []
        for n in names:
            text = str(n)
            full_dn = "=" in text
            anchors.append(Anchor(subject=text, source=source or name, cn=None if full_dn else text))
        return cls(name, tuple(anchors))

    def __add__(self, other: "TrustStore") -> "TrustStore":
        return TrustStore(f"{self.name}+{other.name}", _dedupe(self.anchors + other.anchors),
                          self.skipped + other.skipped)

    def __len__(self) -> int:
        return len(self.anchors)

    def __iter__(self) -> Iterator[Anchor]:
        return iter(self.anchors)

    @property
    def certificate_anchors(self) -> tuple[Anchor, ...]:
        return tuple(a for a in self.anchors if not a.name_only)

    @property
    def name_anchors(self) -> tuple[Anchor, ...]:
        return tuple(a for a in self.anchors if a.name_only)

    @cached_property
    def certificates(self) -> list[x509.Certificate]:
        """The anchors that are certificates, loaded (undecodable ones are left out)."""
        return [n.cert for n in self._nodes if n.cert is not None]

    @cached_property
    def _nodes(self) -> list[_Node]:
        return [_node(a.der) for a in self.anchors if a.der is not None]

    @cached_property
    def _source_by_sha(self) -> dict[str, str]:
        return {a.sha256: a.source for a in self.anchors if a.sha256}

    @cached_property
    def _bounds(self) -> list[datetime]:
        """Every notBefore/notAfter of the anchors, sorted (validity can change only there)."""
        return sorted({t for n in self._nodes for t in (n.not_before, n.not_after) if t is not None})

    @cached_property
    def _crypto_store(self) -> Store | None:
        certs = self.certificates
        return Store(certs) if certs else None

    def _lookup(self, n: _Node) -> _Node | None:
        """The store's node for ``n`` itself: same DER, or same subject and public key."""
        for s in self._nodes:
            if s.sha256 == n.sha256:
                return s
        if n.spki is not None and n.subject_key is not None:
            for s in self._nodes:
                if s.spki == n.spki and s.subject_key == n.subject_key:
                    return s
        return None

    def source_of(self, sha256: str) -> str | None:
        return self._source_by_sha.get(sha256)

    def __getstate__(self) -> dict[str, object]:
        """Pickle the anchors only (batch workers), not the loaded certificates cached on first use."""
        return {k: self.__dict__[k] for k in ("name", "anchors", "skipped")}

    def describe(self) -> str:
        """One line: name, how many certificates and names, and how many files were skipped."""
        nc, nn = len(self.certificate_anchors), len(self.name_anchors)
        parts = [counted(nc, "certificate")]
        if nn:
            parts.append(counted(nn, "name-only anchor"))
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return f"{self.name}: " + ", ".join(parts)


def _dedupe(anchors: Sequence[Anchor]) -> tuple[Anchor, ...]:
    seen: set[object] = set()
    out = []
    for a in anchors:
        key = a.sha256 if a.sha256 else ("name", a.subject.casefold(), a.orgs, a.org_required)
        if key not in seen:
            seen.add(key)
            out.append(a)
    return tuple(out)
