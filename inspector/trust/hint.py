"""Where a missing CA belongs: which Cisco collaboration trust store (CallManager-trust,
tomcat-trust, a phone's ITL ...) should hold the issuer a peer did not trust."""

from __future__ import annotations

from typing import Literal

from ..domain import EXPRESSWAY_PORTS, PHONE_PORTS


def trust_store_hint(server_port: int, side: Literal["server", "client"], *, rejected_by_peer: bool = False) -> str:
    """Which trust store must hold the CA (or self-signed certificate) of one side's chain.

    ``side`` is whose chain it is; ``rejected_by_peer``: the other side sent a fatal alert.
    """
    port = int(server_port)
    if side == "client":
        if port in PHONE_PORTS:
            return ("CallManager-trust on CUCM (phone client certificates: the CAPF for LSCs, the Cisco "
                    "Manufacturing CAs for MICs)")
        if port in EXPRESSWAY_PORTS:
            return "tomcat-trust on CUCM (client certificates presented to Tomcat)"
        return "the server's trust store (the CAs it accepts client certificates from)"
    if port in EXPRESSWAY_PORTS:
        if rejected_by_peer:
            return ("Expressway-C trusted CA list (Maintenance > Security > Trusted CA certificate), "
                    "the client that rejected it")
        return "tomcat-trust (of every CUCM/IM&P node that connects to this server)"
    if port in PHONE_PORTS:
        return "the phone's ITL/CTL (phones trust CUCM's CallManager certificate through them)"
    return "the client's trust store"
