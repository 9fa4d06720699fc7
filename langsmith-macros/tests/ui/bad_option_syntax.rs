use langsmith::traceable;

#[traceable(name = "a", name = "b")]
fn duplicate() {}

#[traceable(tags = "a")]
fn tags_not_a_list() {}

#[traceable(skip_all, skip(x))]
fn skip_all_and_skip(x: u8) {
    let _ = x;
}

#[traceable(skip(x), redact(x))]
fn skipped_and_redacted(x: u8) {
    let _ = x;
}

#[traceable(result, no_result)]
fn contradiction() {}

fn main() {
    duplicate();
    tags_not_a_list();
    skip_all_and_skip(1);
    skipped_and_redacted(1);
    contradiction();
}
