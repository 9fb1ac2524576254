"""TLS wire-code tables (IANA "TLS Parameters" registries) and name helpers.

The enums carry IANA's own snake_case names where IANA has one.  Every ``*_name`` helper accepts
any value, never raises, and keeps unknown values visible (``"0x1234"``, ``"unknown(200)"``) so a
report can always show what was on the wire.
"""

from __future__ import annotations

from enum import IntEnum

from .ciphers import CIPHER_SUITES, SSLV2_CIPHER_KINDS

__all__ = [
    "ContentType",
    "HandshakeType",
    "AlertLevel",
    "AlertDescription",
    "ExtensionType",
    "NamedGroup",
    "SignatureScheme",
    "HRR_RANDOM",
    "is_grease",
    "alert_name",
    "alert_level_name",
    "version_name",
    "cipher_name",
    "group_name",
    "sigalg_name",
    "extension_name",
]


class ContentType(IntEnum):
    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24


class HandshakeType(IntEnum):
    hello_request = 0
    client_hello = 1
    server_hello = 2
    hello_verify_request = 3
    new_session_ticket = 4
    end_of_early_data = 5
    hello_retry_request = 6
    encrypted_extensions = 8
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    finished = 20
    certificate_url = 21
    certificate_status = 22
    supplemental_data = 23
    key_update = 24
    compressed_certificate = 25
    ekt_key = 26
    next_protocol = 67  # NPN; never registered with IANA but common in old captures
    message_hash = 254


class AlertLevel(IntEnum):
    warning = 1
    fatal = 2


class AlertDescription(IntEnum):
    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21
    record_overflow = 22
    decompression_failure = 30
    handshake_failure = 40
    no_certificate = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    too_many_cids_requested = 52
    export_restriction = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114
    unknown_psk_identity = 115
    certificate_required = 116
    general_error = 117
    no_application_protocol = 120
    ech_required = 121


class ExtensionType(IntEnum):
    server_name = 0
    max_fragment_length = 1
    client_certificate_url = 2
    trusted_ca_keys = 3
    truncated_hmac = 4
    status_request = 5
    user_mapping = 6
    client_authz = 7
    server_authz = 8
    cert_type = 9
    supported_groups = 10
    ec_point_formats = 11
    srp = 12
    signature_algorithms = 13
    use_srtp = 14
    heartbeat = 15
    alpn = 16  # IANA: application_layer_protocol_negotiation (alias below)
    status_request_v2 = 17
    signed_certificate_timestamp = 18
    client_certificate_type = 19
    server_certificate_type = 20
    padding = 21
    encrypt_then_mac = 22
    extended_master_secret = 23
    token_binding = 24
    cached_info = 25
    tls_lts = 26
    compress_certificate = 27
    record_size_limit = 28
    pwd_protect = 29
    pwd_clear = 30
    password_salt = 31
    ticket_pinning = 32
    tls_cert_with_extern_psk = 33
    delegated_credential = 34
    session_ticket = 35
    tlmsp = 36
    tlmsp_proxying = 37
    tlmsp_delegate = 38
    supported_ekt_ciphers = 39
    pre_shared_key = 41
    early_data = 42
    supported_versions = 43
    cookie = 44
    psk_key_exchange_modes = 45
    certificate_authorities = 47
    oid_filters = 48
    post_handshake_auth = 49
    signature_algorithms_cert = 50
    key_share = 51
    transparency_info = 52
    connection_id_deprecated = 53
    connection_id = 54
    external_id_hash = 55
    external_session_id = 56
    quic_transport_parameters = 57
    ticket_request = 58
    dnssec_chain = 59
    sequence_number_encryption_algorithms = 60
    rrc = 61
    next_protocol_negotiation = 0x3374  # NPN, not IANA-registered
    application_settings_old = 0x4469  # ALPS (Chrome, draft codepoint), not IANA-registered
    application_settings = 0x44CD  # ALPS (Chrome), not IANA-registered
    channel_id = 0x7550  # not IANA-registered
    encrypted_client_hello = 0xFE0D
    renegotiation_info = 0xFF01
    # Alias: IANA's long name for ALPN (ExtensionType(16).name stays "alpn").
    application_layer_protocol_negotiation = 16


