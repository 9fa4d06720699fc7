use langsmith::traceable;

struct Handle;

#[traceable]
fn open(path: &str) -> Handle {
    let _ = path;
    Handle
}

#[traceable]
async fn open_later(path: &str) -> Result<Handle, std::io::Error> {
    let _ = path;
    Ok(Handle)
}

fn main() {
    let _ = open("x");
    let _ = open_later("x");
}
