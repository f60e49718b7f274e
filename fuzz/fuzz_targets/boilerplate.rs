//! The boilerplate stage alone (after decode): no panic, spans, exact restore,
//! idempotence. The first byte picks the options (`mend_fuzz::options`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mend::Stage;

fuzz_target!(|data: &[u8]| {
    mend_fuzz::run_stages(data, mend_fuzz::only(Stage::Boilerplate));
});
