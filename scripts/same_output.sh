#!/usr/bin/env bash
# Does a new build of mend write exactly what a reference build writes?
#
#   scripts/same_output.sh REF_BIN NEW_BIN [CORPUS_DIR]
#
# For speed work: an optimisation must not change one byte of any output. Runs both binaries on
# the benchmark corpus (folder and JSON lines, with notes and attributes, and with notes inline), on a 2,000-file sample
# of it in every quotes style and with `--lossy mark`, on each stage alone, on `raw/` and on the
# development set, and compares every output file. The reference outputs are cached under
# $REF_CACHE (default /dev/shm/mend-ref), keyed by the reference binary's SHA-256, so a second
# check costs one run of the new build. Prints one line per case and exits 1 on any difference.
set -u
REF=${1:?usage: same_output.sh REF_BIN NEW_BIN [CORPUS_DIR]}
NEW=${2:?usage: same_output.sh REF_BIN NEW_BIN [CORPUS_DIR]}
CORPUS=${3:-/dev/shm/mend-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEV=${DEV:-$ROOT/../shared/dev/boilerplate-aeb-dev.jsonl}
[ -f "$CORPUS/SIZES" ] || { echo "no corpus at $CORPUS (run scripts/bench.sh or make_corpus)" >&2; exit 2; }
key=$(sha256sum "$REF" | cut -c1-16)
CACHE=${REF_CACHE:-/dev/shm/mend-ref}/$key
WORK=$(mktemp -d "${TMPDIR:-/dev/shm}/same-output.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

SAMPLE=$CACHE/sample
if [ ! -d "$SAMPLE" ]; then
    mkdir -p "$SAMPLE"
    cp -r "$CORPUS/files/00" "$CORPUS/files/01" "$SAMPLE/"
fi

fail=0
# run NAME ARGS... : runs "BIN clean ARGS" with OUT replaced by an output path, for both builds.
run() {
    local name=$1; shift
    local side bin out
    for side in ref new; do
        if [ $side = ref ]; then bin=$REF; out=$CACHE/$name; [ -e "$out.done" ] && continue
        else bin=$NEW; out=$WORK/$name; fi
        rm -rf "$out"; mkdir -p "$out"
        local args=()
        for a in "$@"; do args+=("${a//OUT/$out}"); done
        "$bin" clean "${args[@]}" >"$out/stdout" 2>"$out/stderr"
        echo $? >"$out/rc"
        # the summary line has timings; keep only what cannot differ between equal builds
        sed -i -E 's/ in [0-9.]+ (s|ms)//' "$out/stderr"
        # a JSON-lines state file names its outputs by absolute path
        find "$out" -name '.*.mend-state' -exec sed -i "s#$out#OUT#g" {} +
        [ $side = ref ] && touch "$out.done"
    done
    # the input digest in a state file is not an output of cleaning, and its
    # kind changed (SHA-256 to BLAKE3, eighth session): compare the rest
    find "$CACHE/$name" "$WORK/$name" -name '.*.mend-state' \
        -exec sed -i -E 's/"(sha256|blake3)":"[0-9a-f]{64}"/"digest":"(input digest)"/' {} +
    if diff -r -q "$CACHE/$name" "$WORK/$name" >"$WORK/$name.diff" 2>&1; then
        echo "same      $name"
    else
        echo "DIFFERENT $name ($(wc -l <"$WORK/$name.diff") files; e.g. $(head -1 "$WORK/$name.diff"))"
        fail=1
    fi
}

run folder "$CORPUS/files" -o OUT/o
run jsonl --format jsonl "$CORPUS/corpus.jsonl" -o OUT/o.jsonl --notes OUT/n.jsonl --attributes OUT/a.jsonl
run jsonl-inline --format jsonl "$CORPUS/corpus.jsonl" -o OUT/o.jsonl --notes inline
for q in ascii keep; do run "sample-$q" -j 1 --quotes $q "$SAMPLE" -o OUT/o; done
run sample-lossy-mark --lossy mark "$SAMPLE" -o OUT/o
for s in mojibake markup boilerplate quotes normalize; do run "only-$s" --only $s "$SAMPLE" -o OUT/o; done
for q in curly ascii keep; do run "raw-$q" --quotes $q "$ROOT/raw" -o OUT/o; done
[ -f "$DEV" ] && run dev --format jsonl --text-field noisy_text "$DEV" -o OUT/o.jsonl --notes OUT/n.jsonl
exit $fail
