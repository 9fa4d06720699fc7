//! Hot-path benchmark (being written).

fn main() {}
