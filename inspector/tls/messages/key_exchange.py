"""ServerKeyExchange: the (EC)DH group and the signature algorithm."""

from __future__ import annotations

from dataclasses import dataclass

from ..ciphers import cipher_kx
from .reader import _as_bytes, _Reader, _tls12_or_later, ParseError


# --------------------------------------------------------------------------------------------
# ServerKeyExchange


@dataclass(frozen=True, slots=True)
class ServerKeyExchange:
    kx: str
    dh_p_bits: int | None
    dh_g: int | None
    curve: int | None
    signature_algorithm: int | None


_DH_KX = frozenset({"DHE", "DH_anon", "DHE_PSK"})
_ECDH_KX = frozenset({"ECDHE", "ECDH_anon", "ECDHE_PSK"})


def _read_signature(r: _Reader, tls12: bool) -> int | None:
    alg = r.u16("signature algorithm") if tls12 else None
    r.vec16("signature")
    return alg


def parse_server_key_exchange(body: bytes, *, cipher_suite: int, version: int) -> ServerKeyExchange:
    """Parse a ServerKeyExchange body for the negotiated ``cipher_suite`` and ``version``.

    DHE/DH_anon/DHE_PSK: ``dh_p_bits`` (bit length of p) and ``dh_g``.  ECDHE/ECDH_anon/ECDHE_PSK:
    ``curve`` (named group; explicit curves report 0xff01 / 0xff02 and stop there).  Signed key
    exchanges report ``signature_algorithm`` from TLS 1.2 on (None before: implicit MD5+SHA1).
    Other key exchanges return just ``kx``.
    """
    buf = _as_bytes(body)
    kx = cipher_kx(cipher_suite)
    r = _Reader(buf)
    tls12 = _tls12_or_later(version)
    if kx in _DH_KX:
        if kx == "DHE_PSK":
            r.vec16("psk_identity_hint")
        p_off = r.pos
        p = r.vec16("dh_p")
        if not p:
            raise ParseError("empty dh_p", p_off)
        g = r.vec16("dh_g")
        r.vec16("dh_Ys")
        sigalg = _read_signature(r, tls12) if kx == "DHE" else None
        return ServerKeyExchange(
            kx=kx,
            dh_p_bits=int.from_bytes(p, "big").bit_length(),
            dh_g=int.from_bytes(g, "big"),
            curve=None,
            signature_algorithm=sigalg,
        )
    if kx in _ECDH_KX:
        if kx == "ECDHE_PSK":
            r.vec16("psk_identity_hint")
        ct_off = r.pos
        curve_type = r.u8("curve_type")
        if curve_type in (1, 2):  # explicit_prime / explicit_char2: not worth decoding
            return ServerKeyExchange(kx, None, None, 0xFF00 | curve_type, None)
        if curve_type != 3:
            raise ParseError(f"unknown ECCurveType {curve_type}", ct_off)
        curve = r.u16("named_curve")
        r.vec8("ec_point")
        sigalg = _read_signature(r, tls12) if kx == "ECDHE" else None
        return ServerKeyExchange(kx, None, None, curve, sigalg)
    return ServerKeyExchange(kx, None, None, None, None)
