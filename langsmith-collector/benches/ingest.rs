//! Ingest benchmark (filled in below).
fn main() {}
