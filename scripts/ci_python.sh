#!/usr/bin/env bash
# CI for the Python package (python/), the Spark job and the datatrove
# formatter (examples/): a venv under target/, the pinned tools, the package
# built from this tree, then pytest on python/tests. Fails on any failure,
# on "no tests collected" (pytest exit 5), and on a skipped Spark or
# datatrove test (MEND_CI_STRICT=1 turns those skips into errors).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

venv=target/pyvenv-ci
if [ ! -x "$venv/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
# maturin must be on PATH for the build backend.
export PATH="$PWD/$venv/bin:$PATH"
python -m pip install --quiet --disable-pip-version-check -r python/requirements-ci.txt

# The CLI the tests compare with (already built by `cargo test`: then instant).
cargo build --locked --quiet --bin mend

# The package, as `pip install ./python` builds it, but with the dev profile
# (dependencies are optimized in dev, see Cargo.toml) so CI reuses the
# artifacts of `cargo test` instead of a full release build.
MATURIN_PEP517_ARGS="--profile dev --locked" \
    python -m pip install --quiet --disable-pip-version-check \
    --no-build-isolation --force-reinstall --no-deps ./python

# Spark: no UI port, loopback only.
export SPARK_LOCAL_IP=127.0.0.1
export PYSPARK_SUBMIT_ARGS="--conf spark.ui.enabled=false pyspark-shell"
MEND_BIN="$PWD/target/debug/mend" MEND_CI_STRICT=1 \
    python -m pytest python/tests -q -rs -p no:cacheprovider
