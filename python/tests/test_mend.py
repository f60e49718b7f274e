"""The Python API: clean, clean_batch, clean_jsonl, restore; parity with the CLI."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import mend
from conftest import ARTIFACTS, record_lines, run_cli_jsonl, samples

EDIT_KEYS = {"stage", "rule", "src", "at", "out", "removed", "removed_bytes", "inserted", "text", "why", "finding"}
STAGES = ["decode", "mojibake", "markup", "boilerplate", "quotes", "normalize"]
OPTIONS = [
    {},
    {"quotes": "ascii"},
    {"quotes": "keep"},
    {"lossy": "mark"},
    {"only": "normalize"},
    {"only": ["quotes", "normalize"]},
    {"skip": "normalize,markup"},
    {"only": ["decode"]},
]


def test_stages_and_version():
    assert mend.stages() == STAGES
    assert mend.__version__ == "0.1.0"


def test_clean_shape():
    out = mend.clean("Moscow,\u00a0Oct. 14  \r\n\r\n\r\nText.")
    assert set(out) == {"text", "edits"}
    assert isinstance(out["text"], str)
    assert out["text"] != "Moscow,\u00a0Oct. 14  \r\n\r\n\r\nText."
    assert out["edits"], "normalize makes edits here"
    for e in out["edits"]:
        assert set(e) <= EDIT_KEYS
        assert {"stage", "rule", "src", "at", "why"} <= set(e)
        assert e["stage"] in STAGES
        assert isinstance(e["src"], list) and len(e["src"]) == 2
        assert isinstance(e["at"], list) and len(e["at"]) == 2
        if e.get("finding"):
            assert "text" in e
        else:
            assert isinstance(e["removed"], str) and isinstance(e["inserted"], str)


def test_records_get_no_final_newline():
    # Texts are records, not files (as `mend clean --format jsonl`).
    assert mend.clean("no edits at all") == {"text": "no edits at all", "edits": []}
    assert mend.clean("")["text"] == ""


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: json.dumps(o))
def test_restore_round_trip(opts):
    for text in samples():
        out = mend.clean(text, **opts)
        assert mend.restore(out["text"], out["edits"]) == text
        # Also from JSON: a list of edits, and a notes line.
        assert mend.restore(out["text"], json.dumps(out["edits"])) == text
        assert mend.restore(out["text"], json.dumps({"id": 1, "edits": out["edits"]})) == text


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: json.dumps(o))
def test_clean_batch_equals_clean(opts):
    texts = samples() * 3
    expected = [mend.clean(t, **opts) for t in texts]
    assert mend.clean_batch(texts, **opts) == expected
    assert mend.clean_batch(iter(texts), threads=1, **opts) == expected
    assert mend.clean_batch(tuple(texts), threads=3, **opts) == expected
    assert mend.clean_batch([]) == []


def test_only_and_skip():
    text = "\n".join(samples())
    full = mend.clean(text)
    stages_seen = {e["stage"] for e in full["edits"]}
    assert "normalize" in stages_seen
    only = mend.clean(text, only="normalize")
    assert {e["stage"] for e in only["edits"]} <= {"normalize"}
    assert only["edits"]
    assert {e["stage"] for e in mend.clean(text, skip=["normalize"])["edits"]} <= stages_seen - {"normalize"}
    # Spellings of the same set agree.
    assert mend.clean(text, only="quotes, normalize") == mend.clean(text, only=["quotes", "normalize"])
    assert mend.clean(text, skip=("decode",)) == full  # decode does nothing on str input
    assert mend.clean(text, only=["decode"]) == {"text": text, "edits": []}
    assert mend.clean(text, only="normalize,quotes", skip="quotes") == only


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mend.clean("x", only="nope"), "unknown stage \"nope\""),
        (lambda: mend.clean("x", skip=["normalize", "bogus"]), "unknown stage \"bogus\""),
        (lambda: mend.clean("x", only=[]), "names no stage"),
        (lambda: mend.clean("x", only=[3]), "not a stage name"),
        (lambda: mend.clean("x", only=3), "must be a stage name"),
        (lambda: mend.clean("x", quotes="fancy"), "quotes="),
        (lambda: mend.clean("x", lossy="drop"), "lossy="),
        (lambda: mend.clean(b"bytes"), "text must be a str"),
        (lambda: mend.clean(None), "text must be a str"),
        (lambda: mend.clean_batch("one string"), "not one str"),
        (lambda: mend.clean_batch(["ok", 5]), "texts[1] must be a str"),
        (lambda: mend.clean_batch(["x"], threads=0), "threads="),
        (lambda: mend.clean_jsonl(["{}"], notes="both"), "notes="),
        (lambda: mend.clean_jsonl("{}"), "not one string"),
        (lambda: mend.restore("x", [{"stage": "normalize"}]), "not a list of mend edits"),
        (lambda: mend.restore("x", "not json"), "not JSON"),
        (lambda: mend.restore("x", {"no": "edits"}), "without an \"edits\" list"),
        (lambda: mend.restore("x", [object()]), "not JSON data"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=None) as info:
        call()
    assert message in str(info.value)


def test_restore_refuses_edits_that_do_not_fit():
    out = mend.clean("Moscow,\u00a0Oct. 14  \r\n")
    assert out["edits"]
    with pytest.raises(ValueError, match="cannot restore"):
        mend.restore("something else entirely", out["edits"])


def test_lone_surrogate_is_a_value_error():
    with pytest.raises(ValueError):  # UnicodeEncodeError is a ValueError
        mend.clean("a\ud800b")


def test_clean_jsonl_rows():
    rows = mend.clean_jsonl(
        ['{"id":1,"text":"a\\u00a0b  ","n":1.50}', "", "  \r\n", "not json", b"\xff\xfe", b'{"id":2,"text":"ok"}', '{"id":3}']
    )
    assert len(rows) == 7
    rec, notes, attrs, err = rows[0]
    assert rec == '{"id":1,"text":"a b","n":1.50}'
    assert json.loads(notes)["id"] == 1 and attrs is None and err is None
    assert rows[1] == rows[2] == (None, None, None, None)
    assert rows[3][:3] == (None, None, None) and "not a JSON object" in rows[3][3]
    assert rows[4] == (None, None, None, "not UTF-8 at byte 0")
    assert rows[5][0] == '{"id":2,"text":"ok"}' and rows[5][1] == '{"id":2,"edits":[]}'
    assert "no string field" in rows[6][3]
    # Inline notes, another text field, attributes.
    (row,) = mend.clean_jsonl(['{"id":"x","body":"a\\u00a0b"}'], text_field="body", notes="inline", attributes=True)
    rec = json.loads(row[0])
    assert rec["body"] == "a b" and rec["mend"]["edits"] and row[1] is None
    assert json.loads(row[2])["attributes"]["mend__normalize"] == [[1, 2, 1.0]]


def test_jsonl_and_dicts_match_the_cli(tmp_path: Path):
    """clean_jsonl gives the CLI's lines byte for byte, and clean() the same text and edits."""
    lines = record_lines(150) + ["", "{broken", '{"id":"no-text"}']
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code = run_cli_jsonl(inp, tmp_path / "out.jsonl", tmp_path / "notes.jsonl", tmp_path / "rejects.jsonl")
    assert code == 2  # two bad records
    cli_records = (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()
    cli_notes = (tmp_path / "notes.jsonl").read_text(encoding="utf-8").splitlines()
    cli_rejects = (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines()

    rows = [r for r in mend.clean_jsonl(lines) if r != (None, None, None, None)]
    assert [r[0] for r in rows if r[3] is None] == cli_records
    assert [r[1] for r in rows if r[3] is None] == cli_notes
    assert [line for line, r in zip([x for x in lines if x.strip()], rows) if r[3]] == cli_rejects

    for line, rec, note in zip(lines, cli_records, cli_notes):
        mine = mend.clean(json.loads(line)["text"])
        assert mine["text"] == json.loads(rec)["text"]
        assert mine["edits"] == json.loads(note)["edits"]


def test_cli_options_parity(tmp_path: Path):
    lines = record_lines(40, seed=3)
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for cli, py in [
        (["--quotes", "ascii"], {"quotes": "ascii"}),
        (["--only", "normalize"], {"only": "normalize"}),
        (["--skip", "normalize,quotes"], {"skip": ["normalize", "quotes"]}),
    ]:
        run_cli_jsonl(inp, tmp_path / "o.jsonl", tmp_path / "n.jsonl", tmp_path / "r.jsonl", *cli)
        rows = mend.clean_jsonl(lines, **py)
        assert [r[0] for r in rows] == (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()
        assert [r[1] for r in rows] == (tmp_path / "n.jsonl").read_text(encoding="utf-8").splitlines()


def test_stubs_match_the_module():
    stub = Path(mend.__file__).with_name("__init__.pyi")
    tree = ast.parse(stub.read_text(encoding="utf-8"))
    stubbed = {n.name: [a.arg for a in n.args.args] for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert set(stubbed) == {"clean", "clean_batch", "clean_jsonl", "restore", "stages"}
    import inspect

    for name, params in stubbed.items():
        sig = inspect.signature(getattr(mend, name))
        assert list(sig.parameters) == params, name
    assert (Path(mend.__file__).parent / "py.typed").is_file()


def test_artifacts_survive_every_stage_combination():
    # Every subset of the text stages: restore gives the input back.
    import itertools

    text_stages = STAGES[1:]
    for k in range(1, len(text_stages) + 1):
        for only in itertools.combinations(text_stages, k):
            for text in ARTIFACTS:
                out = mend.clean(text, only=list(only))
                assert mend.restore(out["text"], out["edits"]) == text
