//! Fixtures of the SSH node tests: terminal `box` on a test sshd, contexts,
//! and the run / outcome helpers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use baton_nodes::resources::{Account, Auth, MemResources, Script, Terminal};
use baton_nodes::{Ctx, JobInfo, NodeError, Registry, RunResult, Secret};
use serde_json::{Map, Value, json};

use super::sshd::Sshd;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A number no other call in this process gets.
pub fn next_seq() -> u32 {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// A name no other test (or run) uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), next_seq())
}

pub fn props(v: Value) -> Map<String, Value> {
    v.as_object().expect("an object").clone()
}

pub fn key_auth(key: &str) -> Auth {
    Auth::Key {
        private_key: Secret::new(key),
        passphrase: None,
    }
}

/// Resources with terminal `box` (127.0.0.1:port) and one account.
pub fn resources(port: u16, user: &str, auth: Auth) -> MemResources {
    MemResources {
        terminals: vec![Terminal {
            id: "t1".into(),
            name: "box".into(),
            host_name: "box".into(),
            host_address: "127.0.0.1".into(),
            port,
            connection_type: "ssh".into(),
            ..Default::default()
        }],
        accounts: vec![Account {
            id: "a1".into(),
            terminal_id: "t1".into(),
            username: user.into(),
            auth,
            comments: String::new(),
        }],
        scripts: vec![Script {
            id: "s1".into(),
            name: "greet".into(),
            language: "sh".into(),
            content: "echo hello ${who} from $(pwd)".into(),
            comments: String::new(),
        }],
        ..Default::default()
    }
}

pub fn ctx(res: &Arc<MemResources>, p: Value) -> Ctx {
    Ctx::new(
        JobInfo {
            job_id: "i1:7".into(),
            instance_id: "i1".into(),
            element_id: "remote".into(),
            name: "Remote".into(),
            attempt: 1,
        },
        props(p),
        res.clone(),
    )
    .with_vars(props(json!({"who": "world"})))
}

pub fn key_res(s: &Sshd) -> Arc<MemResources> {
    Arc::new(resources(s.port, &s.user, key_auth(&s.key)))
}

pub async fn run(kind: &str, c: Ctx) -> RunResult {
    Registry::with_defaults().run(kind, c).await
}

pub fn done(r: RunResult) -> Map<String, Value> {
    match r {
        RunResult::Done { outputs, .. } => outputs,
        RunResult::Failed(e) => panic!("node failed: {e}"),
    }
}

pub fn failed(r: RunResult) -> NodeError {
    match r {
        RunResult::Failed(e) => e,
        RunResult::Done { outputs, .. } => panic!("node succeeded: {outputs:?}"),
    }
}

/// Processes whose command line contains `pattern`.
pub fn processes(pattern: &str) -> Vec<String> {
    let out = std::process::Command::new("pgrep")
        .args(["-a", "-f", pattern])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
