"""Benchmark tlsinspect against the read floor (cat) and tshark: ``python bench/run.py``.

Options: ``--size 100m|1g|3g`` (default 1g), ``--runs N`` (default 3), ``--skip-tshark``,
``--engines python,rust`` (tlsinspect's engines to time, default both when the Rust one is built).

1. Builds the capture once (``bench/gen.py``; cached in ``bench/data/`` under a versioned name).
2. Reads it once untimed so every tool starts from a warm page cache.
3. Runs N rounds of: ``cat FILE > /dev/null``, ``tlsinspect FILE --format csv -o /dev/null --quiet
   --engine E`` for each engine E (tools ``tlsinspect`` for python, ``tlsinspect-rust``), the
   start-up (tool ``startup``: the same command on a one-handshake capture without certificates,
   first engine; ``$TLSINSPECT_BIN`` names the command to time, default the one beside this
   Python), and tshark extracting the same facts (two-pass, handshake/alert packets only, TLS decoded on the
   non-standard ports).  In round 1 tlsinspect and tshark write to files under ``bench/data/`` so
   the results can be checked; later rounds write to /dev/null.  Each command runs under
   ``/usr/bin/time -v`` (peak RSS, CPU time); without it, under a small Python wrapper reading
   ``getrusage(RUSAGE_CHILDREN)``.  Wall time is measured here (``perf_counter``).
4. Prints median wall time, MB/s (10^6 bytes), peak RSS (max over rounds), ratios to tshark and to
   cat (tool wall / other wall: below 1 is faster), and checks that tlsinspect reports exactly the
   number of TLS flows the sidecar expects (and, per port/version/outcome/resumed, the same mix).
5. Writes ``bench/results/latest.json`` (and ``latest-<size>.json``).  Exit status 1 when the
   flow check fails or a tool fails.
"""

from __future__ import annotations

import argparse
import collections
import csv
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
sys.path.insert(0, str(BENCH_DIR))

import gen  # noqa: E402

TIME = "/usr/bin/time"
TSHARK_FILTER = ("tls.handshake.type==1 || tls.handshake.type==2 || tls.handshake.type==11 "
                 "|| tls.alert_message")
TSHARK_PORTS = (5061, 2443, 8443, 6972, 3804)  # 443 is decoded as TLS by default
TSHARK_FIELDS = ("tcp.stream", "tls.handshake.extensions_server_name", "tls.handshake.certificate",
                 "tls.alert_message.desc")

_WRAPPER = r"""
import json, resource, subprocess, sys, time
argv, out, err, report = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with open(out, "wb") as o, open(err, "wb") as e:
    t0 = time.perf_counter()
    rc = subprocess.call(argv, stdout=o, stderr=e)
    wall = time.perf_counter() - t0
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(report, "w") as f:
    json.dump({"rc": rc, "wall": wall, "rss_kb": r.ru_maxrss, "user": r.ru_utime, "sys": r.ru_stime}, f)
"""
# Note: without /usr/bin/time, ru_maxrss of a tiny command (cat) includes the forked wrapper's own
# ~10 MB before exec; for tlsinspect and tshark it is negligible.


def tlsinspect_bin() -> str:
    """``$TLSINSPECT_BIN``, else the ``tlsinspect`` beside this Python, else the one on PATH."""
    if os.environ.get("TLSINSPECT_BIN"):
        return os.environ["TLSINSPECT_BIN"]
    local = Path(sys.executable).parent / "tlsinspect"
    if local.exists():
        return str(local)
    found = shutil.which("tlsinspect")
    if found is None:
        sys.exit("bench: tlsinspect not found (run `make setup`)")
    return found


def tshark_bin() -> str | None:
    return shutil.which("tshark") or ("/usr/bin/tshark" if os.path.exists("/usr/bin/tshark") else None)


def rust_engine_built() -> bool:
    sys.path.insert(0, str(ROOT))
    try:
        from inspector.engines import rust as rust_engine
    except ImportError:
        return False
    return rust_engine.available()


