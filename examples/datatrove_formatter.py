#!/usr/bin/env python3
"""A datatrove formatter step that cleans documents with mend.

    from datatrove_formatter import MendFormatter
    pipeline = [JsonlReader("raw/"), MendFormatter(), JsonlWriter("clean/")]

Each document's text is cleaned (in batches, through `mend.clean_batch`) and
its edits go to `doc.metadata["mend"] = {"edits": [...]}`, the same shape as
the CLI's `--notes inline` field, so `mend.restore(doc.text, doc.metadata["mend"])`
gives back the original text and each edit says which stage and rule made it
and why. Texts are records: no final newline is added.

Run as a script (needs `pip install datatrove`):

    python examples/datatrove_formatter.py INPUT_DIR OUTPUT_DIR [--tasks N]

reads INPUT_DIR/*.jsonl[.gz], cleans, and writes OUTPUT_DIR/*.jsonl.gz.

Without datatrove installed, MendFormatter still works on any objects with
`.text` and `.metadata` (a small stand-in base class replaces datatrove's).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from collections import Counter
from itertools import islice
from typing import Iterable, Iterator, Optional

import mend

if importlib.util.find_spec("datatrove") is not None:
    # Needs datatrove's `orjson` and `regex` too (pip install datatrove orjson regex).
    from datatrove.pipeline.formatters.base import BaseFormatter
else:  # datatrove is not installed: the interface this step uses

    class BaseFormatter:  # type: ignore[no-redef]
        """Stand-in for datatrove's BaseFormatter (stats and timing only)."""

        name = "formatter"

        def __init__(self) -> None:
            self.stats: Counter = Counter()

        def stat_update(self, *labels: str, value: int = 1, unit: Optional[str] = None) -> None:
            for label in labels:
                self.stats[label] += value

        def track_time(self, unit: Optional[str] = None):
            return contextlib.nullcontext()

        def __call__(self, data, rank: int = 0, world_size: int = 1):
            return self.run(data, rank, world_size)


class MendFormatter(BaseFormatter):
    """Cleans `doc.text` with mend; the edits go to `doc.metadata[notes_key]`.

    Args:
        quotes: "curly" (default), "ascii" or "keep".
        only / skip: stage names (list or comma-separated), as `mend clean --only/--skip`.
        lossy: "keep" (default) or "mark".
        notes_key: the metadata key for the edits (default "mend"); None keeps no notes.
        batch_size: documents per call into mend.
        threads: mend threads per batch: 1 (default; datatrove runs one task per
            worker process), None for all cores (one big task), or N.
    """

    name = "🩹 mend"
    _requires_dependencies = ["mend"]

    def __init__(
        self,
        quotes: str = "curly",
        only=None,
        skip=None,
        lossy: str = "keep",
        notes_key: Optional[str] = "mend",
        batch_size: int = 256,
        threads: Optional[int] = 1,
    ) -> None:
        super().__init__()
        self.options = {"quotes": quotes, "only": only, "skip": skip, "lossy": lossy}
        # Bad options fail here, when the pipeline is built, not in a worker.
        mend.clean("", **self.options)
        self.notes_key = notes_key
        self.batch_size = max(1, batch_size)
        self.threads = threads

    def format(self, text: str) -> str:
        """The clean text alone (datatrove's formatter interface)."""
        return mend.clean(text, **self.options)["text"]

    def run(self, data: Iterable, rank: int = 0, world_size: int = 1) -> Iterator:
        it = iter(data)
        while True:
            docs = list(islice(it, self.batch_size))
            if not docs:
                return
            with self.track_time():
                results = mend.clean_batch(
                    [d.text for d in docs], threads=self.threads, **self.options
                )
            for doc, res in zip(docs, results):
                self.stat_update("total")
                edits = res["edits"]
                if any(not e.get("finding") for e in edits):
                    self.stat_update("changed")
                    self.stat_update("edits", value=sum(not e.get("finding") for e in edits))
                doc.text = res["text"]
                if self.notes_key is not None:
                    doc.metadata[self.notes_key] = {"edits": edits}
                yield doc


def main(argv: list[str]) -> int:
    import argparse

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    p = argparse.ArgumentParser(description="Clean JSON-lines documents with mend in a datatrove pipeline")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--tasks", type=int, default=1)
    p.add_argument("--logs", default=None, help="datatrove logging folder (default OUTPUT/../logs)")
    p.add_argument("--quotes", default="curly", choices=["curly", "ascii", "keep"])
    args = p.parse_args(argv)
    executor = LocalPipelineExecutor(
        pipeline=[
            JsonlReader(args.input),
            MendFormatter(quotes=args.quotes),
            JsonlWriter(args.output),
        ],
        tasks=args.tasks,
        logging_dir=args.logs or f"{args.output.rstrip('/')}-logs",
    )
    executor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
