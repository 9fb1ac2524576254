"""TCP: one direction of a connection -> its bytes in order.

`StreamReassembler` is sans-I/O: `segment(seq, payload, syn)` returns the chunks that became
deliverable in sequence order, each as ``(data, gap_before)``.  It handles out-of-order segments,
retransmissions, overlaps (the first copy wins, a different second copy is flagged), sequence
wraparound (offsets are kept relative to the first sequence number, modulo 2**32), captures that
start mid-stream, and gaps (when more than ``max_pending`` bytes wait above a hole, or at `flush`
when the connection ends, delivery skips the hole and the next chunk says ``gap_before=True``).
Memory per direction is bounded by ``max_pending``.
"""

from __future__ import annotations

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_ACK = 0x10

MOD = 1 << 32
HALF = 1 << 31


class StreamReassembler:
    """In-order delivery for one direction of one TCP connection."""

    __slots__ = ("base", "delivered", "pending", "pending_bytes", "max_pending", "anomalies",
                 "midstream", "_syn_seen", "_recent")

    WINDOW = 16 * 1024  # delivered bytes kept to compare retransmissions with

    def __init__(self, max_pending: int = 256 * 1024) -> None:
        self.base: int | None = None  # sequence number of stream offset 0
        self.delivered = 0  # stream offset of the next byte to deliver
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0
        self.max_pending = max_pending
        self.anomalies: list[str] = []
        self.midstream = False
        self._syn_seen = False
        self._recent = bytearray()  # the last WINDOW delivered bytes, ending at self.delivered

    def _flag(self, code: str) -> None:
        if code not in self.anomalies:
            self.anomalies.append(code)

    def segment(self, seq: int, payload: bytes, syn: bool = False) -> list[tuple[bytes, bool]]:
        if syn:
            # A later SYN with another ISN before any data (several SYN-ACKs, the last one wins).
            if self.base is None or not self._syn_seen or (self.delivered == 0 and not self.pending):
                self.base = (seq + 1) % MOD
                self._syn_seen = True
                self.delivered = 0
            seq = (seq + 1) % MOD
        if not payload:
            return []
        if self.base is None:
            self.base = seq
            self.midstream = True
            self._flag("midstream")
        rel = (seq - self.base) % MOD
        if rel >= HALF:
            rel -= MOD  # before the start of the stream (a retransmission from before we started)
        end = rel + len(payload)
        if rel < self.delivered:
            self._compare_delivered(rel, payload)
            if end <= self.delivered:
                return []  # retransmission of delivered data
            payload = payload[self.delivered - rel:]
            rel = self.delivered
        if rel > self.delivered:
            self._store(rel, payload)
            if self.pending_bytes > self.max_pending:
                self._flag("content_gap")
                return self._drain(force=True)
            return []
        out = [(payload, False)]
        self.delivered = end
        self._remember(payload)
        if self.pending:
            out.extend(self._drain(force=False))
        return out

    def _remember(self, data: bytes) -> None:
        recent = self._recent
        recent += data
        if len(recent) > self.WINDOW:
            del recent[:len(recent) - self.WINDOW]

    def _compare_delivered(self, rel: int, payload: bytes) -> None:
        """A retransmission of delivered bytes: do they match what was delivered?"""
        start = self.delivered - len(self._recent)
        lo, hi = max(rel, start), min(rel + len(payload), self.delivered)
        if lo < hi and self._recent[lo - start:hi - start] != payload[lo - rel:hi - rel]:
            self._flag("overlap_different_data")

    def _store(self, rel: int, payload: bytes) -> None:
        old = self.pending.get(rel)
        if old is not None:
            n = min(len(old), len(payload))
            if old[:n] != payload[:n]:
                self._flag("overlap_different_data")
            if len(payload) <= len(old):
                return
            payload = old + payload[len(old):]  # first copy wins where both have bytes
            self.pending_bytes -= len(old)
        else:
            # Compare with a pending segment that starts earlier and overlaps this one.
            for o, d in self.pending.items():
                if o < rel < o + len(d):
                    k = min(o + len(d), rel + len(payload)) - rel
                    if d[rel - o:rel - o + k] != payload[:k]:
                        self._flag("overlap_different_data")
                    break
        self.pending[rel] = payload
        self.pending_bytes += len(payload)

    def _drain(self, force: bool) -> list[tuple[bytes, bool]]:
        """Deliver pending data that now touches the delivered edge; with force, jump one hole."""
        out: list[tuple[bytes, bool]] = []
        gap = False
        while self.pending:
            start = min(self.pending)
            if start > self.delivered:
                if not force:
                    break
                gap = True
                self.delivered = start
                force = False
            data = self.pending.pop(start)
            self.pending_bytes -= len(data)
            if start + len(data) <= self.delivered:
                continue
            if start < self.delivered:
                data = data[self.delivered - start:]
            out.append((data, gap))
            gap = False
            self.delivered += len(data)
            self._remember(data)
        return out

    def flush(self) -> list[tuple[bytes, bool]]:
        """At the end of the connection: deliver whatever waits above holes, flagging each gap."""
        out: list[tuple[bytes, bool]] = []
        while self.pending:
            self._flag("content_gap")
            out.extend(self._drain(force=True))
        return out

    def release(self) -> None:
        """Forget buffered data (the handshake is over): keep only the counters."""
        self.pending.clear()
        self.pending_bytes = 0
        self._recent = bytearray()
