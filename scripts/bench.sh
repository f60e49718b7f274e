#!/usr/bin/env bash
# The performance measurement of issue 6: mend against a validate-and-copy
# baseline, on the same corpus, in the same run.
#
#   scripts/bench.sh [DIR]
#
# DIR (default /dev/shm/mend-bench, a tmpfs; or $MEND_BENCH_DIR) holds the
# corpus (made by examples/make_corpus.rs unless DIR/SIZES is there) and the
# outputs (DIR/out, removed between runs). RUNS (default 3) runs per row,
# the best wall time counts; STARTUP_RUNS (default 50) for the startup time.
# PAIRS (default 5; 0 skips them) alternating runs of the copy and mend for
# each all-cores ratio target: the median of the per-pair ratios is printed
# next to the ratio of the best-of rows, which a machine whose speed drifts
# between minutes can move by a tenth.
# Prints a Markdown table (also written to DIR/results.md).
set -euo pipefail

cd "$(dirname "$0")/.."
DIR=${1:-${MEND_BENCH_DIR:-/dev/shm/mend-bench}}
RUNS=${RUNS:-3}
STARTUP_RUNS=${STARTUP_RUNS:-50}
PAIRS=${PAIRS:-5}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench.sh: $TIME (GNU time) is needed for peak memory" >&2; exit 2; }

echo "building (release)..." >&2
cargo build --release --quiet --bin mend --example make_corpus --example copy_baseline
TARGET=${CARGO_TARGET_DIR:-target}/release
MEND=$TARGET/mend
MAKE_CORPUS=$TARGET/examples/make_corpus
COPY=$TARGET/examples/copy_baseline

mkdir -p "$DIR"
if [ ! -f "$DIR/SIZES" ]; then
    echo "generating the corpus into $DIR..." >&2
    "$MAKE_CORPUS" "$DIR"
fi
FILES_BYTES=$(awk '$1 == "bytes" { print $2 }' "$DIR/SIZES")
FILES_COUNT=$(awk '$1 == "files" { print $2 }' "$DIR/SIZES")
LARGEST=$(awk '$1 == "largest" { print $2 }' "$DIR/SIZES")
JSONL_BYTES=$(stat -c %s "$DIR/corpus.jsonl")
OUT=$DIR/out
TMP=$(mktemp -d)
trap 'rm -rf "$TMP" "$OUT"' EXIT

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Rows of the result table: name|MB/s|wall s|cpu s|peak RSS MiB
ROWS=()
# measure NAME BYTES OUTPUT CMD...: best wall time of $RUNS runs of CMD
# (OUTPUT removed before each run); sets MBPS and RSS_MB of the best run.
measure() {
    local name=$1 bytes=$2 output=$3
    shift 3
    local best_ns="" best_cpu="" best_rss="" i t0 t1 ns u s m
    for ((i = 1; i <= RUNS; i++)); do
        rm -rf "$output"
        t0=$(date +%s%N)
        if ! "$TIME" -o "$TMP/time" -f "%U %S %M" "$@" >/dev/null 2>"$TMP/err"; then
            echo "bench.sh: failed: $*" >&2
            tail -5 "$TMP/err" >&2
            return 1
        fi
        t1=$(date +%s%N)
        ns=$((t1 - t0))
        read -r u s m < <(tail -1 "$TMP/time")
        if [ -z "$best_ns" ] || [ "$ns" -lt "$best_ns" ]; then
            best_ns=$ns
            best_cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
            best_rss=$((m / 1024))
        fi
    done
    rm -rf "$output"
    MBPS=$(awk -v b="$bytes" -v ns="$best_ns" 'BEGIN { printf "%.1f", b / 1e6 / (ns / 1e9) }')
    CPU_S=$best_cpu
    RSS_MB=$best_rss
    local wall
    wall=$(awk -v ns="$best_ns" 'BEGIN { printf "%.2f", ns / 1e9 }')
    ROWS+=("$name|$MBPS|$wall|$best_cpu|$RSS_MB")
    echo "  $name: $MBPS MB/s (best of $RUNS: ${wall} s wall, ${best_cpu} s cpu, ${RSS_MB} MiB peak)" >&2
}

