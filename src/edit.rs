//! Edits, rules, and the one place where text is spliced.
//!
//! A stage never changes text itself. It reads its input and pushes
//! [`Edit`]s; [`apply`] makes one pass over them and builds the next text.
//! Because every output is made only from edits, the notes cannot drift
//! from the text, and every edit can be undone (`mend restore`).

use std::borrow::Cow;
use std::ops::Range;

use crate::stage::Stage;

/// A named rule: what defect an edit repairs.
///
/// Names are kebab-case and name the defect, not the action
/// (`nbsp-run`, `html-entity`), so that they read well after "allow".
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The stage the rule belongs to.
    pub stage: Stage,
    /// Kebab-case name, unique within its stage.
    pub name: &'static str,
    /// One line saying what the rule matches; the default reason of its edits.
    pub summary: &'static str,
}

impl Rule {
    /// A rule. Used in `const` items, one per rule, next to the code that applies it.
    pub const fn new(stage: Stage, name: &'static str, summary: &'static str) -> Rule {
        Rule {
            stage,
            name,
            summary,
        }
    }
}

/// Whether an edit changes the text or only records a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditKind {
    /// Replace `span` with `insert`.
    Change,
    /// Record something about `span` (for example unrecoverable loss) without changing it.
    Finding,
}

/// One change to a stage's input.
///
/// Invariant: `span.start <= span.end`, both on char boundaries of the
/// stage's input. Edits are built only through the constructors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    span: Range<usize>,
    insert: Cow<'static, str>,
    rule: &'static Rule,
    detail: Option<Box<str>>,
    kind: EditKind,
}

impl Edit {
    /// Replace `span` with `insert`.
    pub fn replace(
        span: Range<usize>,
        insert: impl Into<Cow<'static, str>>,
        rule: &'static Rule,
    ) -> Edit {
        debug_assert!(span.start <= span.end);
        Edit {
            span,
            insert: insert.into(),
            rule,
            detail: None,
            kind: EditKind::Change,
        }
    }

    /// Delete `span`.
    pub fn delete(span: Range<usize>, rule: &'static Rule) -> Edit {
        Edit::replace(span, "", rule)
    }

    /// Insert `text` at `at`.
    pub fn insert(at: usize, text: impl Into<Cow<'static, str>>, rule: &'static Rule) -> Edit {
        Edit::replace(at..at, text, rule)
    }

    /// Record a finding about `span` without changing the text.
    pub fn finding(span: Range<usize>, rule: &'static Rule, detail: impl Into<Box<str>>) -> Edit {
        Edit {
            span,
            insert: Cow::Borrowed(""),
            rule,
            detail: Some(detail.into()),
            kind: EditKind::Finding,
        }
    }

    /// The same edit with a reason more specific than the rule's summary
    /// (the chain a mojibake repair undid, the evidence it used, ...).
    #[must_use]
    pub fn with_detail(mut self, detail: impl Into<Box<str>>) -> Edit {
        self.detail = Some(detail.into());
        self
    }

    /// The same edit of a text that starts `by` bytes later (an edit of a
    /// piece, moved into the whole).
    #[must_use]
    pub(crate) fn shifted(mut self, by: usize) -> Edit {
        self.span = self.span.start + by..self.span.end + by;
        self
    }

    /// The span replaced, in the stage's input.
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The text inserted (empty for a deletion or a finding).
    pub fn inserted(&self) -> &str {
        &self.insert
    }

    /// The rule that made the edit.
    pub fn rule(&self) -> &'static Rule {
        self.rule
    }

    /// [`Edit::reason`], borrowed when it is the rule's own summary (most
    /// edits): the notes of a large document hold one per edit.
    pub fn reason_static(&self) -> Cow<'static, str> {
        match &self.detail {
            Some(d) => Cow::Owned(d.to_string()),
            None => Cow::Borrowed(self.rule.summary),
        }
    }

    /// The reason: the detail if there is one, else the rule's summary.
    pub fn reason(&self) -> &str {
        self.detail.as_deref().unwrap_or(self.rule.summary)
    }

    /// Change or finding.
    pub fn kind(&self) -> EditKind {
        self.kind
    }

    /// Whether the edit changes nothing: a replacement by the same text.
    fn is_noop(&self, text: &str) -> bool {
        self.kind == EditKind::Change && text.get(self.span.clone()) == Some(&*self.insert)
    }
}