class NamedGroup(IntEnum):
    sect163k1 = 1
    sect163r1 = 2
    sect163r2 = 3
    sect193r1 = 4
    sect193r2 = 5
    sect233k1 = 6
    sect233r1 = 7
    sect239k1 = 8
    sect283k1 = 9
    sect283r1 = 10
    sect409k1 = 11
    sect409r1 = 12
    sect571k1 = 13
    sect571r1 = 14
    secp160k1 = 15
    secp160r1 = 16
    secp160r2 = 17
    secp192k1 = 18
    secp192r1 = 19
    secp224k1 = 20
    secp224r1 = 21
    secp256k1 = 22
    secp256r1 = 23
    secp384r1 = 24
    secp521r1 = 25
    brainpoolP256r1 = 26
    brainpoolP384r1 = 27
    brainpoolP512r1 = 28
    x25519 = 29
    x448 = 30
    brainpoolP256r1tls13 = 31
    brainpoolP384r1tls13 = 32
    brainpoolP512r1tls13 = 33
    GC256A = 34
    GC256B = 35
    GC256C = 36
    GC256D = 37
    GC512A = 38
    GC512B = 39
    GC512C = 40
    curveSM2 = 41
    ffdhe2048 = 256
    ffdhe3072 = 257
    ffdhe4096 = 258
    ffdhe6144 = 259
    ffdhe8192 = 260
    MLKEM512 = 0x0200
    MLKEM768 = 0x0201
    MLKEM1024 = 0x0202
    SecP256r1MLKEM768 = 0x11EB
    X25519MLKEM768 = 0x11EC
    SecP384r1MLKEM1024 = 0x11ED
    X25519Kyber768Draft00 = 0x6399
    SecP256r1Kyber768Draft00 = 0x639A
    arbitrary_explicit_prime_curves = 0xFF01
    arbitrary_explicit_char2_curves = 0xFF02


class SignatureScheme(IntEnum):
    rsa_pkcs1_sha1 = 0x0201
    dsa_sha1 = 0x0202
    ecdsa_sha1 = 0x0203
    rsa_pkcs1_sha256 = 0x0401
    dsa_sha256 = 0x0402
    ecdsa_secp256r1_sha256 = 0x0403
    rsa_pkcs1_sha256_legacy = 0x0420
    rsa_pkcs1_sha384 = 0x0501
    dsa_sha384 = 0x0502
    ecdsa_secp384r1_sha384 = 0x0503
    rsa_pkcs1_sha384_legacy = 0x0520
    rsa_pkcs1_sha512 = 0x0601
    dsa_sha512 = 0x0602
    ecdsa_secp521r1_sha512 = 0x0603
    rsa_pkcs1_sha512_legacy = 0x0620
    sm2sig_sm3 = 0x0708
    gostr34102012_256a = 0x0709
    gostr34102012_256b = 0x070A
    gostr34102012_256c = 0x070B
    gostr34102012_256d = 0x070C
    gostr34102012_512a = 0x070D
    gostr34102012_512b = 0x070E
    gostr34102012_512c = 0x070F
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B
    ecdsa_brainpoolP256r1tls13_sha256 = 0x081A
    ecdsa_brainpoolP384r1tls13_sha384 = 0x081B
    ecdsa_brainpoolP512r1tls13_sha512 = 0x081C
    mldsa44 = 0x0904
    mldsa65 = 0x0905
    mldsa87 = 0x0906


#: ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 4.1.3).
HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

# TLS 1.2 HashAlgorithm / SignatureAlgorithm pairs (RFC 5246 7.4.1.4.1), for codes the
# SignatureScheme registry does not name.
_HASH_NAMES = {0: "none", 1: "md5", 2: "sha1", 3: "sha224", 4: "sha256", 5: "sha384", 6: "sha512"}
_SIG_NAMES = {0: "anonymous", 1: "rsa_pkcs1", 2: "dsa", 3: "ecdsa"}

_ALERT_NAMES = {m.value: m.name for m in AlertDescription}
_LEVEL_NAMES = {m.value: m.name for m in AlertLevel}
_GROUP_NAMES = {m.value: m.name for m in NamedGroup}
_SIGALG_NAMES = {m.value: m.name for m in SignatureScheme}
_EXT_NAMES = {m.value: m.name for m in ExtensionType}

