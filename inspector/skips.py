"""Packets not analysed, by reason: the one reading of the engines' counters that every output uses.

The engines count each packet they could not take further under a name (`Capture.stats`):
``skipped_<reason>`` for what the link/IP decoder dropped (``not_ip``, ``not_tcp``,
``short_frame``, ``unknown_encapsulation:gre``, ``unsupported_linktype_N``...) and a few counters
of their own for UDP and EAPOL traffic that held no TLS (``udp_not_tls``, ``quic_unconfirmed``,
``radius_not_eap``...).  `skipped_packets` turns them into ``reason -> packets``, each packet
counted once, for the report's footer, JSON ``stats``/``skipped``, the HTML summary and batch's
files table.  Connection counters (``not_tls``: TCP connections that were not TLS) are not packets
and are not here.
"""

from __future__ import annotations

from collections.abc import Mapping

#: counters (other than ``skipped_*``) that count packets not analysed, with what they mean
PACKET_COUNTERS: dict[str, str] = {
    "udp_not_tls": "UDP packets with no DTLS, QUIC or RADIUS/EAP in them",
    "quic_unconfirmed": "UDP packets of QUIC-looking associations whose Initial never decrypted",
    "truncated_udp": "UDP headers cut by the capture",
    "truncated_tcp": "TCP headers cut by the capture",
    "bad_tcp_header_length": "TCP headers whose data offset is impossible",
    "eapol_truncated": "EAPOL frames cut by the capture",
    "eapol_not_eap": "EAPOL frames that carry no EAP (Start, Logoff, Key)",
    "radius_not_eap": "RADIUS packets without EAP-Message",
}

#: ``quic_unconfirmed`` packets are also counted in ``udp_not_tls``: shown apart, counted once
_PART_OF = {"quic_unconfirmed": "udp_not_tls"}


def skipped_packets(stats: Mapping[str, int]) -> dict[str, int]:
    """``reason -> packets`` for every packet not analysed, most first (ties by name)."""
    out: dict[str, int] = {}
    for key, n in stats.items():
        if not n:
            continue
        if key.startswith("skipped_"):
            out[key[len("skipped_"):]] = out.get(key[len("skipped_"):], 0) + int(n)
        elif key in PACKET_COUNTERS:
            out[key] = out.get(key, 0) + int(n)
    for part, whole in _PART_OF.items():
        if part in out and whole in out:
            rest = out[whole] - out[part]
            if rest > 0:
                out[whole] = rest
            else:
                del out[whole]
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def skipped_summary(stats: Mapping[str, int], limit: int = 4) -> str:
    """``"82,082 udp_not_tls, 838 not_tcp, 419 not_ip"``: the largest reasons, the rest summed."""
    reasons = skipped_packets(stats)
    items = list(reasons.items())
    parts = [f"{n:,} {reason}" for reason, n in items[:limit]]
    rest = sum(n for _, n in items[limit:])
    if rest:
        parts.append(f"{rest:,} other ({len(items) - limit} reasons)")
    return ", ".join(parts)
