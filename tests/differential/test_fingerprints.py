"""JA3 strings and JA4 against the published examples.  JA3/JA3S against tshark's own fields on every
corpus file is part of tests/differential/test_corpus_tshark.py (one tshark run per file)."""

from inspector.tls.fingerprint import ja3, ja3_string, ja4, ja4_r
from inspector.tls.messages import ClientHello


def hello(ciphers, exts, sigalgs=(), versions=(), groups=(), formats=(), alpn=(), legacy=0x0303):
    return ClientHello(legacy_version=legacy, random=b"\0" * 32, session_id=b"", cipher_suites=tuple(ciphers),
                       compression_methods=(0,), extensions=tuple((t, b"") for t in exts), sni=None,
                       sni_count=0, alpn=tuple(alpn), supported_versions=tuple(versions),
                       supported_groups=tuple(groups), ec_point_formats=tuple(formats),
                       signature_algorithms=tuple(sigalgs), key_share_groups=(), session_ticket=False,
                       psk=False, early_data=False, ech=False, warnings=())


def test_ja4_published_example():
    """FoxIO JA4 technical details: the worked example and its raw form."""
    ciphers = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013, 0xC014,
               0x009C, 0x009D, 0x002F, 0x0035]
    exts = [0x001B, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002D, 0x000D, 0x0005, 0x0023, 0x0012,
            0x002B, 0xFF01, 0x000B, 0x000A, 0x0015]
    sigs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
    ch = hello([0x0A0A] + ciphers, [0x1A1A] + exts, sigs, versions=[0x2A2A, 0x0304, 0x0303], alpn=["h2"])
    assert ja4(ch) == "t13d1516h2_8daaf6152771_e5627efa2ab1"
    assert ja4_r(ch).startswith("t13d1516h2_002f,0035,009c,009d,1301")
    no_sigs = hello(ciphers, exts, (), versions=[0x0304], alpn=["h2"])
    assert ja4(no_sigs).endswith("_6d807ffa2a79")


def test_ja4_edge_cases():
    ch = hello([0x002F], [0x000A], versions=(), alpn=(), legacy=0x0301)
    assert ja4(ch).startswith("t10i0101" + "00")
    assert ja4(hello([], [], legacy=0x0303)) == "t12i000000_000000000000_000000000000"


def test_ja3_string_ignores_grease():
    ch = hello([0x0A0A, 0x1301, 0xC02F], [0x3A3A, 0, 10, 11], groups=[0x4A4A, 29, 23], formats=[0])
    assert ja3_string(ch) == "771,4865-49199,0-10-11,29-23,0"


def test_fingerprint_cache_keys_on_every_hashed_field():
    from inspector.tls.fingerprint import client_fingerprints
    a = hello([0x1301, 0x1302], [0, 10, 13], sigalgs=[0x0403], versions=[0x0304], alpn=["h2"])
    b = hello([0x1301, 0x1302], [0, 10, 13], sigalgs=[0x0804], versions=[0x0304], alpn=["h2"])
    c = hello([0x1301, 0x1302], [0, 10, 13], sigalgs=[0x0403], versions=[0x0304], alpn=["h2"])
    assert client_fingerprints(a) == (ja3(a), ja4(a)) == client_fingerprints(c)
    assert client_fingerprints(b)[1] != client_fingerprints(a)[1]
