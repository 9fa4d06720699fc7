//! Compile errors for misuse of `#[traceable]` (messages in `tests/ui/*.stderr`;
//! regenerate with `TRYBUILD=overwrite cargo test -p langsmith-macros --test ui`).
#![allow(missing_docs)]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
