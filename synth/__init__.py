"""Synthetic capture generator: real OpenSSL handshakes framed into pcap/pcapng files.

Modules: ``pki`` (certificates), ``handshake`` (in-memory TLS handshakes), ``frames``
(Ethernet/IP/TCP framing), ``pcapio`` (pcap/pcapng writers), ``scenarios`` (named
Cisco collaboration cases with expectations) and ``samples`` (writes bundled captures).
"""
