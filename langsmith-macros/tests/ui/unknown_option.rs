use langsmith::traceable;

#[traceable(nmae = "typo")]
fn f() -> u32 {
    1
}

fn main() {
    let _ = f();
}
