//! Inputs found by the fuzz targets of `fuzz/` (see `fuzz/README.md`),
//! minimized, each with the property it broke. The bytes are the target's
//! input: the first byte picks the options as `fuzz/src/lib.rs` does
//! (bits 0-1 quote style, bit 2 `--lossy mark`, bit 3 no final newline),
//! the rest is the document.

use mend::notes;
use mend::{Config, LossyMode, Pipeline, QuoteStyle, Stage, StageSet};

fn pipeline(options: u8, stages: StageSet) -> Pipeline {
    Pipeline::new(Config {
        stages,
        quotes: match options & 3 {
            1 => QuoteStyle::Ascii,
            2 => QuoteStyle::Keep,
            _ => QuoteStyle::Curly,
        },
        lossy: if options & 4 != 0 {
            LossyMode::Mark
        } else {
            LossyMode::Keep
        },
        final_newline: options & 8 == 0,
        ..Config::default()
    })
}

fn only(stage: Stage) -> StageSet {
    StageSet::NONE.with(Stage::Decode).with(stage)
}

/// The fuzz targets' properties: no panic, exact restore through the
/// serialized notes, idempotence.
fn check(input: &[u8], stages: StageSet) {
    let (options, doc) = input.split_first().expect("an options byte");
    let p = pipeline(*options, stages);
    let cleaned = p.clean(doc).expect("not binary");
    let written = notes::write(&cleaned, doc, "fuzz", p.config());
    let (header, edits) = notes::read(&written).expect("notes read back");
    let restored = notes::restore(&cleaned.text, &header, &edits).expect("restores");
    assert_eq!(restored, doc, "restore(clean(x)) != x");
    let again = p.clean(cleaned.text.as_bytes()).expect("not binary");
    assert_eq!(again.text, cleaned.text, "not idempotent");
}

/// Quotes target, curly style: `〞〞` + an invalid byte + `〞`. R3 wrote
/// the collapsed closer as `’”`, and a second run read that `’` as an
/// apostrophe and inserted another (`“‘�’’”`). Fixed: the stage reads its
/// own result again until it is stable (`quotes::find`).
#[test]
fn quotes_collapsed_closer_after_an_invalid_byte_is_idempotent() {
    check(
        b"\x20\xe3\x80\x9e\xe3\x80\x9e\x99\xe3\x80\x9e",
        only(Stage::Quotes),
    );
}

/// Quotes, keep style: each run inserted one more `”` before the last mark
/// (`»’s’s”'`, `»’s’s””'`, ...): the pass never reaches a fixed point, so
/// the stage leaves such a text as it is.
#[test]
fn quotes_keep_style_soup_that_grows_each_run_is_left_alone() {
    for doc in ["»’s’s'", "\"\n’s’", "“’s“‹›’? ‘/"] {
        let input = [&[2u8][..], doc.as_bytes()].concat();
        check(&input, only(Stage::Quotes));
        let p = pipeline(2, only(Stage::Quotes));
        assert_eq!(p.clean_str(doc).text, doc);
    }
}

/// Found by a mark-soup loop while fixing the above (quotes alone), not by
/// the fuzzer. The second round rewrote the two marks on either
/// side of a deleted full stop (R11), and `edit::compose` kept the deletion
/// as an edit of its own inside the merged replacement (overlapping edits,
/// a debug assertion in `edit::apply`).
#[test]
fn quotes_rounds_meeting_at_a_deleted_full_stop_compose_without_overlap() {
    for (options, doc) in [
        (0u8, "〞\n»a„'„\n”’„b.”.〞"),
        (0, "»b.”\u{FFFD}\"“'\n‘b.”.»〝»"),
        (1, "„’“b.”. ”.»\n\n , – said X. – `"),
    ] {
        let input = [&[options][..], doc.as_bytes()].concat();
        check(&input, only(Stage::Quotes));
    }
}

/// Mojibake target: windows-1252 bytes of UTF-8 that was itself read as
/// windows-1252 once more (`Ã¢â‚¬` + a lost byte). The first run undid one
/// layer (`â€ `), a second run the next (`”`). Fixed: the stage reads its own
/// result again until it is stable (`mojibake::find`, `edit::settle`).
#[test]
fn mojibake_repair_in_layers_is_done_in_one_run() {
    check(
        b"\x20\xc2\xa9\x20\xc3\xa2\xe2\x82\xac\x20\x98\x98",
        only(Stage::Mojibake),
    );
}

/// Pipeline target: a control character before `"` at the start of a line.
/// Quotes read the `"` as a closer (after a character), then normalize
/// removed the control character, and a second run read it as an opener.
/// Fixed: quotes reads a mark's neighbours past what normalize removes.
#[test]
fn quote_after_a_control_character_reads_as_after_nothing() {
    check(b"W\x03\"", StageSet::ALL);
    check(b"\x00a\xe2\x80\x8b\"b\"", StageSet::ALL);
}

