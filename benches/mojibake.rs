//! Placeholder: filled in by the mojibake work.
fn main() {}
