use langsmith::traceable;

#[traceable(skip(conn), redact(api_kye))]
fn f(connection: u8, api_key: &str) -> u32 {
    let _ = (connection, api_key);
    1
}

fn main() {
    let _ = f(1, "k");
}
