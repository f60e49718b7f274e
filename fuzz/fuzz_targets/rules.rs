//! Rules files: `RulesFile::parse` on arbitrary text. No panic (libFuzzer's
//! `-timeout` bounds the time of compiling a user regex, `-rss_limit_mb` its
//! memory); a malformed file is an error. A file that parses is then used
//! to clean a fixed sample, which must keep the document properties.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use mend::rules::RulesFile;
use mend::{Config, Pipeline};

const SAMPLE: &str = "Subscribe to our newsletter\n\nMoscow, Oct. 14 - \"We are ready,\" \
Lavrov said. \u{201C}The decision was taken\u{201D}, \u{2013} said Peskov.\n\n\
The minister don\u{E2}\u{20AC}\u{2122}t agree &amp; [more](#) \u{A0}here.\n\
READ MORE: Lavrov says talks are over\n\u{A9} 2019 Sputnik. All rights reserved\n";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(rules) = RulesFile::parse(&text) else {
        return;
    };
    let p = Pipeline::new(Config {
        rules: Some(Arc::new(rules)),
        ..Config::default()
    });
    mend_fuzz::check_document(&p, SAMPLE.as_bytes());
});
