//! Placeholder: filled in by the performance work.
fn main() {}
