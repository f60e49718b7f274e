//! Placeholder: filled in by the quotes work.
fn main() {}
