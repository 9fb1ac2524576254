"""One TLS connection: record-level events from both directions -> what the handshake said.

`TLSSession` is sans-I/O.  The connection layer feeds it the events of each direction's
`RecordReader` (direction ``"a"`` is the TCP initiator, ``"b"`` the responder); the session parses
the handshake messages (`inspector.tls.messages`), follows the handshake to its end, and keeps what
a report needs: hellos, chains (DER), CertificateRequest, key exchange, alerts, a Zeek-style
history string and anomalies.  `handshake_over` tells the connection layer when it may stop
buffering.  Which side is the TLS client is decided by who sent the ClientHello.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import fingerprint
from . import messages as m
from ..interpret import TLS13_RECORDS_MAX, tls12_over, tls13_over
from ..weird import Weird
from .ciphers import CIPHER_SUITES
from .decrypt import TLS13_SUITES, KeyLog, RecordDecryptor, Tls12Decryptor
from .constants import GREASE, AlertLevel, ContentType, alert_name
from .constants import AlertDescription as A, HandshakeType as H
from .records import (Anomaly, AlertRecord, ApplicationData, ChangeCipherSpec, EncryptedHandshake,
                      Event, HandshakeMessage, SSLv2ClientHello, SSLv2ServerHello, TLSStart)

# Zeek's ssl_history letters (scripts/base/protocols/ssl/main.zeek); client upper, server lower.
HISTORY_LETTERS = {int(k): v for k, v in {  # plain int keys, named by their wire codes
    H.hello_request: "h", H.client_hello: "c", H.server_hello: "s", H.hello_verify_request: "v",
    H.new_session_ticket: "t", H.end_of_early_data: "e", H.hello_retry_request: "j",
    H.encrypted_extensions: "o", H.certificate: "x", H.server_key_exchange: "k",
    H.certificate_request: "r", H.server_hello_done: "n", H.certificate_verify: "y",
    H.client_key_exchange: "g", H.finished: "f", H.certificate_url: "w", H.certificate_status: "u",
    H.supplemental_data: "a", H.key_update: "p", H.compressed_certificate: "z", H.message_hash: "m",
}.items()}
MESSAGE_NAMES = {int(k): v for k, v in {  # plain int keys, named by their wire codes
    H.hello_request: "HelloRequest", H.client_hello: "ClientHello", H.server_hello: "ServerHello",
    H.hello_verify_request: "HelloVerifyRequest", H.new_session_ticket: "NewSessionTicket",
    H.end_of_early_data: "EndOfEarlyData", H.hello_retry_request: "HelloRetryRequest",
    H.encrypted_extensions: "EncryptedExtensions", H.certificate: "Certificate",
    H.server_key_exchange: "ServerKeyExchange", H.certificate_request: "CertificateRequest",
    H.server_hello_done: "ServerHelloDone", H.certificate_verify: "CertificateVerify",
    H.client_key_exchange: "ClientKeyExchange", H.finished: "Finished",
    H.certificate_url: "CertificateURL", H.certificate_status: "CertificateStatus",
    H.key_update: "KeyUpdate", H.compressed_certificate: "CompressedCertificate",
}.items()}
MAX_MESSAGES = 64  # per connection: a ladder needs the handshake, not a renegotiation storm
#: certificate-related alert descriptions
CERT_ALERTS = frozenset(int(a) for a in (
    A.bad_certificate, A.unsupported_certificate, A.certificate_revoked, A.certificate_expired,
    A.certificate_unknown, A.unknown_ca, A.access_denied, A.certificate_required))
TLS13 = 0x0304

# the wire codes this state machine branches on, as plain ints (compared per message)
_ALERT, _HANDSHAKE = int(ContentType.alert), int(ContentType.handshake)
_CLIENT_HELLO, _SERVER_HELLO = int(H.client_hello), int(H.server_hello)
_CERTIFICATE, _SERVER_KEY_EXCHANGE = int(H.certificate), int(H.server_key_exchange)
_CERTIFICATE_REQUEST, _FINISHED = int(H.certificate_request), int(H.finished)


def is_tls13_version(v: int | None) -> bool:
    """TLS 1.3, its IETF drafts (0x7fxx) and Facebook's Fizz drafts (0xfbxx)."""
    return v is not None and (v == TLS13 or (v >> 8) in (0x7F, 0xFB))


