#!/usr/bin/env bash
# Groups the artifacts of a fuzz target by what failed: the panic message,
# and for an idempotence failure the stages that changed the text again.
#   fuzz/triage.sh TARGET [BIN_DIR]
set -uo pipefail
cd "$(dirname "$0")"
t=$1
bin=${2:-target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release}/$t
for f in artifacts/"$t"/crash-* artifacts/"$t"/timeout-* artifacts/"$t"/oom-*; do
    [ -e "$f" ] || continue
    out=$("$bin" "$f" 2>&1)
    if ! grep -q panicked <<<"$out"; then
        echo "fixed"
        continue
    fi
    msg=$(grep -A1 panicked <<<"$out" | sed -n 2p | cut -c1-60)
    stages=$(grep -o 'stage: [A-Za-z]*' <<<"$out" | sort -u | sed 's/stage: //' | tr '\n' ',')
    echo "$msg [$stages]"
done | sort | uniq -c | sort -rn
