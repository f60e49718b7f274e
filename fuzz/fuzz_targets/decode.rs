//! Decode alone on arbitrary bytes: only binary input is refused; decode
//! notes in range; exact restore; decoding the output again changes
//! nothing. The low four bits of the first byte force an encoding (or
//! none: detection), as `--encoding` does.
#![no_main]

use encoding_rs::Encoding;
use libfuzzer_sys::fuzz_target;
use mend::{Config, Pipeline, Stage, StageSet};

static FORCED: [&Encoding; 10] = [
    encoding_rs::UTF_8,
    encoding_rs::UTF_16LE,
    encoding_rs::UTF_16BE,
    encoding_rs::WINDOWS_1251,
    encoding_rs::WINDOWS_1252,
    encoding_rs::KOI8_R,
    encoding_rs::SHIFT_JIS,
    encoding_rs::GB18030,
    encoding_rs::ISO_2022_JP,
    encoding_rs::EUC_KR,
];

fuzz_target!(|data: &[u8]| {
    let (b, doc) = mend_fuzz::split(data);
    let stages = StageSet::NONE.with(Stage::Decode);
    let config = Config {
        encoding: FORCED.get(usize::from(b & 15)).copied(),
        ..mend_fuzz::options(0, stages)
    };
    let p = Pipeline::new(config);
    if p.config().encoding.is_some() {
        // A forced encoding reads the clean UTF-8 text as that encoding
        // again: not a fixed point. Check everything else.
        let Ok(cleaned) = p.clean(doc) else {
            assert!(doc.contains(&0), "refused input without a NUL byte");
            return;
        };
        mend_fuzz::check_spans(&cleaned, doc);
        let written = mend::notes::write(&cleaned, doc, "fuzz", p.config());
        let (h, n) = mend::notes::read(&written).expect("notes read back");
        let restored = mend::notes::restore(&cleaned.text, &h, &n).expect("notes restore");
        assert!(restored == doc, "restore(clean(x)) != x");
    } else {
        mend_fuzz::check_document(&p, doc);
    }
});
