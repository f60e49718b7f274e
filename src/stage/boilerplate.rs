//! Stage 4, boilerplate: lines and blocks that are not the article.
//!
//! The input is the visible text of a page, one block per line; there is
//! no DOM. Decisions are made in four passes:
//!
//! 1. **Phrases**, per line: widely seen families of page furniture
//!    (subscribe prompts, appeals, "Read more" teasers, share and comment
//!    widgets, legal notices, author contact lines, taglines, photo credits
//!    and captions), user rules from `--rules`, lines that recur across
//!    the documents of a folder run, and interface strings in another
//!    script.
//! 2. **Blocks**: an appeal ("... we have a small favor to ask.") goes with
//!    the paragraphs that continue it; a comment widget ("Newsfeed",
//!    "To participate in the discussion") goes with the short tail after it;
//!    a caption takes the teaser headline under it along.
//! 3. **Density**: the article is the densest contiguous block of long,
//!    sentence-like lines (a maximum-sum run over per-line weights from the
//!    word counts of each line and its neighbours). Short lines outside it
//!    are page chrome; the headline and the dateline just above it stay.
//! 4. **Safety**: a long sentence-like line is never dropped by density
//!    alone, and an output without text is never produced.
//!
//! Every removed line is deleted with its line end; a run of removed lines
//! also takes the blank lines between them.

use std::borrow::Cow;
use std::cell::{Cell, OnceCell};
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, Input, MatchKind};
use regex::Regex;

use crate::edit::{Edit, Rule};
use crate::pipeline::Context;
use crate::rules::UserLineRule;
use crate::stage::Stage;

/// A prompt to subscribe, sign up for a newsletter or enter an email address.
///
/// Why: a call to action of the site, not part of any article.
/// Example: `Subscribe` / `Don't miss a brief. Sign up for our daily email.` -> removed
/// Risk: a short line of reporting about newsletters (lines over 14 words are never matched).
pub static SUBSCRIBE_PROMPT: Rule = Rule::new(
    Stage::Boilerplate,
    "subscribe-prompt",
    "subscribe or newsletter prompt",
);

/// A donation or membership appeal: a short `Support X!` / `Donate` line,
/// or an appeal paragraph (`... we have a small favor to ask.`) together with
/// the paragraphs and buttons that continue it.
///
/// Why: fundraising text sits after the article and reads like prose, so
/// length rules keep it; the opening phrase marks the whole block.
/// Example: `… we have a small favor to ask.` + the appeal + `Continue` -> removed
/// Risk: an article about a fundraising appeal; the block stops at the first
/// long line that has none of the appeal's vocabulary.
pub static DONATION_APPEAL: Rule = Rule::new(
    Stage::Boilerplate,
    "donation-appeal",
    "donation or membership appeal",
);

/// A teaser of another story: `Also Read`, `READ MORE: ...`, `Trends ...`,
/// `Related`, `Most Popular` and the like.
///
/// Why: links to other articles, left as text after extraction.
/// Example: `READ MORE: Lavrov: Unclear what exactly US is doing in Syria` -> removed
/// Risk: a short line of reporting that begins with `Related` or `Trending`
/// (only short lines without a final full stop are matched).
pub static RELATED_STORY_TEASER: Rule = Rule::new(
    Stage::Boilerplate,
    "related-story-teaser",
    "teaser of another story",
);

/// Share and comment widgets, navigation labels and loaders: `Share`,
/// `Newsfeed`, `Chats`, `loader`, `To participate in the discussion`,
/// `log in or register`, `ADVERTISEMENT`, `Skip to main content`; a widget
/// line takes the short tail of the page after it.
///
/// Why: interface text of the page around the article.
/// Example: `Newsfeed` `0` `To participate in the discussion` ... (to the end) -> removed
/// Risk: a one-word line of an article equal to a widget label (`Share`).
pub static PAGE_WIDGET: Rule = Rule::new(
    Stage::Boilerplate,
    "page-widget",
    "share, comment or navigation widget text",
);

/// Cookie, privacy and terms notices and copyright lines.
///
/// Why: legal furniture of the site.
/// Example: `We use cookies to improve your experience.` -> removed
/// Risk: an article about cookie law quoted in a short line.
pub static LEGAL_NOTICE: Rule = Rule::new(
    Stage::Boilerplate,
    "legal-notice",
    "cookie, privacy, terms or copyright notice",
);

/// An author contact or follow line: `Contact the author at ...`,
/// `Follow her on Twitter`.
///
/// Why: a standard footer under articles, not part of the text.
/// Example: `Contact the author at d.litvinova@imedia.ru` -> removed
/// Risk: a sentence of reporting that begins with `Contact the` (needs a
/// contact or follow target in a short line).
pub static AUTHOR_CONTACT: Rule = Rule::new(
    Stage::Boilerplate,
    "author-contact",
    "author contact or follow line",
);

/// A site tagline: `Get the latest news from around the world, live coverage, ...`.
///
/// Why: the site's self-description from its header.
/// Example: `Get the latest news from around the world, live coverage, off-beat stories, features and analysis.` -> removed
/// Risk: a short sentence of reporting about "breaking news coverage".
pub static SITE_TAGLINE: Rule = Rule::new(Stage::Boilerplate, "site-tagline", "site tagline");

/// A photo credit: `© Sputnik / ...`, `Photo: ...`, or a caption ending in
/// `Name Surname / Agency`.
///
/// Why: image residue; the image is gone.
/// Example: `President Vladimir Putin Denis Abramov / Vedomosti` -> removed
/// Risk: a headline that ends in `Name Surname / Name` (never with a final full stop).
pub static PHOTO_CREDIT: Rule = Rule::new(Stage::Boilerplate, "photo-credit", "photo credit");

/// A photo caption: AP-style `In this ... photo, ...`, or an image alt text
/// that ends in the site's name (`... - Sputnik International`), with the
/// teaser headline that follows it.
///
/// Why: captions and teasers of other stories come in pairs in extracted pages.
/// Example: `In this Thursday, Sept. 19, 2013 photo, a fighter ... - Sputnik International` -> removed
/// Risk: an article sentence that begins `In this photo` (rare in reporting).
pub static PHOTO_CAPTION: Rule = Rule::new(
    Stage::Boilerplate,
    "photo-caption",
    "photo caption or image alt text",
);

/// A line that ends with the same ` - Site Name` suffix as other lines of
/// the page (image alt texts and titles carry it), or is only that suffix.
///
/// Why: CMSs append the site name to image titles; the suffix repeated
/// inside one page marks those lines.
/// Example: `Russian Foreign Minister Sergei Lavrov - Sputnik International` -> removed
/// Risk: two lines of an article ending in the same `- Name` attribution.
pub static SITE_NAME_SUFFIX: Rule = Rule::new(
    Stage::Boilerplate,
    "site-name-suffix",
    "line carrying the site's name as a suffix",
);

/// An embedded post or video: `Posted by X on <date>` and the title above it.
///
/// Why: embeds of other content inside the article body.
/// Example: `US scraps $500mn Syrian rebel training program` + `Posted by RT Play on 10 October 2015` -> removed
/// Risk: a blog byline `Posted by X on <date>` (metadata, not text).
pub static EMBEDDED_POST: Rule = Rule::new(
    Stage::Boilerplate,
    "embedded-post",
    "embedded post or video with its title",
);

/// A short line in a script other than the document's (a Russian
/// interface string in an English article).
///
/// Why: untranslated interface text of the page.
/// Example: `Загловок открываемого материала` in an English page -> removed
/// Risk: a short quotation in its original script inside the article.
pub static SCRIPT_MISMATCH: Rule = Rule::new(
    Stage::Boilerplate,
    "script-mismatch",
    "interface text in another script",
);

/// A line that occurs verbatim in several documents of a folder run
/// (site chrome), unless it is a long sentence or a date.
///
/// Why: navigation, footers and widgets repeat on every page of a site.
/// Example: `Follow us on Telegram` in 3 of 5 documents -> removed
/// Risk: a stock sentence an agency repeats in every story (long
/// sentences are kept).
pub static REPEATED_ACROSS_DOCUMENTS: Rule = Rule::new(
    Stage::Boilerplate,
    "repeated-across-documents",
    "line repeated across documents of the run",
);

/// A line outside the article: the article is the densest contiguous block
/// of long, sentence-like lines; short lines before and after it (menus,
/// labels, lists of links, footers) are page chrome. The headline and the
/// dateline just above the block stay.
///
/// Why: the strongest plain-text signal (word counts of a line and its
/// neighbours) for what keyword rules cannot cover.
/// Example: `* Home` `+ Senate` ... `Tags Kristi Noem` -> removed
/// Risk: an article made of short lines next to a longer block of other
/// text; long sentence-like lines are never dropped by this rule alone.
pub static OUTSIDE_ARTICLE_BLOCK: Rule = Rule::new(
    Stage::Boilerplate,
    "outside-article-block",
    "short line outside the article's block of text",
);

/// The rules of this stage.
pub static RULES: &[&Rule] = &[
    &SUBSCRIBE_PROMPT,
    &DONATION_APPEAL,
    &RELATED_STORY_TEASER,
    &PAGE_WIDGET,
    &LEGAL_NOTICE,
    &AUTHOR_CONTACT,
    &SITE_TAGLINE,
    &PHOTO_CREDIT,
    &PHOTO_CAPTION,
    &SITE_NAME_SUFFIX,
    &EMBEDDED_POST,
    &SCRIPT_MISMATCH,
    &REPEATED_ACROSS_DOCUMENTS,
    &OUTSIDE_ARTICLE_BLOCK,
];

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("bad built-in pattern: {e}"))
}

static SUBSCRIBE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(subscribe|subscribed|subscriptions?|subscribe now|newsletters?|sign up|signup|sign-up|mailing list|email address|your e-?mail|your inbox|get alerts|breaking news emails)(?-u:\b)",
    )
});
static SUPPORT_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(please[ \t]+)?(support|donate|donate now|become a (member|patron|supporter|subscriber)|make a (donation|contribution)|contribute|give now)(?-u:\b)",
    )
});
static APPEAL_START: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(small favou?r to ask|support (our|independent|quality) (journalism|reporting|newsroom)|(make|making) a (donation|contribution) (to us|today|now)|donate (now|today)|readers like you)",
    )
});
static APPEAL_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(support[A-Za-z0-9_]*|donat[A-Za-z0-9_]*|contribut[A-Za-z0-9_]*|journalism|subscri[A-Za-z0-9_]*|thank you|member[A-Za-z0-9_]*|help)(?-u:\b)",
    )
});
static APPEAL_PRONOUN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)(?-u:\b)(we|our|us|you|your)(?-u:\b)"));
static TEASER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(also read|read also|read more|more to read|related|related (stories|articles|news|content|posts|coverage)|see also|more from|more stories|more news|recommended( for you)?|you (may|might) also like|more|most (popular|read|viewed|shared)|popular (now|stories)|editor'?s picks?|top stories|don'?t miss|further reading|latest news|what to read next|read next|read this next|watch next|up next|explore further|more on this story|related topics|recommended stories)(?-u:\b)[ \t]*(:|$|[-–—|])",
    )
});
static TRENDS: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(Trends|Trending|TRENDING|TRENDS|Hot topics|HOT TOPICS)(?-u:\b):?"));
static WIDGET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(share|share this( (article|story|post))?|share on [A-Za-z0-9_]+|shares?|tweet|email|e-mail|print|facebook|twitter|linkedin|whatsapp|pinterest|reddit|telegram|comments?|\d+ comments?|no comments|comment|leave a (comment|reply)|newsfeed|news ?feed|chats?|loader|loading|to participate in the discussion|log in or register|log ?in|sign in|register|view (the )?(discussion|comments)( thread)?|join the (conversation|discussion)|show comments|add a comment|post a comment|advertisement|advertising|sponsored|skip to (main )?content|skip to navigation|menu|search|close|back to top|next article|previous article|copy link|follow us|tags?:?|facebook twitter( linkedin| email| whatsapp)*|continue reading( below)?|print this (article|page|story)|share your thoughts( with friends)?|share this (article|story|post|page)|sharing is caring|\d+ shares|click to share.*|back to gallery|view gallery|(image|photo|slide|picture) \d+ (of|/) \d+|\d+ / \d+|next slide|previous slide)[.:!…]*$",
    )
});
static COMMENT_WIDGET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(newsfeed|news ?feed|comments?|\d+ comments?|to participate in the discussion|log in or register|join the (conversation|discussion)|leave a (comment|reply)|view (the )?(discussion|comments)( thread)?|show comments|add a comment|post a comment)[.:!…]*$",
    )
});
static COOKIES: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(we use cookies|(web)?site uses cookies|use of cookies|cookie (policy|settings|preferences|notice|consent)|accept (all )?cookies|necessary cookies|cookies (are|to|that|which|may) .{0,80}(?-u:\b)(website|browser|browsing|consent|experience|function))",
    )
});
static LEGAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(subject to copyright|privacy policy|privacy notice|terms of (use|service)|terms (and|&) conditions|all rights reserved|^copyright(?-u:\b)|^©|©[ \t]*\d{4}|\(c\)[ \t]*\d{4})",
    )
});
static CONTACT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(contact the (author|writer|reporter|editor)s?|e-?mail the (author|writer|reporter)|you can (reach|contact|follow)|reach (the author|him|her|them) at|follow (the author|him|her|them|us) on|contact (him|her|them) at)(?-u:\b)",
    )
});
static TAGLINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(get|read|find|watch) the latest(?-u:\b)|(?-u:\b)latest news from around(?-u:\b)|(?-u:\b)news, (analysis|features)(?-u:\b)|(?-u:\b)features and analysis(?-u:\b)|(?-u:\b)live coverage, ",
    )
});
static CREDIT_START: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^((©|\(c\))[^/\n]{0,60}/|photo:|photos:|image:|picture:|credit:|photograph:|photo credit|image credit|getty images$|ap photo)",
    )
});
static CREDIT_END: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"[A-Z][a-z'’-]+ [A-Z][A-Za-z'’-]+ ?/ ?[A-Z][[A-Za-z0-9_].&-]*(?: [A-Z][[A-Za-z0-9_].&-]*){0,3}(?: file| via [[A-Za-z0-9_] ]+)?\)?$",
    )
});
static CREDIT_PAREN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(\([^()]*(?-u:\b)(Photo|Photos|Photograph|Images?|Credit|Pictured)(?-u:\b)[^()]*\)|(?-u:\b)(Credit|Image credit|Photo credit|Image source|Photo): [^.]{2,80})\.?$",
    )
});
static CAPTION_START: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(In this|This|In an?) ([[A-Za-z0-9_].,'’-]+ ){0,8}?(photo|image|picture|photograph|file photo|handout photo|screenshot|screen grab|video grab|still)( taken| released| provided| posted| made)?(?-u:\b)|^FILE( PHOTO)?[ \t]*[-–—:]",
    )
});
static POSTED_BY: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^posted by .{1,60} on .{1,40}$"));
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?-u:\b)|(?-u:\b)\d{4}-\d{2}-\d{2}(?-u:\b)|(?-u:\b)(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?-u:\b)|(?-u:\b)\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*(?-u:\b)|(?-u:\b)(updated|published|posted)(?-u:\b)",
    )
});
static BYLINE: LazyLock<Regex> = LazyLock::new(|| re(r"^(By|BY|by) [A-Z]"));

/// `DATE.is_match(t)`, without the regex for an ASCII line that has
/// neither a digit nor `ted` or `hed` (ASCII case folded): every
/// alternative of [`DATE`] has a `\d` but `updated`, `published` and
/// `posted`, and in ASCII text `\d` matches only ASCII digits and those
/// words only their ASCII case variants (`(?i)` folds `s` to U+017F too,
/// which is not ASCII). Tested against the regex.
fn is_date(t: &str) -> bool {
    date_may_match(t) && DATE.is_match(t)
}

/// The gate of [`is_date`].
fn date_may_match(t: &str) -> bool {
    let b = t.as_bytes();
    !t.is_ascii()
        || b.iter().any(u8::is_ascii_digit)
        || memchr::memchr2_iter(b'e', b'E', b).any(|i| {
            i >= 1
                && matches!(b[i - 1] | 0x20, b't' | b'h')
                && b.get(i + 1).is_some_and(|&d| d | 0x20 == b'd')
        })
}

/// One line of the input.
///
/// Later rounds of [`find`] see a subset of the same lines; what a line
/// decides on its own (its phrase hits, weight, script letters) is found
/// once, in the first round that asks, and kept here.
struct Line<'a> {
    /// Byte offset of the line.
    start: usize,
    /// Byte offset after its line end.
    end: usize,
    /// The line without its line end, trimmed (NBSP counts as space).
    text: &'a str,
    /// Words with a letter or digit.
    words: usize,
    /// Whether the text has one of the [`is_odd_space`] characters.
    odd_space: bool,
    /// Its sentence marks (`.`, `,`, `;`, `:`, `!`, `?`), counted with
    /// the words.
    marks: usize,
    /// The keyword families ([`KEY_CUE`], ...) found in the line (all of
    /// them only in lines of at most [`KEYED_WORDS`] words: [`mark_keys`]).
    keys: u8,
    /// [`suffix_of`] the text.
    suffix: Option<&'a str>,
    /// In how many documents of the run the line occurs, once looked up.
    count: Cell<Option<u32>>,
    /// The phrase rules' findings on this line alone.
    phrase: OnceCell<Option<Box<Phrase<'a>>>>,
    /// Whether [`APPEAL_START`] matches.
    appeal: OnceCell<bool>,
    /// [`line_weight`] and [`data_line`].
    shape: OnceCell<(f64, bool)>,
    /// Latin, Cyrillic and other letters.
    letters: OnceCell<[usize; 3]>,
}

/// A phrase rule's finding.
type Hit = (&'static Rule, String);

/// What the phrase pass finds on one line alone, in the order of its
/// chain; the two links that depend on the other lines (`Trends` in the
/// page head, a suffix shared with other lines) are kept apart.
#[derive(Default)]
struct Phrase<'a> {
    /// A user rule, or a phrase before `Trends` in the chain.
    head: Option<Hit>,
    /// `Trends ...` (counts only in the page head).
    trends: Option<Hit>,
    /// A phrase between `Trends` and the site-name suffix.
    mid: Option<Hit>,
    /// The ` - Site Name` suffix of the text as phrases see it.
    suffix: Option<Cow<'a, str>>,
    /// An embed line or a line repeated across documents.
    tail: Option<Hit>,
}

/// Why a line goes.
#[derive(Clone)]
struct Drop<'l> {
    rule: &'static Rule,
    /// Borrowed from the line's phrase findings where it can be.
    detail: Cow<'l, str>,
    /// Lines of one block keep together in one edit.
    block: bool,
}

/// The spaces normalize makes plain spaces (its `nbsp-run` rule).
fn is_odd_space(c: char) -> bool {
    matches!(
        c,
        '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}'
    )
}

/// `s` without leading and trailing whitespace, U+200B and U+FEFF.
///
/// ASCII whitespace (the line end) is cut byte by byte first; the
/// character-by-character trim runs only when a non-ASCII byte is then at
/// an end. The same result: what is cut first would be cut anyway.
fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    match (t.as_bytes().first(), t.as_bytes().last()) {
        // `trim_ascii` keeps U+000B, which `char::is_whitespace` cuts.
        (Some(&a), Some(&z)) if a.is_ascii() && z.is_ascii() && a != 0x0B && z != 0x0B => t,
        _ => t.trim_matches(|c: char| c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}'),
    }
}

