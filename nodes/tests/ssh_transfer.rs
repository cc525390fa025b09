//! `file-distribution` (SFTP and SCP, both ways) against a real OpenSSH
//! server (started per test by `common::sshd`).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baton_nodes::{NodeError, Registry};
use common::ssh::*;
use common::sshd::{Sshd, eventually};
use serde_json::json;

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
