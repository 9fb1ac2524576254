"""``certs --export`` against things planted in DIR (issue 14, item 5): never writes through a
link (symbolic or hard), never opens a FIFO or device, refuses non-regular targets in one line."""

from __future__ import annotations

import os
import stat

import pytest
from typer.testing import CliRunner

from inspector.cli.certs import cert_file_name, write_inside
from inspector.cli.app import app

from test_hostile_text import hostile_capture  # noqa: F401  (a fixture: one self-signed certificate)


def _export_names(capture) -> list[str]:
    import inspector

    cap = inspector.read_capture(capture)
    fp, seen = next(iter(cap.analysis.certificates.items()))
    return [cert_file_name(seen.info.subject_cn, fp), "flow1_server_chain.pem"]


def test_hard_link_planted_under_an_export_name_keeps_the_outside_file(tmp_path, hostile_capture):
    """Before: the export opened the name with O_TRUNC and overwrote the file outside DIR."""
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    for name in _export_names(hostile_capture):
        os.link(victim, out / name)
    r = CliRunner().invoke(app, ["certs", str(hostile_capture), "--export", str(out)])
    assert r.exit_code == 0, r.output
    assert victim.read_text() == "precious" and os.stat(victim).st_nlink == 1
    for name in _export_names(hostile_capture):
        assert (out / name).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    assert sorted(p.name for p in out.iterdir()) == sorted(_export_names(hostile_capture))  # no temp left


def test_planted_fifo_is_refused_without_blocking(tmp_path, hostile_capture):
    """Before: opening the planted FIFO for writing blocked for ever."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    out = tmp_path / "out"
    out.mkdir()
    name = _export_names(hostile_capture)[0]
    os.mkfifo(out / name)
    r = CliRunner().invoke(app, ["certs", str(hostile_capture), "--export", str(out)])
    assert r.exit_code == 2
    err = [ln for ln in r.output.splitlines() if ln.startswith("tlsinspect:")]
    assert len(err) == 1 and "is not a regular file" in err[0] and "not overwritten" in err[0]
    assert stat.S_ISFIFO(os.lstat(out / name).st_mode)


@pytest.mark.parametrize("kind", ["symlink_to_file", "symlink_to_dir", "dangling_symlink", "directory"])
def test_non_regular_targets_are_refused(tmp_path, kind):
    out = tmp_path / "out"
    out.mkdir()
    victim_dir = tmp_path / "elsewhere"
    victim_dir.mkdir()
    victim = victim_dir / "victim.txt"
    victim.write_text("keep")
    target = out / "x.pem"
    if kind == "symlink_to_file":
        target.symlink_to(victim)
    elif kind == "symlink_to_dir":
        target.symlink_to(victim_dir)
    elif kind == "dangling_symlink":
        target.symlink_to(victim_dir / "created-through-link.pem")
    else:
        target.mkdir()
    with pytest.raises(ValueError, match="not a regular file"):
        write_inside(out, "x.pem", b"data")
    assert victim.read_text() == "keep"
    assert sorted(p.name for p in victim_dir.iterdir()) == ["victim.txt"]
    assert [p.name for p in out.iterdir()] == ["x.pem"]  # no temporary file left behind


def test_existing_regular_file_is_replaced_atomically(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "x.pem").write_bytes(b"old")
    inode = os.stat(out / "x.pem").st_ino
    assert write_inside(out, "x.pem", b"new") == (out / "x.pem").resolve()
    assert (out / "x.pem").read_bytes() == b"new" and os.stat(out / "x.pem").st_ino != inode
    assert oct(os.stat(out / "x.pem").st_mode & 0o777) in ("0o644", oct(0o644 & ~_umask()))


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m
