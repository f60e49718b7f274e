#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ in turn, SECONDS each (default 600),
# under `nice -n 10`, one at a time. Needs a nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz`). See fuzz/README.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Each target's corpus grows in fuzz/corpus/TARGET (seeded from
# fuzz/seeds/), its log goes to fuzz/logs/TARGET.log, and crashes, timeouts
# and out-of-memory inputs to fuzz/artifacts/TARGET/. libFuzzer runs in fork
# mode with crashes ignored, so a target runs its whole time and every crash
# is kept. A summary table (executions, coverage, crashes) ends the run and is
# written to fuzz/logs/summary.md. Exit code 1 if any target left an artifact.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${1:-600}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(decode mojibake markup boilerplate quotes normalize pipeline jsonl rules)
fi

# -a: debug assertions (edit::apply asserts that stages give in-bounds,
# non-overlapping edits); -s none: no sanitizer doubles the executions.
# (mend's only unsafe code is SIMD over fixed-size arrays, in boilerplate.rs
# and corpus.rs, each checked against a portable version by unit tests, and
# turning bytes already seen as `str` into a `String`.) The targets are built once and their binaries run
# directly, so editing the source during a run changes nothing
# (FUZZ_BIN_DIR: run binaries from elsewhere, without building).
if [ -z "${FUZZ_BIN_DIR:-}" ]; then
    nice -n 10 cargo +nightly fuzz build -a -s none
    triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
    FUZZ_BIN_DIR=target/$triple/release
fi

# Idempotence across stages (pipeline, jsonl, rules) is not checked unless
# MEND_FUZZ_CROSS_STAGE=1: it fails too often to let the fuzzer find
# anything else (fuzz/README.md, "Known failures").
export MEND_FUZZ_CROSS_STAGE=${MEND_FUZZ_CROSS_STAGE:-0}

mkdir -p logs
summary=${FUZZ_SUMMARY:-logs/summary.md}
{
    echo "| target | seconds | executions | exec/s | coverage (edges) | features | corpus | crashes | timeouts | ooms |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$summary"
status=0
for t in "${targets[@]}"; do
    case $t in
    jsonl) seeds=seeds/jsonl ;;
    rules) seeds=seeds/rules ;;
    *) seeds=seeds/text ;;
    esac
    mkdir -p "corpus/$t" "artifacts/$t"
    echo "== $t: ${seconds}s" >&2
    start=$(date +%s)
    nice -n 10 "$FUZZ_BIN_DIR/$t" "corpus/$t" "$seeds" \
        -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -dict=mend.dict -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1 || true
    took=$(($(date +%s) - start))
    last=$(grep -E '^#[0-9]+: cov:' "logs/$t.log" | tail -1 || true)
    execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
    cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$last")
    ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$last")
    corp=$(sed -E 's/.* corp: ([0-9]+).*/\1/' <<<"$last")
    crashes=$(find "artifacts/$t" -name 'crash-*' | wc -l)
    timeouts=$(find "artifacts/$t" -name 'timeout-*' | wc -l)
    ooms=$(find "artifacts/$t" -name 'oom-*' | wc -l)
    rate=$((${execs:-0} / (took > 0 ? took : 1)))
    echo "| $t | $took | ${execs:-?} | $rate | ${cov:-?} | ${ft:-?} | ${corp:-?} | $crashes | $timeouts | $ooms |" >>"$summary"
    if [ $((crashes + timeouts + ooms)) -gt 0 ]; then status=1; fi
done
cat "$summary"
exit $status
