"""RFC rules checked on a `CertInfo` or a name: host name matching (RFC 6125) and validity at a
time (RFC 5280).  No cryptography import."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from ..model import validity
from .info import CertInfo


def hostname_matches(pattern: str, host: str) -> bool:
    """RFC 6125 name matching: case-insensitive, trailing dot ignored; a wildcard only as the whole
    left-most label, matching exactly one label, and never directly under a top-level label."""
    p, h = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if p == h:
        return True
    if p.startswith("*.") and "*" not in p[2:]:
        first, _, rest = h.partition(".")
        return bool(first) and rest == p[2:] and "." in rest
    return False


def validity_at(info: CertInfo, ts: datetime) -> Literal["valid", "expired", "not_yet_valid", "unknown"]:
    """Validity at ``ts`` (the capture time; naive datetimes are taken as UTC).
    Both bounds are inclusive (RFC 5280)."""
    if ts is not None and ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return validity(info.not_before, info.not_after, ts)
