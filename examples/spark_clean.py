#!/usr/bin/env python3
"""Clean a JSON-lines dataset with mend on Apache Spark.

    spark-submit examples/spark_clean.py INPUT OUTPUT [options]
    python examples/spark_clean.py INPUT OUTPUT --master 'local[2]' [options]

INPUT is anything Spark's textFile reads: a file, a folder, a glob, on the
local disk or any Hadoop-compatible file system (hdfs://, s3a://, gs://,
abfss://...); .gz and .bz2 shards are decompressed by Hadoop. Each record's
text field is cleaned by the mend Python package (mapPartitions, in batches);
every other field is kept byte for byte and in order, exactly as
`mend clean --format jsonl` writes it. OUTPUT gets:

    OUTPUT/records/part-NNNNN   the cleaned records
    OUTPUT/notes/part-NNNNN     one line per record: {"id": ..., "edits": [...]}
                                (--notes line, the default; row for row with
                                records/part-NNNNN, so shard N of both align)
    OUTPUT/rejects/part-NNNNN   lines that are not a JSON object with a string
                                text field, or not UTF-8, copied untouched
                                (only when there are any)

With --notes inline the notes are a "mend" field of each record instead.
The mend package must be importable by the executors' Python (see the README,
"Scaling out"). Exit code 2 when some records were rejected, as the CLI.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from itertools import islice

# Executors: one task per core, so mend works on the task's thread only
# (threads=1); Spark provides the parallelism.
DEFAULT_BATCH = 512


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input", help="JSON-lines file, folder or glob (any Hadoop-compatible path)")
    p.add_argument("output", help="output folder (must not exist unless --overwrite)")
    p.add_argument("--text-field", default="text", help="field holding the text (default: text)")
    p.add_argument("--notes", choices=["line", "inline", "none"], default="line",
                   help="notes as OUTPUT/notes lines (default), a 'mend' field, or none")
    p.add_argument("--quotes", choices=["curly", "ascii", "keep"], default="curly")
    p.add_argument("--lossy", choices=["keep", "mark"], default="keep")
    p.add_argument("--only", help="run only these stages (comma-separated)")
    p.add_argument("--skip", help="run all but these stages (comma-separated)")
    p.add_argument("--compression", choices=["none", "gzip", "bzip2", "zstd"], default="none",
                   help="output compression (Hadoop codec; zstd needs native Hadoop libs)")
    p.add_argument("--partitions", type=int, default=None,
                   help="minimum input partitions (default: Spark's choice)")
    p.add_argument("--batch", type=int, default=DEFAULT_BATCH,
                   help=f"records per call into mend (default {DEFAULT_BATCH})")
    p.add_argument("--threads", type=int, default=1,
                   help="mend threads per task (default 1: Spark runs one task per core)")
    p.add_argument("--master", help="Spark master when not run by spark-submit, e.g. local[2]")
    p.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    return p.parse_args(argv)


def clean_partition(lines, opts: dict):
    """Cleans one partition: yields (record, notes, reject) with one of
    record / reject set. Lines come as bytes, so a line that is not UTF-8
    is a reject, not a crash."""
    import mend  # on the executor

    it = iter(lines)
    while True:
        chunk = list(islice(it, opts["batch"]))
        if not chunk:
            return
        rows = mend.clean_jsonl(
            chunk,
            text_field=opts["text_field"],
            notes=opts["notes"],
            quotes=opts["quotes"],
            only=opts["only"],
            skip=opts["skip"],
            lossy=opts["lossy"],
            threads=opts["threads"],
        )
        for line, (record, notes, _attrs, error) in zip(chunk, rows):
            if record is not None:
                yield (record, notes, None)
            elif error is not None:
                yield (None, None, line)
            # else: a blank line, skipped (as the CLI does)


CODECS = {
    "none": None,
    "gzip": "org.apache.hadoop.io.compress.GzipCodec",
    "bzip2": "org.apache.hadoop.io.compress.BZip2Codec",
    "zstd": "org.apache.hadoop.io.compress.ZStandardCodec",
}


def run(args: argparse.Namespace) -> int:
    from pyspark import StorageLevel
    from pyspark.sql import SparkSession

    if args.master and args.master.startswith("local"):
        # Local runs: the workers use this interpreter (where mend is installed).
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("mend-clean")
    if args.master:
        builder = builder.master(args.master)
    spark = builder.getOrCreate()
    sc = spark.sparkContext

    jvm = sc._jvm  # Hadoop FileSystem, for --overwrite on any file system
    out_path = jvm.org.apache.hadoop.fs.Path(args.output)
    fs = out_path.getFileSystem(sc._jsc.hadoopConfiguration())
    if fs.exists(out_path):
        if not args.overwrite:
            print(f"spark_clean: {args.output} exists (use --overwrite)", file=sys.stderr)
            spark.stop()
            return 2
        fs.delete(out_path, True)

    opts = {
        "text_field": args.text_field,
        "notes": None if args.notes == "none" else args.notes,
        "quotes": args.quotes,
        "lossy": args.lossy,
        "only": args.only,
        "skip": args.skip,
        "batch": max(1, args.batch),
        "threads": args.threads,
    }
    # Check the options on the driver before any task runs (a ValueError here
    # is clear), when the driver has mend (only the executors need it).
    try:
        import mend
    except ImportError:
        pass
    else:
        mend.clean("", quotes=opts["quotes"], only=opts["only"], skip=opts["skip"], lossy=opts["lossy"])

    start = time.perf_counter()
    records_acc = sc.accumulator(0)
    rejects_acc = sc.accumulator(0)

    def clean(part):
        for row in clean_partition(part, opts):
            if row[0] is not None:
                records_acc.add(1)
            else:
                rejects_acc.add(1)
            yield row

    lines = sc.textFile(args.input, minPartitions=args.partitions, use_unicode=False)
    rows = lines.mapPartitions(clean)
    if opts["notes"] == "line":
        # Cleaned once (when records are written), then read from the cache
        # for the notes (and the rejects, if any; else they are cleaned again).
        rows.persist(StorageLevel.MEMORY_AND_DISK)
    codec = CODECS[args.compression]
    base = args.output.rstrip("/")

    rows.filter(lambda r: r[0] is not None).map(lambda r: r[0]).saveAsTextFile(
        f"{base}/records", codec
    )
    # Counted when the records were written (a later pass may clean again).
    # An accumulator counts a task again if Spark retries it: the counts are
    # a report; the files are the result.
    n_records, n_rejects = records_acc.value, rejects_acc.value
    if opts["notes"] == "line":
        rows.filter(lambda r: r[1] is not None).map(lambda r: r[1]).saveAsTextFile(
            f"{base}/notes", codec
        )
    if n_rejects:
        rows.filter(lambda r: r[2] is not None).map(lambda r: r[2]).saveAsTextFile(
            f"{base}/rejects", codec
        )
    elapsed = time.perf_counter() - start
    rows.unpersist()
    print(
        f"spark_clean: {n_records} records, {n_rejects} rejected, {elapsed:.1f} s, "
        f"{n_records / elapsed if elapsed else 0:.0f} records/s ({sc.master}, "
        f"{sc.defaultParallelism} cores)",
        file=sys.stderr,
    )
    spark.stop()
    return 2 if n_rejects else 0


def main(argv: list[str] | None = None) -> int:
    return run(parse_args(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