/// Runs of non-spaces with a letter or digit. Pure ASCII splits at ASCII
/// whitespace (without U+000B), other text at Unicode whitespace.
///
/// The same as
/// `s.split(char::is_whitespace).filter(|w| w.chars().any(is_word_char)).count()`
/// (with `split_ascii_whitespace` for pure ASCII), 64 bytes at a time:
/// each 64-byte block becomes a bit mask of spaces and one of characters
/// that make a word ([`block_masks`]: marked on their first byte;
/// continuation bytes are neither), and one addition finds the runs with a
/// word character.
#[cfg(test)]
fn count_words(s: &str) -> usize {
    words_and_odd_spaces(s).words
}

/// The word count (`count_words`), whether `s` has one of the [`is_odd_space`]
/// characters (they are whitespace, so the word count decodes them), and
/// its sentence marks (one more mask of the same blocks).
fn words_and_odd_spaces(s: &str) -> Words {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("popcnt")
        && std::arch::is_x86_feature_detected!("bmi1")
    {
        // SAFETY: `words_avx2` needs AVX2, POPCNT and BMI1, which the CPU
        // has (checked just above).
        return unsafe { words_avx2(s) };
    }
    words_with(s, byte_classes)
}

/// [`words_and_odd_spaces`] with [`byte_classes_avx2`] inlined: one check
/// of the CPU per line, not per block. With POPCNT and BMI1 as well (every
/// AVX2 CPU has them, but they are checked too): one instruction for each
/// bit count and for each lowest set bit cleared.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt,bmi1")]
fn words_avx2(s: &str) -> Words {
    words_with(s, |block, vt| byte_classes_avx2(block, vt))
}

/// [`words_and_odd_spaces`], with `classes` for [`byte_classes`].
#[inline(always)]
fn words_with(s: &str, classes: impl Fn(&[u8; 64], bool) -> Masks) -> Words {
    let b = s.as_bytes();
    let vt_is_space = !s.is_ascii();
    // `pending`: a run from the last block has no word character yet;
    // `prev`: the last block ended inside a run.
    let (mut n, mut pending, mut prev, mut odd, mut marks) = (0, false, false, false, 0);
    for (block, chunk) in b.chunks(64).enumerate() {
        let (space, word, rest, marks_here) = match chunk.first_chunk::<64>() {
            Some(w) => classes(w, vt_is_space),
            // A last block of a longer text: its bytes are the top of the
            // 64 bytes that end the text, whose masks are shifted down to
            // them; the bits past the text are spaces (as the padding
            // below makes them). No copy.
            None if b.len() > 64 => {
                let shift = 64 - chunk.len();
                let last = b[b.len() - 64..].first_chunk::<64>().unwrap_or(&[b' '; 64]);
                let (space, word, rest, marks) = classes(last, vt_is_space);
                let past = !0u64 << chunk.len();
                (
                    (space >> shift) | past,
                    word >> shift,
                    rest >> shift,
                    marks >> shift,
                )
            }
            None => {
                // The padding is spaces, as are the bits past the text.
                let mut w = [b' '; 64];
                w[..chunk.len()].copy_from_slice(chunk);
                classes(&w, vt_is_space)
            }
        };
        marks += marks_here.count_ones() as usize;
        let (space, word, odd_here) = block_masks((space, word, rest), s, block * 64);
        let run = !space;
        // Bytes of a run that are not word characters: adding a run's first
        // bit carries through them to the run's first word character, or
        // out of the run (to a space, or out of the block) if it has none.
        let other = run & !word;
        let mut starts = run & !((run << 1) | u64::from(prev));
        if pending {
            starts |= run & 1;
        }
        let (sum, carry) = other.overflowing_add(starts);
        n += (sum & !other & word).count_ones() as usize;
        pending = carry;
        prev = run >> 63 == 1;
        odd |= odd_here;
    }
    Words {
        words: n,
        odd_space: odd,
        marks,
    }
}

/// What [`words_and_odd_spaces`] finds in a line.
struct Words {
    /// The word count.
    words: usize,
    /// Whether it has one of the [`is_odd_space`] characters.
    odd_space: bool,
    /// How many sentence marks it has (`.`, `,`, `;`, `:`, `!`, `?`).
    marks: usize,
}

/// Space and word-character bits (one per byte, byte `k` to bit `k`) of
/// the 64 bytes at `at` in `s` (padded with spaces past its end), from
/// their [`byte_classes`], and whether they start an [`is_odd_space`]
/// character.
///
/// ASCII bytes and the lead bytes 0xD0 and 0xD1 (they start
/// U+0400..=U+047F, all letters) are classified by [`byte_classes`]; the
/// characters of other lead bytes are decoded one by one. Continuation
/// bytes are neither.
#[inline(always)]
fn block_masks(classes: (u64, u64, u64), s: &str, at: usize) -> (u64, u64, bool) {
    let (mut space, mut word, mut rest) = classes;
    let mut odd = false;
    while rest != 0 {
        let j = rest.trailing_zeros() as usize;
        rest &= rest - 1;
        let c = s[at + j..].chars().next().unwrap_or_default();
        if is_unicode_space(c) {
            space |= 1 << j;
            odd |= is_odd_space(c);
        } else if is_word_char(c) {
            word |= 1 << j;
        }
    }
    (space, word, odd)
}

/// Four bit masks of the 64 bytes of `block` (byte `k` to bit `k`):
/// ASCII whitespace (U+000B only if `vt_is_space`); ASCII letters and
/// digits and the lead bytes 0xD0 and 0xD1; the other lead bytes (0xC0 and
/// above), whose characters need decoding; the sentence marks of
/// [`line_weight`] (`.`, `,`, `;`, `:`, `!`, `?`).
///
/// With AVX2 when the CPU has it (32 bytes per compare), else SSE2 (every
/// x86_64 CPU, 16 bytes), one `pmovmskb` per mask; elsewhere,
/// [`byte_classes_portable`]. The line loop checks the CPU once per line
/// ([`words_and_odd_spaces`]).
fn byte_classes(block: &[u8; 64], vt_is_space: bool) -> Masks {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: `byte_classes_avx2` needs AVX2, which the CPU has
            // (checked just above; the answer is cached after the first call).
            return unsafe { byte_classes_avx2(block, vt_is_space) };
        }
        // SAFETY: `byte_classes_sse2` needs only SSE2, which is part of the
        // x86_64 baseline: every x86_64 CPU has it and every x86_64 target
        // enables it, so the call cannot reach an unsupported instruction.
        unsafe { byte_classes_sse2(block, vt_is_space) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    byte_classes_portable(block, vt_is_space)
}

/// Bit masks of a block: spaces, word characters, other lead bytes and
/// sentence marks ([`byte_classes`]).
type Masks = (u64, u64, u64, u64);

/// [`byte_classes`] with SSE2. Unsigned range checks are
/// `min(x - lo, hi - lo) == x - lo`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn byte_classes_sse2(block: &[u8; 64], vt_is_space: bool) -> Masks {
    use std::arch::x86_64::{
        __m128i, _mm_andnot_si128, _mm_cmpeq_epi8, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set_epi64x, _mm_set1_epi8, _mm_sub_epi8,
    };
    let byte = |b: u8| _mm_set1_epi8(b as i8);
    let within = |v: __m128i, lo: u8, hi: u8| {
        let d = _mm_sub_epi8(v, byte(lo));
        _mm_cmpeq_epi8(_mm_min_epu8(d, byte(hi - lo)), d)
    };
    let gather = |m: __m128i, n: usize| u64::from(_mm_movemask_epi8(m) as u16) << (n * 16);
    let (mut space, mut word, mut other, mut marks) = (0, 0, 0, 0);
    for (n, c) in block.as_chunks::<16>().0.iter().enumerate() {
        // One 16-byte load (the two halves are put back together).
        let x = u128::from_le_bytes(*c);
        let v = _mm_set_epi64x((x >> 64) as i64, x as i64);
        let mut controls = within(v, b'\t', b'\r');
        if !vt_is_space {
            controls = _mm_andnot_si128(_mm_cmpeq_epi8(v, byte(0x0B)), controls);
        }
        space |= gather(_mm_or_si128(_mm_cmpeq_epi8(v, byte(b' ')), controls), n);
        let cyrillic = within(v, 0xD0, 0xD1);
        let letter = within(_mm_or_si128(v, byte(0x20)), b'a', b'z');
        let digit = within(v, b'0', b'9');
        word |= gather(_mm_or_si128(_mm_or_si128(letter, digit), cyrillic), n);
        let lead = _mm_cmpeq_epi8(_mm_min_epu8(v, byte(0xC0)), byte(0xC0));
        other |= gather(_mm_andnot_si128(cyrillic, lead), n);
        let is = |b: u8| _mm_cmpeq_epi8(v, byte(b));
        let mark = _mm_or_si128(
            _mm_or_si128(
                _mm_or_si128(is(b'.'), is(b',')),
                _mm_or_si128(is(b';'), is(b':')),
            ),
            _mm_or_si128(is(b'!'), is(b'?')),
        );
        marks |= gather(mark, n);
    }
    (space, word, other, marks)
}

/// [`byte_classes_sse2`] with AVX2, 32 bytes per step, by table: each byte
/// gets a set of class bits, the bits its high nibble allows and'ed with
/// those its low nibble allows (two `vpshufb` look-ups), so one `and` and
/// one compare per mask follow. The classes are unions of nibble
/// rectangles ([`NIBBLE_LO`], [`NIBBLE_HI`]); the test compares every byte
/// value with [`byte_classes_portable`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn byte_classes_avx2(block: &[u8; 64], vt_is_space: bool) -> Masks {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_movemask_epi8, _mm256_set_epi64x,
        _mm256_set1_epi8, _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_srli_epi16,
    };
    // One 32-byte load (the four quarters are put back together).
    let load32 = |c: &[u8; 32]| -> __m256i {
        let (q, _) = c.as_chunks::<16>();
        let (lo, hi) = (u128::from_le_bytes(q[0]), u128::from_le_bytes(q[1]));
        _mm256_set_epi64x((hi >> 64) as i64, hi as i64, (lo >> 64) as i64, lo as i64)
    };
    let lo_table = load32(&NIBBLE_LO);
    let hi_table = load32(&NIBBLE_HI);
    let nibble = _mm256_set1_epi8(0x0F);
    let space_bits = C_SPACE | C_SPACE_20 | if vt_is_space { C_VT } else { 0 };
    let space_bits = _mm256_set1_epi8(space_bits as i8);
    let word_bits = _mm256_set1_epi8((C_WORD_A | C_WORD_B | C_DIGIT | C_CYRILLIC) as i8);
    let zero = _mm256_setzero_si256();
    let (mark_lo, mark_hi) = (load32(&MARK_LO), load32(&MARK_HI));
    let (mut space, mut word, mut lead, mut marks) = (0, 0, 0, 0);
    for (n, c) in block.as_chunks::<32>().0.iter().enumerate() {
        let v = load32(c);
        let lo = _mm256_and_si256(v, nibble);
        let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), nibble);
        let class = _mm256_and_si256(
            _mm256_shuffle_epi8(lo_table, lo),
            _mm256_shuffle_epi8(hi_table, hi),
        );
        // A mask of the bytes with none of `bits`, one bit per byte.
        let none = |bits| {
            let m = _mm256_cmpeq_epi8(_mm256_and_si256(class, bits), zero);
            u64::from(_mm256_movemask_epi8(m) as u32)
        };
        space |= (!none(space_bits) & 0xFFFF_FFFF) << (n * 32);
        word |= (!none(word_bits) & 0xFFFF_FFFF) << (n * 32);
        // `C_LEAD` is the top bit of each byte.
        lead |= u64::from(_mm256_movemask_epi8(class) as u32) << (n * 32);
        // The marks by two more tables.
        let mark = _mm256_and_si256(
            _mm256_shuffle_epi8(mark_lo, lo),
            _mm256_shuffle_epi8(mark_hi, hi),
        );
        let m = _mm256_cmpeq_epi8(mark, zero);
        marks |= (!u64::from(_mm256_movemask_epi8(m) as u32) & 0xFFFF_FFFF) << (n * 32);
    }
    (space, word, lead & !word, marks)
}

/// The sentence marks by nibbles, as [`NIBBLE_LO`] and [`NIBBLE_HI`] do
/// the classes: bit 1 for `!`, `,` and `.` (0x21, 0x2C, 0x2E), bit 2 for
/// `:`, `;` and `?` (0x3A, 0x3B, 0x3F).
#[cfg(target_arch = "x86_64")]
static MARK_LO: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        t[i] = match i % 16 {
            0x1 | 0xC | 0xE => 1,
            0xA | 0xB | 0xF => 2,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// The high nibbles of the sentence marks ([`MARK_LO`]).
#[cfg(target_arch = "x86_64")]
static MARK_HI: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        t[i] = match i % 16 {
            0x2 => 1,
            0x3 => 2,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// Class bits of [`byte_classes_avx2`]: ASCII letters `A..=O`, `a..=o`.
const C_WORD_A: u8 = 0x01;
/// ASCII letters `P..=Z`, `p..=z`.
const C_WORD_B: u8 = 0x02;
/// ASCII digits.
const C_DIGIT: u8 = 0x04;
/// The lead bytes 0xD0 and 0xD1 (Cyrillic letters, counted as words).
const C_CYRILLIC: u8 = 0x08;
/// U+0009, U+000A, U+000C and U+000D.
const C_SPACE: u8 = 0x10;
/// U+000B (a space only in text that is not pure ASCII).
const C_VT: u8 = 0x20;
/// U+0020.
const C_SPACE_20: u8 = 0x40;
/// Lead bytes (0xC0 and above); the top bit, so `vpmovmskb` reads it.
const C_LEAD: u8 = 0x80;

/// The classes a byte's low nibble allows, twice (`vpshufb` looks up
/// within each 16-byte lane).
#[cfg(target_arch = "x86_64")]
static NIBBLE_LO: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        let lo = (i % 16) as u8;
        let mut c = C_LEAD;
        if lo >= 1 {
            c |= C_WORD_A;
        }
        if lo <= 0xA {
            c |= C_WORD_B;
        }
        if lo <= 9 {
            c |= C_DIGIT;
        }
        if lo <= 1 {
            c |= C_CYRILLIC;
        }
        if matches!(lo, 0x9 | 0xA | 0xC | 0xD) {
            c |= C_SPACE;
        }
        if lo == 0xB {
            c |= C_VT;
        }
        if lo == 0 {
            c |= C_SPACE_20;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The classes a byte's high nibble allows, twice.
#[cfg(target_arch = "x86_64")]
static NIBBLE_HI: [u8; 32] = {
    let mut t = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        t[i] = match i % 16 {
            0x0 => C_SPACE | C_VT,
            0x2 => C_SPACE_20,
            0x3 => C_DIGIT,
            0x4 | 0x6 => C_WORD_A,
            0x5 | 0x7 => C_WORD_B,
            0xD => C_CYRILLIC | C_LEAD,
            0xC | 0xE | 0xF => C_LEAD,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// [`byte_classes`] in plain Rust: branch-free loops over the block, which
/// compile to vector compares, and [`bits`]. The SSE2 version is tested
/// against it.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn byte_classes_portable(block: &[u8; 64], vt_is_space: bool) -> Masks {
    let mut space = [0u8; 64];
    let mut word = [0u8; 64];
    let mut other = [0u8; 64];
    let mut marks = [0u8; 64];
    for k in 0..64 {
        let b = block[k];
        space[k] =
            u8::from((b == b' ') | ((b'\t'..=b'\r').contains(&b) & (vt_is_space | (b != 0x0B))));
        let cyrillic = (b & 0xFE) == 0xD0;
        word[k] =
            u8::from(((b | 0x20).wrapping_sub(b'a') < 26) | (b.wrapping_sub(b'0') < 10) | cyrillic);
        other[k] = u8::from((b >= 0xC0) & !cyrillic);
        marks[k] = u8::from(matches!(b, b'.' | b',' | b';' | b':' | b'!' | b'?'));
    }
    (bits(&space), bits(&word), bits(&other), bits(&marks))
}

/// One bit per byte of `flags` (each 0 or 1), byte `k` to bit `k`.
#[inline]
fn bits(flags: &[u8; 64]) -> u64 {
    let mut m = 0;
    for n in 0..8 {
        let v = u64::from_le_bytes(std::array::from_fn(|j| flags[n * 8 + j]));
        // Byte `j` (0 or 1) moves to bit `56 + j`, without carries.
        m |= (v.wrapping_mul(0x0102_0408_1020_4080) >> 56) << (n * 8);
    }
    m
}

/// `char::is_whitespace`, without a table.
fn is_unicode_space(c: char) -> bool {
    matches!(
        c as u32,
        0x9..=0xD | 0x20 | 0x85 | 0xA0 | 0x1680 | 0x2000..=0x200A | 0x2028 | 0x2029 | 0x202F | 0x205F | 0x3000
    )
}

/// Whether `t` has one of the [`is_odd_space`] characters (valid UTF-8:
/// 0xC2 and 0xE2 are always lead bytes). The word count finds the same
/// ([`words_and_odd_spaces`]); tested against it.
#[cfg(test)]
fn has_odd_space(t: &str) -> bool {
    let b = t.as_bytes();
    memchr::memchr2_iter(0xC2, 0xE2, b).any(|i| match b[i] {
        0xC2 => b.get(i + 1) == Some(&0xA0),
        _ => matches!(
            (b.get(i + 1), b.get(i + 2)),
            (Some(0x80), Some(0x80..=0x8A | 0xAF)) | (Some(0x81), Some(0x9F))
        ),
    })
}

/// `char::is_alphanumeric`, without a table lookup for the letters of the
/// common alphabets (Latin-1 and Extended, Greek, Cyrillic, ...).
fn is_word_char(c: char) -> bool {
    match c as u32 {
        0..=0x7F => c.is_ascii_alphanumeric(),
        0x80..=0xBF => matches!(
            c as u32,
            0xAA | 0xB2 | 0xB3 | 0xB5 | 0xB9 | 0xBA | 0xBC..=0xBE
        ),
        0xD7 | 0xF7 => false,
        0xC0..=0x24F
        | 0x388..=0x38A
        | 0x38E..=0x3A1
        | 0x3A3..=0x3F5
        | 0x3F7..=0x481
        | 0x48A..=0x52F => true,
        // General Punctuation: quotes, dashes, spaces.
        0x2000..=0x206F => false,
        _ => c.is_alphanumeric(),
    }
}

/// Substrings one of which every [`COOKIES`] or [`LEGAL`] match contains
/// (but for `coo\u{212A}ie`, see [`mid_phrase`]): the keyword scan finds
/// them exactly ([`KEY_CUE`]); this scan checks it in the tests.
#[cfg(test)]
static LEGAL_CUES: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build([
            "cookie",
            "privacy",
            "terms",
            "rights",
            "copyright",
            "\u{A9}",
            "(c)",
        ])
        .unwrap_or_else(|e| unreachable!("bad built-in patterns: {e}"))
});

/// Whether `s` ends a sentence: `.`, `!`, `?`, `…`, `:` or `;` before any
/// closing quotes, brackets and asterisks ([`ends_sentence_by_chars`]).
///
/// From the last byte when it is ASCII and closes nothing (most lines): the
/// trim then cuts nothing, and the last character is that byte. Tested
/// against the character-by-character answer.
fn ends_sentence(s: &str) -> bool {
    match s.as_bytes().last() {
        Some(&b) if b.is_ascii() && !matches!(b, b'"' | b'\'' | b')' | b'*') => {
            matches!(b, b'.' | b'!' | b'?' | b':' | b';')
        }
        _ => ends_sentence_by_chars(s),
    }
}

/// [`ends_sentence`] character by character.
fn ends_sentence_by_chars(s: &str) -> bool {
    s.trim_end_matches(['"', '\u{201D}', '\u{2019}', '\'', ')', '\u{BB}', '*'])
        .ends_with(['.', '!', '?', '\u{2026}', ':', ';'])
}

/// Finds this stage's edits in `text`.
///
/// The decisions look at neighbours, so dropping a line can change what is
/// decided about the lines left. To be idempotent (cleaning the output
/// again drops nothing more), the stage looks again at what it would leave
/// and drops now what it would drop then, until nothing changes (in
/// practice one extra round, and only on pages where something was
/// dropped; each further round drops a line, so there are fewer rounds
/// than lines, however long a chain of decisions, such as appeal lines that
/// each open a block once the one above is gone).
// Out of line (called once per document) so that profiles show the stage.
#[inline(never)]
pub(crate) fn find(text: &str, cx: &Context<'_>, out: &mut Vec<Edit>) {
    let first = out.len();
    let all = split_lines(text);
    // Later rounds drop lines from this list of references, not the lines.
    let mut lines: Vec<&Line<'_>> = all.iter().collect();
    // What each round decides per line, in one allocation for all rounds
    // (a long document's would come in fresh pages each round).
    let mut drops = Vec::new();
    decide(&lines, cx, out, &mut drops);
    for _ in 0..lines.len() {
        if out.len() == first {
            return;
        }
        // The lines a second run would see: those no edit removed (edits
        // always remove whole lines). Their counts are already known.
        let mut cut = out[first..].iter().map(|e| e.span()).peekable();
        lines.retain(|l| {
            while cut.peek().is_some_and(|c| c.end <= l.start) {
                cut.next();
            }
            !cut.peek()
                .is_some_and(|c| c.start <= l.start && l.end <= c.end)
        });
        let before = out.len();
        decide(&lines, cx, out, &mut drops);
        if out.len() == before {
            return;
        }
        out[first..].sort_by_key(|e| (e.span().start, e.span().end));
    }
}

/// One round of decisions over `lines`, with `drops` as the buffer of
/// what is decided for each line (its contents are replaced).
fn decide<'l>(
    lines: &[&'l Line<'_>],
    cx: &Context<'_>,
    out: &mut Vec<Edit>,
    drops: &mut Vec<Option<Drop<'l>>>,
) {
    if lines.iter().all(|l| l.text.is_empty()) {
        return;
    }
    drops.clear();
    drops.resize(lines.len(), None);
    phrases(lines, cx, drops);
    blocks(lines, drops);
    SCRATCH.with_borrow_mut(|scratch| density(lines, drops, scratch));
    scripts(lines, drops);
    // Never leave nothing: if every line with text would go, keep the
    // lines that only the density rule dropped; if that is still nothing,
    // the page is all furniture by our rules and we are wrong about it.
    let kept = |drops: &[Option<Drop<'_>>]| {
        lines
            .iter()
            .zip(drops)
            .any(|(l, d)| !l.text.is_empty() && d.is_none())
    };
    if !kept(drops) {
        for d in drops.iter_mut() {
            if d.as_ref()
                .is_some_and(|d| std::ptr::eq(d.rule, &OUTSIDE_ARTICLE_BLOCK))
            {
                *d = None;
            }
        }
    }
    if !kept(drops) {
        return;
    }
    emit(lines, drops, out);
}

fn split_lines(text: &str) -> Vec<Line<'_>> {
    thread_local! {
        /// Where each line ends, reused from document to document.
        static ENDS: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    ENDS.with_borrow_mut(|ends| {
        ends.clear();
        let mut start = 0;
        let b = text.as_bytes();
        while start < text.len() {
            // A lone CR ends a line too: normalize makes it LF, and a second
            // run must see the same lines.
            start = match memchr::memchr2(b'\n', b'\r', &b[start..]) {
                None => text.len(),
                Some(i) if b[start + i] == b'\r' && b.get(start + i + 1) == Some(&b'\n') => {
                    start + i + 2
                }
                Some(i) => start + i + 1,
            };
            ends.push(start);
        }
        // The lines, allocated once at their number.
        let mut lines = Vec::with_capacity(ends.len());
        let mut start = 0;
        for &end in ends.iter() {
            lines.push(line(text, start, end));
            start = end;
        }
        mark_keys(text, &mut lines);
        lines
    })
}

/// The line `text[start..end]` (with its line end), before the keyword scan.
///
/// Inlined, so that the line is built in place in the vector of lines
/// (not built, then copied there: a `memcpy` call per line).
#[inline(always)]
fn line(text: &str, start: usize, end: usize) -> Line<'_> {
    let t = trim(&text[start..end]);
    let Words {
        words,
        odd_space,
        marks,
    } = if t.is_empty() {
        // A blank line (a third of them): nothing to count.
        Words {
            words: 0,
            odd_space: false,
            marks: 0,
        }
    } else {
        words_and_odd_spaces(t)
    };
    Line {
        start,
        end,
        text: t,
        words,
        odd_space,
        marks,
        keys: 0,
        suffix: if t.is_empty() { None } else { suffix_of(t) },
        count: Cell::new(None),
        phrase: OnceCell::new(),
        appeal: OnceCell::new(),
        shape: OnceCell::new(),
        letters: OnceCell::new(),
    }
}

