"""TCP: one direction of a connection -> its bytes in order.

`StreamReassembler` is sans-I/O: `segment(seq, payload, syn)` returns the chunks that became
deliverable in sequence order, each as ``(data, gap_before)``.  It handles out-of-order segments,
retransmissions, overlaps (the first copy wins, a different second copy is flagged), sequence
wraparound (offsets are kept relative to the first sequence number, modulo 2**32), captures that
start mid-stream, and gaps (when more than ``max_pending`` bytes wait above a hole, or at `flush`
when the connection ends, delivery skips the hole and the next chunk says ``gap_before=True``).
Memory per direction is bounded by ``max_pending``.

It also keeps the sequence space of its direction, to tell bytes the capture missed (tshark's
"ACKed unseen segment"): `acked_to` records the highest ACK the peer sent, `fin` where the FIN
was, and `missed` counts the bytes below that ACK the capture does not hold: the holes delivery
jumped, and what lies past the delivered edge (a FIN's sequence number is not a byte).  ACKs
before the stream's start (mid-stream, or a wrapped value) and ACKs more than `ACK_RANGE` beyond
what was seen are ignored.
"""

from __future__ import annotations

TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_ACK = 0x10

MOD = 1 << 32
HALF = 1 << 31
ACK_RANGE = 1 << 30  # an ACK this far past the highest byte seen is not believed
MAX_HOLES = 64  # jumped holes remembered per direction (later ones are counted, not trimmed)
ALERT_RECORD_MIN = 7  # the smallest TLS alert record (5-byte header, level, description): fewer missed bytes hold none


def missed_detail(direction: str, n: int) -> str:
    """The `capture_missed_bytes` event detail ("server->client: 517 bytes acknowledged but not
    captured"); `missed_from_detail` reads it back (the one place that knows its shape)."""
    return f"{direction}: {n} byte{'s' if n != 1 else ''} acknowledged but not captured"


def missed_from_detail(detail: str) -> tuple[str, int] | None:
    """(direction, bytes) of a `missed_detail` text, or None."""
    head, _, rest = detail.partition(": ")
    count = rest.split(" ", 1)[0]
    return (head, int(count)) if count.isdigit() else None


class StreamReassembler:
    """In-order delivery for one direction of one TCP connection."""

    __slots__ = ("base", "delivered", "pending", "pending_bytes", "max_pending", "anomalies",
                 "midstream", "_syn_seen", "_recent", "fin_at", "acked", "holes", "hole_bytes")

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
        self.fin_at: int | None = None  # stream offset of the FIN seen
        self.acked = 0  # the highest stream offset the peer acknowledged
        self.holes: list[list[int]] = []  # [start, end) offsets delivery jumped over
        self.hole_bytes = 0  # bytes of holes beyond MAX_HOLES (counted, not trimmed)

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
            if self.holes:
                self._fill(rel, min(end, self.delivered))
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
                self._hole(self.delivered, start)
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

    # ---- sequence space: what the peer acknowledged that the capture does not hold ----------
    def fin(self, seq: int) -> None:
        """A FIN of this direction was seen: its sequence number is not a missing byte."""
        if self.base is None:
            return
        rel = (seq - self.base) % MOD
        if rel < HALF and self.fin_at is None:
            self.fin_at = rel

    def acked_to(self, ack: int) -> None:
        """The peer acknowledged up to ``ack`` (a segment with the ACK flag)."""
        if self.base is None:
            return
        rel = (ack - self.base) % MOD
        if rel >= HALF or rel > self.delivered + self.pending_bytes + ACK_RANGE:
            return  # before the start (mid-stream, wraparound) or not believable
        if rel > self.acked:
            self.acked = rel

    def missed(self) -> int:
        """Bytes the peer acknowledged that the capture does not hold: the holes delivery jumped
        below the ACK, and what the ACK covers past the delivered edge (less a FIN seen there).
        Meaningful once the direction is flushed (what waits above a hole is not counted)."""
        if self.base is None:
            return 0
        n = self.hole_bytes
        for start, end in self.holes:
            if start < self.acked:
                n += min(end, self.acked) - start
        if self.acked > self.delivered:
            n += self.acked - self.delivered
            for start, data in self.pending.items():  # data still waiting (not flushed)
                lo, hi = max(start, self.delivered), min(start + len(data), self.acked)
                n -= max(0, hi - lo)
            if self.fin_at is not None and self.delivered <= self.fin_at < self.acked:
                n -= 1
        return max(0, n)

    def _hole(self, start: int, end: int) -> None:
        if len(self.holes) < MAX_HOLES:
            self.holes.append([start, end])
        else:
            self.hole_bytes += end - start

    def _fill(self, lo: int, hi: int) -> None:
        """Bytes [lo, hi) arrived after delivery jumped over them: they are not missing."""
        kept: list[list[int]] = []
        for start, end in self.holes:
            if hi <= start or end <= lo:
                kept.append([start, end])
                continue
            if start < lo:
                kept.append([start, lo])
            if hi < end:
                kept.append([hi, end])
        self.holes = kept[:MAX_HOLES]

    def flush(self) -> list[tuple[bytes, bool]]:
        """At the end of the connection: deliver whatever waits above holes, flagging each gap."""
        out: list[tuple[bytes, bool]] = []
        while self.pending:
            self._flag("content_gap")
            out.extend(self._drain(force=True))
        return out

    def release(self) -> None:
        """Forget buffered data (the handshake is over): keep only the counters (and where the
        data waiting above holes was, for `missed`)."""
        for start in sorted(self.pending):
            end = start + len(self.pending[start])
            if start > self.delivered:
                self._hole(self.delivered, start)
            self.delivered = max(self.delivered, end)
        self.pending.clear()
        self.pending_bytes = 0
        self._recent = bytearray()
