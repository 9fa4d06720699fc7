//! `langsmith-collector`: run the LangSmith-compatible collector from the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use langsmith_collector::{Collector, DEFAULT_BODY_LIMIT};

const HELP: &str = "\
langsmith-collector: a LangSmith-compatible local collector that stores runs in SQLite.

Point any LangSmith SDK at it with LANGSMITH_ENDPOINT=http://ADDR.

USAGE:
    langsmith-collector [OPTIONS]

OPTIONS:
    --addr ADDR          Address to listen on [default: 127.0.0.1:1984]
    --db PATH            SQLite database file (created if missing) [default: in memory]
    --api-key KEY        Require this key in the x-api-key header (401 otherwise)
                         [env: LANGSMITH_COLLECTOR_API_KEY]
    --body-limit BYTES   Largest request body accepted (413 above) [default: 33554432]
    --no-zstd            Do not advertise zstd compression in /info
    -h, --help           Print this help
    -V, --version        Print the version

Logging follows RUST_LOG (default: info).
";

#[derive(Debug)]
struct Args {
    addr: SocketAddr,
    db: Option<PathBuf>,
    api_key: Option<String>,
    body_limit: usize,
    zstd: bool,
}

enum Parsed {
    Run(Args),
    Exit(ExitCode),
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut args = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 1984)),
        db: None,
        api_key: std::env::var("LANGSMITH_COLLECTOR_API_KEY")
            .ok()
            .filter(|k| !k.is_empty()),
        body_limit: DEFAULT_BODY_LIMIT,
        zstd: true,
    };
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            "-V" | "--version" => {
                println!("langsmith-collector {}", env!("CARGO_PKG_VERSION"));
                return Ok(Parsed::Exit(ExitCode::SUCCESS));
            }
            "--addr" => {
                let v = value("--addr")?;
                args.addr = v
                    .parse()
                    .map_err(|_| format!("--addr: '{v}' is not an address like 127.0.0.1:1984"))?;
            }
            "--db" => args.db = Some(PathBuf::from(value("--db")?)),
            "--api-key" => args.api_key = Some(value("--api-key")?).filter(|k| !k.is_empty()),
            "--body-limit" => {
                let v = value("--body-limit")?;
                args.body_limit = v
                    .parse()
                    .map_err(|_| format!("--body-limit: '{v}' is not a number of bytes"))?;
            }
            "--no-zstd" => args.zstd = false,
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    Ok(Parsed::Run(args))
}

fn wait_for_signal() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(2);
        let on_ctrl_c = tx.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = on_ctrl_c.send(()).await;
            }
        });
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            tokio::spawn(async move {
                term.recv().await;
                let _ = tx.send(()).await;
            });
        }
        #[cfg(not(unix))]
        drop(tx);
        rx.recv().await;
        Ok(())
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(a)) => a,
        Ok(Parsed::Exit(code)) => return code,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut builder = Collector::builder()
        .addr(args.addr)
        .api_key(args.api_key.as_deref())
        .zstd(args.zstd)
        .body_limit(args.body_limit)
        .record_requests(0);
    if let Some(db) = &args.db {
        builder = builder.db_path(db);
    }
    let collector = match builder.start() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!(
        "langsmith-collector listening on {} (db: {}, api key: {}); Ctrl-C to stop",
        collector.url(),
        args.db
            .as_ref()
            .map_or_else(|| "in memory".to_owned(), |p| p.display().to_string()),
        if args.api_key.is_some() {
            "required"
        } else {
            "not required"
        },
    );
    if let Err(e) = wait_for_signal() {
        eprintln!("error: cannot wait for signals: {e}");
    }
    eprintln!("stopping");
    collector.shutdown();
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_flags_in_both_forms() {
        let Ok(Parsed::Run(a)) = parse(&[
            "--addr=127.0.0.1:5",
            "--db",
            "x.sqlite",
            "--body-limit",
            "2048",
            "--api-key=k",
            "--no-zstd",
        ]) else {
            panic!("did not parse")
        };
        assert_eq!(a.addr, "127.0.0.1:5".parse().unwrap());
        assert_eq!(a.db, Some(PathBuf::from("x.sqlite")));
        assert_eq!(a.body_limit, 2048);
        assert_eq!(a.api_key.as_deref(), Some("k"));
        assert!(!a.zstd);
        assert!(parse(&["--db"]).is_err());
        assert!(parse(&["--body-limit", "lots"]).is_err());
        assert!(parse(&["extra"]).is_err());
    }
}