/// The line has a legal cue: one of `LEGAL_CUES` (`cookie`, `privacy`,
/// `terms`, `rights`, `copyright`, `©`, `(c)`, ASCII case folded). Exact:
/// a keyword of the family is set only when the whole cue is around it.
const KEY_CUE: u8 = 1;
/// [`APPEAL_START`] matches a line only if it has one of these.
const KEY_APPEAL: u8 = 2;
/// [`TAGLINE`] matches a line only if it has one of these.
const KEY_TAGLINE: u8 = 4;
/// [`SUBSCRIBE`] matches a line only if it has one of these.
const KEY_SUBSCRIBE: u8 = 8;
/// The line has `cookie` (ASCII case folded); implies [`KEY_CUE`].
const KEY_COOKIE: u8 = 16;

/// The legal cue around each [`KEY_CUE`] keyword (by index in
/// [`KEYWORDS`]): the cue, and where the keyword is in it.
static CUES: &[(&[u8], usize)] = &[
    (b"cookie", 3),
    (b"privacy", 4),
    (b"terms", 2),
    (b"rights", 3),
    (b"copyright", 2),
    (b"(c)", 0),
];

/// Keywords in lowercase ASCII, each with its family: a part of each
/// alternative of the family's patterns, chosen for a rare first three
/// bytes (`kie` of `cookie`, `pyr` of `copyright`), so the scan stops
/// seldom. They are looked for in the ASCII-lowercased text. The `(?i)`
/// regexes fold case by Unicode rules, where `k` also matches U+212A and
/// `s` U+017F, so their keywords have neither letter (`upport` for
/// `support`); every other ASCII letter folds only to its ASCII pair
/// (tested below). `©` has its own scan.
static KEYWORDS: &[(&str, u8)] = &[
    ("kie", KEY_CUE),
    ("acy", KEY_CUE),
    ("rms", KEY_CUE),
    ("hts", KEY_CUE),
    ("pyr", KEY_CUE),
    ("(c)", KEY_CUE),
    ("favo", KEY_APPEAL),
    ("upport", KEY_APPEAL),
    ("donat", KEY_APPEAL),
    ("ibution", KEY_APPEAL),
    ("e you", KEY_APPEAL),
    ("late", KEY_TAGLINE),
    ("analy", KEY_TAGLINE),
    ("feature", KEY_TAGLINE),
    ("coverage", KEY_TAGLINE),
    ("cribe", KEY_SUBSCRIBE),
    ("cription", KEY_SUBSCRIBE),
    ("letter", KEY_SUBSCRIBE),
    ("ign", KEY_SUBSCRIBE),
    ("mail", KEY_SUBSCRIBE),
    ("inbox", KEY_SUBSCRIBE),
    ("alert", KEY_SUBSCRIBE),
];

/// The searcher of [`KEYWORDS`].
static KEYS: LazyLock<Keys> = LazyLock::new(|| Keys {
    fat: aho_corasick::packed::Config::new()
        .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
        .only_teddy_fat(Some(true))
        .builder()
        .extend(KEYWORDS.iter().map(|(k, _)| k))
        .build(),
    automaton: AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostFirst)
        .build(KEYWORDS.iter().map(|(k, _)| k))
        .unwrap_or_else(|e| unreachable!("bad built-in patterns: {e}")),
});

/// Two searchers of [`KEYWORDS`] that find the same (leftmost-first, so
/// that each skips ahead with a packed, SIMD, search: the standard and
/// overlapping searches of the automaton do not use it).
struct Keys {
    /// Fat Teddy (AVX2): 16 buckets of keywords where the automaton's
    /// prefilter (slim Teddy) has 8, so fewer places where a bucket's
    /// first bytes match but none of its keywords does: the scan costs
    /// about 40% fewer instructions than with the automaton on the sample
    /// (15.8 -> 9.3 million). `None` without AVX2.
    fat: Option<aho_corasick::packed::Searcher>,
    /// The automaton, where there is no fat Teddy.
    automaton: AhoCorasick,
}

impl Keys {
    /// The start and the keyword (its index) of the leftmost keyword in
    /// `hay[from..]` (the first in [`KEYWORDS`] of those that start there,
    /// but two never do: none is a prefix of another).
    fn find(&self, hay: &[u8], from: usize) -> Option<(usize, usize)> {
        match &self.fat {
            Some(fat) => fat
                .find_in(hay, aho_corasick::Span::from(from..hay.len()))
                .map(|m| (m.start(), m.pattern().as_usize())),
            None => self.automaton_find(hay, from),
        }
    }

    /// [`Keys::find`] with the automaton.
    fn automaton_find(&self, hay: &[u8], from: usize) -> Option<(usize, usize)> {
        self.automaton
            .find(Input::new(hay).span(from..hay.len()))
            .map(|m| (m.start(), m.pattern().as_usize()))
    }
}

/// The most words of a line whose keys are all found: every family's
/// rule has a word limit at or below it ([`SUBSCRIBE`] 14, [`TAGLINE`]
/// 25, [`LEGAL`] 40, [`APPEAL_START`] 60) but for [`COOKIES`] (150).
const KEYED_WORDS: usize = 60;

/// A line longer than [`KEYED_WORDS`] needs only [`KEY_COOKIE`] (and only
/// up to this many words).
const COOKIE_WORDS: usize = 150;

/// Whether `line` has U+212A KELVIN SIGN (E2 84 AA), which `(?i)` folds to
/// `k`: found from its last byte with a plain `memchr`.
fn has_kelvin(line: &[u8]) -> bool {
    memchr::memchr_iter(0xAA, line).any(|i| i >= 2 && line[i - 2..i] == [0xE2, 0x84])
}

thread_local! {
    /// [`mark_keys`]'s lowercased copy of the run of lines it scans,
    /// reused from run to run and from document to document.
    static LOWER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The most bytes of a run of short lines that [`mark_keys`] lowercases
/// and scans at once (a longer run is scanned in pieces of whole lines).
const SCAN_RUN: usize = 256 << 10;

/// Sets each line's [`Line::keys`]: one keyword scan of each run of lines
/// of at most [`KEYED_WORDS`] words, in a lowercased copy of the run; in
/// longer lines of at most [`COOKIE_WORDS`], only `cookie` (the one rule
/// that reads them), looked for from each `k` or `K` of the line itself
/// (no copy): [`KEY_COOKIE`], [`KEY_CUE`] with it. Such a line with U+212A
/// (which `(?i)` folds to `k`, so that [`COOKIES`] can match without
/// `cookie`) gets the whole scan. Longer lines get no keys. Only the runs
/// scanned are copied: the long paragraphs of an article, most of its
/// bytes, are not.
fn mark_keys(text: &str, lines: &mut [Line<'_>]) {
    let b = text.as_bytes();
    LOWER.with_borrow_mut(|lower| {
        // A long document's copy is not held while this thread cleans
        // short ones (the same rule as the pipeline's kept buffers).
        if crate::edit::too_big_to_keep(lower.capacity(), text.len()) {
            *lower = Vec::new();
        }
        let mut scan = |span: std::ops::Range<usize>, lines: &mut [Line<'_>]| {
            lower.clear();
            // A copy, then lowercased in place: vector instructions, where
            // a lowercasing iterator went byte by byte.
            lower.extend_from_slice(&b[span.clone()]);
            lower.make_ascii_lowercase();
            scan_keys(lower, span.start, lines);
        };
        let mut i = 0;
        while i < lines.len() {
            let l = &lines[i];
            if l.words <= KEYED_WORDS {
                // A run is scanned SCAN_RUN bytes at a time (whole lines):
                // no keyword holds a line end, so no match crosses one, and
                // a document of short lines is not copied whole.
                let first = i;
                while i < lines.len()
                    && lines[i].words <= KEYED_WORDS
                    && (i == first || lines[i].end - lines[first].start <= SCAN_RUN)
                {
                    i += 1;
                }
                let span = lines[first].start..lines[i - 1].end;
                scan(span, &mut lines[first..i]);
            } else if l.words <= COOKIE_WORDS {
                let span = l.start..l.end;
                if has_kelvin(&b[span.clone()]) {
                    scan(span, &mut lines[i..=i]);
                } else if has_cookie(&b[span]) {
                    lines[i].keys |= KEY_CUE | KEY_COOKIE;
                }
                i += 1;
            } else {
                i += 1;
            }
        }
    });
    let mut at = 0;
    // `©` is C2 A9: found from its second byte (a plain `memchr`, which
    // needs no searcher built per document, unlike `memmem`).
    for i in memchr::memchr_iter(0xA9, b).filter(|&i| i > 0 && b[i - 1] == 0xC2) {
        while lines[at].end <= i {
            at += 1;
        }
        lines[at].keys |= KEY_CUE;
    }
}

/// Whether `line` has `cookie`, ASCII case folded: found from its `k`s.
fn has_cookie(line: &[u8]) -> bool {
    memchr::memchr2_iter(b'k', b'K', line).any(|k| {
        k >= 3
            && line
                .get(k - 3..k + 3)
                .is_some_and(|w| w.eq_ignore_ascii_case(b"cookie"))
    })
}

/// The keyword scan of `lower`, the lowercased bytes from `base` of the
/// text, whose lines are `lines`. Each search starts one byte after the
/// last match's start, so a keyword overlapping another is seen too (no
/// two keywords match at one offset: none is a prefix of another).
fn scan_keys(lower: &[u8], base: usize, lines: &mut [Line<'_>]) {
    let (mut at, mut from) = (0, 0);
    while let Some((start, k)) = KEYS.find(lower, from) {
        while lines[at].end <= base + start {
            at += 1;
        }
        let family = KEYWORDS[k].1;
        if family != KEY_CUE {
            lines[at].keys |= family;
        } else if let Some(&(cue, offset)) = CUES.get(k)
            && let Some(from) = start.checked_sub(offset)
            && lower[from..].starts_with(cue)
        {
            // A cue has no space or line end: it is inside the line (and
            // `lower` starts at a line start).
            lines[at].keys |= if cue == b"cookie" {
                KEY_CUE | KEY_COOKIE
            } else {
                KEY_CUE
            };
        }
        from = start + 1;
    }
}

fn set<'l>(drops: &mut [Option<Drop<'l>>], i: usize, rule: &'static Rule, detail: Cow<'l, str>) {
    if drops[i].is_none() {
        drops[i] = Some(Drop {
            rule,
            detail,
            block: false,
        });
    }
}

/// Pass 1: phrase families, user rules, cross-document lines, script.
fn phrases<'l>(lines: &[&'l Line<'_>], cx: &Context<'_>, drops: &mut [Option<Drop<'l>>]) {
    let suffixes = repeated_suffixes(lines);
    // `Trends ...` is a widget only in the page head; later it can be a subheading.
    let first_long = lines
        .iter()
        .position(|l| l.words >= 10 && ends_sentence(l.text))
        .unwrap_or(lines.len());
    let user = cx
        .config
        .rules
        .as_deref()
        .map(|r| &r.boilerplate[..])
        .unwrap_or(&[]);
    for (i, l) in lines.iter().enumerate() {
        if l.text.is_empty() {
            continue;
        }
        let Some(p) = l.phrase.get_or_init(|| phrase_of(l, cx, user)) else {
            continue;
        };
        let borrow = |(rule, detail): &'l Hit| (*rule, Cow::Borrowed(detail.as_str()));
        let hit = p
            .head
            .as_ref()
            .or(p.trends.as_ref().filter(|_| i < first_long))
            .or(p.mid.as_ref())
            .map(borrow)
            .or_else(|| {
                let s = p.suffix.as_deref()?;
                suffixes.contains(&s).then(|| {
                    let detail = format!("ends with ` - {s}`, like other lines of the page");
                    (&SITE_NAME_SUFFIX, Cow::Owned(detail))
                })
            })
            .or_else(|| p.tail.as_ref().map(borrow));
        if let Some((rule, detail)) = hit {
            set(drops, i, rule, detail);
        }
    }
    // A teaser heading (`More:`, `Related`) takes the bulleted list under it.
    for i in 0..lines.len() {
        let is_heading = drops[i]
            .as_ref()
            .is_some_and(|d| std::ptr::eq(d.rule, &RELATED_STORY_TEASER))
            && lines[i].words <= 4;
        if !is_heading {
            continue;
        }
        let mut j = i + 1;
        while j < lines.len()
            && (lines[j].text.is_empty() || (bulleted(lines[j].text) && lines[j].words <= 20))
        {
            if !lines[j].text.is_empty() && drops[j].is_none() {
                let detail = format!("list under `{}`", lines[i].text);
                set(drops, j, &RELATED_STORY_TEASER, Cow::Owned(detail));
            }
            j += 1;
        }
    }
    // Pairs: the title above an embed line, the teaser under a caption.
    for i in 0..lines.len() {
        let Some(d) = &drops[i] else { continue };
        let rule = d.rule;
        if std::ptr::eq(rule, &EMBEDDED_POST) {
            if let Some(j) = prev_text(lines, i, 2)
                && drops[j].is_none()
                && headline_like(lines[j])
            {
                set(
                    drops,
                    j,
                    &EMBEDDED_POST,
                    Cow::Borrowed("title line of an embedded post"),
                );
            }
        } else if (std::ptr::eq(rule, &PHOTO_CAPTION) || std::ptr::eq(rule, &SITE_NAME_SUFFIX))
            && lines[i].words >= 6
            && let Some(j) = next_text(lines, i, 1)
            && drops[j].is_none()
            && headline_like(lines[j])
        {
            set(
                drops,
                j,
                &PHOTO_CAPTION,
                Cow::Borrowed("teaser headline under a caption"),
            );
        }
    }
}

/// The phrase rules on one line, in chain order; `None` when no link of
/// the chain can fire.
fn phrase_of<'a>(l: &Line<'a>, cx: &Context<'_>, user: &[UserLineRule]) -> Option<Box<Phrase<'a>>> {
    // Phrases are matched as normalize will leave the line: a NO-BREAK
    // or other fixed-width space is a space (so a second run agrees).
    let t: Cow<'a, str> = if l.odd_space {
        Cow::Owned(spaces_plain(l.text))
    } else {
        Cow::Borrowed(l.text)
    };
    let mut p = Phrase::default();
    if let Some(u) = user.iter().find(|u| u.pattern.is_match(&t)) {
        p.head = Some((
            u.rule,
            format!("matches user pattern `{}`", u.pattern.as_str()),
        ));
        return Some(Box::new(p));
    }
    let w = l.words;
    let sentence = ends_sentence(&t);
    let head = Head::of(&t);
    // Each link tests its cheap conditions first; a regex runs last and
    // once (its match is the detail).
    p.head = None
        .or_else(|| {
            (w <= 14 && l.keys & KEY_SUBSCRIBE != 0)
                .then(|| phrase_hit(&SUBSCRIBE, &SUBSCRIBE_PROMPT, &t))?
        })
        .or_else(|| {
            (w <= 8 && head.may_begin(SUPPORT_HEADS, true))
                .then(|| phrase_hit(&SUPPORT_LINE, &DONATION_APPEAL, &t))?
        })
        .or_else(|| {
            (w <= 20
                && head.may_begin(TEASER_HEADS, true)
                && !(sentence && w > 6 && !t.contains(':')))
            .then(|| phrase_hit(&TEASER, &RELATED_STORY_TEASER, &t))?
        });
    if p.head.is_some() {
        return Some(Box::new(p));
    }
    if w <= 10 && !sentence && head.may_begin(TRENDS_HEADS, false) {
        p.trends = phrase_hit(&TRENDS, &RELATED_STORY_TEASER, &t);
    }
    p.mid = mid_phrase(&t, head, w, l.keys);
    if p.mid.is_none() {
        p.suffix = match &t {
            Cow::Borrowed(_) => l.suffix.map(Cow::Borrowed),
            Cow::Owned(t) => suffix_of(t).map(|s| Cow::Owned(s.to_owned())),
        };
        p.tail = if w <= 15 && head.may_begin(&[b"pos"], true) && POSTED_BY.is_match(&t) {
            Some((
                &EMBEDDED_POST,
                "`Posted by ... on <date>` line of an embed".to_owned(),
            ))
        } else {
            repeated(l, &t, w, cx)
        };
    }
    let any = p.trends.is_some() || p.mid.is_some() || p.suffix.is_some() || p.tail.is_some();
    any.then(|| Box::new(p))
}

