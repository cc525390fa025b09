//! `remote-command` and `file-distribution` against a real OpenSSH server
//! (started per test by `common::sshd`).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use baton_nodes::resources::{Account, Auth, MemResources, Script, Terminal};
use baton_nodes::{Ctx, JobInfo, NodeError, Registry, RunResult, Secret, Stream};
use common::sshd::{Sshd, eventually, keygen};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A name no other test (or run) uses.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

fn props(v: Value) -> Map<String, Value> {
    v.as_object().expect("an object").clone()
}

fn key_auth(key: &str) -> Auth {
    Auth::Key {
        private_key: Secret::new(key),
        passphrase: None,
    }
}

/// Resources with terminal `box` (127.0.0.1:port) and one account.
fn resources(port: u16, user: &str, auth: Auth) -> MemResources {
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

fn ctx(res: &Arc<MemResources>, p: Value) -> Ctx {
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

fn key_res(s: &Sshd) -> Arc<MemResources> {
    Arc::new(resources(s.port, &s.user, key_auth(&s.key)))
}

async fn run(kind: &str, c: Ctx) -> RunResult {
    Registry::with_defaults().run(kind, c).await
}

fn done(r: RunResult) -> Map<String, Value> {
    match r {
        RunResult::Done { outputs, .. } => outputs,
        RunResult::Failed(e) => panic!("node failed: {e}"),
    }
}

fn failed(r: RunResult) -> NodeError {
    match r {
        RunResult::Failed(e) => e,
        RunResult::Done { outputs, .. } => panic!("node succeeded: {outputs:?}"),
    }
}

/// Processes whose command line contains `pattern`.
fn processes(pattern: &str) -> Vec<String> {
    let out = std::process::Command::new("pgrep")
        .args(["-a", "-f", pattern])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

// ---- remote-command --------------------------------------------------------

#[tokio::test]
async fn key_auth_runs_a_command_and_pins_the_host_key() {
    let Some(s) = Sshd::start() else { return };
    let res = key_res(&s);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let c = ctx(
        &res,
        json!({"terminal": "box", "command": "echo hi ${who}; echo oops >&2; id -un"}),
    )
    .with_log(tx);
    let o = done(run("remote-command", c).await);
    assert_eq!(o["stdout"], format!("hi world\n{}\n", s.user));
    assert_eq!(o["stderr"], "oops\n");
    assert_eq!(o["exitCode"], 0);
    assert!(o["durationMs"].as_u64().is_some());
    assert_eq!(o["terminal"]["hostAddress"], "127.0.0.1");
    assert_eq!(o["terminalUser"]["username"], s.user.as_str());
    assert_eq!(
        res.host_keys.lock().unwrap()[&("127.0.0.1".to_owned(), s.port)],
        s.host_key,
        "the server's key is pinned on first use"
    );
    let mut lines = Vec::new();
    while let Ok(l) = rx.try_recv() {
        lines.push((l.stream, l.text));
    }
    assert!(
        lines.contains(&(Stream::Stdout, "hi world".into())),
        "{lines:?}"
    );
    assert!(
        lines.contains(&(Stream::Stderr, "oops".into())),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|(st, t)| *st == Stream::Info && t.starts_with("pinned the host key")),
        "{lines:?}"
    );
    // The second connection matches the pinned key.
    let o = done(
        run(
            "remote-command",
            ctx(&res, json!({"terminal": "box", "command": "echo again"})),
        )
        .await,
    );
    assert_eq!(o["stdout"], "again\n");
}

#[tokio::test]
async fn password_auth_works_and_the_password_is_masked() {
    let Some(s) = Sshd::start() else { return };
    let Some(pw) = s.password.clone() else {
        eprintln!("note: not root, no password account: skipping");
        return;
    };
    let res = Arc::new(resources(s.port, &s.user, Auth::Password(Secret::new(&pw))));
    let o = done(
        run(
            "remote-command",
            ctx(
                &res,
                json!({"terminal": "box", "command": format!("id -un; echo {pw}")}),
            ),
        )
        .await,
    );
    assert_eq!(o["stdout"], format!("{}\n******\n", s.user));
    assert_eq!(o["command"], "id -un; echo ******");

    let bad = Arc::new(resources(
        s.port,
        &s.user,
        Auth::Password(Secret::new("not-the-password")),
    ));
    let e = failed(
        run(
            "remote-command",
            ctx(&bad, json!({"terminal": "box", "command": "true"})),
        )
        .await,
    );
    assert_eq!(
        e.to_string(),
        format!(
            "authentication failed for {}@127.0.0.1:{} (password refused)",
            s.user, s.port
        )
    );
}

#[tokio::test]
async fn key_types_passphrases_and_refused_keys() {
    let Some(s) = Sshd::start() else { return };
    let cases: &[(&str, &[&str], &str)] = &[
        ("rsa_pem", &["-t", "rsa", "-b", "2048", "-m", "PEM"], ""),
        ("rsa_openssh", &["-t", "rsa", "-b", "2048"], ""),
        ("ecdsa", &["-t", "ecdsa", "-b", "256"], ""),
        (
            "ecdsa384_pem",
            &["-t", "ecdsa", "-b", "384", "-m", "PEM"],
            "",
        ),
        ("ed25519_pass", &["-t", "ed25519"], "open sesame"),
    ];
    for (name, args, pass) in cases {
        let key = s.new_key(name, args, pass, true);
        let auth = Auth::Key {
            private_key: Secret::new(key),
            passphrase: (!pass.is_empty()).then(|| Secret::new(*pass)),
        };
        let res = Arc::new(resources(s.port, &s.user, auth));
        let o = done(
            run(
                "remote-command",
                ctx(&res, json!({"terminal": "box", "command": "echo ok"})),
            )
            .await,
        );
        assert_eq!(o["stdout"], "ok\n", "{name}");
    }

    let stranger = s.new_key("stranger", &["-t", "ed25519"], "", false);
    let res = Arc::new(resources(s.port, &s.user, key_auth(&stranger)));
    let e = failed(
        run(
            "remote-command",
            ctx(&res, json!({"terminal": "box", "command": "true"})),
        )
        .await,
    );
    assert_eq!(
        e.to_string(),
        format!(
            "authentication failed for {}@127.0.0.1:{} (key refused)",
            s.user, s.port
        )
    );

    let locked = s.new_key("locked", &["-t", "ed25519"], "right", true);
    for (pass, why) in [
        (None, "it is encrypted and the account has no passphrase"),
        (Some("not-it"), "wrong passphrase"),
    ] {
        let auth = Auth::Key {
            private_key: Secret::new(locked.clone()),
            passphrase: pass.map(Secret::new),
        };
        let res = Arc::new(resources(s.port, &s.user, auth));
        let e = failed(
            run(
                "remote-command",
                ctx(&res, json!({"terminal": "box", "command": "true"})),
            )
            .await,
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!(
                "the private key of account `{}` cannot be read: {why}",
                s.user
            )),
            "{msg}"
        );
    }
    let res = Arc::new(resources(
        s.port,
        &s.user,
        key_auth(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAnotakey\n-----END OPENSSH PRIVATE KEY-----\n",
        ),
    ));
    let e = failed(
        run(
            "remote-command",
            ctx(&res, json!({"terminal": "box", "command": "true"})),
        )
        .await,
    );
    assert!(
        e.to_string()
            .contains("cannot be read: not an OpenSSH / PEM private key"),
        "{e}"
    );
    assert!(
        !e.to_string().contains("AAAAnotakey"),
        "the key text is masked: {e}"
    );
}

#[tokio::test]
async fn rsa_keys_sign_with_what_the_server_accepts() {
    // A server that takes only rsa-sha2-256: the client must not insist on SHA-512.
    let Some(s) = Sshd::start_with("PubkeyAcceptedAlgorithms rsa-sha2-256") else {
        return;
    };
    let key = s.new_key("rsa", &["-t", "rsa", "-b", "2048"], "", true);
    let res = Arc::new(resources(s.port, &s.user, key_auth(&key)));
    let o = done(
        run(
            "remote-command",
            ctx(&res, json!({"terminal": "box", "command": "echo rsa256"})),
        )
        .await,
    );
    assert_eq!(o["stdout"], "rsa256\n");
    assert!(s.log().contains("RSA SHA256:"), "{}", s.log());
}

#[tokio::test]
async fn non_zero_exit_fails_unless_allowed() {
    let Some(s) = Sshd::start() else { return };
    let res = key_res(&s);
    let e = failed(
        run(
            "remote-command",
            ctx(
                &res,
                json!({"terminal": "box", "command": "echo bad thing >&2; exit 3"}),
            ),
        )
        .await,
    );
    assert_eq!(e.to_string(), "the command failed (exit code 3): bad thing");
    let o = done(
        run(
            "remote-command",
            ctx(&res, json!({"terminal": "box", "command": "echo out; exit 3", "allowNonZeroExit": "true"})),
        )
        .await,
    );
    assert_eq!(o["exitCode"], 3);
    assert_eq!(o["stdout"], "out\n");
    // A syntax error still reports the shell's own words.
    let e = failed(
        run(
            "remote-command",
            ctx(&res, json!({"terminal": "box", "command": "if then fi ("})),
        )
        .await,
    );
    assert!(
        e.to_string()
            .starts_with("the command failed (exit code 2): "),
        "{e}"
    );
}

#[tokio::test]
async fn work_dir_and_script_library() {
    let Some(s) = Sshd::start() else { return };
    let res = key_res(&s);
    let dir = std::env::temp_dir().join(unique("baton dir's"));
    std::fs::create_dir_all(&dir).unwrap();
    let o = done(
        run(
            "remote-command",
            ctx(
                &res,
                json!({"terminal": "box", "command": "pwd", "workDir": dir.to_str().unwrap()}),
            ),
        )
        .await,
    );
    assert_eq!(o["stdout"], format!("{}\n", dir.display()));
    assert_eq!(o["workDir"], dir.to_str().unwrap());

    let o = done(
        run(
            "remote-command",
            ctx(
                &res,
                json!({"terminal": "box", "script": "greet", "workDir": "/"}),
            ),
        )
        .await,
    );
    assert_eq!(o["stdout"], "hello world from /\n");
    assert_eq!(o["command"], "echo hello world from $(pwd)");

    let e = failed(
        run(
            "remote-command",
            ctx(&res, json!({"terminal": "box", "command": "touch should-not-exist", "workDir": "/no/such/dir"})),
        )
        .await,
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "property `workDir`: cannot change to `/no/such/dir` on 127.0.0.1:{}: ",
            s.port
        )),
        "{msg}"
    );
    assert!(msg.contains("/no/such/dir"), "{msg}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The process that a timed-out or cancelled command started is gone, and
/// so is its background child (which would have touched a marker).
async fn assert_remote_stopped(
    s: &Sshd,
    timeout: Option<&str>,
    cancel: Option<CancellationToken>,
    expect: NodeError,
) {
    let res = key_res(s);
    let token = format!(
        "{}.{}",
        300 + std::process::id() % 100,
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let marker = std::env::temp_dir().join(unique("baton-remote-marker"));
    let command = format!("(sleep 3; touch {}) & sleep {token}", marker.display());
    let mut p = json!({"terminal": "box", "command": command});
    if let Some(t) = timeout {
        p["timeout"] = json!(t);
    }
    let mut c = ctx(&res, p);
    if let Some(cancel) = cancel.clone() {
        c = c.with_cancel(cancel);
    }
    let started = Instant::now();
    let pattern = format!("sleep {token}");
    let node = tokio::spawn(async move { run("remote-command", c).await });
    // It really runs on the server...
    let p2 = pattern.clone();
    let seen = tokio::task::spawn_blocking(move || {
        eventually(Duration::from_secs(5), || !processes(&p2).is_empty())
    })
    .await
    .unwrap();
    assert!(seen, "the remote command never started");
    if let Some(cancel) = cancel {
        cancel.cancel();
    }
    // ...and stopping the node stops it.
    let e = failed(node.await.unwrap());
    assert_eq!(e, expect);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let p2 = pattern.clone();
    let gone = tokio::task::spawn_blocking(move || {
        eventually(Duration::from_secs(2), || processes(&p2).is_empty())
    })
    .await
    .unwrap();
    assert!(
        gone,
        "the remote process outlived the node: {:?}",
        processes(&pattern)
    );
    // Past the moment the background child would have touched the marker.
    tokio::time::sleep(Duration::from_millis(3500).saturating_sub(started.elapsed())).await;
    assert!(
        !marker.exists(),
        "the remote background child outlived the node"
    );
}

#[tokio::test]
async fn timeout_kills_the_remote_process_group() {
    let Some(s) = Sshd::start() else { return };
    assert_remote_stopped(
        &s,
        Some("1"),
        None,
        NodeError::Timeout(Duration::from_secs(1)),
    )
    .await;
}

#[tokio::test]
async fn cancel_kills_the_remote_process_group() {
    let Some(s) = Sshd::start() else { return };
    assert_remote_stopped(
        &s,
        None,
        Some(CancellationToken::new()),
        NodeError::Cancelled,
    )
    .await;
}

#[tokio::test]
async fn bad_input_is_named() {
    let Some(s) = Sshd::start() else { return };
    let res = key_res(&s);
    let e = failed(
        run(
            "remote-command",
            ctx(&res, json!({"terminal": "nope", "command": "true"})),
        )
        .await,
    );
    assert_eq!(e.to_string(), "no terminal `nope`");
    let e = failed(
        run(
            "remote-command",
            ctx(
                &res,
                json!({"terminal": "box", "terminalAccount": "bob", "command": "true"}),
            ),
        )
        .await,
    );
    assert_eq!(e.to_string(), "terminal `box` has no account `bob`");

    // Nothing listens on a port just freed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let res2 = Arc::new(resources(closed, &s.user, key_auth(&s.key)));
    let e = failed(
        run(
            "remote-command",
            ctx(&res2, json!({"terminal": "box", "command": "true"})),
        )
        .await,
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!("cannot connect to 127.0.0.1:{closed}: ")),
        "{msg}"
    );
    assert!(msg.to_lowercase().contains("refused"), "{msg}");

    let mut r3 = resources(s.port, &s.user, key_auth(&s.key));
    r3.terminals[0].host_address = "no-such-host.invalid".into();
    let e = failed(
        run(
            "remote-command",
            ctx(&Arc::new(r3), json!({"terminal": "box", "command": "true"})),
        )
        .await,
    );
    assert!(
        e.to_string()
            .starts_with("cannot resolve host `no-such-host.invalid`: "),
        "{e}"
    );

    // Another key pinned for this host and port: refused before authenticating.
    let other = s.dir.join("other_host_key");
    keygen(&other, &["-t", "ed25519"], "");
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    let other_pub: String = other_pub.split(' ').take(2).collect::<Vec<_>>().join(" ");
    let r4 = resources(s.port, &s.user, key_auth(&s.key));
    r4.host_keys
        .lock()
        .unwrap()
        .insert(("127.0.0.1".into(), s.port), other_pub.clone());
    let r4 = Arc::new(r4);
    let marker = std::env::temp_dir().join(unique("baton-hostkey-marker"));
    let e = failed(
        run(
            "remote-command",
            ctx(
                &r4,
                json!({"terminal": "box", "command": format!("touch {}", marker.display())}),
            ),
        )
        .await,
    );
    let fp = |k: &str| {
        let out = std::process::Command::new("sh")
            .args([
                "-c",
                &format!("echo '{k}' | ssh-keygen -l -E sha256 -f - | cut -d' ' -f2"),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    assert_eq!(
        e.to_string(),
        format!(
            "the host key of 127.0.0.1:{} changed (pinned ssh-ed25519 {}, offered ssh-ed25519 {}): \
             if the server was reinstalled, remove the pinned key",
            s.port,
            fp(&other_pub),
            fp(&s.host_key)
        )
    );
    assert!(!marker.exists(), "the command ran despite the changed key");
    assert_eq!(
        r4.host_keys.lock().unwrap()[&("127.0.0.1".to_owned(), s.port)],
        other_pub,
        "the pinned key is kept"
    );

    for (kind, start) in [
        #[cfg(not(feature = "winrm"))]
        (
            "WinRM",
            "property `connectionType`: WinRM is not supported by this build",
        ),
        (
            "rexec",
            "property `connectionType`: rexec is not supported by this build",
        ),
        (
            "telnet",
            "property `connectionType`: `TELNET` is not one of",
        ),
    ] {
        let e = failed(
            run(
                "remote-command",
                ctx(
                    &res,
                    json!({"terminal": "box", "command": "true", "connectionType": kind}),
                ),
            )
            .await,
        );
        assert!(e.to_string().starts_with(start), "{kind}: {e}");
    }
    let reg = Registry::with_defaults();
    let e = reg
        .validate("remote-command", &props(json!({"terminal": "box"})))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "property `command`: is required (or `script`, a script-library entry)"
    );
    let e = reg
        .validate("remote-command", &props(json!({"command": "true"})))
        .unwrap_err();
    assert_eq!(e.to_string(), "property `terminal`: is required");
    assert!(!reg.idempotent("remote-command"));
    assert!(reg.idempotent("file-distribution"));
}

// ---- file-distribution -----------------------------------------------------

/// A file of `len` pseudo-random bytes.
fn random_file(path: &Path, len: usize) {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ len as u64;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(path, bytes).unwrap();
}

fn sha256sum(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split(' ')
        .next()
        .unwrap()
        .to_owned()
}

fn tmp(name: &str) -> PathBuf {
    std::env::temp_dir().join(unique(name))
}

#[tokio::test]
async fn sftp_and_scp_copy_both_ways_byte_exact() {
    let Some(s) = Sshd::start() else { return };
    let res = key_res(&s);
    let len = 5 * 1024 * 1024 + 12_345;
    let local = tmp("baton-put-src");
    random_file(&local, len);
    let want = sha256sum(&local);
    for proto in ["SFTP", "SCP"] {
        let remote = tmp(&format!("baton-remote-{proto}"));
        let o = done(
            run(
                "file-distribution",
                ctx(
                    &res,
                    json!({"terminal": "box", "command": "PUT", "connectionType": proto,
                           "localFile": local.to_str().unwrap(), "remoteFile": remote.to_str().unwrap()}),
                ),
            )
            .await,
        );
        assert_eq!(o["size"], len as u64, "{proto}");
        assert_eq!(o["sha256"], want.as_str(), "{proto}");
        assert_eq!(o["localFile"], local.to_str().unwrap());
        assert_eq!(o["remoteFile"], remote.to_str().unwrap());
        assert!(o["durationMs"].as_u64().is_some());
        assert_eq!(sha256sum(&remote), want, "{proto}: the remote copy");

        let back = tmp(&format!("baton-get-{proto}"));
        let o = done(
            run(
                "file-distribution",
                ctx(
                    &res,
                    json!({"terminal": "box", "command": "get", "connectionType": proto.to_lowercase(),
                           "localFile": back.to_str().unwrap(), "remoteFile": remote.to_str().unwrap()}),
                ),
            )
            .await,
        );
        assert_eq!(o["size"], len as u64, "{proto}");
        assert_eq!(o["sha256"], want.as_str(), "{proto}");
        assert_eq!(sha256sum(&back), want, "{proto}: the local copy");
        assert!(std::fs::read(&back).unwrap() == std::fs::read(&local).unwrap());
        std::fs::remove_file(&back).unwrap();
        std::fs::remove_file(&remote).unwrap();
    }
    // A remote directory keeps the local name; an empty file is a file too.
    let dir = tmp("baton-remote-dir");
    std::fs::create_dir_all(&dir).unwrap();
    std::process::Command::new("chmod")
        .arg("777")
        .arg(&dir)
        .status()
        .unwrap();
    let empty = tmp("baton-empty");
    std::fs::write(&empty, b"").unwrap();
    for proto in ["SFTP", "SCP"] {
        let o = done(
            run(
                "file-distribution",
                ctx(
                    &res,
                    json!({"terminal": "box", "command": "PUT", "connectionType": proto,
                           "localFile": empty.to_str().unwrap(), "remoteFile": dir.to_str().unwrap()}),
                ),
            )
            .await,
        );
        assert_eq!(o["size"], 0);
        assert_eq!(
            o["sha256"],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let landed = dir.join(empty.file_name().unwrap());
        assert_eq!(std::fs::metadata(&landed).unwrap().len(), 0, "{proto}");
        std::fs::remove_file(&landed).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_file(&empty).unwrap();
    std::fs::remove_file(&local).unwrap();
}

#[tokio::test]
async fn missing_files_and_permissions_are_named() {
    let Some(s) = Sshd::start() else { return };
    let res = key_res(&s);
    let t = format!("127.0.0.1:{}", s.port);
    let local = tmp("baton-small");
    std::fs::write(&local, b"hello\n").unwrap();
    let l = local.to_str().unwrap();
    let is_root_user = s.user == "root";
    for proto in ["SFTP", "SCP"] {
        let go = |dir: &str, local: &str, remote: &str| {
            ctx(
                &res,
                json!({"terminal": "box", "command": dir, "connectionType": proto,
                       "localFile": local, "remoteFile": remote}),
            )
        };
        let back = tmp("baton-back");
        let b = back.to_str().unwrap();
        let e = failed(run("file-distribution", go("GET", b, "/no/such/file")).await);
        assert_eq!(
            e.to_string(),
            format!("the remote file `/no/such/file` does not exist on {t}"),
            "{proto}"
        );
        assert!(!back.exists(), "{proto}: no partial file is left");
        let e = failed(run("file-distribution", go("PUT", "/no/such/local", "/tmp/x")).await);
        assert_eq!(
            e.to_string(),
            "property `localFile`: `/no/such/local` does not exist"
        );
        let e = failed(run("file-distribution", go("PUT", l, "/no/such/dir/x")).await);
        assert!(
            e.to_string().starts_with(&format!(
                "the remote directory of `/no/such/dir/x` does not exist on {t}"
            )),
            "{proto}: {e}"
        );
        let e = failed(
            run(
                "file-distribution",
                go("GET", "/no/such/dir/x", "/etc/hostname"),
            )
            .await,
        );
        assert_eq!(
            e.to_string(),
            "property `localFile`: directory `/no/such/dir` does not exist"
        );
        if !is_root_user {
            let e = failed(run("file-distribution", go("PUT", l, "/root/baton-denied")).await);
            assert_eq!(
                e.to_string(),
                format!("permission denied on {t}: cannot write `/root/baton-denied`"),
                "{proto}"
            );
            let e = failed(run("file-distribution", go("GET", b, "/etc/shadow")).await);
            assert_eq!(
                e.to_string(),
                format!("permission denied on {t}: cannot read `/etc/shadow`"),
                "{proto}"
            );
            assert!(!back.exists());
        }
        let e = failed(run("file-distribution", go("SEND", l, "/tmp/x")).await);
        assert_eq!(
            e.to_string(),
            "property `command`: `SEND` is not one of GET, PUT"
        );
    }
    let e = Registry::with_defaults()
        .validate(
            "file-distribution",
            &props(json!({"terminal": "box", "command": "PUT", "localFile": l})),
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "property `remoteFile`: is required");
    std::fs::remove_file(&local).unwrap();
}

#[tokio::test]
async fn transfer_timeout_stops_the_remote_side_and_leaves_no_partial_file() {
    let Some(s) = Sshd::start() else { return };
    let res = key_res(&s);
    // 4 GiB that reads as zeros without using disk: far longer than the timeout to copy.
    let big = tmp("baton-big");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    for proto in ["SCP", "SFTP"] {
        let back = tmp(&format!("baton-big-back-{proto}"));
        let started = Instant::now();
        let e = failed(
            run(
                "file-distribution",
                ctx(
                    &res,
                    json!({"terminal": "box", "command": "GET", "connectionType": proto, "timeout": "1",
                           "localFile": back.to_str().unwrap(), "remoteFile": big.to_str().unwrap()}),
                ),
            )
            .await,
        );
        assert_eq!(e, NodeError::Timeout(Duration::from_secs(1)), "{proto}");
        assert!(
            started.elapsed() < Duration::from_secs(7),
            "{proto}: {:?}",
            started.elapsed()
        );
        assert!(!back.exists(), "{proto}: the partial download was removed");
        let parts: Vec<_> = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|d| {
                d.file_name()
                    .to_string_lossy()
                    .starts_with(&*back.file_name().unwrap().to_string_lossy())
            })
            .collect();
        assert!(parts.is_empty(), "{proto}: {parts:?}");
    }
    // The server-side readers (scp -f, sftp-server) ended with the connection.
    let name = big.to_str().unwrap().to_owned();
    let gone = tokio::task::spawn_blocking(move || {
        eventually(Duration::from_secs(3), || {
            processes(&format!("scp -f -- {name}")).is_empty()
        })
    })
    .await
    .unwrap();
    assert!(gone, "scp -f outlived the node");
    std::fs::remove_file(&big).unwrap();
}

/// With the `winrm` feature: no Windows host here, so only the failure to
/// reach one is checked (a closed port), and a key account is refused.
#[cfg(feature = "winrm")]
#[tokio::test]
async fn winrm_connection_errors_are_named() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let res = Arc::new(resources(
        closed,
        "Administrator",
        Auth::Password(Secret::new("pw-for-winrm")),
    ));
    let e = failed(
        run(
            "remote-command",
            ctx(
                &res,
                json!({"terminal": "box", "command": "dir", "connectionType": "WinRM"}),
            ),
        )
        .await,
    );
    assert!(
        e.to_string()
            .starts_with(&format!("WinRM on 127.0.0.1:{closed}: ")),
        "{e}"
    );
    let key = Arc::new(resources(closed, "Administrator", key_auth("k")));
    let e = failed(
        run(
            "remote-command",
            ctx(
                &key,
                json!({"terminal": "box", "command": "dir", "connectionType": "WinRM"}),
            ),
        )
        .await,
    );
    assert_eq!(
        e.to_string(),
        "account `Administrator`: WinRM needs a password, not a private key"
    );
}
