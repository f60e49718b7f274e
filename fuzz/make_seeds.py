#!/usr/bin/env python3
"""Writes the seed corpora of fuzz/seeds/ (committed; rerun to refresh).

text/  documents for the document targets: raw/, encodings of raw/ text,
       pages of ../shared/dev (cut to about 4 KB), the examples of the
       README's rule tables. The first byte of a document target's input
       picks the options (fuzz/src/lib.rs), so each seed gets one of a few
       option bytes in front.
jsonl/ JSON-lines records (dev pages cut short, odd records).
rules/ rules files.
"""
import json
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
seeds = root / "fuzz" / "seeds"
dev = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared/dev/boilerplate-aeb-dev.jsonl"
OPTS = [0x00, 0x01, 0x02, 0x04, 0x08, 0x0D]
n = 0


def put(kind, name, data):
    d = seeds / kind
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def doc(name, data):
    global n
    put("text", name, bytes([OPTS[n % len(OPTS)]]) + data)
    n += 1


def cut(text, limit=4000):
    if len(text.encode()) <= limit:
        return text
    out = text.encode()[:limit].decode("utf-8", "ignore")
    return out[: out.rfind("\n") + 1] or out


raws = sorted((root / "raw").glob("*.txt"))
for p in raws:
    doc("raw-" + p.stem[:3], p.read_bytes())
ru = (root / "raw").glob("002*").__next__().read_text()
en = raws[0].read_text()
doc("utf8-bom", b"\xef\xbb\xbf" + cut(en, 1500).encode())
doc("utf16le-bom", b"\xff\xfe" + cut(en, 1000).encode("utf-16-le"))
doc("utf16be-nobom", cut(en, 1000).encode("utf-16-be"))
russian = "Президент России Владимир Путин заявил об этом в среду. «Мы готовы к диалогу», – сказал Лавров.\r\n"
doc("cp1251", (russian * 3).encode("cp1251"))
doc("koi8r", (russian * 3).encode("koi8-r", "replace"))
doc("cp1252", "Café owners in Zürich said “no” – again.\r\n".encode("cp1252") * 3)
doc("invalid-utf8", cut(en, 800).encode() + b"\xff\xc3\x28\xe2\x82\xf0\x9f\x98 \xed\xa0\x80 \xc0\xaf end")
doc("mojibake-cp1252", "The minister donâ€™t agree with Ã©tudes. РџСѓС‚РёРЅ said.\n".encode())
doc("lossy", "Moscow, 14/10/2015\n10 ??????? 2015 ?. Posted by RT Play\n".encode())

with open(dev, encoding="utf-8") as f:
    records = [json.loads(l) for l in f]
for i, r in enumerate(records[:24]):
    field = "noisy_md" if i % 3 == 2 else "noisy_text"
    doc(f"dev-{i:02}-{field[6:]}", cut(r[field]).encode())

# The examples of the README's rule tables, one seed per row.
readme = (root / "README.md").read_text()
for i, line in enumerate(l for l in readme.splitlines() if l.startswith("| `")):
    spans = re.findall(r"`([^`]+)`", line)
    if len(spans) > 1:
        text = "\n".join(s.replace("\\u00AD", "\u00ad").replace("\\u0081", "\u0081").replace("\\u0089", "\u0089") for s in spans[1:])
        doc(f"readme-{i:03}", text.encode())

for i, r in enumerate(records[:10]):
    rec = {"id": r["id"][:8], "text": cut(r["noisy_text"], 1500), "url": r["url"]}
    put("jsonl", f"dev-{i:02}", b"\x10" + json.dumps(rec, ensure_ascii=i % 2 == 0).encode())
odd = [
    b'\x00{"id":7,"text":"a\\u00a0b  \\r\\n","n":1.50}',
    b'\x20{"text":"\\u201cQuote, \\u2013 said Lavrov. \\u2013 More\\u201d","mend":{"x":1},"id":"d"}',
    b'\x50{"id":null,"text":"","z":[1,2,{"a":"b"}]}',
    b'\x10{"id":"x","text":"don\\u00e2\\u20ac\\u2122t &amp; [x](#) e\\u0301\\u0007"}',
    b'\x00{"id":1,"text":5}',
    b'\x00[1,2]',
    b'\x00{"text":"a","text":"b"}',
]
for i, o in enumerate(odd):
    put("jsonl", f"odd-{i}", o)

rules = [
    'disable = ["normalize/soft-hyphen"]\n\n[[boilerplate]]\nname = "acme-promo-line"\npattern = "^Get ACME Premium"\nwhy = "ACME\'s own promotion line"\n',
    'disable = ["decode/invalid-bytes", "quotes/r1-quote-style-glyph", "markup/html-entity"]\n',
    '[[boilerplate]]\nname = "subscribe"\npattern = "(?i)subscribe|read more"\n',
    '[[boilerplate]]\nname = "any"\npattern = ""\n[[boilerplate]]\nname = "b"\npattern = "\\\\w{3,}"\n',
    'disable = ["boilerplate/outside-article-block", "r7-apostrophe-glyph"]\n',
]
for i, r in enumerate(rules):
    put("rules", f"rules-{i}", r.encode())
print(f"{n} documents")
