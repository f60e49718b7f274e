//! The whole pipeline on arbitrary bytes: no panic, spans, exact restore,
//! idempotence. The first byte picks quote style, lossy mode and final
//! newline (`mend_fuzz::options`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mend::StageSet;

fuzz_target!(|data: &[u8]| {
    mend_fuzz::run_stages(data, StageSet::ALL);
});
