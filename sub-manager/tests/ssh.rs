//! `remote-command` on the relay against a real OpenSSH server (the node
//! library's sshd harness), with the account's secret sent by the cloud
//! into the relay's vault: the command runs, the host key is pinned, and
//! the secret appears nowhere — not in what the relay sends, not in its
//! log, not in clear in its data directory — even when the command prints it.
//!
//! Under `CI=true` a missing sshd fails the test; elsewhere it is skipped
//! with a note.

mod common;

#[path = "../../nodes/tests/common/sshd.rs"]
#[allow(dead_code)]
mod sshd;

use baton_relay_protocol::{
    AccountSpec, AuthKind, LogStream, Outcome, Secret, TerminalSpec, ToRelay, ToServer,
};
use common::cloud::Cloud;
use common::relay::Relay;
use common::{as_result, job};
use serde_json::json;
use sshd::Sshd;

fn terminal(port: u16, user: &str) -> TerminalSpec {
    TerminalSpec {
        id: "t1".into(),
        name: "box".into(),
        host_name: "box".into(),
        host_address: "127.0.0.1".into(),
        port,
        connection_type: "ssh".into(),
        os_name: "Linux".into(),
        os_version: String::new(),
        comments: "test sshd".into(),
        accounts: vec![
            AccountSpec {
                id: "a-pw".into(),
                username: user.into(),
                auth_kind: AuthKind::Password,
                comments: String::new(),
            },
            AccountSpec {
                id: "a-key".into(),
                username: user.into(),
                auth_kind: AuthKind::Key,
                comments: String::new(),
            },
        ],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_command_uses_the_vaults_secret_and_never_leaks_it() {
    let Some(s) = Sshd::start() else { return };
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;

    // The key account always works; the password account needs root (a
    // local user with a password).
    let password = s.password.clone();
    let mut msgs = vec![
        ToRelay::Terminals {
            terminals: vec![terminal(s.port, &s.user)],
        },
        ToRelay::SetSecret {
            account_id: "a-key".into(),
            secret: Secret::new(s.key.clone()),
            passphrase: None,
        },
    ];
    if let Some(pw) = &password {
        msgs.push(ToRelay::SetSecret {
            account_id: "a-pw".into(),
            secret: Secret::new(pw.clone()),
            passphrase: None,
        });
    } else {
        eprintln!("note: not root: the password account is not tested");
    }
    conn.send(msgs);

    // A file on the "terminal" holding the secret, so the command prints it.
    let leak = s.dir.join("leak.txt");
    let secret_text = password
        .clone()
        .unwrap_or_else(|| s.key.lines().nth(1).expect("a key body line").to_owned());
    std::fs::write(&leak, format!("secret={secret_text}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&s.dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&leak, std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    let account = if password.is_some() { "a-pw" } else { "a-key" };
    conn.send(vec![ToRelay::Jobs {
        jobs: vec![
            job(
                "ssh-1",
                "remote-command",
                json!({
                    "terminal": "box", "terminalAccount": account,
                    "command": format!("echo hello ${{who}}; id -un; cat {}", leak.display()),
                }),
            ),
            job(
                "ssh-2",
                "remote-command",
                json!({"terminal": "box", "terminalAccount": "a-key", "command": "echo key-ok"}),
            ),
        ],
    }]);
    let mut results = std::collections::BTreeMap::new();
    let mut logs = Vec::new();
    while results.len() < 2 {
        let m = conn.recv().await;
        if let ToServer::Log {
            job_id,
            stream,
            text,
            ..
        } = &m
            && job_id == "ssh-1"
        {
            logs.push((*stream, text.clone()));
        }
        if let Some((id, _, o)) = as_result(&m) {
            results.insert(id, o);
        }
    }
    let Outcome::Done { outputs, .. } = &results["ssh-1"] else {
        panic!("{:?}\n{}", results["ssh-1"], s.log())
    };
    assert_eq!(
        outputs["stdout"],
        format!("hello world\n{}\nsecret=******\n", s.user),
        "the secret printed by the command is masked"
    );
    assert_eq!(outputs["exitCode"], 0);
    assert_eq!(outputs["terminal"]["hostAddress"], "127.0.0.1");
    assert_eq!(outputs["terminalUser"]["username"], s.user.as_str());
    assert!(
        logs.contains(&(LogStream::Stdout, "secret=******".into())),
        "{logs:?}"
    );
    let Outcome::Done { outputs, .. } = &results["ssh-2"] else {
        panic!("{:?}", results["ssh-2"])
    };
    assert_eq!(outputs["stdout"], "key-ok\n");

    // The host key was pinned on first use, in the relay's vault.
    let known = std::fs::read_to_string(relay.dir.join("data/known_hosts.json")).unwrap();
    assert!(known.contains(&s.host_key), "{known}");

    // The secrets appear nowhere the relay writes or sends.
    let key_line = s.key.lines().nth(1).unwrap().to_owned();
    let mut needles = vec![key_line.clone(), secret_text.clone()];
    needles.extend(password.clone());
    let frames = cloud.all_frames();
    let log = relay.log();
    for n in &needles {
        assert!(
            !frames.contains(n.as_str()),
            "a secret in a frame the relay sent"
        );
        assert!(!log.contains(n.as_str()), "a secret in the relay's log");
        for (path, bytes) in relay.data_files() {
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains(n.as_str()),
                "a secret in clear in {}",
                path.display()
            );
        }
    }
    assert!(log.contains("stored the secret of account `a-key`"));

    // A removed secret is gone: the job says what is missing.
    conn.send(vec![
        ToRelay::RemoveSecret {
            account_id: "a-key".into(),
        },
        ToRelay::Jobs {
            jobs: vec![job(
                "ssh-3",
                "remote-command",
                json!({"terminal": "box", "terminalAccount": "a-key", "command": "echo no"}),
            )],
        },
    ]);
    let (_, _, o) = conn.until(as_result).await;
    let Outcome::Failed { message, .. } = o else {
        panic!("{o:?}")
    };
    assert!(
        message.contains("has no secret on this Sub-Manager"),
        "{message}"
    );
}