# paired NAME OUT_COPY OUT_MEND -- COPY_CMD... -- MEND_CMD...: runs the
# copy and mend alternately $PAIRS times and sets PAIRED to the median of
# the per-pair ratios (copy wall time / mend wall time, so mend's MB/s
# over the copy's) and PAIRED_RANGE to their lowest and highest. Each pair
# runs within a few seconds, so a slow phase of a shared machine weighs on
# both sides of a ratio; the best-of rows above come from minutes apart.
paired() {
    local name=$1 out_copy=$2 out_mend=$3
    shift 4
    local copy=() mend=() i t0 t1 tc tm
    while [ "$1" != "--" ]; do copy+=("$1"); shift; done
    shift
    mend=("$@")
    local ratios=()
    for ((i = 1; i <= PAIRS; i++)); do
        rm -rf "$out_copy" "$out_mend"
        t0=$(date +%s%N)
        "${copy[@]}" >/dev/null 2>"$TMP/err" || { echo "bench.sh: failed: ${copy[*]}" >&2; return 1; }
        t1=$(date +%s%N)
        tc=$((t1 - t0))
        t0=$(date +%s%N)
        "${mend[@]}" >/dev/null 2>"$TMP/err" || { echo "bench.sh: failed: ${mend[*]}" >&2; return 1; }
        t1=$(date +%s%N)
        tm=$((t1 - t0))
        ratios+=("$(awk -v c="$tc" -v m="$tm" 'BEGIN { printf "%.3f", c / m }')")
    done
    rm -rf "$out_copy" "$out_mend"
    local sorted
    sorted=$(printf '%s\n' "${ratios[@]}" | sort -n)
    PAIRED=$(echo "$sorted" | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
    PAIRED_RANGE="$(echo "$sorted" | head -1)–$(echo "$sorted" | tail -1)"
    echo "  $name, $PAIRS alternating pairs: median ratio $PAIRED × (each: ${ratios[*]})" >&2
}

per_cpu() { awk -v b="$1" -v c="$2" 'BEGIN { if (c > 0) printf "%.1f", b / 1e6 / c; else print "-" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
yes_no() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN { ok = (op == ">=") ? a >= b : a < b; print ok ? "yes" : "**no**" }'; }

echo "measuring ($RUNS runs each; folder $FILES_COUNT files, $FILES_BYTES bytes)..." >&2
measure "copy baseline, folder, all cores" "$FILES_BYTES" "$OUT/copy" \
    "$COPY" "$DIR/files" "$OUT/copy"
COPY_DIR=$MBPS
measure "mend clean, folder, all cores" "$FILES_BYTES" "$OUT/mend" \
    "$MEND" clean "$DIR/files" -o "$OUT/mend"
MEND_DIR=$MBPS
PEAK=$RSS_MB
# The floor of mend's own output layout: no stage but decode, so what is
# left is reading, hashing (SHA-256 for re-runs) and writing two files
# per input (the text and its notes), each atomically.
measure "mend clean --only decode (floor), folder, all cores" "$FILES_BYTES" "$OUT/floor" \
    "$MEND" clean --only decode "$DIR/files" -o "$OUT/floor"
MEND_FLOOR=$MBPS
measure "mend clean, folder, -j 1" "$FILES_BYTES" "$OUT/mend1" \
    "$MEND" clean -j 1 "$DIR/files" -o "$OUT/mend1"
MEND_ONE=$MBPS
MEND_ONE_CPU=$CPU_S
[ "$RSS_MB" -gt "$PEAK" ] && PEAK=$RSS_MB
measure "copy baseline, JSON lines, all cores" "$JSONL_BYTES" "$OUT/copy.jsonl" \
    "$COPY" --jsonl "$DIR/corpus.jsonl" "$OUT/copy.jsonl"
COPY_JSONL=$MBPS
MEND_JSONL=""
MEND_JSONL_ONE=""
# JSON lines mode, if this mend has it and it works on a small sample.
head -n 20 "$DIR/corpus.jsonl" > "$TMP/sample.jsonl"
if "$MEND" clean --help 2>/dev/null | grep -q -- '--format' &&
    "$MEND" clean --format jsonl "$TMP/sample.jsonl" -o "$TMP/sample.out.jsonl" >/dev/null 2>&1; then
    measure "mend clean --format jsonl, all cores" "$JSONL_BYTES" "$OUT/mend.jsonl" \
        "$MEND" clean --format jsonl "$DIR/corpus.jsonl" -o "$OUT/mend.jsonl"
    MEND_JSONL=$MBPS
    [ "$RSS_MB" -gt "$PEAK" ] && PEAK=$RSS_MB
    # The one-thread target names no layout: both are measured.
    measure "mend clean --format jsonl, -j 1" "$JSONL_BYTES" "$OUT/mend1.jsonl" \
        "$MEND" clean -j 1 --format jsonl "$DIR/corpus.jsonl" -o "$OUT/mend1.jsonl"
    MEND_JSONL_ONE=$MBPS
    MEND_JSONL_ONE_CPU=$CPU_S
else
    echo "  mend clean --format jsonl: not available in this build; row skipped" >&2
fi

# The two all-cores ratio targets again, in alternating pairs.
PAIRED_DIR=""
PAIRED_JSONL=""
if [ "$PAIRS" -gt 0 ]; then
    paired "folder, all cores" "$OUT/copy" "$OUT/mend" -- \
        "$COPY" "$DIR/files" "$OUT/copy" -- \
        "$MEND" clean "$DIR/files" -o "$OUT/mend"
    PAIRED_DIR="$PAIRED × (range $PAIRED_RANGE)"
    if [ -n "$MEND_JSONL" ]; then
        paired "JSON lines, all cores" "$OUT/copy.jsonl" "$OUT/mend.jsonl" -- \
            "$COPY" --jsonl "$DIR/corpus.jsonl" "$OUT/copy.jsonl" -- \
            "$MEND" clean --format jsonl "$DIR/corpus.jsonl" -o "$OUT/mend.jsonl"
        PAIRED_JSONL="$PAIRED × (range $PAIRED_RANGE)"
    fi
fi

# Startup: one small file, STARTUP_RUNS times; the same loop with
# /bin/true is the cost of the shell's fork and exec.
SMALL=$(find "$DIR/files" -type f -size -2k | sort | awk 'NR == 1')
loop_ms() {
    local t0 t1 i
    t0=$(date +%s%N)
    for ((i = 0; i < STARTUP_RUNS; i++)); do "$@" >/dev/null 2>&1; done
    t1=$(date +%s%N)
    awk -v ns="$((t1 - t0))" -v n="$STARTUP_RUNS" 'BEGIN { printf "%.2f", ns / 1e6 / n }'
}
mkdir -p "$OUT"
STARTUP=$(loop_ms "$MEND" clean "$SMALL" -o "$OUT/startup")
FORK=$(loop_ms /bin/true)
# CPU time per run (task-clock), steadier than wall time on a busy machine.
STARTUP_CPU=""
if command -v perf >/dev/null 2>&1 &&
    perf stat -x, -r "$STARTUP_RUNS" -e task-clock -o "$TMP/stat" \
        "$MEND" clean "$SMALL" -o "$OUT/startup" >/dev/null 2>&1; then
    STARTUP_CPU=$(awk -F, '$3 == "task-clock" || $3 ~ /^task-clock/ { printf "%.2f", $1 }' "$TMP/stat")
fi
echo "  startup: $STARTUP ms per run (fork+exec of /bin/true: $FORK ms; CPU ${STARTUP_CPU:-?} ms)" >&2

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
LIMIT=$(awk -v l="$LARGEST" 'BEGIN { printf "%d", 100 + 3 * l / 1048576 }')

{
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"
    echo "$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo) RAM; load average before $LOAD_BEFORE, after $LOAD_AFTER."
    echo "Corpus: $DIR ($FILES_COUNT files, $FILES_BYTES bytes; corpus.jsonl $JSONL_BYTES bytes;"
    echo "largest document $LARGEST bytes). MB = 10^6 bytes of input; best wall time of $RUNS runs."
    echo
    echo "| run | MB/s | ratio to copy | wall s | CPU s | MB per CPU s | peak RSS MiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    for row in "${ROWS[@]}"; do
        IFS='|' read -r name mbps wall cpu rss <<<"$row"
        case $name in
            *JSON* | *jsonl*) base=$COPY_JSONL ;;
            *) base=$COPY_DIR ;;
        esac
        case $name in
            *JSON* | *jsonl*) bytes=$JSONL_BYTES ;;
            *) bytes=$FILES_BYTES ;;
        esac
        echo "| $name | $mbps | $(ratio "$mbps" "$base") | $wall | $cpu | $(per_cpu "$bytes" "$cpu") | $rss |"
    done
    [ -n "$MEND_JSONL" ] || echo "| mend clean --format jsonl | skipped: not in this build | | | | | |"
    echo
    echo "| target | measured | goal | met |"
    echo "|---|---:|---:|---|"
    r=$(ratio "$MEND_DIR" "$COPY_DIR")
    echo "| folder, all cores, vs copy | $r × | ≥ 0.5 × | $(yes_no "$r" ">=" 0.5) |"
    [ -z "$PAIRED_DIR" ] ||
        echo "| (the same, median of $PAIRS alternating pairs) | $PAIRED_DIR | ≥ 0.5 × | $(yes_no "${PAIRED_DIR%% *}" ">=" 0.5) |"
    if [ -n "$MEND_JSONL" ]; then
        r=$(ratio "$MEND_JSONL" "$COPY_JSONL")
        echo "| JSON lines, all cores, vs copy | $r × | ≥ 0.5 × | $(yes_no "$r" ">=" 0.5) |"
        [ -z "$PAIRED_JSONL" ] ||
            echo "| (the same, median of $PAIRS alternating pairs) | $PAIRED_JSONL | ≥ 0.5 × | $(yes_no "${PAIRED_JSONL%% *}" ">=" 0.5) |"
    else
        echo "| JSON lines, all cores, vs copy | not measured | ≥ 0.5 × | - |"
    fi
    r=$(ratio "$MEND_FLOOR" "$COPY_DIR")
    echo "| (folder floor: \`--only decode\`, vs copy) | $r × | (what ≥ 0.5 × leaves for the stages: $(awk -v f="$MEND_FLOOR" -v c="$COPY_DIR" 'BEGIN { t = 1 / (0.5 * c) - 1 / f; if (t > 0) printf "%.2f s of wall time per 100 MB", t * 100; else print "nothing" }')) | - |"
    echo "| one thread, folder | $MEND_ONE MB/s ($(per_cpu "$FILES_BYTES" "$MEND_ONE_CPU") MB per CPU s) | ≥ 60 MB/s | $(yes_no "$MEND_ONE" ">=" 60) |"
    [ -z "$MEND_JSONL_ONE" ] ||
        echo "| one thread, JSON lines | $MEND_JSONL_ONE MB/s ($(per_cpu "$JSONL_BYTES" "$MEND_JSONL_ONE_CPU") MB per CPU s) | ≥ 60 MB/s | $(yes_no "$MEND_JSONL_ONE" ">=" 60) |"
    r=$(ratio "$MEND_DIR" "$MEND_ONE")
    echo "| all cores ($(nproc)) / one thread | $r × | ≥ 1.8 × | $(yes_no "$r" ">=" 1.8) |"
    echo "| peak memory (mend runs) | $PEAK MiB | < $LIMIT MiB (100 MiB + 3 × largest) | $(yes_no "$PEAK" "<" "$LIMIT") |"
    echo "| startup, \`mend clean\` one $(stat -c %s "$SMALL")-byte file, mean of $STARTUP_RUNS | $STARTUP ms | < 10 ms | $(yes_no "$STARTUP" "<" 10) |"
    echo
    echo "Startup includes the shell's fork and exec (/bin/true in the same loop: $FORK ms)."
    [ -z "$STARTUP_CPU" ] || echo "CPU time of one startup run (perf stat task-clock, mean of $STARTUP_RUNS): $STARTUP_CPU ms."
    echo "MB per CPU s: input MB over user + system CPU time; on a loaded machine it is the"
    echo "steadier figure (wall time counts waiting for a core)."
} | tee "$DIR/results.md"
