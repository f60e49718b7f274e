"""examples/spark_clean.py in local[2] mode: its output is the CLI's output.

Skipped when pyspark (or Java) is missing; CI installs pyspark."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, mend_bin, need, record_lines, run_cli_jsonl

need("pyspark")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    assert not os.environ.get("MEND_CI_STRICT"), "pyspark needs Java"
    pytest.skip("pyspark needs Java", allow_module_level=True)

SCRIPT = ROOT / "examples" / "spark_clean.py"


def read_parts(folder: Path) -> list[str]:
    """The lines of a Spark output folder, part by part, in order."""
    lines = []
    for p in sorted(folder.glob("part-*")):
        opener = gzip.open if p.suffix == ".gz" else open
        with opener(p, "rt", encoding="utf-8", newline="\n") as f:
            lines.extend(f.read().splitlines())
    return lines


def by_id(lines: list[str]) -> dict:
    out = {}
    for line in lines:
        key = json.loads(line)["id"]
        assert key not in out, f"duplicate id {key}"
        out[key] = line
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Two shards, one gzipped, 300 records, with a blank line and two bad records."""
    d = tmp_path_factory.mktemp("spark") / "in"
    d.mkdir()
    a = record_lines(180, seed=1)
    b = record_lines(120, seed=2, start=180)
    a.insert(50, "")
    a.insert(90, '{"id":"bad-1","text":42}')
    (d / "a.jsonl").write_text("\n".join(a) + "\n", encoding="utf-8")
    with gzip.open(d / "b.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write("\n".join(b[:60] + ["{not json"] + b[60:]) + "\n")
    return d


def run_spark(inp: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    env.setdefault("PYSPARK_SUBMIT_ARGS", "--conf spark.ui.enabled=false pyspark-shell")
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(inp), str(out), "--master", "local[2]",
         "--partitions", "4", "--batch", "37", *extra],
        capture_output=True, text=True, env=env, timeout=600,
    )


def cli_outputs(inp: Path, tmp: Path, *extra: str) -> tuple[list[str], list[str], list[str]]:
    records, notes, rejects = [], [], []
    for shard in sorted(inp.iterdir()):
        o, n, r = tmp / f"{shard.name}.out", tmp / f"{shard.name}.notes", tmp / f"{shard.name}.rejects"
        run_cli_jsonl(shard, o, n, r, *extra)
        records += o.read_text(encoding="utf-8").splitlines()
        notes += n.read_text(encoding="utf-8").splitlines()
        rejects += r.read_text(encoding="utf-8").splitlines() if r.exists() else []
    return records, notes, rejects


def test_spark_job_equals_cli(dataset: Path, tmp_path: Path):
    r = run_spark(dataset, tmp_path / "spark")
    assert r.returncode == 2, r.stderr[-4000:]  # two rejected records, as the CLI
    assert "300 records, 2 rejected" in r.stderr

    records = read_parts(tmp_path / "spark" / "records")
    notes = read_parts(tmp_path / "spark" / "notes")
    rejects = read_parts(tmp_path / "spark" / "rejects")
    cli_records, cli_notes, cli_rejects = cli_outputs(dataset, tmp_path)

    assert len(records) == len(cli_records) == 300
    # Byte-identical lines, compared as sets keyed by id.
    assert by_id(records) == by_id(cli_records)
    assert by_id(notes) == by_id(cli_notes)
    assert sorted(rejects) == sorted(cli_rejects)
    # Shard N of records and of notes align row for row.
    for part in sorted((tmp_path / "spark" / "records").glob("part-*")):
        ids = [json.loads(x)["id"] for x in read_parts_file(part)]
        nids = [json.loads(x)["id"] for x in read_parts_file(tmp_path / "spark" / "notes" / part.name)]
        assert ids == nids


def read_parts_file(p: Path) -> list[str]:
    return p.read_text(encoding="utf-8").splitlines()


def test_spark_job_inline_notes_and_options(dataset: Path, tmp_path: Path):
    """One input file: the parts, in order, are the CLI's output byte for byte."""
    opts = ("--quotes", "ascii", "--skip", "markup")
    r = run_spark(dataset / "a.jsonl", tmp_path / "spark", "--notes", "inline", "--compression", "gzip", *opts)
    assert r.returncode == 2, r.stderr[-4000:]
    assert "180 records, 1 rejected" in r.stderr
    assert read_parts(tmp_path / "spark" / "rejects") == ['{"id":"bad-1","text":42}']
    assert not (tmp_path / "spark" / "notes").exists()
    parts = sorted((tmp_path / "spark" / "records").glob("part-*"))
    assert parts and all(p.name.endswith(".gz") for p in parts)
    cli = tmp_path / "cli.jsonl"
    subprocess.run([mend_bin(), "clean", "--format", "jsonl", str(dataset / "a.jsonl"), "-o", str(cli),
                    "--notes", "inline", *opts], capture_output=True, check=False)
    assert read_parts(tmp_path / "spark" / "records") == cli.read_text(encoding="utf-8").splitlines()
    assert all("\"mend\":{\"edits\":[" in line for line in read_parts(tmp_path / "spark" / "records"))


def test_spark_job_refuses_an_existing_output(dataset: Path, tmp_path: Path):
    (tmp_path / "spark").mkdir()
    r = run_spark(dataset, tmp_path / "spark")
    assert r.returncode == 2 and "exists (use --overwrite)" in r.stderr
