//! Runs one command on many SSH sessions at once through the
//! `remote-command` node and prints the wall time (text and JSON).
//!
//! ```text
//! cargo run --release -p baton-nodes --example ssh_bench -- \
//!     --host 127.0.0.1 --port 2222 --user me --key ~/.ssh/id_ed25519 --sessions 100
//! ```
//! Options: `--password P` instead of `--key`, `--command C` (default `uname -a`),
//! `--quiet` (only the JSON line).

use std::sync::Arc;
use std::time::Instant;

use baton_nodes::resources::{Account, Auth, MemResources, Terminal};
use baton_nodes::{Ctx, JobInfo, Registry, RunResult, Secret};
use serde_json::json;

struct Args {
    host: String,
    port: u16,
    user: String,
    key: Option<String>,
    password: Option<String>,
    sessions: usize,
    command: String,
    quiet: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        host: "127.0.0.1".into(),
        port: 22,
        user: std::env::var("USER").unwrap_or_else(|_| "root".into()),
        key: None,
        password: None,
        sessions: 100,
        command: "uname -a".into(),
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--quiet" {
            a.quiet = true;
            continue;
        }
        let v = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--host" => a.host = v,
            "--port" => a.port = v.parse().map_err(|e| format!("--port: {e}"))?,
            "--user" => a.user = v,
            "--key" => a.key = Some(v),
            "--password" => a.password = Some(v),
            "--sessions" => a.sessions = v.parse().map_err(|e| format!("--sessions: {e}"))?,
            "--command" => a.command = v,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("ssh_bench: {e}");
            std::process::exit(2);
        }
    };
    let auth = match (&a.key, &a.password) {
        (Some(path), _) => match std::fs::read_to_string(path) {
            Ok(k) => Auth::Key {
                private_key: Secret::new(k),
                passphrase: None,
            },
            Err(e) => {
                eprintln!("ssh_bench: cannot read {path}: {e}");
                std::process::exit(2);
            }
        },
        (None, Some(p)) => Auth::Password(Secret::new(p.clone())),
        (None, None) => {
            eprintln!("ssh_bench: give --key or --password");
            std::process::exit(2);
        }
    };
    let res = Arc::new(MemResources {
        terminals: vec![Terminal {
            id: "t".into(),
            name: "target".into(),
            host_address: a.host.clone(),
            port: a.port,
            ..Default::default()
        }],
        accounts: vec![Account {
            id: "a".into(),
            terminal_id: "t".into(),
            username: a.user.clone(),
            auth,
            comments: String::new(),
        }],
        ..Default::default()
    });
    let registry = Arc::new(Registry::with_defaults());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..a.sessions {
        let props = json!({"terminal": "target", "command": a.command});
        let ctx = Ctx::new(
            JobInfo {
                job_id: format!("bench:{i}"),
                ..Default::default()
            },
            props.as_object().cloned().unwrap_or_default(),
            res.clone(),
        );
        let registry = registry.clone();
        tasks.spawn(async move { registry.run("remote-command", ctx).await });
    }
    let (mut ok, mut failed) = (0usize, Vec::new());
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(RunResult::Done { .. }) => ok += 1,
            Ok(RunResult::Failed(e)) => failed.push(e.to_string()),
            Err(e) => failed.push(e.to_string()),
        }
    }
    let wall = started.elapsed();
    if !a.quiet {
        println!(
            "{} sessions of `{}` on {}:{}: {ok} ok, {} failed, wall {:.3} s",
            a.sessions,
            a.command,
            a.host,
            a.port,
            failed.len(),
            wall.as_secs_f64()
        );
        for e in failed.iter().take(5) {
            println!("  failed: {e}");
        }
    }
    let machine = json!({
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    });
    println!(
        "{}",
        json!({"bench": "ssh", "sessions": a.sessions, "ok": ok, "failed": failed.len(),
               "wall_s": wall.as_secs_f64(), "machine": machine})
    );
    if !failed.is_empty() {
        std::process::exit(1);
    }
}