/// Puts `edits` in order, drops those that overlap an earlier one or that
/// change nothing, and builds the text they make.
///
/// Returns `Cow::Borrowed` when no edit changes anything. Edits that are
/// out of bounds or not on char boundaries are dropped (a stage bug, caught
/// by a debug assertion; input can never cause a panic here).
pub fn apply<'a>(text: &'a str, edits: &mut Vec<Edit>) -> Cow<'a, str> {
    let mut out = String::new();
    if apply_into(text, edits, &mut out) {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// [`apply`], building the text in `out` (emptied first; its allocation
/// is reused, so a caller that keeps one buffer per document does not
/// fault in fresh pages for every stage of a large one). Returns whether
/// any edit changes the text; if not, `out` is left empty.
pub fn apply_into(text: &str, edits: &mut Vec<Edit>, out: &mut String) -> bool {
    out.clear();
    if !prepare(text, edits) {
        return false;
    }
    // The exact length: a buffer that holds it is not grown (a large one
    // grown by realloc faults in fresh pages), and the text it becomes is
    // held no larger than it is.
    out.reserve_exact(output_len(text, edits));
    splice(text, edits, out);
    true
}

/// [`apply`], building the text in a buffer the thread kept
/// ([`take_buffer`]); `None` when no edit changes anything. A buffer is
/// taken only for a text that will be written: one taken and not written
/// would be kept in place of one whose pages are faulted in already.
pub(crate) fn apply_kept(text: &str, edits: &mut Vec<Edit>) -> Option<String> {
    if !prepare(text, edits) {
        return None;
    }
    let mut out = take_buffer(output_len(text, edits));
    splice(text, edits, &mut out);
    Some(out)
}

/// The first half of [`apply_into`]: puts `edits` in order and drops those
/// it drops. Returns whether any edit left changes the text.
fn prepare(text: &str, edits: &mut Vec<Edit>) -> bool {
    if edits.is_empty() {
        return false;
    }
    // Stable: two insertions at one point keep the order the stage gave.
    edits.sort_by_key(|e| (e.span.start, e.span.end));
    let mut last_end = 0;
    let mut last_start = usize::MAX;
    edits.retain(|e| {
        let ok = e.span.end <= text.len()
            && text.is_char_boundary(e.span.start)
            && text.is_char_boundary(e.span.end);
        debug_assert!(ok, "edit {:?} out of bounds or off a char boundary", e);
        if !ok || e.is_noop(text) {
            return false;
        }
        if e.kind == EditKind::Finding {
            return true;
        }
        // An insertion at the point where a replacement ends is fine; two
        // changes covering the same byte are not.
        let overlaps = e.span.start < last_end
            || (e.span.start == last_start && e.span.is_empty() && last_start != last_end);
        debug_assert!(!overlaps, "overlapping edit {:?}", e);
        if overlaps {
            return false;
        }
        last_start = e.span.start;
        last_end = e.span.end;
        true
    });
    edits.iter().any(|e| e.kind == EditKind::Change)
}

/// The second half of [`apply_into`]: appends to `out` the text that
/// `edits` (as [`prepare`] left them) make of `text`.
fn splice(text: &str, edits: &[Edit], out: &mut String) {
    let mut pos = 0;
    for e in edits.iter().filter(|e| e.kind == EditKind::Change) {
        out.push_str(&text[pos..e.span.start]);
        out.push_str(&e.insert);
        pos = e.span.end;
    }
    out.push_str(&text[pos..]);
}

/// The length of the text that `edits` (as [`prepare`] left them:
/// sorted, in bounds, changes not overlapping) make of `text`.
fn output_len(text: &str, edits: &[Edit]) -> usize {
    let (removed, inserted) = edits
        .iter()
        .filter(|e| e.kind == EditKind::Change)
        .fold((0, 0), |(r, i), e| (r + e.span.len(), i + e.insert.len()));
    // Changes do not overlap, so they remove at most the whole text.
    text.len().saturating_sub(removed) + inserted
}

/// The largest text buffer a thread keeps for later use: past this,
/// saving page faults is not worth holding one more copy of a document.
/// (Buffers of 1 MB or more come fresh from the kernel, which zeroes every
/// page: the three documents of 10-20 MB in the benchmark corpus cost
/// 137,000 page faults with a limit of 4 MB, 102,000 with this one when
/// the pipeline alone kept one buffer, within a document. Unit tests use
/// 64 KB, to cover both sides of it at a size a debug build cleans quickly.)
pub(crate) const BUFFER_MAX: usize = if cfg!(test) { 64 << 10 } else { 32 << 20 };

/// How many text buffers a thread keeps at most. Within a document, the
/// pipeline's last text but one is kept, and [`settle`] keeps its passes'
/// texts: with two, a pass of a large document is built in pages already
/// faulted in. (Measured on the three long documents of the benchmark
/// corpus: 106,900 page faults before the buffers were shared, 76,200
/// with one kept, 73,200 with two; four kept raised the peak memory of a
/// run on all cores by 20 MB, two did not.)
const BUFFERS_KEPT: usize = 2;

thread_local! {
    /// Text buffers (empty, with their allocation) that a thread's stages
    /// and pipeline hand to each other ([`take_buffer`], [`keep_buffer`]),
    /// so that a large document's texts are built in pages already faulted
    /// in rather than in fresh ones, stage after stage and document after
    /// document ([`Pipeline`](crate::Pipeline) bounds what stays between
    /// documents with [`keep_buffers_for`]).
    static BUFFERS: std::cell::RefCell<Vec<String>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// An empty buffer for a text of about `len` bytes: the smallest kept one
/// that holds it, else the largest kept one (for `reserve` to grow), else
/// a new one with that capacity. Small needs (under 4 KB) take a new one:
/// the heap serves them without fresh pages. (A text may so be built in a
/// buffer larger than it; [`Pipeline`](crate::Pipeline) shrinks the last
/// one, which it hands out: [`shrink_text`].)
pub(crate) fn take_buffer(len: usize) -> String {
    const SMALL: usize = 4 << 10;
    if len < SMALL {
        return String::with_capacity(len);
    }
    let taken = BUFFERS.with_borrow_mut(|kept| {
        let best = kept
            .iter()
            .enumerate()
            .filter(|(_, b)| b.capacity() >= len)
            .min_by_key(|(_, b)| b.capacity())
            .or_else(|| {
                kept.iter()
                    .enumerate()
                    .filter(|(_, b)| b.capacity() < len)
                    .max_by_key(|(_, b)| b.capacity())
            })
            .map(|(i, _)| i)?;
        Some(kept.swap_remove(best))
    });
    match taken {
        Some(mut b) => {
            b.reserve_exact(len);
            b
        }
        None => String::with_capacity(len),
    }
}

/// Gives back the part of `text`'s buffer it does not use, if that is
/// more than a quarter of its length and 4 KB: a text handed out should
/// not hold the larger buffer it was built in ([`take_buffer`]). (Glibc
/// shrinks a buffer in place, without a copy.)
pub(crate) fn shrink_text(text: &mut String) {
    if text.capacity() - text.len() > (text.len() / 4).max(4 << 10) {
        text.shrink_to_fit();
    }
}

/// Gives `buf` back for [`take_buffer`] (emptied). Buffers larger than
/// [`BUFFER_MAX`] or without an allocation are dropped, and so is the
/// smallest when [`BUFFERS_KEPT`] are kept already.
pub(crate) fn keep_buffer(mut buf: String) {
    if buf.capacity() == 0 || buf.capacity() > BUFFER_MAX {
        return;
    }
    buf.clear();
    BUFFERS.with_borrow_mut(|kept| {
        kept.push(buf);
        if kept.len() > BUFFERS_KEPT
            && let Some(i) = (0..kept.len()).min_by_key(|&i| kept[i].capacity())
        {
            kept.swap_remove(i);
        }
    });
}

/// Bounds the buffers a thread keeps, for a document of about `len` bytes
/// (`None`: between documents). Drops every kept buffer far larger than the
/// document needs (over four times `len` and over 1 MB), so that a run
/// that meets one large document among small ones does not hold its
/// buffers; between documents, keeps only the largest buffer, which is
/// what the next large document would take first.
pub(crate) fn keep_buffers_for(len: Option<usize>) {
    BUFFERS.with_borrow_mut(|kept| match len {
        Some(len) => kept.retain(|b| !too_big_to_keep(b.capacity(), len)),
        None => {
            if let Some(i) = (0..kept.len()).max_by_key(|&i| kept[i].capacity()) {
                let largest = kept.swap_remove(i);
                kept.clear();
                kept.push(largest);
            }
        }
    });
}

/// Whether a buffer of `capacity` bytes, kept by a thread from an earlier
/// document, is too big to keep for a document of `len` bytes: over four
/// times its size and over 1 MB. A thread that moves on from a long
/// document to short ones gives the long one's pages back, so that another
/// thread's long document does not meet them in the peak.
pub(crate) fn too_big_to_keep(capacity: usize, len: usize) -> bool {
    capacity > (4 * len).max(1 << 20)
}

/// Maps positions in a stage's output back to its input, from the stage's
/// applied (sorted, non-overlapping) edits.
///
/// A position inside an inserted text maps to the start of the span it
/// replaced (for a span start) or its end (for a span end).
#[derive(Debug, Default, Clone)]
pub struct OffsetMap {
    /// (output start, output end, input start, input end) of each change.
    pieces: Vec<(usize, usize, usize, usize)>,
}

impl OffsetMap {
    /// The map of `edits`, which must be as [`apply`] left them.
    pub fn new(edits: &[Edit]) -> OffsetMap {
        let mut pieces = Vec::with_capacity(edits.len());
        let mut delta: isize = 0;
        for e in edits.iter().filter(|e| e.kind == EditKind::Change) {
            let out_start = (e.span.start as isize + delta) as usize;
            let out_end = out_start + e.insert.len();
            pieces.push((out_start, out_end, e.span.start, e.span.end));
            delta += e.insert.len() as isize - e.span.len() as isize;
        }
        OffsetMap { pieces }
    }

    /// The input position of output position `pos`; `end` says whether it
    /// ends a span. Inside an inserted text, a start maps to the start of
    /// the replaced input and an end to its end; at a deletion, a start maps
    /// after the deleted input and an end before it.
    pub fn to_input(&self, pos: usize, end: bool) -> usize {
        let idx = if end {
            self.pieces.partition_point(|p| p.0 < pos)
        } else {
            self.pieces.partition_point(|p| p.0 <= pos)
        };
        let Some(&(os, oe, is, ie)) = idx.checked_sub(1).and_then(|i| self.pieces.get(i)) else {
            return pos;
        };
        if pos < oe {
            if end { ie } else { is }
        } else if pos == os && os == oe {
            ie
        } else {
            pos - oe + ie
        }
    }

    /// The input span of output span `span`.
    pub fn span_to_input(&self, span: Range<usize>) -> Range<usize> {
        let s = self.to_input(span.start, false);
        let e = self.to_input(span.end, true).max(s);
        s..e
    }
}

/// Composes two rounds of edits into one, on the first round's input.
///
/// `first` are edits of `input` as [`apply`] left them; `second` are edits
/// of the text they made. An edit of the second round that touches no text
/// made by the first maps back as it is; where rounds meet, the edits
/// involved become one replacement of the input region they cover, named
/// after the first round's edit with both reasons in its detail. Used by
/// stages that look again at their own output (so a second run finds nothing).
///
/// The middle text (what `first` makes of `input`) is not built: each
/// group reads its region of it from `input` and the first round's
/// inserted texts (`middle_text`), so a large document is held once
/// less while a settling stage composes its passes.
pub fn compose(input: &str, first: &[Edit], second: &[Edit]) -> Vec<Edit> {
    let mut first_out = first.to_vec();
    // As `apply` would leave them (sorted, no-ops and overlaps dropped).
    prepare(input, &mut first_out);
    let map = OffsetMap::new(&first_out);
    let changes: Vec<&Edit> = first_out
        .iter()
        .filter(|e| e.kind == EditKind::Change)
        .collect();
    // Output spans of the first round's changes, in the middle text.
    let outs: Vec<Range<usize>> = map.pieces.iter().map(|p| p.0..p.1).collect();
    let touches = |o: &Range<usize>, s: &Range<usize>| {
        (s.start < o.end && o.start < s.end)
            || (s.is_empty() && o.start < s.start && s.start < o.end)
            || (o.is_empty() && s.start < o.start && o.start < s.end)
    };
    // Groups: a region of the middle text, the first-round changes and
    // second-round edits in it.
    let mut groups: Vec<(Range<usize>, Vec<usize>, Vec<usize>)> = Vec::new();
    let mut result: Vec<Edit> = Vec::new();
    for (j, e) in second.iter().enumerate() {
        let hit: Vec<usize> = (0..outs.len())
            .filter(|&k| touches(&outs[k], &e.span))
            .collect();
        if hit.is_empty() {
            let span = map.span_to_input(e.span.clone());
            result.push(Edit { span, ..e.clone() });
            continue;
        }
        let mut region = e.span.clone();
        for &k in &hit {
            region.start = region.start.min(outs[k].start);
            region.end = region.end.max(outs[k].end);
        }
        match groups.last_mut().filter(|g| g.0.end >= region.start) {
            Some(g) => {
                g.0.end = g.0.end.max(region.end);
                g.1.extend(hit);
                g.2.push(j);
            }
            None => groups.push((region, hit, vec![j])),
        }
    }
    let mut merged = vec![false; changes.len()];
    for (region, hit, js) in groups {
        let mut local: Vec<Edit> = js
            .iter()
            .map(|&j| {
                let e = &second[j];
                Edit {
                    span: e.span.start - region.start..e.span.end - region.start,
                    ..e.clone()
                }
            })
            .collect();
        let mid = middle_text(input, &changes, &map, region.clone());
        let text = apply(&mid, &mut local).into_owned();
        let span = map.to_input(region.start, false)..map.to_input(region.end, true);
        let k0 = hit.iter().copied().min().unwrap_or(0);
        for &k in &hit {
            merged[k] = true;
        }
        // A first-round change inside the region that no second-round edit
        // touches (a deletion between two that do) is inside the
        // replacement too: it must not stay as an edit of its own.
        let from = outs.partition_point(|o| o.start < region.start);
        for (k, o) in outs.iter().enumerate().skip(from) {
            if o.start > region.end {
                break;
            }
            let inside = if o.is_empty() {
                region.start < o.start && o.start < region.end
            } else {
                o.end <= region.end
            };
            merged[k] |= inside;
        }
        let base = changes[k0];
        let why = format!("{}; then {}", base.reason(), second[js[0]].reason());
        result.push(Edit::replace(span, text, base.rule).with_detail(why));
    }
    // First-round edits not merged into a group stay as they were.
    let mut ci = 0;
    for e in &first_out {
        if e.kind == EditKind::Change {
            if !merged[ci] {
                result.push(e.clone());
            }
            ci += 1;
        } else {
            result.push(e.clone());
        }
    }
    result.sort_by_key(|e| (e.span.start, e.span.end));
    result
}

/// The bytes `range` of the text that `changes` (the changes of edits of
/// `input` as [`prepare`] left them, whose offset map is `map`) make of
/// `input`: what `apply(input, ..)[range]` is, without building the rest.
/// `range` must be on char boundaries of that text (as a span of an edit
/// of it is); a range that is not gives what it covers of whole pieces
/// (never a panic).
fn middle_text(input: &str, changes: &[&Edit], map: &OffsetMap, range: Range<usize>) -> String {
    let pieces = &map.pieces;
    let mut out = String::with_capacity(range.len());
    let mut pos = range.start;
    // The first change whose inserted text ends after `pos`: those before
    // it lie wholly before `pos` (or insert nothing at it).
    let mut k = pieces.partition_point(|p| p.1 <= pos);
    while pos < range.end {
        // Before change `k` (or after the last), the text is the input
        // shifted by what the changes before it added or removed.
        let (next, shift) = match pieces.get(k) {
            Some(&(os, _, is, _)) => (os.min(range.end), os as isize - is as isize),
            None => (
                range.end,
                k.checked_sub(1)
                    .map_or(0, |j| pieces[j].1 as isize - pieces[j].3 as isize),
            ),
        };
        if pos < next {
            let from = (pos as isize - shift) as usize;
            let to = (next as isize - shift) as usize;
            out.push_str(input.get(from..to).unwrap_or(""));
            pos = next;
        }
        let Some(&(os, oe, _, _)) = pieces.get(k).filter(|p| p.0 < range.end) else {
            break;
        };
        // Inside change `k`'s inserted text.
        let end = oe.min(range.end);
        if pos < end {
            let insert = changes.get(k).map_or("", |e| &*e.insert);
            out.push_str(insert.get(pos - os..end - os).unwrap_or(""));
            pos = end;
        }
        k += 1;
    }
    out
}

/// Reads a stage's result again until it is stable: `edits` are the first
/// pass's edits of `text`; `pass` runs the stage once on a text. Each later
/// pass runs on the result so far and is folded in with [`compose`], until
/// a pass changes nothing; findings of later passes are dropped (they
/// repeat what the first pass noted). Returns the edits of `text` that make
/// the stable result, or `None` when `max_passes` passes were not enough:
/// the stage should then leave the text as it is, which a second run, on
/// the same text, decides again the same way. Either way, a second run of
/// the stage on its own output changes nothing.
pub fn settle(
    text: &str,
    mut edits: Vec<Edit>,
    max_passes: usize,
    mut pass: impl FnMut(&str, &mut Vec<Edit>),
) -> Option<Vec<Edit>> {
    // The texts of the passes are built in the thread's kept buffers and
    // given back: for a large document, no fresh pages per pass.
    let Some(mut current) = apply_kept(text, &mut edits) else {
        return Some(edits);
    };
    let mut again = Vec::new();
    for _ in 1..max_passes {
        again.clear();
        pass(&current, &mut again);
        again.retain(|e| e.kind == EditKind::Change);
        match fold_pass(text, &mut edits, &mut current, &mut again) {
            Fold::Stable => {
                keep_buffer(current);
                return Some(edits);
            }
            Fold::Folded => {}
            Fold::Differs => return None,
        }
    }
    keep_buffer(current);
    None
}

/// What [`fold_pass`] made of a later pass of a settling stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fold {
    /// The pass changes nothing: the text is stable.
    Stable,
    /// The pass was folded into the edits, and the text is its result.
    Folded,
    /// Debug builds only: the composed edits do not make what the pass
    /// made (a bug in [`compose`], caught by a debug assertion); the stage
    /// should leave the text as it is.
    Differs,
}

/// One later pass of a settling stage ([`settle`]), folded in: `edits` are
/// the edits of `text` so far, `current` the text they make, `again` the
/// pass's changes of `current` (put in order, and those [`apply`] drops
/// dropped, as [`apply`] leaves them). Unless the pass changes nothing,
/// `edits` become the composition of both ([`compose`], as [`apply`]
/// leaves them) and `current` the text they make. (On [`Fold::Differs`]
/// they are the composition too, which the stage should not use.)
///
/// That text is built from `text` and the composed edits, after
/// `current` is given up: a large document's stage input, its last pass's
/// result and the next one are never held at once (three copies of a
/// 1 GB document took 3 GB). It is the text the pass's changes make of
/// `current` (checked in debug builds, where that text is built too).
pub(crate) fn fold_pass(
    text: &str,
    edits: &mut Vec<Edit>,
    current: &mut String,
    again: &mut Vec<Edit>,
) -> Fold {
    if !prepare(current, again) {
        return Fold::Stable;
    }
    // The pass applied, to check the composition against: debug builds
    // only (in a release build it would be one more copy of the text).
    let expected = cfg!(debug_assertions).then(|| {
        let mut t = String::new();
        splice(current, again, &mut t);
        t
    });
    keep_buffer(std::mem::take(current));
    // The edits so far go before the next text is built, too.
    *edits = compose(text, edits, again);
    let next = apply_kept(text, edits).unwrap_or_else(|| {
        // The passes undo each other: the text is the stage's input.
        let mut same = take_buffer(text.len());
        same.push_str(text);
        same
    });
    if expected.is_some_and(|t| t != next) {
        debug_assert!(false, "composed passes differ from the passes applied");
        keep_buffer(next);
        return Fold::Differs;
    }
    *current = next;
    Fold::Folded
}

#[cfg(test)]
mod tests {
    use super::*;

    static R: Rule = Rule::new(Stage::Normalize, "test-rule", "a rule for tests");

    #[test]
    fn apply_without_edits_borrows() {
        let mut v = Vec::new();
        assert!(matches!(apply("abc", &mut v), Cow::Borrowed("abc")));
    }

    #[test]
    fn apply_into_reuses_the_buffer_and_says_whether_anything_changed() {
        let mut buf = String::with_capacity(64);
        let cap = buf.capacity();
        let mut v = vec![Edit::replace(1..2, "B", &R)];
        assert!(apply_into("abc", &mut v, &mut buf));
        assert_eq!(buf, "aBc");
        assert_eq!(buf.capacity(), cap, "no new allocation");
        // Only a no-op: nothing changes, and the old contents are gone.
        let mut v = vec![Edit::replace(1..2, "b", &R)];
        assert!(!apply_into("abc", &mut v, &mut buf));
        assert!(buf.is_empty());
        assert!(v.is_empty());
    }

    /// Kept buffers are taken by best fit, bounded in number and size,
    /// and dropped when far larger than the document needs.
    #[test]
    fn kept_buffers_fit_and_are_bounded() {
        // Each test runs on its own thread: the buffers start empty.
        let with_cap = |n: usize| String::with_capacity(n);
        keep_buffer(with_cap(10_000));
        keep_buffer(with_cap(30_000));
        // Best fit: the smallest that holds 9,000 bytes.
        assert_eq!(take_buffer(9_000).capacity(), 10_000);
        // The smallest that holds 5,000, however much larger.
        keep_buffer(with_cap(10_000));
        assert_eq!(take_buffer(5_000).capacity(), 10_000);
        assert_eq!(take_buffer(20_000).capacity(), 30_000);
        // Nothing holds 50,000: the largest smaller one, grown.
        let b = take_buffer(50_000);
        assert!(b.capacity() >= 50_000 && b.is_empty());
        // Small needs never take a kept buffer.
        keep_buffer(b);
        assert!(take_buffer(100).capacity() < 4096);
        // At most two kept: the smallest goes.
        keep_buffer(with_cap(5_000));
        keep_buffer(with_cap(8_000));
        BUFFERS.with_borrow(|k| {
            let mut caps: Vec<usize> = k.iter().map(String::capacity).collect();
            caps.sort_unstable();
            assert_eq!(caps.len(), 2);
            assert!(caps[0] == 8_000 && caps[1] >= 50_000, "{caps:?}");
        });
        // Between documents only the largest stays; a document far smaller
        // (4 x 10 = 40 bytes, under the 1 MB floor) keeps it still.
        keep_buffers_for(None);
        BUFFERS.with_borrow(|k| assert_eq!(k.len(), 1));
        keep_buffers_for(Some(10));
        BUFFERS.with_borrow(|k| assert_eq!(k.len(), 1));
        // Too large to keep, or nothing to keep: dropped.
        keep_buffers_for(Some(0));
        keep_buffer(with_cap(BUFFER_MAX + 1));
        keep_buffer(String::new());
        BUFFERS.with_borrow(|k| assert_eq!(k.len(), 1));
        // Kept buffers come back empty whatever they held.
        BUFFERS.with_borrow_mut(Vec::clear);
        keep_buffer("x".repeat(5_000));
        assert_eq!(take_buffer(5_000), "");
    }

    /// A buffer far larger than the document is dropped at its start
    /// (over four times its length and over 1 MB).
    #[test]
    fn kept_buffers_far_larger_than_the_document_go() {
        BUFFERS.with_borrow_mut(|k| k.push(String::with_capacity(3 << 20)));
        keep_buffers_for(Some(1 << 20));
        BUFFERS.with_borrow(|k| assert_eq!(k.len(), 1));
        keep_buffers_for(Some(500_000));
        BUFFERS.with_borrow(|k| assert!(k.is_empty()));
    }

    /// Edits of `text` from proptest's numbers: spans moved to char
    /// boundaries, some insertions, deletions, no-ops, findings and
    /// overlaps (which `apply` drops in release builds only; so they are
    /// left out under `debug_assertions`).
    fn edits_of(text: &str, raw: &[(usize, usize, u8, u8)]) -> Vec<Edit> {
        const INSERTS: [&str; 6] = ["", "x", "\u{A0}", "\r\n", "Путин ", "\n\n"];
        let floor = |mut i: usize| {
            i %= text.len() + 1;
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let mut out: Vec<Edit> = Vec::new();
        let mut last_end = 0;
        for &(a, len, ins, kind) in raw {
            let start = floor(a);
            let end = floor(start + len % 40).max(start);
            if cfg!(debug_assertions) && start < last_end {
                continue;
            }
            let insert = INSERTS[usize::from(ins) % INSERTS.len()];
            let e = match kind % 5 {
                0 => Edit::finding(start..end, &R, "noted"),
                1 => Edit::replace(start..end, text[start..end].to_owned(), &R),
                2 => Edit::insert(start, insert, &R),
                _ => Edit::replace(start..end, insert, &R),
            };
            if e.kind == EditKind::Change {
                last_end = last_end.max(end);
            }
            out.push(e);
        }
        out
    }

    proptest::proptest! {
        /// `apply_kept` (in a kept buffer) and `apply_into` (in any buffer)
        /// build what `apply` builds, keep the same edits, and reserve
        /// exactly the output's length, whatever buffers are kept.
        #[test]
        fn kept_and_into_apply_as_apply(
            text in "([ a-zA-Z.,\r\n\u{A0}é\u{301}Пу東\u{1F600}]|Путин сказал |the quick brown fox |\r\n\r\n|\n\n){0,300}",
            raw in proptest::collection::vec((0usize..20_000, 0usize..60, 0u8..6, 0u8..5), 0..40),
            kept in proptest::collection::vec(0usize..20_000, 0..3),
        ) {
            let edits = edits_of(&text, &raw);
            for cap in kept {
                keep_buffer(String::with_capacity(cap));
            }
            let mut slow = edits.clone();
            let want = apply(&text, &mut slow);
            let mut fast = edits.clone();
            let got = apply_kept(&text, &mut fast);
            proptest::prop_assert_eq!(&fast, &slow);
            match (&want, &got) {
                (Cow::Borrowed(_), None) => {}
                (Cow::Owned(w), Some(g)) => {
                    proptest::prop_assert_eq!(w, g);
                    proptest::prop_assert_eq!(output_len(&text, &fast), g.len());
                }
                _ => proptest::prop_assert!(false, "{:?} / {:?}", want, got),
            }
            // Into a buffer holding text of its own, smaller or larger.
            for cap in [0, 3, text.len() * 3] {
                let mut out = "old".repeat(cap / 3);
                let mut into = edits.clone();
                let changed = apply_into(&text, &mut into, &mut out);
                proptest::prop_assert_eq!(&into, &slow);
                proptest::prop_assert_eq!(changed, matches!(want, Cow::Owned(_)));
                proptest::prop_assert_eq!(&out, if changed { &*want } else { "" });
            }
            // Shrunk, the text is the same, in a buffer not much larger.
            if let Some(mut g) = got {
                shrink_text(&mut g);
                proptest::prop_assert_eq!(&g, &*want);
                proptest::prop_assert!(g.capacity() <= g.len() + (g.len() / 4).max(4096));
                keep_buffer(g);
            }
        }
    }

    #[test]
    fn apply_sorts_and_splices() {
        let mut v = vec![
            Edit::replace(4..5, "E", &R),
            Edit::delete(0..1, &R),
            Edit::insert(2, "+", &R),
        ];
        assert_eq!(apply("abcdef", &mut v), "b+cdEf");
        assert_eq!(v[0].span(), 0..1);
    }

    #[test]
    fn apply_drops_overlaps_and_noops_in_release() {
        let mut v = vec![Edit::replace(0..2, "ab", &R)];
        assert!(matches!(apply("abc", &mut v), Cow::Borrowed(_)));
        assert!(v.is_empty());
    }

    #[test]
    fn findings_change_nothing() {
        let mut v = vec![Edit::finding(1..2, &R, "lost 1 char")];
        assert!(matches!(apply("abc", &mut v), Cow::Borrowed(_)));
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].reason(), "lost 1 char");
    }

    #[test]
    fn offset_map_round_trips_spans() {
        let input = "one  two\r\nthree";
        let mut v = vec![Edit::replace(3..5, " ", &R), Edit::replace(8..10, "\n", &R)];
        let out = apply(input, &mut v).into_owned();
        assert_eq!(out, "one two\nthree");
        let m = OffsetMap::new(&v);
        // "two" in output 4..7 is 5..8 in input.
        assert_eq!(m.span_to_input(4..7), 5..8);
        // "three" 8..13 -> 10..15
        assert_eq!(m.span_to_input(8..13), 10..15);
        // the replaced space maps to the whole run
        assert_eq!(m.span_to_input(3..4), 3..5);
        // before any edit: identity
        assert_eq!(m.span_to_input(0..3), 0..3);
    }

    #[test]
    fn compose_two_rounds() {
        let input = "a &amp;quot; b *x* c";
        // Round one: the entity; round two: a quote made of its result, and an unrelated edit.
        let mut first = vec![Edit::replace(2..12, "&quot;", &R)];
        let mid = apply(input, &mut first).into_owned();
        assert_eq!(mid, "a &quot; b *x* c");
        let second = vec![
            Edit::replace(2..8, "\"", &R),
            Edit::replace(11..12, "'", &R),
        ];
        let mut both = compose(input, &first, &second);
        assert_eq!(apply(input, &mut both), "a \" b 'x* c");
        assert_eq!(both.len(), 2);
        assert_eq!(both[0].span(), 2..12);
        assert_eq!(both[1].span(), 15..16);
        // Negative: no second round, nothing changes.
        let mut same = compose(input, &first, &[]);
        assert_eq!(apply(input, &mut same), mid);
    }

    /// `compose` reads the middle text in pieces: it builds no text of the
    /// whole input (which a large document would hold beside the stage's
    /// input and the last pass's result) and takes no kept buffer.
    #[test]
    fn compose_builds_no_middle_text() {
        let input = "a &amp;quot; b *x* c\n".repeat(1000);
        let mut first: Vec<Edit> = (0..1000)
            .map(|i| Edit::replace(i * 21 + 2..i * 21 + 12, "&quot;", &R))
            .collect();
        let mid = apply(&input, &mut first).into_owned();
        let second: Vec<Edit> = (0..1000)
            .map(|i| Edit::replace(i * 17 + 2..i * 17 + 8, "\"", &R))
            .collect();
        BUFFERS.with_borrow_mut(Vec::clear);
        let mut both = compose(&input, &first, &second);
        BUFFERS.with_borrow(|k| assert!(k.is_empty(), "a buffer of {:?}", k[0].capacity()));
        let mut again = second.clone();
        assert_eq!(apply(&input, &mut both), apply(&mid, &mut again));
    }

    /// A later pass is folded in after the last pass's text is given up:
    /// the next text is built in that text's buffer (so a large document
    /// never holds the stage's input and two passes' texts at once), and
    /// it is what the pass makes of the last text.
    #[test]
    fn fold_pass_gives_up_the_last_text_first() {
        let text = "xaab ".repeat(2000);
        let mut edits: Vec<Edit> = (0..2000)
            .map(|i| Edit::delete(i * 5..i * 5 + 1, &R))
            .collect();
        BUFFERS.with_borrow_mut(Vec::clear);
        let mut current = apply_kept(&text, &mut edits).expect("changes");
        assert_eq!(current, "aab ".repeat(2000));
        let before = current.as_ptr();
        let mut again: Vec<Edit> = (0..2000)
            .map(|i| Edit::delete(i * 4..i * 4 + 1, &R))
            .collect();
        let mut want = again.clone();
        let want = apply(&current, &mut want).into_owned();
        assert_eq!(
            fold_pass(&text, &mut edits, &mut current, &mut again),
            Fold::Folded
        );
        assert_eq!(current, want);
        assert_eq!(current.as_ptr(), before, "built in the last text's buffer");
        assert_eq!(apply(&text, &mut edits), want);
        // A pass that changes nothing leaves both as they are.
        let mut none = vec![Edit::replace(0..1, "a", &R)];
        assert_eq!(
            fold_pass(&text, &mut edits, &mut current, &mut none),
            Fold::Stable
        );
        assert_eq!(current, want);
    }

    proptest::proptest! {
        /// `middle_text` gives the bytes of the applied text in any range
        /// on its char boundaries.
        #[test]
        fn middle_text_is_a_slice_of_the_applied_text(
            text in "([ a-zA-Z.,\r\n\u{A0}é\u{301}Пу東\u{1F600}]|Путин сказал |\r\n\r\n){0,200}",
            raw in proptest::collection::vec((0usize..20_000, 0usize..60, 0u8..6, 0u8..5), 0..40),
            ranges in proptest::collection::vec((0usize..20_000, 0usize..20_000), 1..8),
        ) {
            let mut edits = edits_of(&text, &raw);
            let whole = apply(&text, &mut edits).into_owned();
            let map = OffsetMap::new(&edits);
            let changes: Vec<&Edit> =
                edits.iter().filter(|e| e.kind == EditKind::Change).collect();
            let floor = |mut i: usize| {
                i %= whole.len() + 1;
                while !whole.is_char_boundary(i) {
                    i -= 1;
                }
                i
            };
            for (a, b) in ranges {
                let (a, b) = (floor(a), floor(b));
                let range = a.min(b)..a.max(b);
                proptest::prop_assert_eq!(
                    middle_text(&text, &changes, &map, range.clone()),
                    &whole[range]
                );
            }
        }
    }

    #[test]
    fn compose_keeps_a_deletion_between_merged_edits_inside_the_group() {
        // Round one: `x` -> `y`, `.` deleted, `z` -> `w`; round two rewrites
        // both replacements, which meet at the deletion.
        let input = "ax.zb";
        let mut first = vec![
            Edit::replace(1..2, "y", &R),
            Edit::delete(2..3, &R),
            Edit::replace(3..4, "w", &R),
        ];
        let mid = apply(input, &mut first).into_owned();
        assert_eq!(mid, "aywb");
        let second = vec![Edit::replace(1..2, "Y", &R), Edit::replace(2..3, "W", &R)];
        let mut both = compose(input, &first, &second);
        assert_eq!(both.len(), 1, "{both:?}");
        assert_eq!(apply(input, &mut both), "aYWb");
        // Negative: a deletion just outside the group stays its own edit.
        let second = vec![Edit::replace(1..2, "Y", &R)];
        let mut both = compose(input, &first, &second);
        assert_eq!(both.len(), 3);
        assert_eq!(apply(input, &mut both), "aYwb");
    }

    #[test]
    fn settle_folds_later_passes_and_gives_up_on_growth() {
        // A pass that turns one `ab` into `b`: stable after three passes.
        let shrink = |t: &str, out: &mut Vec<Edit>| {
            if let Some(i) = t.find("ab") {
                out.push(Edit::delete(i..i + 1, &R));
            }
        };
        let mut first = Vec::new();
        shrink("aaab", &mut first);
        let mut edits = settle("aaab", first, 4, shrink).expect("settles");
        assert_eq!(apply("aaab", &mut edits), "b");
        // Negative: a pass that always adds a mark never settles.
        let grow = |t: &str, out: &mut Vec<Edit>| out.push(Edit::insert(t.len(), "!", &R));
        let mut first = Vec::new();
        grow("x", &mut first);
        assert!(settle("x", first, 4, grow).is_none());
    }

    #[test]
    fn offset_map_insertion_and_deletion() {
        let mut v = vec![Edit::insert(1, "XY", &R), Edit::delete(2..4, &R)];
        let out = apply("abcde", &mut v).into_owned();
        assert_eq!(out, "aXYbe");
        let m = OffsetMap::new(&v);
        assert_eq!(m.span_to_input(1..3), 1..1);
        assert_eq!(m.span_to_input(3..4), 1..2);
        assert_eq!(m.span_to_input(4..5), 4..5);
    }
}
