use langsmith::traceable;

#[traceable(run_type = "model")]
fn f() -> u32 {
    1
}

fn main() {
    let _ = f();
}
