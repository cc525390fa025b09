//! The registry and `local-command` against real processes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_nodes::resources::{MemResources, Script};
use baton_nodes::{Ctx, JobInfo, NodeError, Registry, RunResult, Stream};
use serde_json::{Map, Value, json};

fn props(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn ctx(p: Value) -> Ctx {
    let res = MemResources {
        scripts: vec![Script {
            id: "s1".into(),
            name: "greet".into(),
            language: "sh".into(),
            content: "echo hello ${who}".into(),
            comments: String::new(),
        }],
        globals: props(json!({"site": "global-site", "who": "global"})),
        ..Default::default()
    };
    Ctx::new(
        JobInfo {
            job_id: "i1:3".into(),
            instance_id: "i1".into(),
            element_id: "cmd".into(),
            name: "Run it".into(),
            attempt: 1,
        },
        props(p),
        Arc::new(res),
    )
    .with_vars(props(
        json!({"who": "world", "LWAMS_PROCESS_START_WAY": "manual", "pw": "hunter22"}),
    ))
    .with_outputs(props(json!({"prev": {"stdout": "from-prev"}})))
}

fn done(r: RunResult) -> (Map<String, Value>, Map<String, Value>) {
    match r {
        RunResult::Done { outputs, vars } => (outputs, vars),
        RunResult::Failed(e) => panic!("node failed: {e}"),
    }
}

fn failed(r: RunResult) -> NodeError {
    match r {
        RunResult::Failed(e) => e,
        RunResult::Done { outputs, .. } => panic!("node succeeded: {outputs:?}"),
    }
}

#[tokio::test]
async fn runs_and_resolves_variables_in_order() {
    let reg = Registry::with_defaults();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let c = ctx(json!({
        "command": "echo ${who} ${prev.stdout} ${site} ${LWAMS_PROCESS_START_WAY}; echo oops >&2; exit 0",
        "workDir": "/tmp",
        "resultVariable": "r"
    }))
    .with_log(tx);
    let (o, vars) = done(reg.run("local-command", c).await);
    assert_eq!(o["stdout"], "world from-prev global-site manual\n");
    assert_eq!(o["stderr"], "oops\n");
    assert_eq!(o["exitCode"], 0);
    assert_eq!(o["workDir"], "/tmp");
    assert_eq!(o["name"], "Run it");
    assert!(o["createDatetime"].as_str().unwrap().len() == 19);
    assert_eq!(vars["r"]["stdout"], o["stdout"]);
    let mut lines = Vec::new();
    while let Ok(l) = rx.try_recv() {
        lines.push((l.stream, l.text));
    }
    assert!(lines.contains(&(Stream::Stdout, "world from-prev global-site manual".into())));
    assert!(lines.contains(&(Stream::Stderr, "oops".into())));
}

#[tokio::test]
async fn unknown_names_are_errors_that_name_them() {
    let reg = Registry::with_defaults();
    let e = failed(
        reg.run("local-command", ctx(json!({"command": "echo ${nobody}"})))
            .await,
    );
    assert_eq!(
        e.to_string(),
        "property `command`: unknown variable 'nobody'"
    );
    let e = failed(
        reg.run(
            "local-command",
            ctx(json!({"command": "echo ${prev.stdotu}"})),
        )
        .await,
    );
    assert_eq!(
        e.to_string(),
        "property `command`: in `prev.stdotu`: unknown name 'stdotu'"
    );
}

#[tokio::test]
async fn non_zero_exit_fails_unless_allowed() {
    let reg = Registry::with_defaults();
    let e = failed(
        reg.run(
            "local-command",
            ctx(json!({"command": "echo bad thing >&2; exit 3"})),
        )
        .await,
    );
    assert_eq!(e.to_string(), "the command failed (exit code 3): bad thing");
    let (o, _) = done(
        reg.run(
            "local-command",
            ctx(json!({"command": "exit 3", "allowNonZeroExit": "true"})),
        )
        .await,
    );
    assert_eq!(o["exitCode"], 3);
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group() {
    let reg = Registry::with_defaults();
    let marker = format!("/tmp/baton-timeout-{}", std::process::id());
    let _ = std::fs::remove_file(&marker);
    let started = Instant::now();
    let cmd = format!("(sleep 2; touch {marker}) & sleep 30");
    let e = failed(
        reg.run(
            "local-command",
            ctx(json!({"command": cmd, "timeout": "0.3"})),
        )
        .await,
    );
    assert_eq!(e, NodeError::Timeout(Duration::from_millis(300)));
    assert!(started.elapsed() < Duration::from_secs(5));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !std::path::Path::new(&marker).exists(),
        "the background child outlived the timeout"
    );
}

#[tokio::test]
async fn secrets_are_masked_and_scripts_come_from_the_library() {
    let reg = Registry::with_defaults();
    let c = ctx(json!({"command": "echo ${pw}"}));
    c.add_secret("hunter22");
    let (o, _) = done(reg.run("local-command", c).await);
    assert_eq!(o["stdout"], "******\n");
    assert_eq!(o["command"], "echo ******");
    let (o, _) = done(
        reg.run("local-command", ctx(json!({"script": "greet"})))
            .await,
    );
    assert_eq!(o["stdout"], "hello world\n");
    let e = failed(
        reg.run("local-command", ctx(json!({"script": "nope"})))
            .await,
    );
    assert_eq!(e.to_string(), "no script `nope` in the script library");
}

#[tokio::test]
async fn bad_input_is_named() {
    let reg = Registry::with_defaults();
    let e = failed(
        reg.run(
            "local-command",
            ctx(json!({"command": "true", "workDir": "/no/such/dir"})),
        )
        .await,
    );
    assert_eq!(
        e.to_string(),
        "property `workDir`: `/no/such/dir` is not a directory"
    );
    let e = failed(
        reg.run(
            "local-command",
            ctx(json!({"command": "true", "timeout": "soon"})),
        )
        .await,
    );
    assert_eq!(
        e.to_string(),
        "property `timeout`: `\"soon\"` is not a number ≥ 0"
    );
    let e = reg
        .validate("local-command", &props(json!({"workDir": "/"})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "property `command`: is required (or `script`, a script-library entry)"
    );
    let e = reg
        .validate("local-command", &props(json!({"command": "echo ${a +}"})))
        .unwrap_err();
    assert!(e.to_string().starts_with("property `command`:"), "{e}");
    assert!(!reg.supports("nope"));
}

#[tokio::test]
async fn flowable_shell_is_read_as_local_command() {
    let reg = Registry::with_defaults();
    assert_eq!(reg.canonical("shell"), Some("local-command"));
    let (o, vars) = done(
        reg.run(
            "shell",
            ctx(json!({"command": "sh", "arg1": "-c", "arg2": "echo \"it's ${who}\"; exit 4", "directory": "/", "outputVariable": "out", "errorCodeVariable": "code"})),
        )
        .await,
    );
    assert_eq!(o["stdout"], "it's world\n", "{o:?}");
    assert_eq!(vars["out"], "it's world\n");
    assert_eq!(vars["code"], 4);
}