/// Markup target: `[<a<a>]()>`. The link's text loses its tag (`<a`), the
/// `>` after the link completes a new tag `<a>`, and the stage's one extra
/// look did not reach it: a second run removed it. Fixed: markup looks again
/// until nothing more is found (`edit::settle`).
#[test]
fn markup_made_by_markup_removal_is_removed_in_one_run() {
    check(b")[<a<a>]()>", only(Stage::Markup));
}

/// Boilerplate target: five lines that each read as an appeal opener once
/// the line above is gone. The stage decided again at most three times, so
/// the last line went only in a second run. Fixed: it decides again until
/// nothing more goes (each round drops a line, so at most one per line).
#[test]
fn boilerplate_chain_of_appeal_lines_goes_in_one_run() {
    check(
        b"\x0fsmall favor to ask\nle h a small favor to ask. m.\ns l f small favor to ask n.\n\
          l a small favor to askt t n.\nat ll f a r a f m.\nSmall favor to askl.",
        only(Stage::Boilerplate),
    );
}

/// Pipeline target, ascii quotes: windows-1251 `»` + Cyrillic read as
/// windows-1252 (`o»ëàçàäç`). Mojibake took `»ëàçàäç` as one word, which
/// `»` (a mark in both codepages) kept from being a Cyrillic word; quotes
/// then made `»` a `"`, and a second run repaired `ëàçàäç`; likewise `«Ì»
/// ëàäç`, whose words joined into one region only across `"`. Fixed: a
/// character that is a quote or punctuation mark in the real codepage ends a
/// legacy Cyrillic word and may separate the words of a region.
#[test]
fn legacy_cyrillic_after_a_guillemet_is_repaired_in_one_run() {
    check(b"\x0do\xbb\xeb\xe0\xe7\xe0\xe4\xe7", StageSet::ALL);
    check(b"\x0dd o\xf3. \xab\xcc\xbb \xeb\xe0\xe4\xe7", StageSet::ALL);
    check(b"\x0do\xf3.\xcc\xbb\xeb\xe0\xe4\xe7", StageSet::ALL);
}

/// Normalize target: Arabic windows-1256 text where `â` is followed by ZWNJ
/// and ZWJ, then `(`. ZWNJ stood between two non-ASCII characters (`â` and
/// ZWJ) and stayed; ZWJ, before ASCII, went; a second run then removed the
/// ZWNJ, now before `(`. Fixed: a joiner's neighbours are read past the
/// characters normalize removes (other joiners included).
#[test]
fn joiners_next_to_joiners_are_decided_in_one_run() {
    check(
        b"\xd1[\x8a]\xe2\x9d\x9e(#\xd1[\xe5\x8a\x8a](#)",
        only(Stage::Normalize),
    );
    for doc in [
        "â\u{200C}\u{200D}(",
        "a\u{200B}\u{200D}ب",
        "ب\u{200D}\u{7}ب",
        "ب\u{AD}\u{200C}\u{A0}",
    ] {
        let input = [&[0u8][..], doc.as_bytes()].concat();
        check(&input, only(Stage::Normalize));
    }
    // Negative: a joiner between two non-ASCII letters stays, also past a
    // soft hyphen that goes.
    let p = pipeline(0, only(Stage::Normalize));
    assert_eq!(p.clean_str("ب\u{AD}\u{200C}ب").text, "ب\u{200C}ب\n");
}

/// Normalize target: UTF-16BE, EM SPACE then U+F900 (a CJK compatibility
/// ideograph). The space was kept as the carrier of a combining mark (U+F900
/// is no stable starter), NFC made U+F900 into U+8C48, and a second run
/// replaced the space. Fixed: only a space before a combining mark stays.
#[test]
fn odd_space_before_a_compatibility_ideograph_is_replaced_in_one_run() {
    check(b"\x27\xfe\xff\x20\x03\xf9\x00", only(Stage::Normalize));
    // Negative: NBSP + combining acute (an isolated mark) stays.
    let p = pipeline(0, only(Stage::Normalize));
    assert_eq!(p.clean_str("a \u{A0}\u{301} b").text, "a \u{A0}\u{301} b\n");
}

/// Pipeline target (idempotence across stages): lines ended by a lone CR.
/// Boilerplate split lines at LF only, so `unin."o...\rPhoto: ...` was one
/// long line and stayed; normalize made the CR a LF, and a second run
/// dropped the `Photo:` line. Fixed: boilerplate ends a line at a lone CR.
#[test]
fn boilerplate_reads_a_lone_cr_as_a_line_end() {
    check(
        b"\x0dunin.\x22o\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x0dunin.\x22o\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff Photo: \xca\xbc;\xff\xff\xff\xfb\xff\xdf\xff\xff\xff\xff",
        StageSet::ALL,
    );
}
