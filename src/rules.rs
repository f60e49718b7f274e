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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    boilerplate: Vec<RawLineRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLineRule {
    name: String,
    pattern: String,
    why: Option<String>,
}

impl RulesFile {
    /// Parses a rules file. Errors name the problem (the caller adds the path).
    pub fn parse(text: &str) -> Result<RulesFile, String> {
        let raw: Raw = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut disabled = BTreeSet::new();
        for name in &raw.disable {
            let found = find_rule(name)
                .ok_or_else(|| format!("unknown rule {name:?} in `disable` (see `mend rules`)"))?;
            disabled.insert((found.stage, found.name));
        }
        let mut boilerplate = Vec::new();
        for r in raw.boilerplate {
            if r.name.is_empty()
                || !r
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(format!("rule name {:?} must be kebab-case", r.name));
            }
            let pattern = Regex::new(&r.pattern)
                .map_err(|e| format!("rule {:?}: bad pattern: {e}", r.name))?;
            let why = r
                .why
                .unwrap_or_else(|| format!("matches user pattern {}", r.pattern));
            let rule: &'static Rule = Box::leak(Box::new(Rule::new(
                Stage::Boilerplate,
                Box::leak(r.name.into_boxed_str()),
                Box::leak(why.into_boxed_str()),
            )));
            boilerplate.push(UserLineRule { rule, pattern });
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
    fn rejects_unknown_rules_bad_names_and_fields() {
        assert!(RulesFile::parse("disable = [\"no-such-rule\"]").is_err());
        assert!(RulesFile::parse("[[boilerplate]]\nname = \"Bad Name\"\npattern = \"x\"").is_err());
        assert!(RulesFile::parse("[[boilerplate]]\nname = \"ok\"\npattern = \"(\"").is_err());
        assert!(RulesFile::parse("colour = 1").is_err());
    }
}
