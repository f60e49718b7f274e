"""mend: clean scraped and machine-translated news text, with exact provenance.

Python bindings of the mend Rust crate. Every change is an *edit* (a dict with
the fields of a mend notes edit object: stage, rule, src, at, removed,
inserted, why, ...) from which :func:`restore` gives back the original text.

>>> import mend
>>> out = mend.clean("Moscow,\\u00a0Oct. 14  \\r\\n")
>>> out["text"]
'Moscow, Oct. 14\\n'
>>> mend.restore(out["text"], out["edits"])
'Moscow,\\xa0Oct. 14  \\r\\n'
"""

from ._mend import __version__, clean, clean_batch, clean_jsonl, restore, stages

__all__ = ["__version__", "clean", "clean_batch", "clean_jsonl", "restore", "stages"]
