"""Random key logs and the Python engine's reading of them, for decrypt_keylog_cases.rs.

Each case is bytes built from key-log-like pieces (labels, hex of several lengths and cases,
every whitespace and line break Python knows, bytes >= 0x80, comments), read as the Python
engine reads a key log file (ASCII with errors="replace", then `parse_keylog`). Run from the
repository root:

    PYTHONPATH=$PWD .venv/bin/python rust/core/tests/data/session/gen_keylog_cases.py
"""

import gzip
import random
from pathlib import Path

from inspector.tls.decrypt import LABELS, parse_keylog

HERE = Path(__file__).resolve().parent
SPACES = [b" "] * 12 + [b"\t", b"  ", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f", b"\xa0", b"\x85"]
BREAKS = [b"\n"] * 8 + [b"\r\n", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1e", b"\n\n"]


def hexpiece(rng: random.Random) -> bytes:
    n = rng.choice([32, 32, 32, 32, 31, 33, 1, 2, 16])
    h = bytes(rng.randrange(256) for _ in range(n)).hex()
    r = rng.random()
    if r < 0.08:
        h = h.upper()
    elif r < 0.11 and h:
        h = h[:-1]  # odd length
    elif r < 0.14 and h:
        i = rng.randrange(len(h))
        h = h[:i] + rng.choice("gxZ-\u00e9") + h[i + 1:]
    return h.encode("utf-8")


def line(rng: random.Random, randoms: list[bytes]) -> bytes:
    r = rng.random()
    if r < 0.05:
        return b"# " + hexpiece(rng)
    if r < 0.08:
        return b""
    label = rng.choice(LABELS).encode()
    if rng.random() < 0.08:
        label = rng.choice([label.lower(), label + b"X", b"SERVER_RANDOM", b"#" + label])
    cr = rng.choice(randoms).hex().encode() if rng.random() < 0.7 else hexpiece(rng)
    parts = [label, cr, hexpiece(rng)]
    if rng.random() < 0.05:
        parts.append(hexpiece(rng))
    if rng.random() < 0.05:
        parts.pop()
    out = rng.choice([b"", b"", b" ", b"\t"])
    for i, p in enumerate(parts):
        out += p + (rng.choice(SPACES) if i < len(parts) - 1 else b"")
    return out + rng.choice([b"", b"", b" ", b"\x1f"])


def main() -> None:
    rng = random.Random(20261202)
    cases = []
    for _ in range(160):
        randoms = [bytes(rng.randrange(256) for _ in range(32)) for _ in range(3)]
        text = b""
        for _ in range(rng.randrange(1, 7)):
            text += line(rng, randoms) + rng.choice(BREAKS)
        if rng.random() < 0.3:
            text = text.rstrip(b"\r\n")
        log = parse_keylog(text.decode("ascii", errors="replace"))
        entries = sorted((cr.hex(), label, secret.hex()) for cr, d in log.secrets.items() for label, secret in d.items())
        cases.append("case\t" + text.hex())
        cases.append(f"expect\t{len(log)}\t{log.bad_lines}")
        cases.extend(f"secret\t{cr}\t{label}\t{secret}" for cr, label, secret in entries)
    with gzip.open(HERE / "keylog_cases.txt.gz", "wt", encoding="ascii", compresslevel=9) as f:
        f.write("\n".join(cases) + "\n")


if __name__ == "__main__":
    main()