def tool_name(engine: str) -> str:
    return "tlsinspect" if engine == "python" else f"tlsinspect-{engine}"


def _engine_csv(out_csv: Path, engine: str) -> str:
    """bench/data/out-SIZE-tlsinspect.csv -> the same name with the engine's tool name."""
    return str(out_csv.with_name(out_csv.name.replace("tlsinspect", tool_name(engine))))


def startup_capture() -> Path:
    """bench/data/startup-tls13.pcap: pcaps/tls13_443.pcap without the key log beside it."""
    dst = gen.DATA_DIR / "startup-tls13.pcap"
    if not dst.exists():
        gen.DATA_DIR.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "pcaps" / "tls13_443.pcap", dst)
    return dst


def commands(capture: Path, tshark: str | None, out_csv: str, out_tsv: str,
             engines: tuple[str, ...] = ("python",)) -> dict[str, list[str]]:
    cmds = {"cat": ["cat", str(capture)]}  # stdout -> /dev/null
    for engine in engines:
        out = out_csv if out_csv == os.devnull else _engine_csv(Path(out_csv), engine)
        cmds[tool_name(engine)] = [tlsinspect_bin(), str(capture), "--format", "csv", "-o", out,
                                   "--quiet", "--engine", engine]
    # start-up: the whole command on a one-handshake capture without certificates (TLS 1.3, its key
    # log left behind), the first engine
    cmds["startup"] = [tlsinspect_bin(), str(startup_capture()), "--format", "csv", "-o", os.devnull,
                       "--quiet", "--engine", engines[0]]
    if tshark:
        cmd = [tshark, "-2", "-r", str(capture), "-R", TSHARK_FILTER]
        for port in TSHARK_PORTS:
            cmd += ["-d", f"tcp.port=={port},tls"]
        cmd += ["-T", "fields"]
        for field in TSHARK_FIELDS:
            cmd += ["-e", field]
        cmds["tshark"] = cmd  # stdout -> out_tsv
    return cmds


def measure(argv: list[str], stdout_path: str, stderr_path: str) -> dict:
    """Run one command; wall time, peak RSS (MB), user+sys CPU seconds, exit status."""
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        report = tf.name
    try:
        if os.access(TIME, os.X_OK):
            with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
                t0 = time.perf_counter()
                rc = subprocess.call([TIME, "-v", "-o", report, *argv], stdout=out, stderr=err)
                wall = time.perf_counter() - t0
            fields = {}
            for line in Path(report).read_text().splitlines():
                key, _, value = line.strip().rpartition(": ")
                fields[key] = value
            rss_kb = int(fields.get("Maximum resident set size (kbytes)", 0))
            user = float(fields.get("User time (seconds)", 0))
            sys_s = float(fields.get("System time (seconds)", 0))
            rc = int(fields.get("Exit status", rc))
            how = "/usr/bin/time -v"
        else:
            subprocess.check_call([sys.executable, "-c", _WRAPPER, json.dumps(argv), stdout_path, stderr_path,
                                   report])
            r = json.loads(Path(report).read_text())
            rc, wall, rss_kb, user, sys_s = r["rc"], r["wall"], r["rss_kb"], r["user"], r["sys"]
            how = "getrusage(RUSAGE_CHILDREN)"
    finally:
        os.unlink(report)
    return {"wall_s": round(wall, 3), "rss_mb": round(rss_kb / 1024, 1), "cpu_s": round(user + sys_s, 2),
            "rc": rc, "rusage_via": how}


