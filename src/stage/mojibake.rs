//! Stage 2, mojibake: text decoded with the wrong codepage, repaired.
//!
//! Not filled in yet: this stage finds no edits.

use crate::edit::{Edit, Rule};
use crate::pipeline::Context;

/// The rules of this stage.
pub static RULES: &[&Rule] = &[];

/// Finds this stage's edits in `text`.
pub(crate) fn find(text: &str, cx: &Context<'_>, out: &mut Vec<Edit>) {
    let _ = (text, cx, out);
}
