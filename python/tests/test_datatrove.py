"""examples/datatrove_formatter.py: MendFormatter, with a stand-in document
class (always) and in a real datatrove pipeline (when datatrove is installed)."""

from __future__ import annotations

import gzip
import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import mend
from conftest import ROOT, need, record_lines, samples

sys.path.insert(0, str(ROOT / "examples"))
datatrove_formatter = importlib.import_module("datatrove_formatter")
MendFormatter = datatrove_formatter.MendFormatter


@dataclass
class Doc:
    """The fields of datatrove's Document that a formatter uses."""

    text: str
    id: str
    metadata: dict = field(default_factory=dict)


def test_formatter_cleans_and_keeps_notes():
    texts = samples()
    docs = [Doc(t, str(i)) for i, t in enumerate(texts)]
    step = MendFormatter(batch_size=7)
    out = list(step.run(iter(docs)))
    assert [d.id for d in out] == [str(i) for i in range(len(texts))]
    for doc, original in zip(out, texts):
        expected = mend.clean(original)
        assert doc.text == expected["text"]
        assert doc.metadata["mend"] == {"edits": expected["edits"]}
        assert mend.restore(doc.text, doc.metadata["mend"]) == original
    assert any(d.metadata["mend"]["edits"] for d in out)
    assert step.format(texts[-1]) == mend.clean(texts[-1])["text"]


def test_formatter_options():
    text = "Moscow,\u00a0Oct. 14  \r\n"
    (doc,) = MendFormatter(skip="normalize", notes_key=None, threads=None).run([Doc(text, "a")])
    assert doc.text == mend.clean(text, skip="normalize")["text"]
    assert "mend" not in doc.metadata
    with pytest.raises(ValueError, match="unknown stage"):
        MendFormatter(only="nope")


def test_in_a_datatrove_pipeline(tmp_path: Path):
    need("datatrove")
    from datatrove.data import Document
    from datatrove.pipeline.formatters.base import BaseFormatter

    assert issubclass(MendFormatter, BaseFormatter)

    lines = record_lines(60, seed=11)
    docs = [Document(text=json.loads(l)["text"], id=json.loads(l)["id"]) for l in lines]
    out = list(MendFormatter()(iter(docs)))
    assert all(isinstance(d, Document) for d in out)
    for d, l in zip(out, lines):
        original = json.loads(l)["text"]
        assert d.text == mend.clean(original)["text"]
        assert mend.restore(d.text, d.metadata["mend"]) == original

    # The script: JsonlReader -> MendFormatter -> JsonlWriter.
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "part.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert datatrove_formatter.main([str(inp), str(tmp_path / "out"), "--logs", str(tmp_path / "logs")]) == 0
    written = []
    for p in sorted((tmp_path / "out").glob("*.jsonl.gz")):
        with gzip.open(p, "rt", encoding="utf-8") as f:
            written.extend(json.loads(x) for x in f)
    assert len(written) == len(lines)
    by_id = {r["id"]: r for r in written}
    for l in lines:
        rec = json.loads(l)
        got = by_id[rec["id"]]
        assert got["text"] == mend.clean(rec["text"])["text"]
        assert mend.restore(got["text"], got["metadata"]["mend"]) == rec["text"]
        assert got["metadata"]["score"] == 1.5 and got["metadata"]["meta"] == rec["meta"]
