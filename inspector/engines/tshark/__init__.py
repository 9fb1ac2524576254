"""The second engine: Wireshark's dissectors (tshark, through pyshark) fill the same records.

`analyze_with_tshark(path, ports=...)` returns an `inspector.engines.python.Analysis` built only from what
tshark's TLS dissector reports, so that ``inspector.api.Capture(path, analysis, format=...,
bytes_read=...)`` gives the same ``flows``, ``certificates``, ``events`` and ``findings`` tables as
the native engine, and the two can be compared field by field (``tests/differential/test_engines.py``).
`analyze_file_tshark` is what `read_capture` runs for ``engine="tshark"``.

How it runs: one ``tshark`` (PDML, via ``pyshark.FileCapture``) per file with

- ``-o tcp.desegment_tcp_streams:TRUE -o tls.desegment_ssl_records:TRUE`` (plus
  ``tls.desegment_ssl_application_data`` and ``tcp.reassemble_out_of_order``, as the test oracle, tests/differential/oracle.py);
- ``-d tcp.port==P,tls`` for 443, 2443, 3804, 5061, 6972, 8443 and every extra port;
- the display filter `DISPLAY_FILTER`: handshake, alert, ChangeCipherSpec and SSLv2 packets, TCP
  SYN/FIN/RST and gaps, the first data segment of each direction (to see a STARTTLS prelude), and
  application-data records in the first 32 KiB of each direction (the TLS 1.3 outcome is judged
  from the sizes of the first encrypted records).  Only those packets are turned into PDML and
  parsed by Python, which is what makes pyshark slow (~8k packets/s);
- ``WIRESHARK_CONFIG_DIR`` pointing at an empty directory, so personal preferences cannot change
  the result.

pyshark flattens each protocol layer into ``name -> [fields]``; every field keeps its byte
position and size, so the record/message structure is rebuilt from them (`inspector.engines.tshark.pdml.records_of`): a
``tls.record`` owns the fields inside its byte range, a ``tls.handshake`` the fields inside its
own.  Everything that follows (roles, version, cipher, SNI, chains, alerts, outcome, history) is
computed from those tshark values only; certificate summaries go through
`inspector.x509.parse_certificate_cached` (the same DER -> same row), names of alerts and
versions from `inspector.tls.constants` (the Python engine's tables, so both engines spell them alike), cipher suite and group names from tshark's
own labels.

What tshark cannot tell is None: ``ja4`` (not in tshark 4.0), ``packets`` (only the filtered
packets are seen).  No key log support: ``decrypted`` is always False and `analyze_file_tshark`
refuses a key log (pyshark's flattened fields lose which data source, record or decrypted
plaintext, a position belongs to, so decrypted TLS 1.3 records cannot be rebuilt reliably).
``last_frame``/``ts_end`` are the packet where the handshake ended as far as the filtered packets
show (pure ACKs are never seen).
"""

from .run import (DISPLAY_FILTER, PREFERENCES, TsharkEngineError, analyze_file_tshark, analyze_with_tshark,
                  find_tshark, tshark_available)

__all__ = [
    "DISPLAY_FILTER",
    "ENGINES",
    "PREFERENCES",
    "TsharkEngineError",
    "analyze_file_tshark",
    "analyze_with_tshark",
    "find_tshark",
    "tshark_available",
]

#: engine names accepted by ``read_capture(..., engine=)`` and ``tlsinspect --engine``
ENGINES = ("native", "tshark")
