"""Shared helpers: sample texts, JSON-lines records, and the mend command line."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RAW = ROOT / "raw"

# Artifacts the stages deal with, in several scripts (the stages decide what
# to do with them; these tests only compare the Python package with the CLI).
ARTIFACTS = [
    "Moscow,\u00a0Oct. 14  \r\n\r\n\r\nText.",
    'He said "it\'s fine" and left.',
    "<p>Tags &amp; entities</p> <br/> **bold** [link](http://example.com)",
    "Ð\u009fÑ€Ð¸Ð²ÐµÑ‚, Ð¼Ð¸Ñ€ (mojibake of Привет, мир)",
    "Привет, мир. «Цитата» — тире.\u200b\u00ad",
    "Ελληνικά κείμενα, 中文文本，日本語のテキスト。",
    "Tiếng Việt có dấu: e\u0301 (decomposed) and é.",
    "عربي\u200cنص and emoji 👩\u200d💻",
    "Share this article\nFacebook Twitter\nRead more: http://example.com/x",
    "control\x07chars\x7f and\ttabs\t \nline",
    "",
    "   ",
    "no edits at all",
]


def paragraphs() -> list[str]:
    """Paragraphs of the real articles in raw/ (decoded leniently)."""
    out = []
    for p in sorted(RAW.glob("*.txt")):
        text = p.read_bytes().decode("utf-8", errors="replace")
        out.extend(x for x in text.replace("\r\n", "\n").split("\n\n") if x.strip())
    return out


def samples() -> list[str]:
    """Whole articles, their paragraphs, and the artifacts above."""
    whole = [p.read_bytes().decode("utf-8", errors="replace") for p in sorted(RAW.glob("*.txt"))]
    return whole + paragraphs() + ARTIFACTS


def record_lines(n: int, seed: int = 7, start: int = 0) -> list[str]:
    """n JSON-lines records as raw lines (numbers like 1.50 kept as written),
    with extra fields before and after the text."""
    rng = random.Random(seed)
    pool = paragraphs() + ARTIFACTS
    lines = []
    for i in range(start, start + n):
        k = rng.randint(1, 4)
        text = "\n\n".join(rng.choice(pool) for _ in range(k))
        if rng.random() < 0.3:
            text = text.replace("\n", "\r\n")
        if rng.random() < 0.3:
            text = text.replace(" ", "\u00a0", 2)
        lines.append(
            '{"id":"doc-%d","source":"test","text":%s,"score":1.50,"meta":{"url":"http://example.com/%d","tags":["a","b"]}}'
            % (i, json.dumps(text, ensure_ascii=rng.random() < 0.5), i)
        )
    return lines


def mend_bin() -> str:
    """The mend binary: $MEND_BIN, else target/{debug,release}/mend (built
    with `cargo build --bin mend` if neither exists)."""
    env = os.environ.get("MEND_BIN")
    if env:
        assert Path(env).is_file(), f"MEND_BIN={env} does not exist"
        return env
    for profile in ("debug", "release"):
        p = ROOT / "target" / profile / "mend"
        if p.is_file():
            return str(p)
    if shutil.which("cargo") is None:
        pytest.skip("no mend binary and no cargo to build it")
    subprocess.run(["cargo", "build", "--quiet", "--bin", "mend"], cwd=ROOT, check=True)
    return str(ROOT / "target" / "debug" / "mend")


def run_cli_jsonl(inp: Path, out: Path, notes: Path, rejects: Path, *extra: str) -> int:
    """`mend clean --format jsonl INPUT -o OUT --notes NOTES --rejects REJECTS`; returns the exit code."""
    r = subprocess.run(
        [mend_bin(), "clean", "--format", "jsonl", str(inp), "-o", str(out),
         "--notes", str(notes), "--rejects", str(rejects), *extra],
        capture_output=True,
        text=True,
    )
    assert r.returncode in (0, 2), r.stderr
    return r.returncode


def need(module: str):
    """Imports an optional module: a skip normally, an error in CI
    (MEND_CI_STRICT=1), so CI cannot pass by skipping."""
    if os.environ.get("MEND_CI_STRICT"):
        import importlib

        return importlib.import_module(module)
    return pytest.importorskip(module)