@dataclass(slots=True)
class AlertSeen:
    frame: int
    ts: float
    side: str  # "a" or "b": the direction that sent it
    level: str  # "warning", "fatal", "encrypted", or "unknown(n)"
    description: str  # IANA name, or "encrypted_alert"
    code: int | None
    after: str | None  # the peer's last handshake message before it, e.g. "Certificate"


@dataclass(slots=True)
class MessageSeen:
    """One arrow of the ladder diagram: a handshake message, ChangeCipherSpec, alert, or
    application data record, in the order the session saw them."""

    side: str  # "a" or "b": the direction that sent it
    kind: str  # "handshake", "encrypted_handshake", "change_cipher_spec", "alert", "application_data",
    #            "tcp" (logged by the connection: "retransmission", "RST", "FIN")
    name: str  # "ClientHello", "Finished", "ChangeCipherSpec", "fatal unknown_ca", "ApplicationData"...
    frame: int
    ts: float


@dataclass(slots=True)
class TLSSession:
    client_hello: m.ClientHello | None = None  # slimmed once fingerprinted (see _keep_hello)
    ja3: str | None = None
    ja4: str | None = None
    server_hello: m.ServerHello | None = None
    tls13: bool = False  # the ServerHello chose TLS 1.3 (or a draft)
    hello_retry: bool = False
    client_side: str | None = None  # "a" or "b"
    chains: dict[str, list[bytes]] = field(default_factory=dict)  # side -> DER list, as sent
    cert_request: m.CertificateRequest | None = None
    server_kx: m.ServerKeyExchange | None = None
    alerts: list[AlertSeen] = field(default_factory=list)
    anomalies: list[Weird] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    messages: list[MessageSeen] = field(default_factory=list)  # at most MAX_MESSAGES
    ccs: dict[str, int] = field(default_factory=dict)  # side -> frame
    finished: dict[str, int] = field(default_factory=dict)  # side -> frame of encrypted Finished
    encrypted_order: list[tuple[str, int]] = field(default_factory=list)  # TLS 1.3: (side, size)
    last_message: dict[str, str] = field(default_factory=dict)
    flight_has_cert: dict[str, bool] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)
    prelude: dict[str, bytes] = field(default_factory=dict)  # side -> first bytes before TLS
    prelude_bytes: int = 0
    sslv2_hello: bool = False
    sslv2_server: tuple[int, bool] | None = None  # (first cipher kind, session id hit)
    appdata: dict[str, int] = field(default_factory=dict)  # side -> records after handshake start
    first_frame: int | None = None
    keylog: KeyLog | None = None
    max_certs: int = 32
    decryptors: dict[str, RecordDecryptor] = field(default_factory=dict)
    decrypted_hs: dict[str, bytearray] = field(default_factory=dict)
    decrypted: bool = False  # at least one record was decrypted with the key log
    tls12_decryptors: dict[str, Tls12Decryptor] = field(default_factory=dict)
    server_after_client_finished: int = 0  # server records after the client's Finished
    first_ccs: str | None = None  # the side that sent ChangeCipherSpec first
    _secrets: dict[str, bytes] | None = None

    # ---- helpers -------------------------------------------------------------------------
    def _anomaly(self, frame: int, ts: float, side: str | None, code: str, detail: str) -> None:
        if len(self.anomalies) < 64:
            self.anomalies.append(Weird(code=code, frame=frame, ts=ts, detail=detail, side=side))

    def _log(self, side: str, kind: str, name: str, frame: int, ts: float) -> None:
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(MessageSeen(side, kind, name, frame, ts))

    def _side_is_client(self, side: str) -> bool:
        return side == (self.client_side or "a")

    @property
    def version(self) -> int | None:
        if self.server_hello is not None:
            return self.server_hello.selected_version
        return None

    @property
    def is_tls13(self) -> bool:
        return self.tls13

    # ---- feeding -------------------------------------------------------------------------
    def feed(self, side: str, events: list[Event], ts: float) -> None:
        for ev in events:
            t = type(ev)
            if t is HandshakeMessage:
                self._message(side, ev, ts)
            elif t is ApplicationData:
                self._appdata(side, ev, ts)
            elif t is ChangeCipherSpec:
                self.ccs.setdefault(side, ev.frame)
                if self.first_ccs is None:
                    self.first_ccs = side
                if self.keylog is not None and not self.tls13:
                    self._start_tls12_decryption(side)
                self.history.append("I" if self._side_is_client(side) else "i")
                self._log(side, "change_cipher_spec", "ChangeCipherSpec", ev.frame, ts)
            elif t is EncryptedHandshake:
                if side in self.tls12_decryptors:
                    self.tls12_decryptors[side].skip()
                if side in self.ccs and side not in self.finished:
                    self.finished[side] = ev.frame
                    self.history.append("F" if self._side_is_client(side) else "f")
                    self._log(side, "encrypted_handshake", "Finished", ev.frame, ts)
            elif t is AlertRecord:
                self._alert(side, ev, ts)
            elif t is TLSStart:
                self.started.add(side)
                if self.first_frame is None:
                    self.first_frame = ev.frame
                if ev.prelude_bytes:
                    self.prelude[side] = ev.prelude_head
                    self.prelude_bytes += ev.prelude_bytes
            elif t is SSLv2ClientHello:
                self._sslv2(side, ev, ts)
            elif t is SSLv2ServerHello:
                self._sslv2_server(side, ev, ts)
            elif t is Anomaly:
                self._anomaly(ev.frame, ts, side, ev.code, ev.detail)

    def _appdata(self, side: str, ev: ApplicationData, ts: float) -> None:
        if self.server_hello is not None and self.tls13 and len(self.encrypted_order) < TLS13_RECORDS_MAX:
            # TLS 1.3: each encrypted record of the handshake is an arrow (its size tells Finished
            # from an alert, see inspector.interpret.tls13_outcome); decrypted ones appear as their messages
            if not (ev.record and side in self.decryptors):
                self._log(side, "application_data", f"encrypted record ({ev.length} bytes)", ev.frame, ts)
        elif side not in self.appdata:
            self._log(side, "application_data", "ApplicationData", ev.frame, ts)
        self.appdata[side] = self.appdata.get(side, 0) + 1
        if side in self.tls12_decryptors:
            self.tls12_decryptors[side].skip()
        if not self._side_is_client(side) and (self.client_side or "a") in self.finished:
            self.server_after_client_finished += 1
        if self.server_hello is not None and self.is_tls13 and len(self.encrypted_order) < TLS13_RECORDS_MAX:
            self.encrypted_order.append((side, ev.length))
        if ev.record and side in self.decryptors:
            self._decrypt(side, ev, ts)

    # ---- TLS 1.3 with a key log ------------------------------------------------------------
    def _start_decryption(self) -> None:
        ch, sh = self.client_hello, self.server_hello
        if self.keylog is None or ch is None or sh is None or sh.cipher_suite not in TLS13_SUITES:
            return
        secrets = self.keylog.get(ch.random)
        if not secrets:
            return
        self._secrets = secrets
        c = self.client_side or "a"
        s = "b" if c == "a" else "a"
        for side, label in ((c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"), (s, "SERVER_HANDSHAKE_TRAFFIC_SECRET")):
            if label in secrets:
                self.decryptors[side] = RecordDecryptor(sh.cipher_suite, secrets[label])

    def _start_tls12_decryption(self, side: str) -> None:
        """TLS 1.2 with the master secret (CLIENT_RANDOM line): this side's records after its
        ChangeCipherSpec can be decrypted (AEAD suites), to read encrypted alerts."""
        ch, sh = self.client_hello, self.server_hello
        if ch is None or sh is None or side in self.tls12_decryptors:
            return
        secrets = self.keylog.get(ch.random) if self.keylog is not None else None
        name = CIPHER_SUITES.get(sh.cipher_suite, "")
        if not secrets or "CLIENT_RANDOM" not in secrets or not name:
            return
        try:
            self.tls12_decryptors[side] = Tls12Decryptor(
                name, secrets["CLIENT_RANDOM"], ch.random, sh.random,
                client_side=self._side_is_client(side), version=sh.legacy_version)
        except ValueError:
            return  # not an AEAD suite: CBC suites are not decrypted

    def _decrypt(self, side: str, ev: ApplicationData, ts: float) -> None:
        result = self.decryptors[side].decrypt(ev.record[:5], ev.record[5:])
        if result is None:
            del self.decryptors[side]
            self._anomaly(ev.frame, ts, side, "decryption_failed",
                          "a record did not decrypt with the key log's secret")
            return
        self.decrypted = True
        inner, content = result
        if inner == _ALERT:
            self._alert(side, AlertRecord(ev.frame, content, False), ts)
        elif inner == _HANDSHAKE:
            buf = self.decrypted_hs.setdefault(side, bytearray())
            buf += content
            while len(buf) >= 4:
                mlen = int.from_bytes(buf[1:4], "big")
                if mlen > 1 << 20:
                    self._anomaly(ev.frame, ts, side, "handshake_too_large", "decrypted message too large")
                    del self.decryptors[side]
                    return
                if len(buf) < 4 + mlen:
                    break
                msg = HandshakeMessage(ev.frame, buf[0], bytes(buf[4:4 + mlen]), 0x0304)
                del buf[:4 + mlen]
                self._message(side, msg, ts)
                if msg.msg_type == _FINISHED:
                    self._switch_to_application_keys(side)
                    return

    def _switch_to_application_keys(self, side: str) -> None:
        label = "CLIENT_TRAFFIC_SECRET_0" if self._side_is_client(side) else "SERVER_TRAFFIC_SECRET_0"
        secret = (self._secrets or {}).get(label)
        if secret is not None and self.server_hello is not None:
            self.decryptors[side] = RecordDecryptor(self.server_hello.cipher_suite, secret)
        else:
            self.decryptors.pop(side, None)

    def _sslv2(self, side: str, ev: SSLv2ClientHello, ts: float) -> None:
        self.sslv2_hello = True
        try:
            self._keep_hello(m.parse_sslv2_client_hello(ev.record), sslv2=True)
        except m.TLSParseError as e:
            self._anomaly(ev.frame, ts, side, "bad_client_hello", f"SSLv2 ClientHello: {e}")
        if self.client_side is None:
            self.client_side = side
        self.history.append("C")
        self.last_message[side] = "ClientHello"
        self._log(side, "handshake", "ClientHello (SSLv2)", ev.frame, ts)

    def _keep_hello(self, ch: m.ClientHello, sslv2: bool = False) -> None:
        """Fingerprint the ClientHello now, then keep only what the flow row needs: a connection
        in flight holds a few hundred bytes of it instead of every extension's bytes."""
        if not sslv2:
            self.ja3, self.ja4 = fingerprint.client_fingerprints(ch)
        versions = tuple(v for v in ch.supported_versions if v not in GREASE)
        self.client_hello = replace(ch, cipher_suites=(), extensions=(), supported_groups=(),
                                    ec_point_formats=(), signature_algorithms=(), key_share_groups=(),
                                    compression_methods=(), supported_versions=versions)

    def _sslv2_server(self, side: str, ev: SSLv2ServerHello, ts: float) -> None:
        """SSLv2 SERVER-HELLO: the server's certificate and cipher kinds, then encryption."""
        rec = ev.record
        self.history.append("s")
        self.last_message[side] = "ServerHello (SSLv2)"
        self._log(side, "handshake", "ServerHello (SSLv2)", ev.frame, ts)
        try:
            hdr = 2
            cert_len = int.from_bytes(rec[hdr + 5:hdr + 7], "big")
            specs_len = int.from_bytes(rec[hdr + 7:hdr + 9], "big")
            start = hdr + 11
            cert = rec[start:start + cert_len]
            specs = rec[start + cert_len:start + cert_len + specs_len]
            if len(cert) != cert_len or len(specs) != specs_len:
                raise ValueError("lengths run past the record")
        except ValueError as e:
            self._anomaly(ev.frame, ts, side, "bad_server_hello", f"SSLv2 ServerHello: {e}")
            return
        if cert:
            self.chains.setdefault(side, [cert])
        cipher = int.from_bytes(specs[:3], "big") if len(specs) >= 3 else 0
        self.sslv2_server = (cipher, bool(rec[hdr + 1]))

    def _message(self, side: str, ev: HandshakeMessage, ts: float) -> None:
        mt = ev.msg_type
        body = ev.body
        if mt == _CLIENT_HELLO and self.client_side is None:
            self.client_side = side
        elif mt == _SERVER_HELLO and self.client_side is None:
            self.client_side = "b" if side == "a" else "a"
        is_client = self._side_is_client(side)
        letter = HISTORY_LETTERS.get(mt, "z")
        self.history.append(letter.upper() if is_client else letter)
        name = MESSAGE_NAMES.get(mt, f"handshake type {mt}")
        # A new flight starts when this side speaks after the peer.
        if self.last_message.get("_speaker") != side:
            self.flight_has_cert[side] = False
            self.last_message["_speaker"] = side
        self.last_message[side] = name
        try:
            if mt == _CLIENT_HELLO:
                ch = m.parse_client_hello(body)
                if self.client_hello is None or self.hello_retry:
                    self._keep_hello(ch)
                else:
                    self._anomaly(ev.frame, ts, side, "duplicate_client_hello",
                                  "a second ClientHello on the same connection")
                for w in ch.warnings:
                    self._anomaly(ev.frame, ts, side, w, "in the ClientHello")
            elif mt == _SERVER_HELLO:
                sh = m.parse_server_hello(body)
                if sh.is_hello_retry_request:
                    self.hello_retry = True
                    self.history[-1] = "j"
                    self.last_message[side] = "HelloRetryRequest"
                else:
                    self.server_hello = sh
                    self.tls13 = is_tls13_version(sh.selected_version)
                    if self.tls13:
                        self._start_decryption()
                for w in sh.warnings:
                    self._anomaly(ev.frame, ts, side, w, "in the ServerHello")
            elif mt == _CERTIFICATE:
                self.flight_has_cert[side] = True
                cert = m.parse_certificate(body, tls13=self.is_tls13, max_certs=self.max_certs)
                if side not in self.chains:
                    self.chains[side] = list(cert.certs)
                for w in cert.warnings:
                    self._anomaly(ev.frame, ts, side, w, "in the Certificate message")
            elif mt == _CERTIFICATE_REQUEST:
                self.cert_request = m.parse_certificate_request(
                    body, tls13=self.is_tls13, version=self.version or ev.record_version)
                for w in self.cert_request.warnings:
                    self._anomaly(ev.frame, ts, side, w, "in the CertificateRequest")
            elif mt == _FINISHED:
                self.finished.setdefault(side, ev.frame)
            elif mt == _SERVER_KEY_EXCHANGE:
                if self.server_hello is not None:
                    self.server_kx = m.parse_server_key_exchange(
                        body, cipher_suite=self.server_hello.cipher_suite,
                        version=self.server_hello.selected_version)
        except m.TLSParseError as e:
            self._anomaly(ev.frame, ts, side, f"bad_{_snake(name)}", f"{name} does not parse: {e}")
        self._log(side, "handshake", self.last_message[side], ev.frame, ts)

    def _alert(self, side: str, ev: AlertRecord, ts: float) -> None:
        if not self._side_is_client(side) and (self.client_side or "a") in self.finished:
            self.server_after_client_finished += 1
        peer = "b" if side == "a" else "a"
        after = self.last_message.get(peer)
        if after and self.flight_has_cert.get(peer):
            after_cert = "Certificate"
        else:
            after_cert = None
        is_client = self._side_is_client(side)
        if ev.encrypted and side in self.tls12_decryptors:
            plain = self.tls12_decryptors[side].decrypt(ContentType.alert, ev.payload)
            if plain is not None:
                self.decrypted = True
                ev = AlertRecord(ev.frame, plain, False)
        mac = self._null_cipher_mac(side)
        if mac and ev.encrypted and len(ev.payload) > mac and (len(ev.payload) - mac) % 2 == 0:
            ev = AlertRecord(ev.frame, ev.payload[:-mac], False)  # NULL cipher: plaintext, then the MAC
        encrypted = ev.encrypted or (len(ev.payload) != 2 and (
            self.is_tls13 or not _plausible_plaintext_alerts(ev.payload)))
        if encrypted:
            self.alerts.append(AlertSeen(ev.frame, ts, side, "encrypted", "encrypted_alert", None, after))
            self.history.append("Q" if is_client else "q")
            self._log(side, "alert", "encrypted alert", ev.frame, ts)
            return
        try:
            parsed = m.parse_alert(ev.payload)
        except m.TLSParseError as e:
            self._anomaly(ev.frame, ts, side, "bad_alert", f"alert record does not parse: {e}")
            return
        for a in parsed:
            desc = alert_name(a.description)
            when = after_cert if (after_cert and a.description in CERT_ALERTS) else after
            self.alerts.append(AlertSeen(ev.frame, ts, side, a.level_name, desc, a.description, when))
            self.history.append("L" if is_client else "l")
            self._log(side, "alert", f"{a.level_name} {desc}", ev.frame, ts)

    def _null_cipher_mac(self, side: str) -> int:
        """The MAC length of this side's records after its ChangeCipherSpec when the suite has a
        NULL cipher (TLS_RSA_WITH_NULL_SHA256...): they are plaintext followed by the MAC; else 0."""
        sh = self.server_hello
        if sh is None or side not in self.ccs or self.is_tls13:
            return 0
        return null_cipher_mac_len(CIPHER_SUITES.get(sh.cipher_suite, ""))

    # ---- questions the connection layer asks -----------------------------------------------
    @property
    def handshake_over(self) -> bool:
        """Nothing more worth buffering: both sides are encrypted, or a fatal alert was sent."""
        if any(a.level == "fatal" for a in self.alerts) or self.sslv2_server is not None:
            return True
        if self.is_tls13 and self.tls13_finished:
            return True
        c = self.client_side or "a"
        if self._null_cipher_mac(c) or self._null_cipher_mac("b" if c == "a" else "a"):
            return bool(self.alerts)  # a NULL cipher: its alerts are plaintext, read until one comes
        if self.is_tls13 and self.decryptors:
            return False  # the key log will tell: wait for both Finished messages
        if self.is_tls13:
            # The client spoke encrypted (Finished, or an alert) and the server spoke after it.
            return tls13_over(self.encrypted_order, client=c)
        return tls12_over(finished=len(self.finished), ccs=len(self.ccs), client_ccs_first=self.first_ccs == c,
                          server_after_client_finished=self.server_after_client_finished,
                          appdata=sum(self.appdata.values()))

    @property
    def tls13_finished(self) -> bool:
        """Both Finished seen (decrypted), and the server did not object to a client certificate:
        it validates that after the client's Finished, so wait for its next record."""
        if len(self.finished) < 2:
            return False
        return self.cert_request is None or self.server_after_client_finished > 0

    def fatal_alert(self) -> AlertSeen | None:
        for a in self.alerts:
            if a.level == "fatal":
                return a
        return None


NULL_CIPHER_MACS = (("_SHA384", 48), ("_SHA256", 32), ("_SHA", 20), ("_MD5", 16))


def null_cipher_mac_len(suite_name: str) -> int:
    """MAC length of a TLS 1.2-and-earlier suite with a NULL cipher (by its hash), else 0."""
    if "_WITH_NULL_" not in suite_name or suite_name.endswith("_NULL_NULL"):
        return 0
    return next((n for suffix, n in NULL_CIPHER_MACS if suite_name.endswith(suffix)), 0)


_LEVELS = frozenset(AlertLevel)


def _plausible_plaintext_alerts(payload: bytes) -> bool:
    """Several plaintext alerts in one record: even length, every level warning(1) or fatal(2).
    Anything else (a capture that started after ChangeCipherSpec) is an encrypted alert."""
    return len(payload) % 2 == 0 and all(payload[i] in _LEVELS for i in range(0, len(payload), 2))


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("_")
        out.append(ch.lower())
    return "".join(out).replace(" ", "_")
