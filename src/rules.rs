//! User rules files (`--rules FILE`, TOML): disable built-in rules, add
//! boilerplate line patterns.
//!
//! ```toml
//! # Built-in rules to turn off, as "stage/rule" (or just "rule").
//! disable = ["boilerplate/photo-credit-line", "normalize/soft-hyphen"]
//!
//! # Extra boilerplate: a line matching `pattern` (a regex, matched against
//! # the line without its end-of-line) is dropped.
//! [[boilerplate]]
//! name = "acme-promo-line"
//! pattern = "^Get ACME Premium"
//! why = "ACME's own promotion line"
//! ```

use std::collections::BTreeSet;

use regex::Regex;
use serde::Deserialize;

use crate::edit::Rule;
use crate::stage::Stage;

/// A parsed and checked rules file.
#[derive(Debug, Default)]
pub struct RulesFile {
    disabled: BTreeSet<(Stage, &'static str)>,
    /// User boilerplate line rules, in file order.
    pub boilerplate: Vec<UserLineRule>,
    /// The source text, for the notes header.
    source: String,
}

/// One user line rule.
#[derive(Debug)]
pub struct UserLineRule {
    /// The rule, leaked once per process so that edits can point at it.
    pub rule: &'static Rule,
    /// Matched against a line without its end-of-line.
    pub pattern: Regex,
}

/// Limits that keep a user's rules from making mend slow or large: the
/// regex crate matches in linear time, and these bound the size of what it
/// compiles (and so the time per byte).
pub const MAX_USER_RULES: usize = 256;
/// The longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 4096;
/// The compiled size limit of one pattern (the regex crate's `size_limit`).
pub const MAX_COMPILED_SIZE: usize = 1 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    disable: Vec<toml::Spanned<String>>,
    #[serde(default)]
    boilerplate: Vec<RawLineRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLineRule {
    name: toml::Spanned<String>,
    pattern: toml::Spanned<String>,
    why: Option<String>,
}

/// `line N: ` for a byte offset of `text` (1-based, as editors count).
fn at_line(text: &str, offset: usize) -> String {
    let line = 1 + text
        .as_bytes()
        .iter()
        .take(offset)
        .filter(|&&b| b == b'\n')
        .count();
    format!("line {line}: ")
}

impl RulesFile {
    /// Parses a rules file. Errors name the problem and its line (the
    /// caller adds the path).
    pub fn parse(text: &str) -> Result<RulesFile, String> {
        // toml's own messages carry the line and column.
        let raw: Raw = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_owned())?;
        let mut disabled = BTreeSet::new();
        for name in &raw.disable {
            let found = find_rule(name.get_ref()).ok_or_else(|| {
                format!(
                    "{}unknown rule {:?} in `disable` (see `mend rules`)",
                    at_line(text, name.span().start),
                    name.get_ref()
                )
            })?;
            disabled.insert((found.stage, found.name));
        }
        if raw.boilerplate.len() > MAX_USER_RULES {
            return Err(format!(
                "{} boilerplate rules; at most {MAX_USER_RULES} are allowed",
                raw.boilerplate.len()
            ));
        }
        let mut boilerplate = Vec::new();
        for r in raw.boilerplate {
            let (name_span, name) = (r.name.span(), r.name.into_inner());
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(format!(
                    "{}rule name {name:?} must be kebab-case",
                    at_line(text, name_span.start)
                ));
            }
            let (pattern_span, pattern) = (r.pattern.span(), r.pattern.into_inner());
            let line = at_line(text, pattern_span.start);
            if pattern.len() > MAX_PATTERN_LEN {
                return Err(format!(
                    "{line}rule {name:?}: pattern of {} bytes; at most {MAX_PATTERN_LEN} are allowed",
                    pattern.len()
                ));
            }
            let compiled = regex::RegexBuilder::new(&pattern)
                .size_limit(MAX_COMPILED_SIZE)
                .dfa_size_limit(MAX_COMPILED_SIZE)
                .build()
                .map_err(|e| format!("{line}rule {name:?}: bad pattern: {e}"))?;
            let why = r
                .why
                .unwrap_or_else(|| format!("matches user pattern {pattern}"));
            let rule: &'static Rule = Box::leak(Box::new(Rule::new(
                Stage::Boilerplate,
                Box::leak(name.into_boxed_str()),
                Box::leak(why.into_boxed_str()),
            )));
            boilerplate.push(UserLineRule {
                rule,
                pattern: compiled,
            });
        }
        Ok(RulesFile {
            disabled,
            boilerplate,
            source: text.to_owned(),
        })
    }

    /// Whether `rule` is turned off.
    pub fn is_disabled(&self, rule: &Rule) -> bool {
        !self.disabled.is_empty() && self.disabled.contains(&(rule.stage, rule.name))
    }

    /// The file's text, as given.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Finds a built-in rule by `stage/rule` or by a bare rule name.
