"""Parsed once per distinct DER: an LRU of `CertInfo` keyed by SHA-256 (thread-safe)."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Iterable

from .info import CertInfo
from .parse import _as_bytes, _parse

CACHE_MAX = 4096
_cache: "OrderedDict[str, CertInfo]" = OrderedDict()
_cache_lock = threading.Lock()


def parse_certificate_cached(der: bytes) -> CertInfo:
    """Like :func:`parse_certificate`, but parsed once per distinct DER (LRU
    keyed by SHA-256, at most ``CACHE_MAX`` entries)."""
    der = _as_bytes(der)
    key = hashlib.sha256(der).hexdigest()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    info = _parse(der, key)
    with _cache_lock:
        _cache[key] = info
        _cache.move_to_end(key)
        while len(_cache) > CACHE_MAX:
            _cache.popitem(last=False)
    return info


def parse_chain(ders: Iterable[bytes]) -> tuple[CertInfo, ...]:
    """Summaries of a Certificate message's list, in order (cached)."""
    try:
        return tuple(parse_certificate_cached(d) for d in ders)
    except Exception:  # noqa: BLE001 - a broken iterable; keep what we can
        return ()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def cache_size() -> int:
    return len(_cache)