/// `t.replace(is_odd_space, " ")`, in one allocation of the right size
/// (the plain space is shorter than every odd one, so `t.len()` is
/// enough): `replace` grows its string as it goes.
fn spaces_plain(t: &str) -> String {
    let mut s = String::with_capacity(t.len());
    let mut last = 0;
    for (i, c) in t.match_indices(is_odd_space) {
        s.push_str(&t[last..i]);
        s.push(' ');
        last = i + c.len();
    }
    s.push_str(&t[last..]);
    s
}

/// Whether [`CREDIT_PAREN`] can match `t`. Its first branch needs `t` to
/// end in `)` (and an optional full stop) with `Photo`, `Image`, `Credit`
/// or `Pictured` after the last `(`; its second, `Credit: `, `credit: `,
/// `source: ` or `Photo: ` after the last full stop but a final one.
fn credit_paren_may_match(t: &str) -> bool {
    let u = t.strip_suffix('.').unwrap_or(t);
    // The first branch needs a `(` (a line ending in `)` without one, as
    // many do, is not searched through four times).
    if let Some(inner) = u.strip_suffix(')')
        && let Some(open) = memchr::memrchr(b'(', inner.as_bytes())
    {
        // One pass for the four words, from their capitals (a `contains`
        // per word set up a substring search four times per line).
        let inner = &inner.as_bytes()[open + 1..];
        if memchr::memchr3_iter(b'P', b'I', b'C', inner).any(|i| {
            [&b"Photo"[..], b"Image", b"Credit", b"Pictured"]
                .iter()
                .any(|k| inner[i..].starts_with(k))
        }) {
            return true;
        }
    }
    // No colon at all (most lines): none after the last full stop either.
    if memchr::memchr(b':', u.as_bytes()).is_none() {
        return false;
    }
    let last = memchr::memrchr(b'.', u.as_bytes()).map_or(0, |i| i + 1);
    let tail = &u.as_bytes()[last..];
    memchr::memchr_iter(b':', tail).any(|i| {
        tail.get(i + 1) == Some(&b' ')
            && [&b"Credit"[..], b"credit", b"source", b"Photo"]
                .iter()
                .any(|k| tail[..i].ends_with(k))
    })
}

/// Whether `t` has `": "` (found from its colons, which are rare).
fn has_colon_space(t: &str) -> bool {
    let b = t.as_bytes();
    memchr::memchr_iter(b':', b).any(|i| b.get(i + 1) == Some(&b' '))
}

/// The first three characters of a line, as the gates of patterns
/// anchored at the start see them ([`Head::may_begin`]): as they are, and
/// folded for `(?i)` patterns (ASCII lowercased, U+017F as `s`, U+212A as
/// `k`). Each is three ASCII bytes in a `u32`, or [`ANY`] (fewer than
/// three characters: any pattern is tried) or [`NONE`] (a non-ASCII
/// character that matches no ASCII pattern character).
#[derive(Clone, Copy)]
struct Head {
    exact: u32,
    folded: u32,
}

/// A [`Head`] of a line shorter than three characters.
const ANY: u32 = u32::MAX;
/// A [`Head`] with a character that matches no ASCII pattern character.
const NONE: u32 = 0;

impl Head {
    fn of(t: &str) -> Head {
        if let Some(&h) = t.as_bytes().first_chunk::<3>()
            && h.is_ascii()
        {
            return Head {
                exact: head(&h),
                folded: head(&h.map(|b| b.to_ascii_lowercase())),
            };
        }
        let (mut exact, mut folded) = ([0u8; 3], [0u8; 3]);
        let mut chars = t.chars();
        for k in 0..3 {
            let Some(c) = chars.next() else {
                return Head {
                    exact: ANY,
                    folded: ANY,
                };
            };
            (exact[k], folded[k]) = match c {
                c if c.is_ascii() => (c as u8, c.to_ascii_lowercase() as u8),
                '\u{17F}' => (0, b's'),
                '\u{212A}' => (0, b'k'),
                _ => (0, 0),
            };
        }
        let word = |h: [u8; 3]| if h.contains(&0) { NONE } else { head(&h) };
        Head {
            exact: word(exact),
            folded: word(folded),
        }
    }

    /// Whether a pattern anchored at the start can match the line, when
    /// every match of it begins with one of the three ASCII characters of
    /// `heads` (lowercase if `fold`: the pattern is `(?i)`, and either
    /// case is tried).
    ///
    /// The same answer as the regex for every line it rejects: the first
    /// three characters of a match are those of a head. An ASCII
    /// character matches a pattern character only if equal (or, under
    /// `(?i)`, its ASCII case pair); a non-ASCII one matches none of these
    /// ASCII pattern characters, but for U+017F, which `(?i)` folds to
    /// `s`, and U+212A to `k` (tested below). A line of fewer than three
    /// characters is always tried.
    fn may_begin(self, heads: &[&[u8; 3]], fold: bool) -> bool {
        let h = if fold { self.folded } else { self.exact };
        h == ANY || (h != NONE && heads.iter().any(|&x| head(x) == h))
    }
}

/// Three ASCII bytes as one number.
fn head(h: &[u8; 3]) -> u32 {
    u32::from_le_bytes([h[0], h[1], h[2], 0])
}

/// [`Head::may_begin`] of a line.
fn may_begin(t: &str, heads: &[&[u8; 3]], fold: bool) -> bool {
    Head::of(t).may_begin(heads, fold)
}

/// The heads ([`may_begin`]) of [`SUPPORT_LINE`].
const SUPPORT_HEADS: &[&[u8; 3]] = &[b"ple", b"sup", b"don", b"bec", b"mak", b"con", b"giv"];
/// The heads of [`TEASER`].
const TEASER_HEADS: &[&[u8; 3]] = &[
    b"als", b"rea", b"mor", b"rel", b"see", b"rec", b"you", b"mos", b"pop", b"edi", b"top", b"don",
    b"fur", b"lat", b"wha", b"wat", b"up ", b"exp",
];
/// The heads of [`TRENDS`] (case-sensitive).
const TRENDS_HEADS: &[&[u8; 3]] = &[b"Tre", b"TRE", b"Hot", b"HOT"];
/// The heads of [`WIDGET`] but those of its alternatives that start with
/// a digit.
const WIDGET_HEADS: &[&[u8; 3]] = &[
    b"sha", b"twe", b"ema", b"e-m", b"pri", b"fac", b"twi", b"lin", b"wha", b"pin", b"red", b"tel",
    b"com", b"no ", b"lea", b"new", b"cha", b"loa", b"to ", b"log", b"sig", b"reg", b"vie", b"joi",
    b"sho", b"add", b"pos", b"adv", b"spo", b"ski", b"men", b"sea", b"clo", b"bac", b"nex", b"pre",
    b"cop", b"fol", b"tag", b"con", b"cli", b"ima", b"pho", b"sli", b"pic",
];
/// The heads of [`COMMENT_WIDGET`] but those of its alternatives that
/// start with a digit.
const COMMENT_HEADS: &[&[u8; 3]] = &[
    b"new", b"com", b"to ", b"log", b"joi", b"lea", b"vie", b"sho", b"add", b"pos",
];
/// The heads of [`CONTACT`].
const CONTACT_HEADS: &[&[u8; 3]] = &[b"con", b"e-m", b"ema", b"you", b"rea", b"fol"];
/// Whether [`CREDIT_START`] can match `t`: its alternatives but the first
/// start with a head of [`CREDIT_HEADS`]; the first, `(©|\(c\))[^/\n]{0,60}/`,
/// needs a `/` too.
fn credit_may_start(t: &str, head: Head) -> bool {
    let open = t.starts_with('\u{A9}') || head.may_begin(&[b"(c)"], true);
    (open && memchr::memchr(b'/', t.as_bytes()).is_some()) || head.may_begin(CREDIT_HEADS, true)
}

/// The heads of [`CREDIT_START`] but `©` and `(c)`, which need a `/`.
const CREDIT_HEADS: &[&[u8; 3]] = &[b"pho", b"ima", b"pic", b"cre", b"get", b"ap "];
/// The heads of [`CAPTION_START`] (case-sensitive).
const CAPTION_HEADS: &[&[u8; 3]] = &[b"In ", b"Thi", b"FIL"];
/// The heads of [`BYLINE`] (case-sensitive).
const BYLINE_HEADS: &[&[u8; 3]] = &[b"By ", b"BY ", b"by "];

/// Whether a line starts with a character `\d` may match: a decimal digit
/// of any script (`char::is_numeric` takes more).
fn digit_first(t: &str) -> bool {
    t.chars().next().is_some_and(char::is_numeric)
}

/// Whether [`WIDGET`] can match `t` by its first three characters
/// ([`WIDGET_HEADS`], or a digit first); a line with the head `pho` only
/// if `photo `, a digit and more follow (its one alternative with that
/// head is `photo \d+ (of|/) \d+`, and `t` and `o` fold to no other
/// character): `Photo: Name / Agency` credits are not tried.
fn widget_may_begin(t: &str) -> bool {
    if digit_first(t) {
        return true;
    }
    let head = Head::of(t);
    if head.folded == self::head(b"pho") {
        let b = t.as_bytes();
        return b.len() >= 8
            && b[3..5].eq_ignore_ascii_case(b"to")
            && b[5] == b' '
            && (b[6].is_ascii_digit() || !b[6].is_ascii());
    }
    head.may_begin(WIDGET_HEADS, true)
}

/// Whether [`WIDGET`] can match `t`: each of its alternatives starts with
/// one of the letters `stepflwrcnvjambi` or a digit (`\d`, any decimal
/// digit). Under `(?i)` those letters match only their ASCII pair and
/// U+017F (for `s`), so a line that starts with another character, such
/// as a Cyrillic letter, is not tried.
fn widget_may_start(t: &str) -> bool {
    match t.chars().next() {
        Some(c) if c.is_ascii() => {
            c.is_ascii_digit() || "stepflwrcnvjambi".contains(c.to_ascii_lowercase())
        }
        Some(c) => c == '\u{17F}' || c.is_numeric(),
        None => false,
    }
}

/// The links of the phrase chain between `Trends` and the site-name suffix.
fn mid_phrase(t: &str, head: Head, w: usize, keys: u8) -> Option<Hit> {
    // A legal cue ([`KEY_CUE`]) gates both legal regexes. Every match of
    // [`COOKIES`] has `cookie`, where `(?i)` lets `k` be U+212A; a match of
    // [`LEGAL`] has one of the cues, where `(?i)` lets the `s` of `terms` or
    // `rights` be U+017F (LONG S), which the ASCII keyword scan does not see.
    let legal_cue = w <= 150 && (keys & KEY_CUE != 0 || has_long_s(t));
    let cookie = || keys & KEY_COOKIE != 0 || t.contains('\u{212A}');
    let widget = || {
        let u = unbullet(t);
        widget_may_start(u) && widget_may_begin(u) && WIDGET.is_match(u)
    };
    None.or_else(|| (legal_cue && cookie()).then(|| phrase_hit(&COOKIES, &LEGAL_NOTICE, t))?)
        .or_else(|| (w <= 6 && widget()).then(|| (&PAGE_WIDGET, format!("widget label `{t}`"))))
        .or_else(|| {
            (w <= 20 && head.may_begin(CONTACT_HEADS, true))
                .then(|| phrase_hit(&CONTACT, &AUTHOR_CONTACT, t))?
        })
        .or_else(|| {
            (w <= 25 && keys & KEY_TAGLINE != 0).then(|| phrase_hit(&TAGLINE, &SITE_TAGLINE, t))?
        })
        .or_else(|| (w <= 40 && credit_may_start(t, head)).then(|| credit_start_hit(t))?)
        .or_else(|| (w <= 40 && legal_cue).then(|| legal_hit(t))?)
        .or_else(|| {
            (w <= 20 && !t.ends_with('.') && t.contains('/'))
                .then(|| phrase_hit(&CREDIT_END, &PHOTO_CREDIT, t))?
        })
        .or_else(|| {
            (w <= 90
                && (t.ends_with([')', '.']) || has_colon_space(t))
                && credit_paren_may_match(t))
            .then(|| phrase_hit(&CREDIT_PAREN, &PHOTO_CAPTION, t))?
        })
        .or_else(|| {
            (w <= 90 && head.may_begin(CAPTION_HEADS, false) && !t.contains(['"', '\u{201C}']))
                .then(|| phrase_hit(&CAPTION_START, &PHOTO_CAPTION, t))?
        })
}

/// Whether `t` has U+017F (LONG S, `C5 BF` in UTF-8), looked for by its
/// lead byte, which is rare in most scripts. (`contains('\u{17F}')` looks
/// for the last byte, `BF`, which ends every Cyrillic `п`: on Russian lines
/// it stopped every few letters.)
fn has_long_s(t: &str) -> bool {
    let b = t.as_bytes();
    memchr::memchr_iter(0xC5, b).any(|i| b.get(i + 1) == Some(&0xBF))
}

/// The line without a leading list marker (`* `, `+ `, `- `, `• `, `o `).
fn unbullet(t: &str) -> &str {
    for m in ["* ", "+ ", "- ", "\u{2022} ", "o ", "\u{B7} "] {
        if let Some(r) = t.strip_prefix(m) {
            return r.trim_start();
        }
    }
    t
}

/// Whether the line starts with a list marker.
fn bulleted(t: &str) -> bool {
    unbullet(t).len() != t.len()
}

fn phrase_detail(re: &Regex, t: &str) -> String {
    detail_of(re.find(t), t)
}

/// The finding of `rule` when `re` matches `t`: one search gives both the
/// answer and the detail.
fn phrase_hit(re: &Regex, rule: &'static Rule, t: &str) -> Option<Hit> {
    let m = re.find(t)?;
    Some((rule, detail_of(Some(m), t)))
}

/// `phrase_hit(&CREDIT_START, &PHOTO_CREDIT, t)`, without the regex for a
/// line that starts with `©` (the commonest credit): then only the first
/// alternative, `©[^/\n]{0,60}/`, can match (the others start with ASCII
/// letters or `(`), and it matches up to the first `/` if at most 60
/// characters come before it (a line has no `\n`). Tested against the regex.
///
/// Likewise for a line that starts with `photo:` (ASCII case folded, the
/// next commonest): the first alternative cannot match at a letter, and
/// the second, `photo:`, matches those six bytes.
fn credit_start_hit(t: &str) -> Option<Hit> {
    if let Some(photo) = t.as_bytes().first_chunk::<6>()
        && photo.eq_ignore_ascii_case(b"photo:")
    {
        return Some((&PHOTO_CREDIT, phrase_detail_of(&t[..6], t)));
    }
    let Some(rest) = t.strip_prefix('\u{A9}') else {
        return phrase_hit(&CREDIT_START, &PHOTO_CREDIT, t);
    };
    let slash = memchr::memchr(b'/', rest.as_bytes())?;
    let before = &rest[..slash];
    // At most 60 characters: at most 60 bytes, or count them.
    let fits = before.len() <= 60 || before.chars().nth(60).is_none();
    fits.then(|| (&PHOTO_CREDIT, phrase_detail_of(&t[..2 + slash + 1], t)))
}

/// `phrase_hit(&LEGAL, &LEGAL_NOTICE, t)`, without the regex for a line
/// that starts with `©`: the leftmost match starts there, and of the
/// alternatives that can start there (`^©` and `©[ \t]*\d{4}`; the others
/// start with ASCII letters or `(`) the first in the pattern, `^©`, wins.
/// Tested against the regex.
fn legal_hit(t: &str) -> Option<Hit> {
    if t.starts_with('\u{A9}') {
        return Some((&LEGAL_NOTICE, "phrase `\u{A9}`".to_owned()));
    }
    phrase_hit(&LEGAL, &LEGAL_NOTICE, t)
}

/// [`detail_of`] a match whose text is `m`.
fn phrase_detail_of(m: &str, t: &str) -> String {
    let m = m.trim();
    if m.is_empty() {
        return detail_of(None, t);
    }
    let mut d = String::with_capacity(m.len() + 9);
    d.push_str("phrase `");
    d.push_str(m);
    d.push('`');
    d
}

/// The detail of a phrase finding: the match, or the start of the line if
/// the match is only spaces.
fn detail_of(m: Option<regex::Match<'_>>, t: &str) -> String {
    match m.map(|m| m.as_str().trim()) {
        // `format!("phrase `{m}`")`, without the formatting machinery.
        Some(m) if !m.is_empty() => phrase_detail_of(m, t),
        _ => format!("line `{}`", t.chars().take(40).collect::<String>()),
    }
}

