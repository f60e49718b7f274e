#!/usr/bin/env bash
# Cleans the benchmark corpus (scripts/bench.sh makes it), then cleans the
# output again, and counts the documents whose second run still made an edit.
# Usage: scripts/idempotence.sh [CORPUS_DIR]   (default /dev/shm/mend-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-/dev/shm/mend-bench}
[ -d "$dir/files" ] || { echo "no corpus in $dir (run scripts/bench.sh first)" >&2; exit 2; }
cargo build --release --quiet --bin mend
mend=target/release/mend
work=$(mktemp -d "${TMPDIR:-/tmp}/mend-idem.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$mend" clean "$dir/files" -o "$work/once"
# The clean texts only, as a folder of their own.
(cd "$work/once" && find . -name '*.txt' -print0 | cpio -0pdm --quiet "$work/texts" 2>/dev/null) ||
    (cd "$work/once" && find . -name '*.txt' | while read -r f; do mkdir -p "$work/texts/$(dirname "$f")"; cp "$f" "$work/texts/$f"; done)
"$mend" clean "$work/texts" -o "$work/twice"
total=$(find "$work/twice" -name '*.notes.jsonl' | wc -l)
changed=0
while IFS= read -r f; do
    if grep -v '"mend":"notes"' "$f" | grep -qv '"finding":true'; then changed=$((changed + 1)); fi
done < <(find "$work/twice" -name '*.notes.jsonl')
echo "documents changed by a second run: $changed of $total"
