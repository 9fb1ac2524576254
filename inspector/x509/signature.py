"""Signature checks through cryptography's primitives (the fallback for what its X.509 layer
refuses: SHA-1 and MD5 signatures)."""

from __future__ import annotations

from .._lazy import lazy_import
from .info import _detail

_ASYM = "cryptography.hazmat.primitives.asymmetric."
#: cryptography, imported at the first signature check
_load_cryptography = lazy_import(globals(), {
    "x509": ("cryptography.x509", None),
    "UnsupportedAlgorithm": ("cryptography.exceptions", "UnsupportedAlgorithm"),
    **{m: (_ASYM + m, None) for m in ("dsa", "ec", "ed448", "ed25519", "padding", "rsa")},
})

_RSASSA_PSS = "1.2.840.113549.1.1.10"


def verify_with_key(cert: x509.Certificate, public_key, tbs: bytes | None = None,
                    first: BaseException | str = "unsupported signature") -> None:
    """Check ``cert``'s signature with an issuer's public key through cryptography's primitives.

    The one fallback for what ``verify_directly_issued_by`` refuses: cryptography 50's X.509
    layer rejects SHA-1 and MD5 signatures ("Unsupported signature algorithm") while its
    primitives still verify them, and real captures are full of SHA-1 chains.  Raises
    `InvalidSignature` when the signature is wrong, `UnsupportedAlgorithm` (or what the
    primitive raises) when it cannot be checked; returns None when it verifies."""
    _load_cryptography()
    pk = public_key
    params = cert.signature_algorithm_parameters
    h = cert.signature_hash_algorithm
    sig = cert.signature
    tbs = tbs if tbs is not None else cert.tbs_certificate_bytes
    # (signature_algorithm_parameters is None for the legacy ones)
    if isinstance(pk, rsa.RSAPublicKey) and h is not None:
        if params is None and cert.signature_algorithm_oid.dotted_string != _RSASSA_PSS:
            params = padding.PKCS1v15()
        if not isinstance(params, (padding.PKCS1v15, padding.PSS)):
            raise UnsupportedAlgorithm(_detail(first))
        pk.verify(sig, tbs, params, h)
    elif isinstance(pk, ec.EllipticCurvePublicKey) and h is not None:
        pk.verify(sig, tbs, params if isinstance(params, ec.ECDSA) else ec.ECDSA(h))
    elif isinstance(pk, dsa.DSAPublicKey) and h is not None:
        pk.verify(sig, tbs, h)
    elif isinstance(pk, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        pk.verify(sig, tbs)
    else:
        raise UnsupportedAlgorithm(first if isinstance(first, str) else _detail(first))
