"""``python -m inspector.engines.tshark FILE...``: one line per flow as tshark's engine sees it."""

import sys

from . import analyze_with_tshark

for arg in sys.argv[1:]:
    an = analyze_with_tshark(arg)
    for fl in an.flows:
        print(f"{arg} #{fl.flow_id} {fl.client_ip}:{fl.client_port} -> {fl.server_ip}:{fl.server_port} "
              f"{fl.tls_version} {fl.cipher} sni={fl.sni} chain={len(fl.server_chain_sha256)} "
              f"alerts={fl.alerts} {fl.outcome}: {fl.outcome_detail} [{fl.history}]")
