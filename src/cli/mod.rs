//! One module per subcommand.
pub mod bench;
pub mod bench_relay;
pub mod bench_schedules;
pub mod config;
pub mod report;
pub mod run;
pub mod schedule;
pub mod serve;
pub mod validate;

use anyhow::{Context, Result};
use serde_json::{Map, Value};

/// `k=v` pairs: `v` is read as JSON when it parses, else as a string.
pub fn parse_vars(pairs: &[String]) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for p in pairs {
        let (k, v) = p
            .split_once('=')
            .with_context(|| format!("--var `{p}`: expected key=value"))?;
        let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
        out.insert(k.trim().to_owned(), value);
    }
    Ok(out)
}

pub fn read(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The default store: `./baton.db` (SQLite, created if missing).
pub const DEFAULT_STORE: &str = "sqlite://baton.db?mode=rwc";

/// Print a line to stdout; a closed pipe (`| head`) is not an error.
pub fn emit(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Run `f` on a fresh multi-threaded runtime.
pub fn block_on<T>(f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::runtime::Runtime::new()?.block_on(f)
}

/// The engine's clock: the wall clock, or for tests `BATON_TEST_CLOCK=AT_MS@WALL_MS*RATE`
/// (time running RATE times faster, shared by every process given the same value).
pub fn clock() -> Result<std::sync::Arc<dyn baton_runtime::engine::Clock>> {
    use baton_runtime::engine::{SystemClock, WarpClock};
    Ok(match std::env::var("BATON_TEST_CLOCK") {
        Ok(spec) => std::sync::Arc::new(WarpClock::parse(&spec).map_err(anyhow::Error::msg)?),
        Err(_) => std::sync::Arc::new(SystemClock),
    })
}
