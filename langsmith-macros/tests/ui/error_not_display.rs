use langsmith::traceable;

#[derive(Debug)]
struct Oops;

#[traceable]
fn fallible() -> Result<u8, Oops> {
    Err(Oops)
}

fn main() {
    let _ = fallible();
}
