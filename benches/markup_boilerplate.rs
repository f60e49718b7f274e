//! Placeholder: filled in by the markup_boilerplate work.
fn main() {}