_VERSION_NAMES = {
    0x0002: "SSL 2.0",
    0x0300: "SSL 3.0",
    0x0301: "TLS 1.0",
    0x0302: "TLS 1.1",
    0x0303: "TLS 1.2",
    0x0304: "TLS 1.3",
    0xFEFF: "DTLS 1.0",
    0xFEFD: "DTLS 1.2",
    0xFEFC: "DTLS 1.3",
    0x0100: "DTLS 1.0 (OpenSSL pre-0.9.8f)",
}


def _as_int(v: object) -> int | None:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return int(v)
    return None


#: The 16-bit GREASE values 0x0a0a, 0x1a1a, ... 0xfafa (RFC 8701).
GREASE = frozenset(0x0A0A + 0x1010 * i for i in range(16))


def is_grease(v: object) -> bool:
    """True for the 16-bit GREASE values 0x0a0a, 0x1a1a, ... 0xfafa (RFC 8701)."""
    return v in GREASE and not isinstance(v, bool)


def _hex16(i: int) -> str:
    return f"0x{i:04x}" if i >= 0 else str(i)


def alert_name(code: object) -> str:
    """``48 -> "unknown_ca"``; unknown values -> ``"unknown(200)"``."""
    i = _as_int(code)
    if i is None:
        return f"unknown({code!r})"
    return _ALERT_NAMES.get(i) or f"unknown({i})"


def alert_level_name(level: object) -> str:
    """``1 -> "warning"``, ``2 -> "fatal"``, else ``"unknown(n)"``."""
    i = _as_int(level)
    if i is None:
        return f"unknown({level!r})"
    return _LEVEL_NAMES.get(i) or f"unknown({i})"


def version_name(v: object) -> str:
    """Protocol version -> ``"TLS 1.2"``, ``"TLS 1.3 (draft 23)"``, ``"GREASE"``, ``"0x1234"``."""
    i = _as_int(v)
    if i is None:
        return repr(v)
    name = _VERSION_NAMES.get(i)
    if name is not None:
        return name
    if is_grease(i):
        return "GREASE"
    if 0x7F00 <= i <= 0x7FFF:
        return f"TLS 1.3 (draft {i & 0xFF})"
    if 0xFB00 <= i <= 0xFBFF:  # Facebook's Fizz used 0xfb00 | draft
        return f"TLS 1.3 (Facebook draft {i & 0xFF})"
    return _hex16(i)


def cipher_name(code: object) -> str:
    """IANA cipher suite name (``"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"``); GREASE -> ``"GREASE"``;
    unknown -> ``"0x1234"``.  3-byte SSLv2 cipher kinds (``0x010080``) get their SSL_CK_* names."""
    i = _as_int(code)
    if i is None:
        return repr(code)
    name = CIPHER_SUITES.get(i)
    if name is not None:
        return name
    if is_grease(i):
        return "GREASE"
    name = SSLV2_CIPHER_KINDS.get(i)
    if name is not None:
        return name
    if i > 0xFFFF:
        return f"0x{i:06x}"
    return _hex16(i)


def group_name(code: object) -> str:
    """Named group -> ``"x25519"``, ``"X25519MLKEM768"``; GREASE; else ``"0x1234"``."""
    i = _as_int(code)
    if i is None:
        return repr(code)
    name = _GROUP_NAMES.get(i)
    if name is not None:
        return name
    if is_grease(i):
        return "GREASE"
    return _hex16(i)


def sigalg_name(code: object) -> str:
    """Signature scheme -> ``"rsa_pss_rsae_sha256"``; unregistered TLS 1.2 hash/signature pairs
    -> ``"ecdsa_sha224"``; GREASE; else ``"0x1234"``."""
    i = _as_int(code)
    if i is None:
        return repr(code)
    name = _SIGALG_NAMES.get(i)
    if name is not None:
        return name
    if is_grease(i):
        return "GREASE"
    h, s = i >> 8, i & 0xFF
    if 0 <= i <= 0xFFFF and h in _HASH_NAMES and s in _SIG_NAMES:
        return f"{_SIG_NAMES[s]}_{_HASH_NAMES[h]}"
    return _hex16(i)


def extension_name(code: object) -> str:
    """Extension type -> ``"server_name"``, ``"alpn"``, ...; GREASE; else ``"0x1234"``."""
    i = _as_int(code)
    if i is None:
        return repr(code)
    name = _EXT_NAMES.get(i)
    if name is not None:
        return name
    if is_grease(i):
        return "GREASE"
    return _hex16(i)