pub fn find_rule(name: &str) -> Option<&'static Rule> {
    let (stage, rule) = match name.split_once('/') {
        Some((s, r)) => (Some(Stage::from_name(s)?), r),
        None => (None, name),
    };
    Stage::ALL
        .into_iter()
        .filter(|s| stage.is_none_or(|x| x == *s))
        .flat_map(|s| s.rules().iter().copied())
        .find(|r| r.name == rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_disable_and_user_rules() {
        let f = RulesFile::parse(
            "disable = [\"decode/invalid-bytes\"]\n[[boilerplate]]\nname = \"acme\"\npattern = \"^ACME\"\n",
        )
        .expect("parses");
        assert!(f.is_disabled(&crate::stage::decode::INVALID_BYTES));
        assert!(!f.is_disabled(&crate::stage::decode::BYTE_ORDER_MARK));
        assert_eq!(f.boilerplate[0].rule.name, "acme");
        assert!(f.boilerplate[0].pattern.is_match("ACME news"));
    }

    #[test]
    fn errors_give_the_line() {
        let e = RulesFile::parse("# rules\n\ndisable = [\"no-such-rule\"]\n").expect_err("unknown");
        assert!(e.starts_with("line 3: unknown rule"), "{e}");
        let e =
            RulesFile::parse("[[boilerplate]]\nname = \"ok\"\npattern = \"(\"\n").expect_err("bad");
        assert!(e.starts_with("line 3: rule \"ok\": bad pattern"), "{e}");
        let e =
            RulesFile::parse("[[boilerplate]]\nname = \"ok\"\npattern = [\n").expect_err("toml");
        assert!(e.contains("line 3"), "{e}");
        // A good file parses: the line numbers are not an error themselves.
        assert!(RulesFile::parse("[[boilerplate]]\nname = \"ok\"\npattern = \"x\"\n").is_ok());
    }

    #[test]
    fn patterns_are_size_limited() {
        // Counted repetition compiles to a huge program: refused, not run.
        let huge = "[[boilerplate]]\nname = \"huge\"\npattern = \"\\\\w{1000}{1000}\"\n";
        let e = RulesFile::parse(huge).expect_err("too big");
        assert!(
            e.contains("rule \"huge\": bad pattern") && e.contains("size limit"),
            "{e}"
        );
        let long = format!(
            "[[boilerplate]]\nname = \"long\"\npattern = \"{}\"\n",
            "a".repeat(MAX_PATTERN_LEN + 1)
        );
        assert!(
            RulesFile::parse(&long)
                .expect_err("too long")
                .contains("at most")
        );
        let many: String = (0..=MAX_USER_RULES)
            .map(|i| format!("[[boilerplate]]\nname = \"r{i}\"\npattern = \"x{i}\"\n"))
            .collect();
        assert!(
            RulesFile::parse(&many)
                .expect_err("too many")
                .contains("at most 256")
        );
        // A modest counted repetition is fine.
        let ok = "[[boilerplate]]\nname = \"ok\"\npattern = \"^\\\\w{3,20} news$\"\n";
        assert!(RulesFile::parse(ok).is_ok());
    }

    #[test]
    fn rejects_unknown_rules_bad_names_and_fields() {
        assert!(RulesFile::parse("disable = [\"no-such-rule\"]").is_err());
        assert!(RulesFile::parse("[[boilerplate]]\nname = \"Bad Name\"\npattern = \"x\"").is_err());
        assert!(RulesFile::parse("[[boilerplate]]\nname = \"ok\"\npattern = \"(\"").is_err());
        assert!(RulesFile::parse("colour = 1").is_err());
    }
}