def check_flows(sidecar: dict, tls_csv: Path, tshark_tsv: Path | None) -> dict:
    """Compare tlsinspect's rows (and tshark's TLS streams) with the generator's expectations."""
    expected_total = sidecar["tls_flows"]
    expected_mix: collections.Counter = collections.Counter()
    for t in sidecar["templates"].values():
        expected_mix[f"{t['server_port']}|{t['tls_version']}|{t['outcome']}|resumed={t['resumed']}"] += t["count"]
    got_mix: collections.Counter = collections.Counter()
    rows = 0
    with open(tls_csv, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            rows += 1
            resumed = row["resumed"].strip().lower() in ("true", "1")
            got_mix[f"{row['server_port']}|{row['tls_version'] or None}|{row['outcome']}|resumed={resumed}"] += 1
    result = {
        "expected_tls_flows": expected_total,
        "tlsinspect_flows": rows,
        "count_ok": rows == expected_total,
        "mix_ok": got_mix == expected_mix,
        "expected_mix": dict(sorted(expected_mix.items())),
        "tlsinspect_mix": dict(sorted(got_mix.items())),
    }
    if tshark_tsv is not None and tshark_tsv.exists():
        streams = set()
        with open(tshark_tsv, "rb") as fh:
            for line in fh:
                streams.add(line.split(b"\t", 1)[0])
        streams.discard(b"")
        result["tshark_tls_streams"] = len(streams)
    return result


def fmt_ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="tlsinspect vs cat vs tshark on a synthetic capture")
    ap.add_argument("--size", choices=sorted(gen.SIZES), default="1g")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-tshark", action="store_true")
    ap.add_argument("--engines", default=None, help="comma-separated: python,rust (default: both "
                    "when the Rust engine is built, else python)")
    args = ap.parse_args(argv)
    engines = tuple(args.engines.split(",")) if args.engines else (
        ("python", "rust") if rust_engine_built() else ("python",))

    t = time.perf_counter()
    capture, sidecar_path = gen.generate(args.size)
    gen_s = time.perf_counter() - t
    sidecar = json.loads(sidecar_path.read_text())
    size = capture.stat().st_size
    mb = size / 1e6
    tshark = None if args.skip_tshark else tshark_bin()
    if not args.skip_tshark and tshark is None:
        print("bench: tshark not found; measuring without it", file=sys.stderr)

    out_csv = gen.DATA_DIR / f"out-{args.size}-tlsinspect.csv"
    out_tsv = gen.DATA_DIR / f"out-{args.size}-tshark.tsv"
    err_dir = gen.DATA_DIR
    first = commands(capture, tshark, str(out_csv), str(out_tsv), engines)
    later = commands(capture, tshark, os.devnull, os.devnull, engines)
    out_csvs = {tool_name(e): Path(_engine_csv(out_csv, e)) for e in engines}
    stdout_first = {tool: os.devnull for tool in first}
    stdout_first["tshark"] = str(out_tsv)

    print(f"bench: {capture.name}: {mb:.0f} MB, {sidecar['packets']} packets, "
          f"{sidecar['tls_flows']} TLS flows expected; {args.runs} run(s)", file=sys.stderr)
    subprocess.run(["cat", str(capture)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
    load_start = os.getloadavg()

    runs: dict[str, list[dict]] = {tool: [] for tool in first}
    failed = False
    for i in range(args.runs):
        for tool in first:
            argv_ = first[tool] if i == 0 else later[tool]
            stdout = stdout_first[tool] if i == 0 else os.devnull
            m = measure(argv_, stdout, str(err_dir / f"out-{args.size}-{tool}.stderr"))
            m["output"] = out_csvs.get(tool, stdout) if i == 0 else os.devnull
            m["output"] = str(m["output"])
            runs[tool].append(m)
            print(f"bench: run {i + 1}/{args.runs} {tool:<10} {m['wall_s']:8.2f} s  {m['rss_mb']:8.1f} MB"
                  f"  rc={m['rc']}", file=sys.stderr)
            if m["rc"] != 0:
                failed = True
                print(f"bench: {tool} exited {m['rc']}; see {err_dir / f'out-{args.size}-{tool}.stderr'}",
                      file=sys.stderr)

    summary = {}
    for tool, ms in runs.items():
        summary[tool] = {
            "cmd": " ".join(later[tool]) + (" > /dev/null" if tool not in out_csvs else ""),
            "median_wall_s": round(statistics.median(m["wall_s"] for m in ms), 3),
            "peak_rss_mb": max(m["rss_mb"] for m in ms),
            "median_cpu_s": round(statistics.median(m["cpu_s"] for m in ms), 2),
            "runs": ms,
        }
    for tool, s in summary.items():
        s["mb_per_s"] = round(mb / s["median_wall_s"], 1) if s["median_wall_s"] else None
        s["ratio_vs_tshark"] = (round(s["median_wall_s"] / summary["tshark"]["median_wall_s"], 3)
                                if "tshark" in summary else None)
        s["ratio_vs_cat"] = round(s["median_wall_s"] / summary["cat"]["median_wall_s"], 1)

    checks = {tool: check_flows(sidecar, path, out_tsv if "tshark" in runs else None)
              for tool, path in out_csvs.items()}
    check = checks[tool_name(engines[0])]

    head = f"{'tool':<11} {'wall s':>8} {'MB/s':>8} {'peak RSS MB':>12} {'CPU s':>7} {'vs tshark':>10} {'vs cat':>8}"
    print()
    print(f"{capture.name}  {mb:.0f} MB  {sidecar['packets']} packets  median of {args.runs} run(s)  "
          f"(ratios: tool wall / other wall)  load avg at start {load_start[0]:.1f} on {os.cpu_count()} CPUs")
    print(head)
    print("-" * len(head))
    for tool, s in summary.items():
        print(f"{tool:<11} {s['median_wall_s']:>8.2f} {s['mb_per_s']:>8.1f} {s['peak_rss_mb']:>12.1f} "
              f"{s['median_cpu_s']:>7.2f} {fmt_ratio(s['median_wall_s'], summary.get('tshark', {}).get('median_wall_s')):>10} "
              f"{s['median_wall_s'] / summary['cat']['median_wall_s']:>7.1f}x")
    print()
    for tool, check in checks.items():
        print(f"TLS flows: expected {check['expected_tls_flows']} (sidecar), {tool} reported "
              f"{check['tlsinspect_flows']}" + (f", tshark saw {check['tshark_tls_streams']} TLS streams"
                                                if "tshark_tls_streams" in check else "")
              + f"  -> {'OK' if check['count_ok'] else 'MISMATCH'}")
        print(f"{tool} per port|version|outcome|resumed: {'OK' if check['mix_ok'] else 'MISMATCH'}")
        if not check["mix_ok"]:
            for key in sorted(set(check["expected_mix"]) | set(check["tlsinspect_mix"])):
                e, g = check["expected_mix"].get(key, 0), check["tlsinspect_mix"].get(key, 0)
                print(f"  {key:<45} expected {e:>7}  got {g:>7}" + ("" if e == g else "  <--"))
    if "tlsinspect" in summary and "tlsinspect-rust" in summary:
        print(f"rust engine / python engine wall: "
              f"{fmt_ratio(summary['tlsinspect-rust']['median_wall_s'], summary['tlsinspect']['median_wall_s'])}")

    result = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "size": args.size,
        "capture": str(capture.relative_to(ROOT)),
        "bytes": size,
        "packets": sidecar["packets"],
        "runs": args.runs,
        "gen_seconds_this_run": round(gen_s, 1),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "tshark": (subprocess.run([tshark, "--version"], capture_output=True, text=True).stdout
                       .splitlines() or [""])[0] if tshark else None,
            "load_avg_at_start": load_start,
            "load_avg_at_end": os.getloadavg(),
        },
        "tools": summary,
        "correctness": check,
        "correctness_by_tool": checks,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    (RESULTS_DIR / "latest.json").write_text(text)
    (RESULTS_DIR / f"latest-{args.size}.json").write_text(text)
    print(f"\nwrote {RESULTS_DIR / 'latest.json'}")
    return 1 if failed or not all(c["count_ok"] and c["mix_ok"] for c in checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
