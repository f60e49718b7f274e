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
    if edits.is_empty() {
        return Cow::Borrowed(text);
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
    if edits.iter().all(|e| e.kind == EditKind::Finding) {
        return Cow::Borrowed(text);
    }
    let grow: usize = edits.iter().map(|e| e.insert.len()).sum();
    let mut out = String::with_capacity(text.len() + grow);
    let mut pos = 0;
    for e in edits.iter().filter(|e| e.kind == EditKind::Change) {
        out.push_str(&text[pos..e.span.start]);
        out.push_str(&e.insert);
        pos = e.span.end;
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
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
