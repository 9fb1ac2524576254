"""`tlsinspect batch`: many captures -> one Parquet dataset, on a process pool or on Dask."""

import gzip
import os
import pickle
import shutil
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import inspector
from inspector import batch as B
from inspector.cli.app import app

PCAPS = Path(__file__).resolve().parents[2] / "pcaps"
SAMPLES = ["cisco_lab_mix.pcapng", "mic_5061.pcap", "tls13_443.pcap", "lsc_rejected_unknown_ca.pcap",
           "resumption_8443.pcap"]
runner = CliRunner()


def cli(*args):
    return runner.invoke(app, ["batch", *map(str, args)])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Samples (one gzip-compressed under a name that says nothing), and things that are not."""
    d = tmp_path_factory.mktemp("inputs")
    sub = d / "site-a" / "day1"
    sub.mkdir(parents=True)
    for name in SAMPLES[:3]:
        shutil.copy(PCAPS / name, d / name)
    shutil.copy(PCAPS / SAMPLES[3], sub / SAMPLES[3])
    (sub / "capture.bin").write_bytes(gzip.compress((PCAPS / SAMPLES[4]).read_bytes()))
    (d / "broken.pcap").write_bytes((PCAPS / "mic_5061.pcap").read_bytes()[:10])  # header cut short
    (d / "notes.pcapng").write_text("not a capture, despite the name\n")           # named like one
    (d / "README.txt").write_text("ignored: neither named nor shaped like a capture\n")
    os.mkfifo(d / "live.pcap")
    os.symlink("loop.pcap", d / "loop.pcap")
    os.symlink("..", sub / "up")  # a directory loop: site-a/day1/up -> site-a
    return d


def expected(table):
    paths = [PCAPS / n for n in SAMPLES]
    return sum(len(getattr(inspector.read_capture(p), table)) for p in paths)


@pytest.fixture(scope="module")
def first_run(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    r = cli(inputs, "-o", out, "--jobs", "2")
    return out, r


def test_process_pool_run_counts_and_errors(inputs, first_run):
    out, r = first_run
    assert r.exit_code == 2, r.output  # some inputs are bad: the worst exit code
    for table in ("flows", "certificates", "events", "findings"):
        df = pd.read_parquet(out / table)
        assert len(df) == expected(table), table
        assert df["capture_path"].str.startswith(str(inputs)).all()
    files = pd.read_parquet(out / "files").set_index("capture")
    ok = set(files.index[files.status == "ok"])
    assert ok == set(SAMPLES[:4]) | {"capture.bin"}
    errors = files[files.status == "error"]["error"].to_dict()
    assert set(errors) == {"broken.pcap", "notes.pcapng", "live.pcap", "loop.pcap", "up"}
    assert "FIFO" in errors["live.pcap"] and "symlink loop" in errors["loop.pcap"]
    assert "text file" in errors["notes.pcapng"] and "symlink loop" in errors["up"]
    assert "README.txt" not in files.index
    assert files.loc["cisco_lab_mix.pcapng", "flows"] == len(inspector.read_capture(PCAPS / SAMPLES[0]).flows)
    assert files.loc["capture.bin", "format"] == "pcap.gz"
    # one stderr line per bad file, no traceback; the summary on stdout
    for name in errors:
        assert sum(name in line for line in r.stderr.splitlines()) == 1, name
    assert "Traceback" not in r.stderr
    assert "files failed" in r.stdout and "TLS flows" in r.stdout


def test_second_run_skips_everything_and_force_redoes(inputs, first_run, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(first_run[0], out)
    s = B.run_batch([str(inputs)], out, quiet=True, jobs=1)
    # unchanged files are skipped; special files cost nothing and are looked at again
    assert s.skipped == 7 and s.analysed == 3 and s.ok == 5 and s.failed == 5
    assert s.exit_code == 2 and s.flows == expected("flows")
    os.utime(inputs / "mic_5061.pcap", ns=(0, 10**18))  # changed on disk: done again
    (out / "files" / B.part_name(str(inputs / "tls13_443.pcap"))).unlink()  # interrupted mid-file
    before = pd.read_parquet(out / "files").set_index("capture")["analyzed_at"]
    s = B.run_batch([str(inputs)], out, quiet=True, jobs=1)
    assert s.skipped == 5 and s.analysed == 5
    after = pd.read_parquet(out / "files").set_index("capture")["analyzed_at"]
    redone = {c for c in after.index if c not in before.index or after[c] != before[c]}
    assert redone == {"mic_5061.pcap", "tls13_443.pcap", "live.pcap", "loop.pcap", "up"}
    assert len(pd.read_parquet(out / "flows")) == expected("flows")  # replaced, not appended
    s = B.run_batch([str(inputs)], out, quiet=True, jobs=1, force=True)
    assert s.skipped == 0 and s.analysed == 10


def test_dask_engine_gives_the_same_dataset(inputs, first_run, tmp_path):
    distributed = pytest.importorskip("distributed")
    out = tmp_path / "dask"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        r = cli(inputs, "-o", out, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    assert r.exit_code == 2, r.output
    for table, key in (("flows", ["capture_path", "flow_id"]), ("findings", ["capture_path", "flow_id", "code"]),
                       ("certificates", ["capture_path", "sha256"])):
        a = pd.read_parquet(first_run[0] / table).sort_values(key).reset_index(drop=True)
        b = pd.read_parquet(out / table).sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)


def test_dask_local_cluster_when_no_scheduler(tmp_path):
    pytest.importorskip("distributed")
    s = B.run_batch([str(PCAPS / "mic_5061.pcap")], tmp_path, engine="dask", jobs=1, quiet=True,
                    cluster_kwargs=dict(processes=False))
    assert (s.ok, s.failed, s.flows) == (1, 0, 1)


def test_dataset_opens_in_pandas_dask_and_duckdb(first_run):
    out = first_run[0]
    flows = pd.read_parquet(out / "flows")
    assert str(flows["flow_id"].dtype) == "Int64" and str(flows["ts_start"].dtype) == "datetime64[ns, UTC]"
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.read_parquet(str(out / "flows"))
    assert len(ddf) == len(flows) and list(ddf.columns) == list(flows.columns)
    assert ddf.groupby("outcome").size().compute().sum() == len(flows)
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.sql(f"select outcome, count(*) from '{out}/flows/*.parquet' group by outcome").fetchall()
    assert sum(n for _, n in rows) == len(flows)
    certs = duckdb.sql(f"select count(*) from '{out}/certificates/*.parquet'").fetchall()[0][0]
    assert certs == expected("certificates")


def test_every_part_has_the_fixed_schema_even_when_empty(first_run):
    out = first_run[0]
    for table in ("flows", "certificates", "events", "findings", "files"):
        want = B.arrow_schema(B.table_columns(table))
        parts = sorted((out / table).glob("part-*.parquet"))
        assert parts
        for p in parts:
            assert pq.read_schema(p).remove_metadata() == want, (table, p)
    # tls13_443 sends no certificate in clear text: its part is there, empty, and typed
    files = pd.read_parquet(out / "files")
    tls13 = files.loc[files.capture == "tls13_443.pcap", "path"].item()
    assert pq.read_metadata(out / "certificates" / B.part_name(tls13)).num_rows == 0


def test_analyze_file_is_picklable_and_never_raises(tmp_path, monkeypatch):
    res = B.analyze_file(str(PCAPS / "mic_5061.pcap"))
    back = pickle.loads(pickle.dumps(res))
    assert back.status == "ok" and back.flows.equals(res.flows) and back.frames == res.frames
    assert pickle.loads(pickle.dumps(B.analyze_file)) is B.analyze_file
    assert B.analyze_file(str(tmp_path / "missing.pcap")).error == "no such file"

    def boom(*a, **k):
        raise ZeroDivisionError("bug")
    monkeypatch.setattr(inspector, "read_capture", boom)
    res = B.analyze_file(str(PCAPS / "mic_5061.pcap"))
    assert res.status == "error" and res.error_kind == "internal" and "ZeroDivisionError" in res.error


def test_inputs_glob_and_explicit_files(inputs, tmp_path):
    found = {Path(i.path).name: i for i in B.discover([str(inputs / "*.pcap")])}
    assert set(found) == {"mic_5061.pcap", "tls13_443.pcap", "broken.pcap", "live.pcap", "loop.pcap"}
    found = B.discover([str(inputs / "README.txt")])  # named on the command line: taken
    assert len(found) == 1 and found[0].error is None
    r = cli(inputs / "mic_5061.pcap", "-o", tmp_path / "r", "-q")
    assert r.exit_code == 0, r.output
    r = cli(tmp_path / "nothing-here-*.pcap", "-o", tmp_path / "r2")
    assert r.exit_code == 2 and "no capture files found" in r.stderr


def test_results_inside_inputs_and_damaged_manifest(tmp_path):
    shutil.copy(PCAPS / "mic_5061.pcap", tmp_path / "a.pcap")
    out = tmp_path / "results"
    assert B.run_batch([str(tmp_path)], out, quiet=True, jobs=1).ok == 1
    (out / "files" / ".part-0.999999999.tmp").write_bytes(b"left by a killed run")
    part = out / "files" / B.part_name(str(tmp_path / "a.pcap"))
    part.write_bytes(b"PAR1 damaged")  # unreadable manifest row: the file is done again
    s = B.run_batch([str(tmp_path)], out, quiet=True, jobs=1)
    assert (s.inputs, s.analysed, s.ok) == (1, 1, 1)  # results/ itself is not walked
    assert not (out / "files" / ".part-0.999999999.tmp").exists()
    assert len(pd.read_parquet(out / "files")) == 1
    assert cli(tmp_path, "-o", out, "--scheduler", "tcp://x:1").exit_code == 2