/// Appends the decimal digits of `n` (what `{}` writes).
fn push_number(s: &mut String, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // ASCII digits: always UTF-8.
    s.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// The previous line with text, at most `max_blank` blank lines above.
fn prev_text(lines: &[&Line<'_>], i: usize, max_blank: usize) -> Option<usize> {
    let mut blanks = 0;
    let mut j = i;
    while j > 0 {
        j -= 1;
        if !lines[j].text.is_empty() {
            return Some(j);
        }
        blanks += 1;
        if blanks > max_blank {
            return None;
        }
    }
    None
}

/// The next line with text, at most `max_blank` blank lines below.
fn next_text(lines: &[&Line<'_>], i: usize, max_blank: usize) -> Option<usize> {
    let mut blanks = 0;
    for (j, l) in lines.iter().enumerate().skip(i + 1) {
        if !l.text.is_empty() {
            return Some(j);
        }
        blanks += 1;
        if blanks > max_blank {
            return None;
        }
    }
    None
}

/// A title: 3 to 20 words, no final full stop, starts with a capital or digit.
fn headline_like(l: &Line<'_>) -> bool {
    (3..=20).contains(&l.words)
        && !l.text.ends_with(['.', ',', ';', ':'])
        && l.text
            .chars()
            .next()
            .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

/// Site-name suffixes (` - Site Name`) that end two or more lines, or a line of their own.
fn repeated_suffixes<'a>(lines: &[&Line<'a>]) -> Vec<&'a str> {
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for l in lines {
        if let Some(s) = l.suffix {
            match seen.iter_mut().find(|(x, _)| *x == s) {
                Some(e) => e.1 += 1,
                None => seen.push((s, 1)),
            }
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(s, _)| s)
        .collect()
}

/// The ` - Name Name` (1 to 4 capitalised words) at the end of `t`.
fn suffix_of(t: &str) -> Option<&str> {
    // The suffix ends `t` and never ends a sentence: most prose lines stop here.
    if t.ends_with(['.', '?', '!', '"']) {
        return None;
    }
    // Four capitalised words fit in the last 160 bytes: search only there.
    let mut from = t.len().saturating_sub(160);
    while !t.is_char_boundary(from) {
        from += 1;
    }
    // The last ` - ` there.
    let b = t.as_bytes();
    let i = memchr::memrchr_iter(b'-', &b[from..])
        .map(|j| from + j)
        .find(|&j| j > from && b[j - 1] == b' ' && b.get(j + 1) == Some(&b' '))
        .map(|j| j + 2)
        .or_else(|| t.strip_prefix("- ").map(|_| 2))?;
    let s = &t[i..];
    for (n, w) in s.split(' ').enumerate() {
        if n >= 4 || !w.chars().next().is_some_and(char::is_uppercase) {
            return None;
        }
    }
    Some(s)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Script {
    Latin,
    Cyrillic,
    Other,
}

fn script_of(c: char) -> Option<Script> {
    if c.is_ascii() {
        return c.is_ascii_alphabetic().then_some(Script::Latin);
    }
    // Letters of the common ranges without a table lookup.
    let alphabetic = match c as u32 {
        0xAA | 0xB5 | 0xBA => true,
        0x80..=0xBF | 0xD7 | 0xF7 => false,
        0xC0..=0x24F | 0x410..=0x44F => true,
        // General Punctuation (spaces, dashes, quotes): no letters.
        0x2000..=0x206F => false,
        _ => c.is_alphabetic(),
    };
    if !alphabetic {
        return None;
    }
    Some(match c as u32 {
        0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        0x400..=0x52F => Script::Cyrillic,
        _ => Script::Other,
    })
}

/// The script of most letters of the document, when it is clear (≥ 90%).
fn dominant_script(lines: &[&Line<'_>], drops: &[Option<Drop<'_>>]) -> Option<Script> {
    let mut n = [0usize; 3];
    for (l, _) in lines.iter().zip(drops).filter(|(_, d)| d.is_none()) {
        let m = l.letters.get_or_init(|| letters(l.text));
        for (n, m) in n.iter_mut().zip(m) {
            *n += m;
        }
    }
    let total: usize = n.iter().sum();
    let (i, max) = n.iter().enumerate().max_by_key(|(_, v)| **v)?;
    (total > 0 && *max * 10 >= total * 9)
        .then_some([Script::Latin, Script::Cyrillic, Script::Other][i])
}

/// Latin, Cyrillic and other letters of `t` ([`script_of`] of each
/// character).
///
/// Counted by bytes, 64 at a time with branch-free loops (vector compares):
/// ASCII letters; the lead bytes 0xC3..=0xC8 (U+00C0..=U+023F: Latin
/// letters but for `×` and `÷`, counted apart); 0xD0 and 0xD1
/// (U+0400..=U+047F: Cyrillic letters). Only the characters of other lead
/// bytes are decoded one by one, and only in lines that have some.
fn letters(t: &str) -> [usize; 3] {
    let b = t.as_bytes();
    let mut n = [0; 3];
    for (at, block) in b.chunks(64).enumerate() {
        let (mut l, mut c, mut o) = (0u8, 0u8, 0u8);
        let mut others = [0u8; 64];
        for (&x, other) in block.iter().zip(others.iter_mut()) {
            let lead = x >= 0xC0;
            let latin_lead = (0xC3..=0xC8).contains(&x);
            let cyrillic_lead = (x & 0xFE) == 0xD0;
            l += u8::from(((x | 0x20).wrapping_sub(b'a') < 26) | latin_lead);
            c += u8::from(cyrillic_lead);
            *other = u8::from(lead & !latin_lead & !cyrillic_lead);
            o |= *other;
        }
        n[0] += usize::from(l);
        n[1] += usize::from(c);
        if o != 0 {
            let mut rest = bits(&others);
            while rest != 0 {
                let i = at * 64 + rest.trailing_zeros() as usize;
                rest &= rest - 1;
                match t[i..].chars().next().and_then(script_of) {
                    Some(Script::Latin) => n[0] += 1,
                    Some(Script::Cyrillic) => n[1] += 1,
                    Some(Script::Other) => n[2] += 1,
                    None => {}
                }
            }
        }
    }
    if n[0] > 0 && memchr::memchr(0xC3, b).is_some() {
        // `×` and `÷` (C3 97, C3 B7) are not letters.
        n[0] -= memchr::memmem::find_iter(b, "\u{D7}").count();
        n[0] -= memchr::memmem::find_iter(b, "\u{F7}").count();
    }
    n
}

/// Pass 3b: short kept lines in another script than the kept text's.
///
/// Run after the other passes, over the lines they keep, so that the
/// document's script is that of its article (and a second run agrees).
fn scripts(lines: &[&Line<'_>], drops: &mut [Option<Drop<'_>>]) {
    let candidate = |l: &Line<'_>| l.words <= 8 && !l.text.is_empty() && !l.text.is_ascii();
    if !lines
        .iter()
        .zip(drops.iter())
        .any(|(l, d)| d.is_none() && candidate(l))
    {
        return;
    }
    let Some(doc) = dominant_script(lines, drops) else {
        return;
    };
    for (i, l) in lines.iter().enumerate() {
        if drops[i].is_none()
            && candidate(l)
            && let Some(detail) = script_mismatch(l.text, l.words, Some(doc))
        {
            set(drops, i, &SCRIPT_MISMATCH, Cow::Owned(detail));
        }
    }
}

fn script_mismatch(t: &str, words: usize, doc: Option<Script>) -> Option<String> {
    let doc = doc?;
    if words > 8 || t.is_ascii() {
        return None;
    }
    let (mut same, mut other) = (0usize, 0usize);
    for c in t.chars() {
        match script_of(c) {
            Some(s) if s == doc => same += 1,
            Some(_) => other += 1,
            None => {}
        }
    }
    (other >= 4 && other >= 4 * same.max(1))
        .then(|| format!("{words}-word line not in the document's {doc:?} script"))
}

fn repeated(
    l: &Line<'_>,
    t: &str,
    words: usize,
    cx: &Context<'_>,
) -> Option<(&'static Rule, String)> {
    let c = cx.corpus?;
    let docs = c.docs();
    if docs < 2 {
        return None;
    }
    // Prose recurs too (syndicated paragraphs, quoted statements): a line of
    // 12+ words with a lowercase word and sentence punctuation is not chrome.
    let long_sentence =
        words >= 12 && (ends_sentence(t) || (has_clause_mark(t) && has_lowercase_word(t)));
    if long_sentence {
        return None;
    }
    // Looked up once per line, whatever the number of rounds.
    let n = l.count.get().unwrap_or_else(|| {
        let n = c.doc_count(t);
        l.count.set(Some(n));
        n
    });
    (n >= docs.min(3) && !(words <= 6 && is_date(t))).then(|| {
        (
            &REPEATED_ACROSS_DOCUMENTS,
            // `format!("line occurs in {n} of {docs} documents of the run")`.
            {
                let mut d = String::with_capacity(60);
                d.push_str("line occurs in ");
                push_number(&mut d, n as usize);
                d.push_str(" of ");
                push_number(&mut d, docs as usize);
                d.push_str(" documents of the run");
                d
            },
        )
    })
}

/// Whether `t` has `,`, `.` or `;` (ASCII: found byte by byte, with memchr).
fn has_clause_mark(t: &str) -> bool {
    memchr::memchr3(b',', b'.', b';', t.as_bytes()).is_some()
}

/// Pass 2: blocks (appeals, comment widgets with their tail).
fn blocks(lines: &[&Line<'_>], drops: &mut [Option<Drop<'_>>]) {
    let n = lines.len();
    // Appeal: from its opening line while the lines continue it.
    if let Some(a) = lines.iter().position(|l| {
        l.words <= 60
            && !l.text.is_empty()
            && *l
                .appeal
                .get_or_init(|| l.keys & KEY_APPEAL != 0 && APPEAL_START.is_match(l.text))
    }) {
        let mut end = a + 1;
        while end < n {
            let l = &lines[end];
            let continues = l.text.is_empty()
                || l.words < 8
                || (APPEAL_WORDS.is_match(l.text) && APPEAL_PRONOUN.is_match(l.text));
            if !continues {
                break;
            }
            end += 1;
        }
        // Trailing blank lines stay with what follows.
        while end > a + 1 && lines[end - 1].text.is_empty() && end < n {
            end -= 1;
        }
        let phrase = phrase_detail(&APPEAL_START, lines[a].text);
        let detail = format!("appeal block opened by {phrase} (lines {}-{})", a + 1, end);
        for d in drops.iter_mut().take(end).skip(a) {
            *d = Some(Drop {
                rule: &DONATION_APPEAL,
                detail: Cow::Owned(detail.clone()),
                block: true,
            });
        }
    }
    // Comment widget: a widget label followed only by short lines to the end.
    let mut tail_from = None;
    for i in (0..n).rev() {
        let l = &lines[i];
        if l.text.is_empty() {
            continue;
        }
        if l.words > 8 && drops[i].is_none() {
            break;
        }
        if (digit_first(l.text) || may_begin(l.text, COMMENT_HEADS, true))
            && COMMENT_WIDGET.is_match(l.text)
        {
            tail_from = Some(i);
        }
    }
    if let Some(w) = tail_from {
        let label = lines[w].text;
        for d in drops.iter_mut().skip(w) {
            if d.as_ref().is_none_or(|d| !d.block) {
                *d = Some(Drop {
                    rule: &PAGE_WIDGET,
                    detail: Cow::Owned(format!(
                        "comment widget `{label}` and the short lines after it"
                    )),
                    block: true,
                });
            }
        }
    }
}

/// Buffers of [`density`], kept from round to round and from document to
/// document (no allocation once they are large enough).
#[derive(Default)]
struct Scratch {
    /// The lines with text.
    idx: Vec<usize>,
    /// Their weights.
    weight: Vec<f64>,
    /// Whether each is a data line.
    data: Vec<bool>,
    /// Their scores among their neighbours.
    score: Vec<f64>,
    /// How many of the lines before each have a positive weight.
    positive: Vec<u32>,
    /// The lines kept above the article block.
    keep_head: Vec<usize>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Pass 3: the densest block of long lines; short lines outside it go.
fn density(lines: &[&Line<'_>], drops: &mut [Option<Drop<'_>>], scratch: &mut Scratch) {
    let Scratch {
        idx,
        weight,
        data,
        score,
        positive,
        keep_head,
    } = scratch;
    // The lines with text; those a phrase or block rule dropped count as
    // chrome (they break a block) and stay dropped.
    idx.clear();
    idx.extend((0..lines.len()).filter(|&i| !lines[i].text.is_empty()));
    if idx.iter().all(|&i| drops[i].is_some()) {
        return;
    }
    weight.clear();
    weight.extend(idx.iter().enumerate().map(|(k, &i)| match drops[i] {
        // A run of dropped lines (an inserted teaser list) costs once.
        Some(_) if k > 0 && drops[idx[k - 1]].is_some() => 0.0,
        Some(_) => -DROPPED_PENALTY,
        None => shape(lines[i]).0,
    }));
    // Data lines (a schedule, tour dates, results: a digit and a separator)
    // in a run of three or more are article lists, not menus.
    data.clear();
    data.extend(idx.iter().map(|&i| drops[i].is_none() && shape(lines[i]).1));
    for k in 0..idx.len() {
        let before = k >= 1 && data[k - 1];
        let after = k + 1 < data.len() && data[k + 1];
        let run = (before && (after || (k >= 2 && data[k - 2])))
            || (after && k + 2 < data.len() && data[k + 2]);
        if data[k] && run && weight[k] < 0.0 {
            weight[k] = lines[idx[k]].words as f64 * DATA_LINE;
        }
    }
    // Neighbours: a long line among long lines counts fully, an isolated
    // one (a teaser snippet between a title and a date) much less; a short
    // line among long ones costs less.
    let m = idx.len();
    // `positive[j]`: how many of the first `j` lines have a positive weight.
    positive.clear();
    positive.push(0);
    let mut n = 0;
    positive.extend(weight.iter().map(|&w| {
        n += u32::from(w > 0.0);
        n
    }));
    score.clear();
    score.resize(m, 0.0);
    for k in 0..m {
        let lo = k.saturating_sub(NEIGHBOURS);
        let hi = (k + NEIGHBOURS + 1).min(m);
        let others = (hi - lo - 1).max(1) as f64;
        // The long lines among `lo..hi`, but `k`.
        let long = (positive[hi] - positive[lo] - u32::from(weight[k] > 0.0)) as f64;
        let share = long / others;
        score[k] = if weight[k] > 0.0 {
            weight[k] * (ISOLATED + (1.0 - ISOLATED) * share)
        } else {
            weight[k] * (1.0 - 0.5 * share)
        };
    }
    // Maximum-sum run (Kadane).
    let (mut best, mut best_lo, mut best_hi) = (f64::MIN, 0, 0);
    let (mut cur, mut cur_lo) = (0.0, 0);
    for (k, sc) in score.iter().enumerate() {
        if cur <= 0.0 {
            cur = 0.0;
            cur_lo = k;
        }
        cur += sc;
        if cur > best {
            best = cur;
            best_lo = cur_lo;
            best_hi = k;
        }
    }
    if best <= 0.0 {
        return; // no block of text: leave it to the phrase rules
    }
    // A list the article introduces (`... tour dates:`) belongs to it: the
    // introducing line may follow the block after a short line or two, and
    // the list's items are short lines (bulleted only if they are prose).
    let intro = (best_hi..m.min(best_hi + 3)).find(|&k| {
        let l = &lines[idx[k]];
        drops[idx[k]].is_none() && l.text.ends_with(':') && l.words <= 12
    });
    let short_between = intro.is_some_and(|k| {
        (best_hi + 1..k).all(|j| drops[idx[j]].is_none() && lines[idx[j]].words <= 12)
    });
    if let Some(k) = intro.filter(|_| short_between) {
        best_hi = k;
        while best_hi + 1 < m {
            let l = &lines[idx[best_hi + 1]];
            let item = !bulleted(l.text) || has_lowercase_word(unbullet(l.text));
            if drops[idx[best_hi + 1]].is_some()
                || l.words > 25
                || !item
                || idx[best_hi + 1] > idx[best_hi] + 2
            {
                break;
            }
            best_hi += 1;
        }
    }
    // A short closing paragraph (`He declined to comment.`) right after
    // the block is reporting too: up to two sentence lines are added.
    for _ in 0..TRAILING_SENTENCES {
        let Some(&next) = idx.get(best_hi + 1) else {
            break;
        };
        let l = &lines[next];
        if drops[next].is_some() || !short_sentence(l.text, l.words) {
            break;
        }
        best_hi += 1;
    }
    let (first, last) = (idx[best_lo], idx[best_hi]);
    // The head just above the block: the headline and the dateline/byline.
    keep_head.clear();
    let mut k = best_lo;
    let mut steps = 0;
    while k > 0 && steps < 6 {
        k -= 1;
        steps += 1;
        let l = &lines[idx[k]];
        if drops[idx[k]].is_some() {
            continue;
        }
        let byline = || may_begin(l.text, BYLINE_HEADS, false) && BYLINE.is_match(l.text);
        if l.words <= 12 && (is_date(l.text) || byline()) {
            keep_head.push(idx[k]);
            continue;
        }
        // A short opening paragraph right above the block.
        if keep_head.len() == k.abs_diff(best_lo) - 1 && short_sentence(l.text, l.words) {
            keep_head.push(idx[k]);
            continue;
        }
        if headline_like(l) || (l.words >= 3 && l.words <= 25 && l.text.ends_with('?')) {
            keep_head.push(idx[k]);
            break;
        }
    }
    // `format!("outside the article block (lines {}-{})", first + 1, last + 1)`.
    let mut detail = String::with_capacity(64);
    detail.push_str("outside the article block (lines ");
    push_number(&mut detail, first + 1);
    detail.push('-');
    push_number(&mut detail, last + 1);
    detail.push(')');
    for (k, &i) in idx.iter().enumerate() {
        if drops[i].is_some() || (first..=last).contains(&i) || keep_head.contains(&i) {
            continue;
        }
        let l = &lines[i];
        // Safety: a long sentence-like line is never dropped by density alone.
        if l.words >= 400 && ends_sentence(l.text) {
            continue;
        }
        // A paragraph of prose a few lines from the block (a lead above a
        // table or a chart) is reporting: density alone does not drop it.
        let near = k + NEAR_PARAGRAPH >= best_lo && k <= best_hi + NEAR_PARAGRAPH;
        if near && l.words >= 25 && ends_sentence(l.text) && has_lowercase_word(l.text) {
            continue;
        }
        // `format!("{}-word line {detail}", l.words)`, without the
        // formatting machinery.
        let mut d = String::with_capacity(detail.len() + 16);
        push_number(&mut d, l.words);
        d.push_str("-word line ");
        d.push_str(&detail);
        drops[i] = Some(Drop {
            rule: &OUTSIDE_ARTICLE_BLOCK,
            detail: Cow::Owned(d),
            block: false,
        });
    }
}

const SHORT_PENALTY: f64 = 6.0;
/// The weight per word of a data line in a run of them.
const DATA_LINE: f64 = 0.5;
/// How many short sentence lines after the block are added to it.
const TRAILING_SENTENCES: usize = 2;
/// What a line dropped by a phrase or block rule costs a block.
const DROPPED_PENALTY: f64 = 6.0;
/// How many lines with text away from the article block a paragraph of
/// prose still counts as part of it.
const NEAR_PARAGRAPH: usize = 4;
/// How many lines on each side count as neighbours.
const NEIGHBOURS: usize = 2;
/// The share of its weight a long line keeps when no neighbour is long.
const ISOLATED: f64 = 0.3;

/// [`line_weight`] and [`data_line`] of a line, found once.
fn shape(l: &Line<'_>) -> (f64, bool) {
    *l.shape.get_or_init(|| (line_weight(l), data_line(l)))
}

/// Positive for lines that look like article text, negative for chrome.
fn line_weight(l: &Line<'_>) -> f64 {
    let w = l.words as f64;
    let sentence = ends_sentence(l.text);
    let listy = bulleted(l.text) || l.text.starts_with('|');
    // Prose has punctuation; a long line without any is a tag cloud or a
    // menu: fewer than one mark per 25 words (the marks are counted with
    // the words; [`enough_marks`] in the tests).
    if l.words >= 20 && l.marks * 25 < l.words {
        return -SHORT_PENALTY;
    }
    if (l.words >= 10 && (sentence || l.words >= 20)) && !listy {
        w
    } else if l.words >= 6 && sentence {
        w * 0.5
    } else if listy && !has_lowercase_word(unbullet(l.text)) {
        // A bulleted line of names and labels: a menu.
        -SHORT_PENALTY * 1.5
    } else {
        -SHORT_PENALTY
    }
}

/// Whether `t` has at least one sentence mark (`.`, `,`, `;`, `:`, `!`,
/// `?`) per 25 words: `marks * 25 >= words`.
///
/// The marks are found with `memchr3` (three at a time, vector compares
/// between them), and only as many as the bound needs: the same answer as
/// counting them all, since the count only grows. The stage counts the
/// marks with the words ([`Line::marks`]); this is the check of that count.
#[cfg(test)]
fn enough_marks(t: &[u8], words: usize) -> bool {
    // `marks * 25 >= words`: at least `need` marks.
    let need = words.div_ceil(25);
    let first = memchr::memchr3_iter(b'.', b',', b';', t).take(need).count();
    first >= need
        || first
            + memchr::memchr3_iter(b':', b'!', b'?', t)
                .take(need - first)
                .count()
            >= need
}

/// A short unbulleted line with a digit and a separator (`10 de março – Interlagos`,
/// `June 9 -- Coral Sky Amphitheatre, West Palm Beach, FL`): a row of a list.
fn data_line(l: &Line<'_>) -> bool {
    let t = l.text;
    if !(3..=25).contains(&l.words) || bulleted(t) {
        return false;
    }
    // Digits and `|` are looked for in one branch-free pass (vector
    // compares), not two byte-by-byte searches.
    let (digit, pipe) = t.bytes().fold((false, false), |(d, p), b| {
        (d | b.is_ascii_digit(), p | (b == b'|'))
    });
    !pipe && digit && (has_separator(t) || comma_space(t))
}

/// Whether `t` has `": "`, `" \u{2013} "`, `" -- "` or `" - "`: one search
/// for `:`, `-` and the first byte of `\u{2013}` (E2 80 93), not four
/// substring searches. Tested against them.
fn has_separator(t: &str) -> bool {
    let b = t.as_bytes();
    let at = |i: usize, s: &[u8]| b.get(i..).is_some_and(|r| r.starts_with(s));
    memchr::memchr3_iter(b':', b'-', 0xE2, b).any(|i| match b[i] {
        b':' => at(i + 1, b" "),
        b'-' => i > 0 && b[i - 1] == b' ' && (at(i + 1, b" ") || at(i + 1, b"- ")),
        _ => i > 0 && b[i - 1] == b' ' && at(i, "\u{2013} ".as_bytes()),
    })
}

/// Whether `t` has a comma before a space, with or without a closing
/// quotation mark between them (`Yes, he`, `“Yes,” he`): the quotes stage,
/// which runs after this one, moves a comma inside the quotation
/// (`“Yes”, – he` becomes `“Yes,” he`), and a line must be judged the
/// same before and after, or cleaning the output again would drop it.
fn comma_space(t: &str) -> bool {
    let b = t.as_bytes();
    memchr::memchr_iter(b',', b).any(|i| {
        let rest = &t[i + 1..];
        let rest = rest.trim_start_matches(['"', '\'', '\u{201D}', '\u{2019}', '\u{BB}']);
        rest.starts_with(' ')
    })
}

/// A sentence of prose under ten words: starts with a capital (or an
/// opening quote), ends a sentence, has a lowercase word, no list marker.
fn short_sentence(t: &str, words: usize) -> bool {
    (3..10).contains(&words)
        && !bulleted(t)
        && t.trim_end_matches(['"', '\u{201D}', '\'', '\u{2019}'])
            .ends_with(['.', '!', '?'])
        && t.trim_start_matches(['"', '\u{201C}', '\'', '\u{2018}'])
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
        && has_lowercase_word(t)
}

/// Whether `t` has a word that starts with a lowercase letter (prose,
/// ingredients) rather than only names and labels (menus): a word after
/// the first, of more than two bytes ([`has_lowercase_word_by_chars`]).
///
/// Byte by byte while the text is ASCII (there `char::is_whitespace` is
/// `' '` and `\t..=\r`, and a lowercase letter is `a..=z`), which mostly
/// answers within the first few words; from the first non-ASCII byte on,
/// character by character from the start.
fn has_lowercase_word(t: &str) -> bool {
    let b = t.as_bytes();
    let space = |c: u8| matches!(c, b' ' | b'\t'..=b'\r');
    let (mut i, mut word) = (0, 0);
    loop {
        while i < b.len() && space(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return false;
        }
        let start = i;
        while i < b.len() && !space(b[i]) {
            if !b[i].is_ascii() {
                return has_lowercase_word_by_chars(t);
            }
            i += 1;
        }
        if word > 0 && i - start > 2 && b[start].is_ascii_lowercase() {
            return true;
        }
        word += 1;
    }
}

/// [`has_lowercase_word`] character by character.
fn has_lowercase_word_by_chars(t: &str) -> bool {
    t.split_whitespace()
        .skip(1)
        .any(|w| w.len() > 2 && w.chars().next().is_some_and(char::is_lowercase))
}

/// Builds the edits: each dropped line with its line end; a run of lines
/// dropped by one rule (and the blank lines between them) is one edit.
fn emit(lines: &[&Line<'_>], drops: &mut [Option<Drop<'_>>], out: &mut Vec<Edit>) {
    let n = lines.len();
    // In a later round, lines an earlier round removed are gone from
    // `lines`: an edit never reaches over such a gap.
    let joined = |j: usize| lines[j].start == lines[j - 1].end;
    let mut i = 0;
    while i < n {
        let Some(d) = &drops[i] else {
            i += 1;
            continue;
        };
        // Extend over following lines of the same block, and over blank
        // lines that lead to another dropped line.
        let mut end = i + 1;
        if d.block {
            while end < n
                && joined(end)
                && (lines[end].text.is_empty()
                    || drops[end]
                        .as_ref()
                        .is_some_and(|e| e.block && std::ptr::eq(e.rule, d.rule)))
            {
                end += 1;
            }
            while end > i + 1 && lines[end - 1].text.is_empty() && end < n {
                end -= 1;
            }
        }
        // Take the blank lines after a dropped line when a blank line is
        // already above it (or it starts the text): no ghost paragraph break.
        let blank_above = i == 0 || lines[i - 1].text.is_empty() || drops[i - 1].is_some();
        if blank_above {
            while end < n && joined(end) && lines[end].text.is_empty() {
                end += 1;
            }
        }
        // The detail moves into the edit (`drops[i]` is not read again).
        let rule = d.rule;
        let detail = drops[i]
            .as_mut()
            .map(|d| std::mem::take(&mut d.detail))
            .unwrap_or_default();
        out.push(Edit::delete(lines[i].start..lines[end - 1].end, rule).with_detail(detail));
        i = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;
    use crate::pipeline::Config;

    /// An article body of `n` long paragraphs, to put test lines around.
    fn body(n: usize) -> String {
        (0..n)
            .map(|i| {
                format!(
                    "Paragraph {i} of the report says that the ministry met the delegation on Tuesday and agreed on several joint steps, officials said.\n\n"
                )
            })
            .collect()
    }

    fn run_with(text: &str, config: &Config, corpus: Option<&Corpus>) -> (String, Vec<Edit>) {
        let cx = Context { config, corpus };
        let mut edits = Vec::new();
        find(text, &cx, &mut edits);
        let out = crate::edit::apply(text, &mut edits).into_owned();
        (out, edits)
    }

    fn run(text: &str) -> (String, Vec<Edit>) {
        run_with(text, &Config::default(), None)
    }

    /// `line` placed after a short article: is it removed, and by `rule`?
    fn removed_by(line: &str, rule: &Rule) -> bool {
        let text = format!("Headline of the story\n\n{}{line}\n\n{}", body(3), body(2));
        let (out, edits) = run(&text);
        let gone = !out.contains(line);
        gone && edits.iter().any(|e| std::ptr::eq(e.rule(), rule))
    }

    fn kept(line: &str) -> bool {
        let text = format!("Headline of the story\n\n{}{line}\n\n{}", body(3), body(2));
        run(&text).0.contains(line)
    }

    /// The lowercased copy of a long document is not held while the
    /// thread goes on with short ones (it was 20 MB for the whole run).
    #[test]
    fn a_long_run_of_short_lines_is_scanned_in_bounded_pieces() {
        // Short lines with keywords, over three SCAN_RUN pieces: each
        // line's keys are those of their definition (so too at the edges
        // of the pieces, and in the pieces after the first, which start
        // further into the text), and the copy held is about one piece,
        // not the document.
        let lines = [
            "Subscribe to our newsletter",
            "word word",
            "Privacy policy and terms of use",
            "We use cookies",
            "\u{A9} 2024 News",
            "Donate now, readers like you",
            "latest analysis",
        ];
        let mut text = String::new();
        for k in 0.. {
            if text.len() > 3 * SCAN_RUN {
                break;
            }
            text.push_str(lines[k % lines.len()]);
            text.push_str(if k % 5 == 0 { "\r\n" } else { "\n" });
        }
        let split = split_lines(&text);
        assert!(split.iter().all(|l| l.words <= KEYED_WORDS));
        for l in &split {
            let raw = &text[l.start..l.end];
            assert_eq!(l.keys, keys_by_definition(raw, l.words), "{raw:?}");
        }
        assert!(split.iter().filter(|l| l.keys != 0).count() > split.len() / 2);
        let held = LOWER.with_borrow(Vec::capacity);
        assert!(held > 0 && held <= 2 * SCAN_RUN + 100, "{held} bytes held");
    }

    #[test]
    fn phrases_see_no_break_spaces_as_spaces() {
        assert!(removed_by(
            "Photo:\u{A0}Laura Brown / Sputnik",
            &PHOTO_CREDIT
        ));
        assert!(removed_by(
            "READ\u{A0}MORE: Lavrov says talks are over",
            &RELATED_STORY_TEASER
        ));
        // Negative: a sentence of reporting with an NBSP stays.
        assert!(kept(
            "The minister said on\u{A0}Tuesday that the talks in Geneva would resume next week after a pause."
        ));
    }

    #[test]
    fn a_lead_paragraph_above_a_table_stays() {
        let lead = "Dow component Home Depot reported third-quarter earnings that topped estimates as revenue fell short, sending shares lower ahead of the opening bell on Tuesday morning in New York.";
        let text = format!(
            "{lead}\n\nTicker Security Last Change\nHD HOME DEPOT 225.86 -12.99\nLOW LOWES 113.40 -1.62\n\n{}",
            body(4)
        );
        let (out, _) = run(&text);
        assert!(out.contains(lead), "{out}");
        // Negative: the same paragraph far below the article, after a menu, goes.
        let menu: String = [
            "Home", "World", "Business", "Markets", "Tech", "Sport", "Weather", "Contact",
        ]
        .iter()
        .map(|m| format!("{m}\n"))
        .collect();
        let text = format!("{}{menu}\n{lead}\n", body(4));
        let (out, _) = run(&text);
        assert!(!out.contains(lead), "{out}");
    }

    #[test]
    fn ascii_letters_fold_only_to_ascii_but_k_and_s() {
        // The keyword and first-byte gates rely on this (see KEYWORDS).
        let folded = Regex::new("(?i)[a-z]").expect("valid");
        let odd: Vec<char> = (0x80u32..=0x10FFFF)
            .filter_map(char::from_u32)
            .filter(|c| folded.is_match(c.encode_utf8(&mut [0; 4])))
            .collect();
        assert_eq!(odd, ['\u{17F}', '\u{212A}']);
        // LEGAL_CUES folds ASCII case only; the other families gate `(?i)` regexes.
        for (k, family) in KEYWORDS {
            assert!(*family == KEY_CUE || !k.contains(['k', 's']), "{k}");
        }
    }

    #[test]
    fn keywords_never_start_at_one_offset() {
        for (a, _) in KEYWORDS {
            for (b, _) in KEYWORDS {
                assert!(a == b || !a.starts_with(b), "{a} {b}");
            }
        }
    }

    #[test]
    fn gates_pass_every_line_their_regex_matches() {
        let lines = [
            "We use cookies on this website",
            "TERMS OF USE",
            "Copyright 2019 Acme. All Rights Reserved",
            "\u{A9} 2019 Acme",
            "(C) 2019 Acme",
            "\u{2026} we have a small FAVOUR to ask.",
            "Support our journalism today",
            "Make a donation today",
            "Readers like you keep us going",
            "Get the latest news from around the world",
            "News, analysis and features",
            "Live coverage, every day",
            "SUBSCRIBE NOW",
            "Sign-up for alerts",
            "Your e-mail",
            "Check your inbox",
        ];
        for t in lines {
            let l = &split_lines(t)[0];
            let cue = LEGAL_CUES.is_match(t);
            assert_eq!(cue, l.keys & KEY_CUE != 0, "{t}");
            for (re, key) in [
                (&*APPEAL_START, KEY_APPEAL),
                (&*TAGLINE, KEY_TAGLINE),
                (&*SUBSCRIBE, KEY_SUBSCRIBE),
            ] {
                assert!(!re.is_match(t) || l.keys & key != 0, "{t}");
            }
        }
        for t in [
            "A fighter in Aleppo. (AP Photo/Hau Dinh)",
            "A fighter in Aleppo (Photo: Reuters).",
            "A fighter in Aleppo. Image source: Reuters",
            "A fighter in Aleppo. Photo credit: Reuters.",
        ] {
            assert!(CREDIT_PAREN.is_match(t) && credit_paren_may_match(t), "{t}");
        }
        // The word after other capitals, inside a word, or last.
        for t in [
            "A fighter in Aleppo (CNN Credit)",
            "A fighter in Aleppo (taken with iPhoto)",
            "A fighter in Aleppo (IMAGE, Image)",
            "A fighter in Aleppo (Pictured)",
        ] {
            assert!(credit_paren_may_match(t), "{t}");
        }
        // Capitals of the words, but not the words.
        assert!(!credit_paren_may_match(
            "A fighter in Aleppo (Picture Credi Imag Phot)"
        ));
        assert!(!credit_paren_may_match("He said: it is over."));
        assert!(!credit_paren_may_match(
            "Talks (in Geneva) resumed (on Tuesday)"
        ));
        // A keyword before a `)` with no `(`: the first branch cannot match.
        let t = "Photo editors at Credit Suisse said so :-)";
        assert!(!CREDIT_PAREN.is_match(t) && !credit_paren_may_match(t));
    }

    #[test]
    fn long_s_is_found_by_its_lead_byte() {
        for t in ["ſ", "Terſ and conditions", "Ŝ ſ", "ſ\u{17F}"] {
            assert!(has_long_s(t), "{t:?}");
        }
        // `п` ends in `BF`; `Ŝ` (`C5 9C`) and `Ņ` (`C5 85`) start with `C5`; `Ŝ¿` has
        // `C5` and `BF`, apart.
        for t in ["", "Terms", "Путин подписал", "Ŝ Ņ", "Ŝ\u{BF}"] {
            assert!(!has_long_s(t), "{t:?}");
        }
    }

    #[test]
    fn keyword_gates_pass_every_line_their_regex_matches() {
        // Strings generated from each keyword-gated pattern (every case
        // variant, U+017F for `s` and U+212A for `k` too): every line the
        // regex matches has its family's key.
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for (re, key) in [
            (&*APPEAL_START, KEY_APPEAL),
            (&*TAGLINE, KEY_TAGLINE),
            (&*SUBSCRIBE, KEY_SUBSCRIBE),
        ] {
            let strategy =
                proptest::string::string_regex(&generator(re.as_str())).expect("pattern");
            let mut matched = 0;
            for _ in 0..4000 {
                let s = strategy.new_tree(&mut runner).expect("tree").current();
                let l = &split_lines(&s)[0];
                if l.words <= KEYED_WORDS && re.is_match(l.text) {
                    matched += 1;
                    assert!(l.keys & key != 0, "{s:?} {}", re.as_str());
                }
            }
            assert!(matched > 1000, "{matched} {}", re.as_str());
        }
    }

    #[test]
    fn lowercase_words_by_bytes_are_those_by_characters() {
        // ASCII whitespace as `char::is_whitespace` has it.
        for c in 0..128u8 {
            assert_eq!(
                (c as char).is_whitespace(),
                matches!(c, b' ' | b'\t'..=b'\r'),
                "{c:#x}"
            );
        }
        let pieces = [
            "a",
            "ab",
            "abc",
            "Abc",
            "ABC",
            "1bc",
            " ",
            "  ",
            "\t",
            "\u{B}",
            "\u{C}",
            "\u{1C}",
            "\u{A0}",
            "\u{2003}",
            "\u{E9}t\u{E9}",
            "\u{C9}t\u{E9}",
            "\u{43F}\u{440}\u{438}",
            "-",
            ".",
        ];
        let mut seed = 0xA54F_F53A_5F1D_36F1u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let mut t = String::new();
            for _ in 0..(seed >> 59) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                t.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            assert_eq!(
                has_lowercase_word(&t),
                has_lowercase_word_by_chars(&t),
                "{t:?}"
            );
        }
        assert!(has_lowercase_word("Prices rose sharply"));
        assert!(!has_lowercase_word("Home World Business"));
    }

    #[test]
    fn separators_found_at_once_are_those_of_four_searches() {
        let four = |t: &str| {
            t.contains(": ") || t.contains(" \u{2013} ") || t.contains(" -- ") || t.contains(" - ")
        };
        let pieces = [
            ":", "-", "--", " ", "\u{2013}", "\u{2014}", "\u{E2}", "a", "1", ",", "\u{A0}",
        ];
        let mut seed = 0x510E_527F_ADE6_82D1u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let mut t = String::new();
            for _ in 0..(seed >> 60) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                t.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            assert_eq!(has_separator(&t), four(&t), "{t:?}");
        }
        assert!(
            has_separator("June 9 -- Coral Sky")
                && has_separator("10 de mar\u{E7}o \u{2013} Interlagos")
        );
        assert!(!has_separator("10-12 March") && !has_separator("a:b"));
    }

    #[test]
    fn spaces_made_plain_in_one_allocation_are_those_of_replace() {
        let pieces = [
            "a",
            " ",
            "\u{A0}",
            "\u{2002}",
            "\u{202F}",
            "\u{205F}",
            "\u{200B}",
            "\u{43F}",
            "\u{A0}\u{A0}",
        ];
        let mut seed = 0x9B05_688C_2B3E_6C1Fu64;
        for _ in 0..5000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let mut t = String::new();
            for _ in 0..(seed >> 59) {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                t.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            let plain = spaces_plain(&t);
            assert_eq!(plain, t.replace(is_odd_space, " "), "{t:?}");
            assert!(plain.capacity() <= t.len().max(8), "{t:?}");
        }
    }

    #[test]
    fn trim_cuts_ascii_ends_first_and_the_rest_by_character() {
        fn slow(s: &str) -> &str {
            s.trim_matches(|c: char| c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}')
        }
        for s in [
            // Ends in ASCII after the ASCII cut: no character-by-character trim.
            "  A line. \r\n",
            "plain",
            "",
            " \t\n",
            // Negative: a non-ASCII or U+000B end needs the full trim.
            "\u{A0}A line\u{200B}\n",
            "\u{B}A line\u{B}\n",
            "A line\u{FEFF} \n",
            "\u{3000}",
            "Путин",
        ] {
            assert_eq!(trim(s), slow(s), "{s:?}");
        }
        assert_eq!(trim("\u{B}A line\u{B}\n"), "A line");
    }

    #[test]
    fn letters_by_bytes_agree_with_script_of_each_character() {
        fn plain(t: &str) -> [usize; 3] {
            let mut n = [0; 3];
            for c in t.chars() {
                match script_of(c) {
                    Some(Script::Latin) => n[0] += 1,
                    Some(Script::Cyrillic) => n[1] += 1,
                    Some(Script::Other) => n[2] += 1,
                    None => {}
                }
            }
            n
        }
        // The ranges `script_of` decides without a table agree with it.
        for c in (0..0x3100u32).filter_map(char::from_u32) {
            assert_eq!(script_of(c).is_some(), c.is_alphabetic(), "{c:?}");
        }
        // Every character of the two-byte range and more, one by one and
        // in a line (blocks of 64 bytes).
        let mut all = String::new();
        for c in (0..0x3100u32)
            .chain(0x1F600..0x1F610)
            .filter_map(char::from_u32)
        {
            let one = c.to_string();
            assert_eq!(letters(&one), plain(&one), "{c:?}");
            all.push(c);
        }
        assert_eq!(letters(&all), plain(&all));
        // Lines with and without characters decoded one by one.
        for t in [
            "Plain ASCII line, 42 words.",
            "Путин сказал × 2 ÷ 3, café Ångström",
            "Ελληνικά and 中文 and ɐ and Путин",
            "",
        ] {
            assert_eq!(letters(t), plain(t), "{t:?}");
        }
    }

    #[test]
    fn widget_gate_passes_every_first_character_the_regex_can_take() {
        // Every alternative of WIDGET starts with one of these.
        let firsts = Regex::new(r"(?i)^[stepflwrcnvjambi\d]").expect("valid");
        for c in (0..0x11_0000u32).filter_map(char::from_u32) {
            let one = c.to_string();
            assert!(!firsts.is_match(&one) || widget_may_start(&one), "{c:?}");
        }
        for t in [
            "Share",
            "tweet",
            "12 comments",
            "3 / 10",
            "Image 2 of 5",
            "Skip to content",
            "\u{17F}hare",
            "Back to top",
            "Join the discussion",
        ] {
            assert!(WIDGET.is_match(t) && widget_may_start(t), "{t}");
        }
        // Negative: lines the gate keeps from the regex.
        for t in ["Путин", "Home", "Durchsuchen", "", "Об этом"] {
            assert!(!widget_may_start(t) && !WIDGET.is_match(t), "{t}");
        }
    }

    #[test]
    fn enough_marks_agrees_with_counting_byte_by_byte() {
        let plain = |t: &str, words: usize| {
            let marks = t
                .bytes()
                .filter(|b| matches!(b, b'.' | b',' | b';' | b':' | b'!' | b'?'))
                .count();
            marks * 25 >= words
        };
        let long = "word ".repeat(40);
        let cases = [
            // Stops in the first block.
            ("One, two. Three", 20),
            // Reaches the bound only in a later block.
            (&*format!("{long}, {long}."), 50),
            // Never reaches it.
            (&*format!("{long}, {long}"), 60),
            (&*long, 20),
            ("", 20),
        ];
        for (t, words) in cases {
            assert_eq!(enough_marks(t.as_bytes(), words), plain(t, words), "{t:?}");
        }
        assert!(enough_marks(b"One, two. Three", 20));
        assert!(!enough_marks(long.as_bytes(), 20));
        // Random lines of marks, letters, spaces and non-ASCII bytes, with
        // every word count around their marks' bound.
        let alphabet = [
            ".", ",", ";", ":", "!", "?", "a", " ", "\u{A0}", "\u{2026}", "\r\n",
        ];
        let mut seed = 0x1F83_D9AB_FB41_BD6Bu64;
        for _ in 0..5000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (seed >> 40) as usize % 300;
            let mut t = String::new();
            for _ in 0..len {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                // Marks are rarer than letters and spaces.
                let k = (seed >> 33) as usize % 40;
                t.push_str(alphabet[if k < 6 { k } else { 6 + k % 5 }]);
            }
            let marks = t
                .bytes()
                .filter(|b| matches!(b, b'.' | b',' | b';' | b':' | b'!' | b'?'))
                .count();
            assert_eq!(words_and_odd_spaces(&t).marks, marks, "{t:?}");
            for words in 0..200 {
                assert_eq!(
                    enough_marks(t.as_bytes(), words),
                    plain(&t, words),
                    "{t:?} {words}"
                );
            }
        }
    }

    #[test]
    fn suffix_of_finds_the_last_dash_in_the_window() {
        let long = format!("{} - Sputnik International", "x".repeat(200));
        let edge = format!("{} - Sputnik", "x".repeat(149));
        for (t, want) in [
            (
                "Lavrov - Sputnik International",
                Some("Sputnik International"),
            ),
            ("A - B - Sputnik", Some("Sputnik")),
            ("- Sputnik International", Some("Sputnik International")),
            ("A - B - c", None),
            ("A -- B", None),
            ("A - ", None),
            ("Lavrov - Sputnik.", None),
            (long.as_str(), Some("Sputnik International")),
            (edge.as_str(), Some("Sputnik")),
        ] {
            assert_eq!(suffix_of(t), want, "{t}");
        }
    }

    #[test]
    fn word_chars_agree_with_the_tables() {
        for c in (0u32..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "U+{:04X}", c as u32);
            assert_eq!(is_unicode_space(c), c.is_whitespace(), "U+{:04X}", c as u32);
        }
        assert_eq!(count_words("Путин — сказал, 10 раз"), 4);
        let split = |s: &str| -> usize {
            if s.is_ascii() {
                return s
                    .split_ascii_whitespace()
                    .filter(|w| w.bytes().any(|b| b.is_ascii_alphanumeric()))
                    .count();
            }
            s.split(char::is_whitespace)
                .filter(|w| w.chars().any(is_word_char))
                .count()
        };
        for s in [
            "",
            " ",
            "a",
            "a b\tc\r\nd",
            "a\u{B}b",
            "a\u{B}b \u{E9}",
            " -- | a-b * \u{2014} ",
            "Путин\u{A0}сказал\u{2009}10\u{3000}раз\u{85}x",
            "\u{2022} \u{1F600} 1\u{2028}2",
        ] {
            assert_eq!(count_words(s), split(s), "{s:?}");
        }
        // Blocks with and without characters to decode; a vertical tab is
        // a space only in non-ASCII text.
        let long = "one two\u{B}three, 4 -- five ".repeat(5);
        assert_eq!(
            {
                let (space, word, rest, _) = byte_classes(&[b'a'; 64], false);
                block_masks((space, word, rest), "", 0)
            },
            (0, !0, false)
        );
        assert_eq!(count_words(&long), 20);
        let mixed = format!("{long}\u{E9}");
        assert_eq!(count_words(&mixed), 26);
        assert_eq!(count_words(&format!("\u{E9} {long}")), 26);
        assert_eq!(count_words(&mixed), split(&mixed));
        // Random strings over characters of every class, across block edges.
        let alphabet = [
            "a",
            "Z",
            "7",
            " ",
            "\t",
            "\r",
            "\u{B}",
            "\u{C}",
            "-",
            "\"",
            "*",
            "\u{A0}",
            "\u{85}",
            "\u{2003}",
            "\u{3000}",
            "\u{201C}",
            "\u{2014}",
            "\u{E9}",
            "\u{D7}",
            "\u{B2}",
            "\u{AB}",
            "\u{416}",
            "\u{44F}",
            "\u{483}",
            "\u{4E8}",
            "\u{5D0}",
            "\u{4E2D}",
            "\u{1F600}",
            "\u{FFFD}",
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        // Every length to past three blocks (a last block of a longer text
        // is read from the 64 bytes that end it).
        for len in 0..1200 {
            let mut s = String::new();
            for _ in 0..len % 300 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let pick = (seed >> 33) as usize % alphabet.len();
                // Mostly ASCII letters and spaces, like text.
                s.push_str(if seed & 3 == 0 {
                    alphabet[pick]
                } else {
                    ["a", " "][(seed >> 8) as usize & 1]
                });
            }
            assert_eq!(count_words(&s), split(&s), "{s:?}");
            assert_eq!(
                words_and_odd_spaces(&s).odd_space,
                s.contains(is_odd_space),
                "{s:?}"
            );
            let ascii: String = s.chars().filter(char::is_ascii).collect();
            assert_eq!(count_words(&ascii), split(&ascii), "{ascii:?}");
        }
        for s in ["a\u{A0}b", "\u{2000}", "x\u{200A}", "\u{202F}", "\u{205F}y"] {
            assert!(has_odd_space(s) && s.contains(is_odd_space), "{s:?}");
        }
        for s in ["a\u{200B}b", "\u{201C}x\u{201D}", "\u{2060}", "\u{C9}"] {
            assert!(!has_odd_space(s) && !s.contains(is_odd_space), "{s:?}");
        }
    }

    /// [`byte_classes_sse2`] and [`byte_classes_avx2`] (the portable
    /// answer for each one the CPU lacks).
    fn simd_byte_classes(block: &[u8; 64], vt: bool) -> [Masks; 2] {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is in the x86_64 baseline; AVX2 is checked.
            let sse2 = unsafe { byte_classes_sse2(block, vt) };
            let avx2 = if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: checked just above.
                unsafe { byte_classes_avx2(block, vt) }
            } else {
                byte_classes_portable(block, vt)
            };
            [sse2, avx2]
        }
        #[cfg(not(target_arch = "x86_64"))]
        [byte_classes_portable(block, vt); 2]
    }

    #[test]
    fn byte_classes_with_sse2_and_avx2_are_the_portable_ones() {
        // Every byte value at every position of a block, among bytes of
        // each class, with and without U+000B as a space.
        let fill = [b'a', b' ', 0x0B, 0xD0, 0xC3, 0x80, b'-', 0xFF];
        // The dispatched, SSE2 and AVX2 classes are the portable ones.
        let agree = |block: &[u8; 64], vt: bool, what: &str| {
            let portable = byte_classes_portable(block, vt);
            assert_eq!(byte_classes(block, vt), portable, "{what}");
            assert_eq!(simd_byte_classes(block, vt), [portable; 2], "{what}");
        };
        for vt in [false, true] {
            for b in 0..=255u8 {
                for &f in &fill {
                    for at in [0, 7, 15, 16, 31, 48, 63] {
                        let mut block = [f; 64];
                        block[at] = b;
                        agree(&block, vt, &format!("{b:#x} {f:#x} {at} {vt}"));
                    }
                }
            }
        }
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for n in 0..20_000 {
            let block: [u8; 64] = std::array::from_fn(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (seed >> 56) as u8
            });
            let vt = n % 2 == 0;
            agree(&block, vt, &format!("{block:?}"));
        }
    }

    /// `pattern` without its assertions (`^`, `$`, `\b`), for proptest to
    /// generate strings from: most of them match the pattern itself.
    fn generator(pattern: &str) -> String {
        let mut out = String::new();
        let plain = pattern.replace("(?-u:\\b)", "");
        let mut chars = plain.chars();
        let mut prev = ' ';
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    out.push(c);
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                    prev = 'x';
                    continue;
                }
                '^' if prev != '[' => {}
                '$' => {}
                _ => out.push(c),
            }
            prev = c;
        }
        out
    }

    #[test]
    fn start_gates_pass_every_line_their_regex_matches() {
        use proptest::strategy::{Strategy, ValueTree};
        type Gate = fn(&str) -> bool;
        let gates: [(&Regex, Gate, usize); 12] = [
            (&SUPPORT_LINE, |t| may_begin(t, SUPPORT_HEADS, true), 4000),
            (&TEASER, |t| may_begin(t, TEASER_HEADS, true), 4000),
            (&TRENDS, |t| may_begin(t, TRENDS_HEADS, false), 4000),
            (&POSTED_BY, |t| may_begin(t, &[b"pos"], true), 4000),
            (&WIDGET, widget_may_begin, 4000),
            (
                &COMMENT_WIDGET,
                |t| digit_first(t) || may_begin(t, COMMENT_HEADS, true),
                4000,
            ),
            (&CONTACT, |t| may_begin(t, CONTACT_HEADS, true), 4000),
            (&CREDIT_START, |t| credit_may_start(t, Head::of(t)), 4000),
            (&CAPTION_START, |t| may_begin(t, CAPTION_HEADS, false), 4000),
            (&BYLINE, |t| may_begin(t, BYLINE_HEADS, false), 4000),
            // Few generated dates match (`\b`, digits of other scripts).
            (&DATE, date_may_match, 16_000),
            (
                &CREDIT_PAREN,
                |t| (t.ends_with([')', '.']) || has_colon_space(t)) && credit_paren_may_match(t),
                4000,
            ),
        ];
        // Lines of real pages, and strings generated from each pattern
        // (under `(?i)` with every case variant, U+212A and U+017F too).
        let mut lines: Vec<String> = Vec::new();
        let raw = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("raw");
        for entry in std::fs::read_dir(raw).expect("raw/").flatten() {
            if let Ok(text) = std::fs::read_to_string(entry.path()) {
                lines.extend(text.lines().map(|l| trim(l).to_owned()));
            }
        }
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        for (re, gate, tries) in gates {
            let strategy =
                proptest::string::string_regex(&generator(re.as_str())).expect("pattern");
            let mut matched = 0;
            for _ in 0..tries {
                let s = strategy.new_tree(&mut runner).expect("tree").current();
                if re.is_match(&s) {
                    matched += 1;
                    assert!(gate(&s), "{s:?} {}", re.as_str());
                }
            }
            assert!(matched > 1000, "{matched} {}", re.as_str());
            for l in &lines {
                assert!(!re.is_match(l) || gate(l), "{l:?} {}", re.as_str());
            }
        }
        // Negative: lines the gates keep from the regexes.
        for t in [
            "The minister said",
            "Intro",
            "\u{41F}\u{443}\u{442}\u{438}\u{43D}",
            "Thus",
            "\u{201C}Support",
        ] {
            assert!(
                !may_begin(t, TEASER_HEADS, true) && !may_begin(t, CAPTION_HEADS, false),
                "{t}"
            );
            assert!(!may_begin(t, SUPPORT_HEADS, true), "{t}");
        }
        // The date gate: digits, `ted` and `hed` pass; other ASCII lines do not.
        for t in [
            "Updated",
            "PUBLISHED",
            "posted",
            "12 Mar",
            "\u{664}",
            "po\u{17F}ted",
        ] {
            assert!(date_may_match(t), "{t}");
        }
        for t in ["Follow us on Telegram", "Home", "Most read", "Tuesday"] {
            assert!(!date_may_match(t) && !DATE.is_match(t), "{t}");
        }
        // The `pho` head of WIDGET: only `photo`, a space and a digit.
        assert!(widget_may_begin("Photo 3 of 12") && WIDGET.is_match("Photo 3 of 12"));
        assert!(widget_may_begin("photo \u{664}/9"));
        for t in ["Photo: Laura Brown / Reuters", "Photos", "Photo 3", "Phone"] {
            assert!(!widget_may_begin(t) && !WIDGET.is_match(t), "{t}");
        }
        // Folding: U+017F and U+212A stand for `s` and `k` under `(?i)` only.
        assert!(may_begin("\u{17F}upport us", SUPPORT_HEADS, true));
        assert!(!may_begin("\u{17F}upport us", SUPPORT_HEADS, false));
        assert!(
            may_begin("Sk", TEASER_HEADS, true),
            "fewer than three characters"
        );
    }

    #[test]
    fn legal_cues_are_found_exactly() {
        // Whole cues, keywords without their cue, cues across line ends.
        let pieces = [
            "cookie",
            "COOKIES",
            "Cookie",
            "coo",
            "kie",
            "Kiev",
            "privacy",
            "PRIVACY",
            "acy",
            "piracy",
            "terms",
            "Terms",
            "rms",
            "arms",
            "rights",
            "hts",
            "nights",
            "copyright",
            "COPYRIGHT",
            "pyr",
            "pyre",
            "(c)",
            "(C)",
            "(c",
            "c)",
            "\u{A9}",
            "\n",
            "\r\n",
            " ",
            "x",
            "\u{212A}",
            "\u{41F}",
        ];
        let mut seed = 0x853C_49E6_748F_EA9Bu64;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..12 {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            for l in split_lines(&text) {
                assert_eq!(
                    LEGAL_CUES.is_match(l.text),
                    l.keys & KEY_CUE != 0,
                    "{text:?}"
                );
                let cookie = l.text.to_ascii_lowercase().contains("cookie");
                assert_eq!(cookie, l.keys & KEY_COOKIE != 0, "{text:?}");
            }
        }
        // Every COOKIES match has `cookie`, or U+212A for its `k`.
        assert!(COOKIES.is_match("We use coo\u{212A}ies"));
        assert!(!LEGAL_CUES.is_match("We use coo\u{212A}ies"));
    }

    /// [`Line::keys`] by their definition, line by line: every keyword of
    /// [`KEYWORDS`] (a legal one only inside its whole cue) in the line
    /// ASCII-lowercased, for lines of at most [`KEYED_WORDS`] words or of
    /// at most [`COOKIE_WORDS`] with U+212A; `cookie` alone in the other
    /// lines of at most [`COOKIE_WORDS`]; `©` in any line.
    fn keys_by_definition(raw: &str, words: usize) -> u8 {
        let lower = raw.to_ascii_lowercase();
        let mut keys = 0;
        let cookie = lower.contains("cookie");
        if words <= KEYED_WORDS || (words <= COOKIE_WORDS && raw.contains('\u{212A}')) {
            for (k, family) in KEYWORDS {
                if *family != KEY_CUE && lower.contains(k) {
                    keys |= family;
                }
            }
            for (cue, _) in CUES {
                if lower.as_bytes().windows(cue.len()).any(|w| w == *cue) {
                    keys |= KEY_CUE;
                }
            }
            if cookie {
                keys |= KEY_COOKIE;
            }
        } else if words <= COOKIE_WORDS && cookie {
            keys |= KEY_CUE | KEY_COOKIE;
        }
        if raw.contains('\u{A9}') {
            keys |= KEY_CUE;
        }
        keys
    }

    #[test]
    fn keys_of_short_and_long_lines_are_those_of_their_definition() {
        // Keywords, cues, their parts and near misses, as words (so that
        // lines of every length up to past COOKIE_WORDS come out), with
        // line ends, NBSP and U+212A.
        let pieces = [
            "cookie ",
            "COOKIES ",
            "CooKie ",
            "coo",
            "kie ",
            "k",
            "K",
            "\u{212A}",
            "Kiev ",
            "privacy ",
            "terms ",
            "rights ",
            "copyright ",
            "(c) ",
            "\u{A9} ",
            "small favour ",
            "support ",
            "donate ",
            "contribution ",
            "readers like you ",
            "latest ",
            "analysis ",
            "features ",
            "coverage ",
            "subscribe ",
            "subscription ",
            "newsletter ",
            "sign up ",
            "email ",
            "inbox ",
            "alerts ",
            "word ",
            "word ",
            "word ",
            "word ",
            "word ",
            "word ",
            "word ",
            "word ",
            "\u{A0}",
            "\u{41F}\u{440}\u{438} ",
            "\n",
            "\r\n",
            "\n\n",
        ];
        let mut seed = 0x2F69_3CA1_05E7_4D3Bu64;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize % n
        };
        for _ in 0..400 {
            let mut text = String::new();
            // Lines of one length class each: short, long, longer, longest.
            let mut budget = [8, 40, 120, 400][next(4)] * (1 + next(3));
            while budget > 0 {
                let p = pieces[next(pieces.len())];
                // Line ends are rarer than words, so long lines come out.
                if p.contains('\n') && next(40) != 0 {
                    continue;
                }
                text.push_str(p);
                budget -= 1;
            }
            for l in split_lines(&text) {
                let raw = &text[l.start..l.end];
                assert_eq!(
                    l.keys,
                    keys_by_definition(raw, l.words),
                    "{raw:?} ({} words)",
                    l.words
                );
            }
        }
    }

    #[test]
    fn fat_teddy_finds_what_the_automaton_finds() {
        // Keywords, their first bytes and near misses, lowercased as the
        // scan sees them, run together and apart, in short and long texts.
        let mut pieces: Vec<String> = KEYWORDS.iter().map(|(k, _)| k.to_string()).collect();
        for (k, _) in KEYWORDS {
            pieces.push(k[..3].to_owned());
            pieces.push(k[1..].to_owned());
        }
        pieces.extend(
            [
                "cookie", "rights", "e", " ", "  ", "\n", "\r\n", "x", "\u{a0}", "\u{43f}",
            ]
            .map(String::from),
        );
        let mut seed = 0x6A09_E667_F3BC_C908u64;
        let mut texts = vec![String::new(), "latest".to_owned()];
        for n in 0..2000 {
            let mut t = String::new();
            for _ in 0..[1, 3, 10, 40, 200][n % 5] {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                t.push_str(&pieces[(seed >> 33) as usize % pieces.len()]);
            }
            texts.push(t);
        }
        let keys = &*KEYS;
        if keys.fat.is_none() {
            return; // no AVX2: the automaton is the only searcher
        }
        for t in &texts {
            let hay = t.as_bytes();
            for from in 0..=hay.len() {
                assert_eq!(
                    keys.find(hay, from),
                    keys.automaton_find(hay, from),
                    "{t:?} {from}"
                );
            }
        }
    }

    #[test]
    fn ends_sentence_from_the_last_byte_is_by_characters() {
        let pieces = [
            ".", "!", "?", ":", ";", ",", "\u{2026}", "\"", "'", ")", "*", "\u{201D}", "\u{2019}",
            "\u{BB}", "a", " ", "\u{A0}", "\u{43F}", "1", "-",
        ];
        let mut seed = 0xBB67_AE85_84CA_A73Bu64;
        let mut strings = vec![String::new()];
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let len = (seed >> 60) as usize;
            let mut t = String::new();
            for _ in 0..len {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                t.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            strings.push(t);
        }
        for t in &strings {
            assert_eq!(ends_sentence(t), ends_sentence_by_chars(t), "{t:?}");
        }
        assert!(ends_sentence("He left.") && ends_sentence("\u{201C}Go!\u{201D}"));
        assert!(!ends_sentence("Home") && !ends_sentence("Read more \u{BB}"));
    }

    #[test]
    fn push_number_writes_what_display_writes() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut numbers = vec![0, 1, 9, 10, 99, 100, 400, 1_000_000, usize::MAX];
        for _ in 0..1000 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            numbers.push((seed >> (seed % 60)) as usize);
        }
        for n in numbers {
            let mut s = String::from("x");
            push_number(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }

    #[test]
    fn copyright_lines_skip_the_regexes_with_their_answer() {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let lines = proptest::string::string_regex(
            "\u{A9}([ \t]*[0-9]{0,5})?( ?[a-zA-Z\u{A9}\u{E9}\u{41F}./:-]{0,12}){0,9}(/[ a-z/]{0,9})?",
        )
        .expect("pattern");
        let mut checked = 0;
        for _ in 0..20_000 {
            let t = lines.new_tree(&mut runner).expect("tree").current();
            let t = trim(&t);
            if !t.starts_with('\u{A9}') {
                continue;
            }
            checked += 1;
            assert_eq!(
                credit_start_hit(t),
                phrase_hit(&CREDIT_START, &PHOTO_CREDIT, t),
                "{t:?}"
            );
            assert_eq!(legal_hit(t), phrase_hit(&LEGAL, &LEGAL_NOTICE, t), "{t:?}");
        }
        assert!(checked > 10_000);
        let long = format!("\u{A9} {}/ x", "\u{E9}".repeat(59));
        let longer = format!("\u{A9} {}/ x", "\u{E9}".repeat(60));
        for t in [
            "\u{A9} Sputnik / Vladimir Fedorenko",
            "\u{A9}/",
            "\u{A9}",
            &long,
            &longer,
        ] {
            assert_eq!(
                credit_start_hit(t),
                phrase_hit(&CREDIT_START, &PHOTO_CREDIT, t),
                "{t:?}"
            );
            assert_eq!(legal_hit(t), phrase_hit(&LEGAL, &LEGAL_NOTICE, t), "{t:?}");
        }
        // Lines that start with `photo:` in any case, and near misses.
        let photo = proptest::string::string_regex(
            "[pP][hH][oO][tT][oO][sS]?(:|graph:| credit)?[ :]?( ?[a-zA-Z\u{A9}\u{17F}/:-]{0,9}){0,4}",
        )
        .expect("pattern");
        for _ in 0..5000 {
            let t = photo.new_tree(&mut runner).expect("tree").current();
            let t = trim(&t);
            assert_eq!(
                credit_start_hit(t),
                phrase_hit(&CREDIT_START, &PHOTO_CREDIT, t),
                "{t:?}"
            );
        }
        // Negative: other lines still go to the regexes.
        assert!(legal_hit("All rights reserved").is_some());
        assert!(credit_start_hit("Photo: Reuters").is_some());
        assert!(credit_start_hit("Photos of the day").is_none());
    }

    #[test]
    fn subscribe_prompt() {
        assert!(removed_by("Subscribe", &SUBSCRIBE_PROMPT));
        assert!(removed_by(
            "Don't miss a brief. Sign up for our daily email.",
            &SUBSCRIBE_PROMPT
        ));
        assert!(kept(
            "The paper said the number of subscribers rose to two million last year, the highest since 2001."
        ));
    }

    #[test]
    fn donation_appeal_line_and_block() {
        assert!(removed_by("Support The Moscow Times!", &DONATION_APPEAL));
        let text = format!(
            "{}\u{2026} we have a small favor to ask.\n\nAs you may have heard, our newsroom needs your help to keep reporting.\n\nYour support, no matter how small, makes a difference to us.\n\nContinue\n",
            body(3)
        );
        let (out, edits) = run(&text);
        assert_eq!(out, body(3));
        assert_eq!(edits.len(), 1, "one edit for the block");
        assert!(edits[0].reason().contains("small favor to ask"));
        // Negative: reporting that mentions membership or help is no appeal.
        let text = format!(
            "{}\"We want to become a member of NATO,\" the minister said, adding that our allies would help.\n\n\"We thank you for your support,\" he told the delegation from Kyiv on Tuesday.\n\n{}",
            body(3),
            body(2)
        );
        assert_eq!(run(&text).0, text);
        // Negative: an article paragraph about donations is not an appeal opener.
        assert!(kept(
            "The charity said donations fell by a third in 2015, and that it would cut staff as a result."
        ));
    }

    #[test]
    fn related_story_teaser() {
        assert!(removed_by("Also Read", &RELATED_STORY_TEASER));
        assert!(removed_by(
            "READ MORE: Lavrov: Unclear what exactly US is doing in Syria",
            &RELATED_STORY_TEASER
        ));
        let head = format!(
            "US refuses to receive the delegation\n\nTrends Russian anti-terror op in Syria\n\n{}",
            body(3)
        );
        let (out, edits) = run(&head);
        assert!(!out.contains("Trends"), "{out}");
        assert!(out.starts_with("US refuses"), "{out}");
        assert!(
            edits
                .iter()
                .any(|e| std::ptr::eq(e.rule(), &RELATED_STORY_TEASER))
        );
        // In the body, `Trends ...` is a subheading.
        assert!(kept("Trends in Asian markets"));
        assert!(kept(
            "Trends in the oil market suggest prices will stay low through the winter, analysts said."
        ));
        assert!(kept(
            "Related talks between the two ministries were held in Geneva last week, officials said."
        ));
    }

    #[test]
    fn page_widget_and_comment_tail() {
        assert!(removed_by("ADVERTISEMENT", &PAGE_WIDGET));
        assert!(removed_by("* Share this article", &PAGE_WIDGET));
        let text = format!(
            "{}Newsfeed\n0\nTo participate in the discussion\nlog in or register\nloader\nChats\n\u{417}\u{430}\u{433}\u{43B}\u{43E}\u{432}\u{43E}\u{43A} \u{43E}\u{442}\u{43A}\u{440}\u{44B}\u{432}\u{430}\u{435}\u{43C}\u{43E}\u{433}\u{43E} \u{43C}\u{430}\u{442}\u{435}\u{440}\u{438}\u{430}\u{43B}\u{430}",
            body(4)
        );
        let (out, edits) = run(&text);
        assert_eq!(out, body(4));
        assert!(edits.iter().any(|e| std::ptr::eq(e.rule(), &PAGE_WIDGET)));
        // Negative: a comment widget label followed by reporting is not a tail.
        let text = format!("{}Comments\n\n{}", body(3), body(3));
        assert!(run(&text).0.contains(&body(3)[..60]));
        assert!(kept(
            "Share prices fell by 4% on Tuesday after the company cut its forecast, traders said."
        ));
    }

    #[test]
    fn legal_notice() {
        assert!(removed_by(
            "We use cookies to improve your experience on our website. By browsing this website, you agree to our use of cookies.",
            &LEGAL_NOTICE
        ));
        assert!(removed_by(
            "\u{A9} 2019 Vortex Cannon Entertainment. All rights reserved",
            &LEGAL_NOTICE
        ));
        assert!(kept(
            "She baked cookies for the soldiers every week, her neighbour recalled on Tuesday in an interview."
        ));
        // `(?i)` lets U+017F (LONG S) be the `s` of `rights` or `terms`,
        // which the ASCII keyword scan does not see: the line is still tried.
        for t in [
            "All right\u{17F} re\u{17F}erved",
            "Term\u{17F} of U\u{17F}e",
        ] {
            assert!(LEGAL.is_match(t), "{t}");
            assert!(removed_by(t, &LEGAL_NOTICE), "{t}");
        }
        assert!(kept(
            "Tho\u{17F}e who \u{17F}aid \u{17F}o were right, the mini\u{17F}ter told reporters on Tue\u{17F}day."
        ));
    }

    #[test]
    fn author_contact() {
        assert!(removed_by(
            "Contact the author at d.litvinova@imedia.ru",
            &AUTHOR_CONTACT
        ));
        assert!(kept(
            "Contact between the two delegations has been limited since March, the ministry said on Tuesday."
        ));
    }

    #[test]
    fn site_tagline() {
        assert!(removed_by(
            "Get the latest news from around the world, live coverage, off-beat stories, features and analysis.",
            &SITE_TAGLINE
        ));
        assert!(kept(
            "The latest figures from the ministry show that exports grew by 5% in the third quarter of the year."
        ));
    }

    #[test]
    fn photo_credit() {
        assert!(removed_by(
            "President Vladinir Putin Denis Abramov / Vedomosti",
            &PHOTO_CREDIT
        ));
        assert!(removed_by(
            "\u{A9} Sputnik / Vladimir Fedorenko / Go to the mediabank",
            &PHOTO_CREDIT
        ));
        assert!(kept(
            "The talks in Moscow / Washington format were first proposed by Lavrov in September, officials said."
        ));
    }

    #[test]
    fn photo_caption_and_teaser_under_it() {
        let text = format!(
            "{}In this Thursday, Sept. 19, 2013 photo, a Syrian opposition fighter watches over as heavy fighting breaks out\nInterview: Who Is This 'Moderate Opposition' The US Is Arming in Syria?\n{}",
            body(3),
            body(3)
        );
        let (out, edits) = run(&text);
        assert!(!out.contains("In this Thursday"));
        assert!(!out.contains("Interview: Who"));
        assert!(edits.iter().all(|e| std::ptr::eq(e.rule(), &PHOTO_CAPTION)));
        assert!(removed_by(
            "U.S. Defense Secretary Mark Esper shakes hands in Hanoi, Vietnam, Wednesday, Nov. 20, 2019. (AP Photo/Hau Dinh)",
            &PHOTO_CAPTION
        ));
        assert!(kept(
            "In this case, the court found that the ministry had acted within its powers, the judge said."
        ));
    }

    #[test]
    fn site_name_suffix_repeated_in_the_page() {
        let text = format!(
            "- Sputnik International\nWorld\n\nUS Not Coordinating on Free Syrian Army\n\nRussian Foreign Minister Sergei Lavrov - Sputnik International\n{}",
            body(4)
        );
        let (out, edits) = run(&text);
        assert!(!out.contains("Sputnik International"), "{out}");
        assert!(out.starts_with("US Not Coordinating"), "{out}");
        assert!(
            edits
                .iter()
                .any(|e| std::ptr::eq(e.rule(), &SITE_NAME_SUFFIX))
        );
        // Negative: one attribution ending in `- Name` is not a site suffix.
        assert!(kept("Quote of the day, they said - Vladimir Putin"));
    }

    #[test]
    fn embedded_post_with_title() {
        let text = format!(
            "{}US scraps $500mn Syrian rebel training program\n\nPosted by RT Play on 10 October 2015\n\n{}",
            body(3),
            body(3)
        );
        let (out, edits) = run(&text);
        assert_eq!(out, format!("{}{}", body(3), body(3)));
        assert!(edits.iter().all(|e| std::ptr::eq(e.rule(), &EMBEDDED_POST)));
        assert!(kept(
            "It was posted by a local resident on Facebook on Monday, and shared thousands of times since then."
        ));
    }

    #[test]
    fn script_mismatch() {
        assert!(removed_by(
            "\u{417}\u{430}\u{433}\u{43B}\u{43E}\u{432}\u{43E}\u{43A} \u{43E}\u{442}\u{43A}\u{440}\u{44B}\u{432}\u{430}\u{435}\u{43C}\u{43E}\u{433}\u{43E}",
            &SCRIPT_MISMATCH
        ));
        // Negative: a Russian article keeps its Russian lines.
        let ru = "\u{41C}\u{43E}\u{441}\u{43A}\u{432}\u{430} \u{438} \u{412}\u{430}\u{448}\u{438}\u{43D}\u{433}\u{442}\u{43E}\u{43D} \u{43F}\u{440}\u{43E}\u{432}\u{435}\u{43B}\u{438} \u{43F}\u{435}\u{440}\u{435}\u{433}\u{43E}\u{432}\u{43E}\u{440}\u{44B} \u{432} \u{43F}\u{43E}\u{43D}\u{435}\u{434}\u{435}\u{43B}\u{44C}\u{43D}\u{438}\u{43A}, \u{441}\u{43E}\u{43E}\u{431}\u{449}\u{438}\u{43B}\u{438} \u{432} \u{43C}\u{438}\u{43D}\u{438}\u{441}\u{442}\u{435}\u{440}\u{441}\u{442}\u{432}\u{435} \u{438} \u{434}\u{43E}\u{431}\u{430}\u{432}\u{438}\u{43B}\u{438}, \u{447}\u{442}\u{43E} \u{432}\u{441}\u{442}\u{440}\u{435}\u{447}\u{430} \u{431}\u{443}\u{434}\u{435}\u{442} \u{441}\u{43A}\u{43E}\u{440}\u{43E}.\n\n";
        let text = ru.repeat(4);
        assert_eq!(run(&text).0, text);
    }

    #[test]
    fn repeated_across_documents() {
        let mut corpus = Corpus::new();
        let chrome = "Hot deals of the week from our partners";
        for i in 0..3 {
            corpus.add_document(&format!("{chrome}\nstory {i}\n14/10/2015\n"));
        }
        let text = format!("{}{chrome}\n\n14/10/2015\n\n{}", body(3), body(2));
        let (out, edits) = run_with(&text, &Config::default(), Some(&corpus));
        assert!(!out.contains(chrome));
        let e = edits
            .iter()
            .find(|e| std::ptr::eq(e.rule(), &REPEATED_ACROSS_DOCUMENTS))
            .expect("an edit");
        assert!(e.reason().contains("3 of 3 documents"), "{}", e.reason());
        // Negative: a date is kept, and so is a line seen in one document only.
        let (out, _) = run_with(&text, &Config::default(), None);
        assert!(out.contains(chrome));
    }

    #[test]
    fn outside_article_block_keeps_headline_and_dateline() {
        let text = format!(
            "* Home\n* News\n* Sport\n* Weather\nUS refuses to receive the delegation\n\n14/10/2015\n\n{}* Privacy\n* Terms\nAbout us\n",
            body(4)
        );
        let (out, edits) = run(&text);
        assert_eq!(
            out,
            format!(
                "US refuses to receive the delegation\n\n14/10/2015\n\n{}",
                body(4)
            )
        );
        assert!(
            edits
                .iter()
                .all(|e| std::ptr::eq(e.rule(), &OUTSIDE_ARTICLE_BLOCK))
        );
        // Negative: text with no long lines at all is left alone.
        let short = "Alpha\nBeta\nGamma\n";
        assert_eq!(run(short).0, short);
    }

    #[test]
    fn short_paragraphs_at_the_edges_of_the_article_stay() {
        let text = format!(
            "* Home\n* News\nThe talks collapsed.\n\n{}He declined to comment.\n\n* Privacy\n* Terms\n",
            body(3)
        );
        let (out, _) = run(&text);
        assert_eq!(
            out,
            format!(
                "The talks collapsed.\n\n{}He declined to comment.\n\n",
                body(3)
            )
        );
    }

    #[test]
    fn user_rules_drop_matching_lines() {
        let rules = crate::rules::RulesFile::parse(
            "[[boilerplate]]\nname = \"acme-promo-line\"\npattern = \"^Get ACME Premium\"\n",
        )
        .expect("parses");
        let config = Config {
            rules: Some(std::sync::Arc::new(rules)),
            ..Default::default()
        };
        let text = format!("{}Get ACME Premium today\n\n{}", body(3), body(2));
        let (out, edits) = run_with(&text, &config, None);
        assert!(!out.contains("ACME"));
        assert!(edits.iter().any(|e| e.rule().name == "acme-promo-line"));
        let (out, _) = run_with(
            &format!("{}ACME said so.\n\n{}", body(3), body(2)),
            &config,
            None,
        );
        assert!(out.contains("ACME said so."));
    }

    #[test]
    fn never_empty_and_idempotent() {
        assert!(run("").1.is_empty());
        let only_chrome = "Subscribe\nShare\n";
        assert_eq!(run(only_chrome).0, only_chrome);
        let text = format!("* Home\nHeadline here now\n\n{}Tags\nShare\n", body(3));
        let (once, _) = run(&text);
        let (twice, edits) = run(&once);
        assert_eq!(once, twice);
        assert!(edits.is_empty());
    }

    /// A line is a data row or not whatever side of its closing quotation
    /// mark the comma is on: the quotes stage moves it inside afterwards.
    #[test]
    fn comma_inside_or_outside_a_quotation_reads_the_same() {
        assert!(comma_space("taken, said"));
        assert!(comma_space("\u{201C}taken\u{201D}, \u{2013} said"));
        assert!(comma_space("\u{201C}taken,\u{201D} said"));
        assert!(comma_space("\"taken,\" said"));
        // Negative: a comma inside a number or before a word.
        assert!(!comma_space("1,000 people"));
        assert!(!comma_space("a,b and c,\u{201D}"));
    }

    /// The whole stage on a line the quotes stage rewrites: the same
    /// decision before and after (cleaning the output again drops nothing).
    #[test]
    fn a_dash_attribution_is_judged_the_same_after_the_quotes_stage() {
        let head = "Prices rose 5 % in 2014\u{2013}2015, see pages 10\u{2013}12.\nPrices rose 5 % in 2014\u{2013}2015, see pages 10\u{2013}12.\n";
        let raw = format!(
            "{head}\u{201C}The decision was taken\u{201D}, \u{2013} said Peskov. He wrote /TASS/ and 14/10/2015 and and/or. \u{A9} Sputnik / Vladimir Fedorenko\n"
        );
        let fixed = format!(
            "{head}\u{201C}The decision was taken,\u{201D} said Peskov. He wrote /TASS/ and 14/10/2015 and and/or. \u{A9} Sputnik / Vladimir Fedorenko\n"
        );
        assert_eq!(run(&raw).1.len(), run(&fixed).1.len());
    }
}
