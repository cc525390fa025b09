//! `remote-command` against a real OpenSSH server (started per test by
//! `common::sshd`).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_nodes::resources::Auth;
use baton_nodes::{NodeError, Registry, Secret, Stream};
use common::ssh::*;
use common::sshd::{Sshd, eventually, keygen};
use serde_json::json;
use tokio_util::sync::CancellationToken;

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
    let token = format!("{}.{}", 300 + std::process::id() % 100, next_seq());
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
