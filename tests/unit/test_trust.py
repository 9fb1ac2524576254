"""Chain validation at capture time (`inspector.trust`) against what OpenSSL itself decided.

Every case runs a genuine OpenSSL handshake (the Cisco scenarios, plus crafted chains: two CAs
with one name, a tampered signature, a leaf acting as a CA, a clientAuth-only server cert, a
path length overrun), frames it into a capture, reads it back with `read_capture`, validates the
chains from the capture with the trust anchors the peer had, and compares the status with
OpenSSL's own verify error.  Then the trust loaders (bundle, DER, directory, tar/zip exports with
hostile members) and `tlsinspect certs --export` (hostile CNs).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import re
import ssl
import tarfile
import zipfile
from pathlib import Path

import pytest
import typer
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

import inspector
from inspector import trust as T
from inspector.trust import load as trust_load
from inspector.cli.certs import register, safe_stem, write_inside
from synth import handshake as hs
from synth import pki
from synth import scenarios as sc
from synth.pcapio import write_capture
from corpus import corpus_file

UTC = dt.timezone.utc
CAPTURE_TIME = dt.datetime.fromtimestamp(sc.CAPTURE_T0, tz=UTC)

# My status code -> OpenSSL's verify error text (X509_verify_cert_error_string) for the same chain.
OPENSSL_SAYS = {
    "ok": None,
    "self_signed": "self.signed certificate",
    "unknown_issuer": "unable to get local issuer certificate|self.signed certificate in certificate chain",
    "expired": "certificate has expired",
    "not_yet_valid": "certificate is not yet valid",
    "bad_signature": "certificate signature failure",
    "name_mismatch": "hostname mismatch|ip address mismatch",
    "not_a_ca": "invalid ca certificate",
    "path_length_exceeded": "path length constraint exceeded",
    "wrong_purpose": "unsuitable certificate purpose",
}


def der(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.DER)


def sha(c: x509.Certificate) -> str:
    return hashlib.sha256(der(c)).hexdigest()


def store_of(*certs: x509.Certificate, name: str = "test") -> T.TrustStore:
    return T.TrustStore.from_certificates(certs, name=name)


@pytest.fixture(scope="module")
def capdir(tmp_path_factory):
    return tmp_path_factory.mktemp("trust")


def _capture(scen: sc.Scenario, directory: Path):
    path = directory / f"{scen.name}.pcap"
    write_capture(path, sc.build_capture(scen))
    return inspector.read_capture(path)


@functools.lru_cache(maxsize=None)
def _scenario(name: str) -> sc.Scenario:
    return sc.SCENARIOS[name]()


def scenario_capture(name: str, directory: Path):
    scen = _scenario(name)
    return scen, _capture(scen, directory)


def openssl_verdict(conv: hs.Conversation, side: str) -> str | None:
    """What OpenSSL's verifier said about ``side``'s chain (the peer's error), None when accepted."""
    error = conv.client_error if side == "server" else conv.server_error
    if error is None or "CERTIFICATE_VERIFY_FAILED" not in error:
        return None
    return error.split("certificate verify failed:", 1)[1].strip().lower()


def assert_agrees(v: T.Validation, conv: hs.Conversation, side: str) -> None:
    said = openssl_verdict(conv, side)
    pattern = OPENSSL_SAYS[v.code if v.code != "ok_by_name" else "ok"]
    if pattern is None:
        assert said is None, f"OpenSSL refused ({said}) what we call {v.status}: {v.detail}"
    else:
        assert said is not None and re.search(pattern, said), f"OpenSSL said {said!r}, we say {v.status}"


# ---- the Cisco scenarios: OpenSSL's decision vs ours --------------------------------------------

def CALLMANAGER_TRUST() -> T.TrustStore:  # noqa: N802 - a constant-like factory
    return store_of(pki.cisco_root_ca_2048().cert, pki.cisco_manufacturing_ca_sha2().cert, pki.capf_a6d4c572().cert,
                    name="CallManager-trust")


def EXAMPLE_ROOT() -> T.TrustStore:  # noqa: N802
    return store_of(pki.example_root_ca().cert, name="Example Lab Root")

CASES = [
    # scenario, side, store (what the peer trusted, or a subset), expected status, check the name
    ("mic_5061", "client", CALLMANAGER_TRUST, "ok", True),
    ("lsc_5061", "client", CALLMANAGER_TRUST, "ok", True),
    ("mic_5061", "server", lambda: store_of(pki.cucm_callmanager().cert), "ok", False),  # phone pins, no name
    ("lsc_rejected_unknown_ca", "client", lambda: store_of(pki.capf_a6d4c572().cert, name="only CAPF-a6d4c572"),
     "unknown_issuer:CAPF-0badc0de", True),
    ("lsc_rejected_unknown_ca", "client", CALLMANAGER_TRUST, "unknown_issuer:CAPF-0badc0de", True),
    ("ca_chain_8443", "server", EXAMPLE_ROOT, "ok", True),
    ("ecdsa_selfsigned_6972_unknown_ca", "server", EXAMPLE_ROOT, "self_signed", True),
    ("sni_mismatch_8443", "server", EXAMPLE_ROOT, "name_mismatch", True),
    ("expired_root_443", "server", lambda: store_of(pki.addtrust_external_root().cert, name="AddTrust"),
     "expired:AddTrust External CA Root", True),
]


@pytest.mark.parametrize("name,side,store,expected,check_name", CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[3]}" for c in CASES])
def test_scenarios_agree_with_openssl(capdir, name, side, store, expected, check_name):
    scen, cap = scenario_capture(name, capdir)
    assert len(cap.analysis.flows) == len(scen.conversations)
    for flow, (conv, _, _) in zip(cap.analysis.flows, scen.conversations):
        server, client = T.validate_flow(flow, cap.analysis.certificates, store=store(), check_name=check_name)
        v = server if side == "server" else client
        assert v is not None
        assert v.status == expected, v.detail
        assert v.at == dt.datetime.fromtimestamp(flow.ts_start, tz=UTC)  # the flow's start, never "now"
        assert_agrees(v, conv, side)


def test_rejected_lsc_names_the_missing_capf_with_its_key_id(capdir):
    _, cap = scenario_capture("lsc_rejected_unknown_ca", capdir)
    flow = cap.analysis.flows[0]
    assert list(flow.alerts) == ["server:fatal:unknown_ca"]
    _, client = T.validate_flow(flow, cap.analysis.certificates, store=store_of(pki.capf_a6d4c572().cert))
    old_capf_ski = pki.capf_0badc0de().cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert client.missing_issuer.startswith("CN=CAPF-0badc0de,")
    assert old_capf_ski.digest.hex() in client.missing_issuer
    assert client.path == list(flow.client_chain_sha256) and client.anchor is None


def test_no_store_reports_the_top_issuer(capdir):
    _, cap = scenario_capture("ca_chain_8443", capdir)
    server, client = T.validate_flow(cap.analysis.flows[0], cap.analysis.certificates, store=None)
    assert server.status == "unknown_issuer:Example Lab Root CA" and client is None
    assert "Example Lab Root CA" in server.missing_issuer
    _, cap = scenario_capture("ecdsa_selfsigned_6972_unknown_ca", capdir)
    assert {T.validate_flow(f, cap.analysis.certificates, store=None)[0].status
            for f in cap.analysis.flows} == {"self_signed"}


def test_ca_chain_path_runs_leaf_to_anchor_and_cryptography_agrees(capdir):
    _, cap = scenario_capture("ca_chain_8443", capdir)
    flow = cap.analysis.flows[0]
    server, _ = T.validate_flow(flow, cap.analysis.certificates, store=EXAMPLE_ROOT())
    assert server.path == [*flow.server_chain_sha256, sha(pki.example_root_ca().cert)]  # leaf .. anchor
    assert server.anchor == pki.example_root_ca().cert.subject.rfc4514_string()
    assert server.verifier == "ok"  # cryptography's RFC 5280 verifier, same store, same time


def test_expired_root_is_judged_at_capture_time_not_now(capdir):
    scen, cap = scenario_capture("expired_root_443", capdir)
    flow = cap.analysis.flows[0]
    root = store_of(pki.addtrust_external_root().cert)
    server, _ = T.validate_flow(flow, cap.analysis.certificates, store=root)
    assert server.status == "expired:AddTrust External CA Root"
    assert server.verifier.startswith("rejected")  # cryptography agrees
    # The scenario's leaf starts in 2023, after the root died: in 2019 it is the leaf that is not valid yet.
    chain = [cap.analysis.certificates[fp].info.der for fp in flow.server_chain_sha256]
    early = T.validate_chain(chain, at=dt.datetime(2019, 6, 1), store=root, hostname=pki.EXPRESSWAY_E_FQDN)
    assert early.status == "not_yet_valid:expressway-e.example.lab"
    # A leaf from 2019 under the same root: fine in 2019, the root's expiry in 2023.
    leaf = pki.make_leaf("mra-2019.example.lab", pki.addtrust_external_root(), san_dns=["mra-2019.example.lab"],
                         not_before=dt.datetime(2019, 1, 1, tzinfo=UTC))
    assert T.validate_chain([leaf.cert], at=dt.datetime(2019, 6, 1), store=root,
                            hostname="mra-2019.example.lab").status == "ok"
    assert T.validate_chain([leaf.cert], at=CAPTURE_TIME, store=root,
                            hostname="mra-2019.example.lab").status == "expired:AddTrust External CA Root"


# ---- crafted chains, each through a real handshake ------------------------------------------------

@functools.lru_cache(maxsize=None)
def test_root() -> pki.Identity:
    return pki.make_ca("Trust Test Root CA", org="Trust Tests")


test_root.__test__ = False  # a factory, not a test


def tampered(identity: pki.Identity) -> pki.Identity:
    raw = bytearray(der(identity.cert))
    raw[-1] ^= 0x01  # last byte of the signature
    cert = x509.load_der_x509_certificate(bytes(raw))
    return pki.Identity(cert=cert, key=identity.key, chain=[cert, *identity.chain[1:]], root=identity.root)


def crafted(kind: str) -> tuple[pki.Identity, list[x509.Certificate], str]:
    """(server identity, what the client trusts, SNI) for one crafted case."""
    root = test_root()
    if kind == "duplicate_cn":
        ca_a = pki.make_ca("Dup Lab CA", key="ec256", serial=1001)
        ca_b = pki.make_ca("Dup Lab CA", key="rsa2048", serial=1002)
        return pki.make_leaf("dup.example.lab", ca_b, san_dns=["dup.example.lab"]), [ca_a.cert, ca_b.cert], \
            "dup.example.lab"
    if kind == "duplicate_cn_wrong_one":
        ca_a = pki.make_ca("Dup Lab CA", key="ec256", serial=1001)
        ca_b = pki.make_ca("Dup Lab CA", key="rsa2048", serial=1002)
        return pki.make_leaf("dup.example.lab", ca_b, san_dns=["dup.example.lab"]), [ca_a.cert], "dup.example.lab"
    if kind == "tampered":
        good = pki.make_leaf("tampered.example.lab", root, san_dns=["tampered.example.lab"])
        return tampered(good), [root.cert], "tampered.example.lab"
    if kind == "leaf_as_issuer":
        mid = pki.make_leaf("Leaf Acting As CA", root)
        return pki.make_leaf("victim.example.lab", mid, san_dns=["victim.example.lab"]), [root.cert], \
            "victim.example.lab"
    if kind == "client_only_eku":
        return pki.make_leaf("clientonly.example.lab", root, client=True, server=False,
                             san_dns=["clientonly.example.lab"]), [root.cert], "clientonly.example.lab"
    if kind == "path_length":
        ca1 = pki.make_ca("PL Intermediate 1", issuer=root, path_len=0)
        ca2 = pki.make_ca("PL Intermediate 2", issuer=ca1)
        return pki.make_leaf("deep.example.lab", ca2, san_dns=["deep.example.lab"]), [root.cert], "deep.example.lab"
    raise ValueError(kind)


CRAFTED = [
    ("duplicate_cn", "ok"),
    ("duplicate_cn_wrong_one", "unknown_issuer:Dup Lab CA"),
    ("tampered", "bad_signature:tampered.example.lab"),
    ("leaf_as_issuer", "not_a_ca:Leaf Acting As CA"),
    ("client_only_eku", "wrong_purpose:clientonly.example.lab"),
    ("path_length", "path_length_exceeded"),
]


@pytest.mark.parametrize("kind,expected", CRAFTED, ids=[c[0] for c in CRAFTED])
def test_crafted_chains_agree_with_openssl(capdir, kind, expected):
    identity, trusted, sni = crafted(kind)
    server_ctx = hs.server_context(identity, max_version=ssl.TLSVersion.TLSv1_2)
    client_ctx = hs.client_context(trusted_cas=trusted, check_hostname=True)
    conv = hs.run_handshake(server_ctx, client_ctx, sni=sni)
    scen = sc.Scenario(kind, kind, [(conv, (sc.EXPRESSWAY_C_IP, 52900), (pki.CUCM_IP, 8443))], {})
    cap = _capture(scen, capdir)
    flow = cap.analysis.flows[0]
    assert flow.server_chain_sha256[0] == sha(identity.cert)
    server, _ = T.validate_flow(flow, cap.analysis.certificates, store=store_of(*trusted))
    assert server.status == expected, server.detail
    assert_agrees(server, conv, "server")


def test_duplicate_cn_path_follows_the_key_identifier():
    ca_a = pki.make_ca("Dup Lab CA", key="ec256", serial=1001)
    ca_b = pki.make_ca("Dup Lab CA", key="rsa2048", serial=1002)
    assert ca_a.cert.subject == ca_b.cert.subject
    leaf = pki.make_leaf("dup.example.lab", ca_b, san_dns=["dup.example.lab"])
    for order in ([ca_a.cert, ca_b.cert], [ca_b.cert, ca_a.cert]):
        v = T.validate_chain([leaf.cert], at=CAPTURE_TIME, store=store_of(*order), hostname="dup.example.lab")
        assert v.status == "ok" and v.path == [sha(leaf.cert), sha(ca_b.cert)]
    # the peer sends the wrong same-named CA along: still the right one from the store
    v = T.validate_chain([leaf.cert, ca_a.cert], at=CAPTURE_TIME, store=store_of(ca_b.cert), hostname="dup.example.lab")
    assert v.status == "ok" and v.path[-1] == sha(ca_b.cert)
    # only the wrong one: unknown issuer, and the detail says a same-named CA with another key is there
    v = T.validate_chain([leaf.cert], at=CAPTURE_TIME, store=store_of(ca_a.cert), hostname="dup.example.lab")
    ski_b = ca_b.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()
    assert v.status == "unknown_issuer:Dup Lab CA" and ski_b in v.missing_issuer
    assert "another key" in v.detail


def test_no_certificate_and_unparseable_leaf():
    assert T.validate_chain([], at=CAPTURE_TIME, store=None).status == "no_certificate"
    v = T.validate_chain([b"\x30\x03\x02\x01\x00"], at=CAPTURE_TIME, store=None)
    assert v.status.startswith("unparseable:")


def test_naive_time_is_utc_and_purpose_is_checked():
    with pytest.raises(ValueError):
        T.validate_chain([pki.phone_mic().cert], at=CAPTURE_TIME, store=None, purpose="both")
    naive = T.validate_chain([pki.phone_mic().cert], at=CAPTURE_TIME.replace(tzinfo=None), store=None,
                             purpose="client")
    assert naive.at == CAPTURE_TIME


# ---- name-only anchors: cisco-mic and the CertificateRequest's CA list ---------------------------

def test_cisco_mic_set_is_names_only_and_says_so(capdir):
    mic_set = T.builtin_trust_set("cisco-mic")
    assert mic_set.anchors and all(a.name_only for a in mic_set.anchors)
    _, cap = scenario_capture("mic_5061", capdir)
    _, client = T.validate_flow(cap.analysis.flows[0], cap.analysis.certificates, store=mic_set)
    assert client.status in ("ok_by_name:Cisco Manufacturing CA SHA2", "ok_by_name:Cisco Root CA 2048")
    assert client.ok and "name-only" in client.detail
    # An imitation with another organisation is not a Cisco manufacturing CA.
    fake_ca = pki.make_ca("Cisco Manufacturing CA SHA2", org="Acme")
    fake = pki.make_leaf("SEP00AABBCCDDEE", fake_ca, client=True, server=False)
    v = T.validate_chain(fake.chain, at=CAPTURE_TIME, store=mic_set, purpose="client")
    assert v.status == "unknown_issuer:Cisco Manufacturing CA SHA2"
    # and the LSC from an unknown CAPF stays unknown
    v = T.validate_chain(pki.phone_lsc_old_cluster().chain, at=CAPTURE_TIME, store=mic_set, purpose="client")
    assert v.status == "unknown_issuer:CAPF-0badc0de"


def test_client_chain_against_the_servers_certificate_request():
    names = [pki.cisco_root_ca_2048().cert.subject.rfc4514_string(),
             "CN=Cisco Manufacturing CA SHA2,O=Cisco", pki.capf_a6d4c572().cert.subject.rfc4514_string()]
    v = T.validate_client_chain_against_request([pki.phone_mic().cert], names, CAPTURE_TIME)
    assert v.status == "ok" and "CertificateRequest" in v.detail
    v = T.validate_client_chain_against_request([pki.phone_lsc().cert], names, CAPTURE_TIME)
    assert v.status == "ok"
    v = T.validate_client_chain_against_request([pki.phone_lsc_old_cluster().cert], names, CAPTURE_TIME)
    assert v.status == "unknown_issuer:CAPF-0badc0de" and "CertificateRequest" in v.detail
    # validate_flow uses the request's names when no store is given
    rec = dict(ts_start=sc.CAPTURE_T0, sni=None, server_ip=pki.CUCM_IP, server_chain_sha256=[],
               client_chain_sha256=[sha(pki.phone_lsc_old_cluster().cert)], requested_ca_names=names)
    certs = {sha(pki.phone_lsc_old_cluster().cert): der(pki.phone_lsc_old_cluster().cert)}
    server, client = T.validate_flow(rec, certs, store=None)
    assert server.status == "no_certificate" and client.status == "unknown_issuer:CAPF-0badc0de"


def test_flow_validation_columns(lab_capture):
    cap = inspector.read_capture(lab_capture)
    cols = T.flow_validation_columns(cap.analysis, store=None)
    assert sorted(cols) == list(cap.flows["flow_id"])
    server, client = cols[int(cap.flows.iloc[1]["flow_id"])]  # the rejected LSC
    assert server == "self_signed" and client == "unknown_issuer:CAPF-0badc0de"
    # DataFrame rows and a sha256 -> DER mapping work as well as FlowRecords and CertSeen
    certs = dict(zip(cap.certificates["sha256"], cap.certificates["der"]))
    for _, row in cap.flows.iterrows():
        server, client = T.validate_flow(row, certs, store=None)
        assert (server.status, client.status if client else None) == cols[int(row["flow_id"])]
        assert server.at == row["ts_start"].to_pydatetime()


def test_mozilla_set_loads_from_certifi():
    moz = T.builtin_trust_set("mozilla")
    assert len(moz.certificate_anchors) > 100 and not moz.name_anchors
    assert all("certifi" in a.source for a in moz.anchors)
    v = T.validate_chain(pki.cucm_tomcat().chain, at=CAPTURE_TIME, store=moz, hostname=pki.CUCM_FQDN)
    assert v.status == "unknown_issuer:Example Lab Root CA"
    with pytest.raises(inspector.InspectError):
        T.builtin_trust_set("nope")


# ---- loaders ---------------------------------------------------------------------------------------

def pem(c: x509.Certificate) -> bytes:
    return c.public_bytes(serialization.Encoding.PEM)


def test_load_pem_bundle_der_and_directory(tmp_path):
    a, b, c = pki.example_root_ca().cert, pki.capf_a6d4c572().cert, pki.cisco_root_ca_2048().cert
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(b"# comment\n" + pem(a) + b"junk\n" + pem(b))
    store = T.load_trust(bundle)
    assert {x.sha256 for x in store.anchors} == {sha(a), sha(b)}
    assert store.anchors[0].source == "bundle.pem#1"
    single = tmp_path / "root.der"
    single.write_bytes(der(c))
    assert [x.sha256 for x in T.load_trust(single).anchors] == [sha(c)]
    d = tmp_path / "trustdir"
    (d / "sub" / "deeper").mkdir(parents=True)
    (d / "one.crt").write_bytes(pem(a))
    (d / "sub" / "two.der").write_bytes(der(b))
    (d / "sub" / "deeper" / "three.pem").write_bytes(pem(c) + pem(a))  # a again: deduplicated
    (d / "README.txt").write_text("not a certificate")
    store = T.load_trust(d)
    assert {x.sha256 for x in store.anchors} == {sha(a), sha(b), sha(c)} and len(store) == 3
    assert any(s.startswith("README.txt") for s in store.skipped)
    with pytest.raises(T.TrustError):
        T.load_trust(tmp_path / "missing.pem")
    (tmp_path / "empty").mkdir()
    with pytest.raises(inspector.InspectError):
        T.load_trust(tmp_path / "empty")


def _tar_with(members: list[tuple[str, bytes]], *, symlink: str | None = None, gz: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/ssl/certs/ca-certificates.crt"
            tf.addfile(info)
    return buf.getvalue()


def test_tar_trust_export_ignores_traversal_and_links(tmp_path):
    good, evil = pki.capf_a6d4c572().cert, pki.capf_0badc0de().cert
    archive = tmp_path / "CallManager-trust.tgz"
    archive.write_bytes(_tar_with([("trust/CAPF-a6d4c572.pem", pem(good)), ("../evil.pem", pem(evil)),
                                   ("/etc/evil.der", der(evil)), ("trust/../../evil2.pem", pem(evil))],
                                  symlink="trust/link.pem"))
    store = T.load_trust(archive)
    assert [a.sha256 for a in store.anchors] == [sha(good)]
    assert store.anchors[0].source == "CallManager-trust.tgz!trust/CAPF-a6d4c572.pem"
    skipped = "\n".join(store.skipped)
    assert "../evil.pem: ignored, path traversal" in skipped and "/etc/evil.der: ignored, absolute" in skipped
    assert "evil2.pem: ignored, path traversal" in skipped and "link.pem: ignored, not a regular file" in skipped
    assert not (tmp_path.parent / "evil.pem").exists() and not list(tmp_path.glob("**/evil*"))
    # the lost LSC's CAPF is unknown to this export
    v = T.validate_chain(pki.phone_lsc_old_cluster().chain, at=CAPTURE_TIME, store=store, purpose="client")
    assert v.status == "unknown_issuer:CAPF-0badc0de"


def test_zip_trust_export_ignores_traversal(tmp_path):
    good, evil = pki.example_root_ca().cert, pki.capf_0badc0de().cert
    archive = tmp_path / "expressway-ca-list.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("certs/root.der", der(good))
        zf.writestr("../../evil.pem", pem(evil))
        zf.writestr("..\\evil_windows.pem", pem(evil))
        zf.writestr("notes.txt", "hello")
    store = T.load_trust(archive)
    assert [a.sha256 for a in store.anchors] == [sha(good)]
    skipped = "\n".join(store.skipped)
    assert "../../evil.pem: ignored, path traversal" in skipped and "evil_windows.pem: ignored" in skipped


def test_archive_member_size_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(trust_load, "MAX_MEMBER_BYTES", 4096)
    members = [("a.pem", pem(pki.example_root_ca().cert)), ("big.bin", b"\0" * 65536),
               ("b.pem", pem(pki.capf_a6d4c572().cert))]
    plain = tmp_path / "big.tar"
    plain.write_bytes(_tar_with(members, gz=False))
    store = T.load_trust(plain)  # plain tar: the big member is skipped, the rest read
    assert len(store) == 2 and any("big.bin: ignored, larger than 4096 bytes" in s for s in store.skipped)
    packed = tmp_path / "big.tgz"
    packed.write_bytes(_tar_with(members, gz=True))
    store = T.load_trust(packed)  # compressed: stop at the big member rather than inflate it
    assert len(store) == 1 and any("archive not read further" in s for s in store.skipped)


# ---- certs command: export ----------------------------------------------------------------------

@pytest.mark.parametrize("cn", ["../../etc/passwd", "..", "/", "a/b\\c", "\x00evil", ".hidden", "ç" * 300, ""])
def test_safe_stem_stays_a_plain_name(cn):
    stem = safe_stem(cn)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", stem) and ".." not in stem and len(stem) <= 64


def test_write_inside_refuses_escapes_and_planted_links(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    for bad in ("../victim.txt", "/etc/passwd", "..", "a/b"):
        with pytest.raises(ValueError):
            write_inside(out, bad, b"x")
    (out / "planted.pem").symlink_to(victim)
    with pytest.raises((ValueError, OSError)):
        write_inside(out, "planted.pem", b"x")
    assert victim.read_text() == "keep"


def _certs_app() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.callback()
    def _root() -> None:
        """test app"""

    register(app)
    return app


def test_certs_export_keeps_hostile_cns_inside_dir(tmp_path):
    hostile = pki.make_leaf("../../etc/passwd", self_signed=True, san_dns=["evil.example.lab"])
    phone = pki.make_leaf("[/]..\\..\\SEP0011\x1b[31m", pki.capf_0badc0de(), client=True, server=False)
    server_ctx = hs.server_context(hostile, max_version=ssl.TLSVersion.TLSv1_2, request_client_cert=True,
                                   trusted_cas=[pki.capf_a6d4c572().cert])
    client_ctx = hs.client_context(trusted_cas=[hostile.cert], client_identity=phone)
    conv = hs.run_handshake(server_ctx, client_ctx, sni=None)
    scen = sc.Scenario("hostile", "", [(conv, (sc.PHONE_IP, 51900), (pki.CUCM_IP, 5061))], {})
    capfile = tmp_path / "hostile.pcap"
    write_capture(capfile, sc.build_capture(scen))
    out = tmp_path / "deep" / "export"
    r = CliRunner().invoke(_certs_app(), ["certs", str(capfile), "--export", str(out)])
    assert r.exit_code == 0, r.output
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file() and p != capfile)
    assert files and all(p.parent == out for p in files), files
    assert not (tmp_path / "etc").exists()
    cap = inspector.read_capture(capfile)
    singles = [p for p in files if not p.name.startswith("flow")]
    assert len(singles) == len(cap.analysis.certificates) == 2
    for p in singles:
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*_[0-9a-f]{12}\.pem", p.name), p.name
        cert = x509.load_pem_x509_certificate(p.read_bytes())
        fp = sha(cert)
        assert fp in cap.analysis.certificates and p.name.endswith(f"_{fp[:12]}.pem")
    flow = cap.analysis.flows[0]
    for side, chain in (("server", flow.server_chain_sha256), ("client", flow.client_chain_sha256)):
        bundle = x509.load_pem_x509_certificates((out / f"flow{flow.flow_id}_{side}_chain.pem").read_bytes())
        assert [sha(c) for c in bundle] == list(chain)
    assert "etc_passwd_" in r.output and "wrote 2 certificates and 2 chain bundles" in r.output
    assert "\x1b" not in r.output and "[/]" in r.output  # no rich markup, no terminal escapes from a CN
    # The server refused the old cluster's LSC: its CAPF belongs in CallManager-trust.
    assert re.search(r"CAPF-0badc0de.*-> CallManager-trust", r.output)


def test_certs_command_with_trust_and_bad_inputs(lab_capture, tmp_path):
    app = _certs_app()
    trust_file = tmp_path / "callmanager-trust.pem"
    trust_file.write_bytes(pem(pki.capf_a6d4c572().cert) + pem(pki.cisco_root_ca_2048().cert))
    r = CliRunner().invoke(app, ["certs", str(lab_capture), "--trust", str(trust_file), "--trust-set", "cisco-mic"])
    assert r.exit_code == 0, r.output
    assert "distinct certificates" in r.output and "unknown_issuer:CAPF-0badc0de" in r.output
    assert "Expressway-C trusted CA list" in r.output  # the self-signed ECDSA cert rejected on 6972
    r = CliRunner().invoke(app, ["certs", str(lab_capture), "--trust", str(tmp_path / "nope.pem")])
    assert r.exit_code == 2 and "does not exist" in r.output
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture")
    r = CliRunner().invoke(app, ["certs", str(bad)])
    assert r.exit_code == 2 and r.output.startswith("tlsinspect: ") and r.output.count("\n") == 1
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    r = CliRunner().invoke(app, ["certs", str(lab_capture), "--export", str(not_a_dir)])
    assert r.exit_code == 2 and r.output.count("\n") == 1 and "Traceback" not in r.output


def test_report_judges_chains_with_a_trust_store(tmp_path):
    """`read_capture(trust=...)` / `tlsinspect FILE --trust`: the validation columns use the store."""
    import json as _json

    from typer.testing import CliRunner

    import inspector
    from inspector.cli.app import app
    from synth import pki as _pki
    from synth import scenarios as _sc
    from synth.pcapio import write_capture as _write
    from inspector.trust import combined_store

    pcap = tmp_path / "chain.pcap"
    _write(pcap, _sc.build_capture(_sc.SCENARIOS["ca_chain_8443"]()))
    root = tmp_path / "root.pem"
    root.write_bytes(_pki.example_root_ca().cert_pem())
    assert inspector.read_capture(pcap).flows.server_validation[0] == "unknown_issuer:Example Lab Root CA"
    store = combined_store([root])
    assert inspector.read_capture(pcap, trust=store).flows.server_validation[0] == "ok"
    r = CliRunner().invoke(app, ["report", str(pcap), "--format", "json", "--trust", str(root)])
    assert r.exit_code == 0 and _json.loads(r.output)["flows"][0]["server_validation"] == "ok"
    r = CliRunner().invoke(app, ["report", str(pcap), "--trust-set", "nosuch"])
    assert r.exit_code == 2


_ZEEK_TLS12 = corpus_file("zeek-zeek/tls1.2.pcap")


@pytest.mark.skipif(not _ZEEK_TLS12.exists(), reason="public corpus not present")
def test_sha1_signed_real_chain_verifies(tmp_path):
    """A genuine SHA-1 chain (Comodo, 2011): cryptography 50's X.509 layer refuses SHA-1
    ("Unsupported signature algorithm"), which made every such link a bad_signature.  With the
    intermediate as the anchor, leaf -> intermediate must verify and the chain be trusted."""
    cap = inspector.read_capture(_ZEEK_TLS12)
    flow = cap.analysis.flows[0]
    ders = [cap.analysis.certificates[fp].info.der for fp in flow.server_chain_sha256]
    inter = next(d for d in ders if "High-Assurance" in x509.load_der_x509_certificate(d).subject.rfc4514_string())
    (tmp_path / "comodo.pem").write_bytes(
        x509.load_der_x509_certificate(inter).public_bytes(serialization.Encoding.PEM))
    v = T.validate_chain(ders, at=dt.datetime.fromtimestamp(flow.ts_start, dt.timezone.utc),
                         store=T.load_trust(tmp_path / "comodo.pem"))
    assert not any(p.startswith("bad_signature") for p in v.problems), v.problems
    assert v.status == "ok", (v.status, v.problems)


def test_a_streamed_capture_judges_each_chain_once_not_once_a_batch(monkeypatch):
    """From a pipe the flows come in batches of one: the memo keeps the parsed certificates and
    the statuses of alike flows, so the statuses are those of one batch and no chain is judged twice."""
    from inspector.trust import columns
    from corpus import PCAPS

    cap = inspector.read_capture(PCAPS / "cisco_lab_mix.pcapng")
    flows, certs = cap.analysis.flows, cap.analysis.certificates
    judged = []
    real = columns.validate_flow
    monkeypatch.setattr(columns, "validate_flow", lambda f, *a, **k: judged.append(f.flow_id) or real(f, *a, **k))
    whole = [(r["server_validation"], r["client_validation"]) for r in T.validated_flow_rows(flows, certs)]
    once = len(judged)
    judged.clear()
    memo = T.ValidationMemo()
    single = [(r["server_validation"], r["client_validation"])
              for f in flows for r in T.validated_flow_rows([f], certs, memo=memo)]
    assert single == whole and len(set(whole)) > 1
    assert len(judged) == once < len(flows)
    assert set(memo.nodes) == {fp for f in flows for fp in (*f.server_chain_sha256, *f.client_chain_sha256)}
