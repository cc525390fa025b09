//! The download package: a zip whose configuration loads as the relay
//! reads it, whose binary is the one configured, and whose scripts start
//! and stop it.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use axum::http::StatusCode;
use baton_web::auth::sha256_hex;
use baton_web::relay::token_of;
use serde_json::json;

use crate::FAKE_BINARY;
use crate::setup::setup;

fn unzip(bytes: &[u8]) -> HashMap<String, (Vec<u8>, Option<u32>)> {
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = HashMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(f.name().unwrap().to_string(), (data, f.unix_mode()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_package_is_ready_to_run() {
    let s = setup("package").await;
    let api = &s.api;
    let (_, h) = api
        .call(
            "a",
            "POST",
            "/api/v1/hosts",
            Some(json!({"name": "relay 1"})),
        )
        .await;
    let h1 = h["id"].as_str().unwrap().to_owned();
    let token = h["token"].as_str().unwrap().to_owned();
    let uri = format!("/api/v1/hosts/{h1}/package?os=linux");

    let (st, v) = s.bare.call("a", "GET", &uri, None).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("--relay-listen"),
        "{v}"
    );
    let (st, v) = api
        .call(
            "a",
            "GET",
            &format!("/api/v1/hosts/{h1}/package?os=windows"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("--sub-manager-bin"),
        "{v}"
    );
    let (st, v) = api
        .call(
            "a",
            "GET",
            &format!("/api/v1/hosts/{h1}/package?os=mac"),
            None,
        )
        .await;
    assert_eq!(
        (st, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query.os"))
    );
    let (st, _) = api.call("b", "GET", &uri, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    let (st, bytes) = api.raw("a", "GET", &uri, None).await;
    assert_eq!(st, StatusCode::OK);
    let files = unzip(&bytes);
    let mut names: Vec<&str> = files.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        ["start.sh", "stop.sh", "sub-manager", "sub-manager.toml"]
    );
    assert_eq!(files["sub-manager"].0, FAKE_BINARY);
    for exec in ["sub-manager", "start.sh", "stop.sh"] {
        assert_eq!(files[exec].1.map(|m| m & 0o777), Some(0o755), "{exec}");
    }
    let text = String::from_utf8(files["sub-manager.toml"].0.clone()).unwrap();
    let c = sub_manager::config::Config::parse(
        &text,
        "sub-manager.toml",
        std::path::Path::new("/opt/relay"),
    )
    .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(c.company_code, "default-code");
    assert_eq!(
        (c.cloud_host.as_str(), c.cloud_port),
        ("relay.example.com", 18443)
    );
    assert_eq!(c.token, token, "the host's current token");
    assert_eq!(c.cloud_cert_sha256[0][0], 0xab);
    assert_eq!(c.http_port, 8080);
    assert_eq!(c.data_dir, std::path::Path::new("/opt/relay/data"));

    // A host whose token was revoked gets a new one in its package.
    api.call("a", "DELETE", &format!("/api/v1/hosts/{h1}/token"), None)
        .await;
    let (_, bytes) = api.raw("a", "GET", &uri, None).await;
    let text = String::from_utf8(unzip(&bytes)["sub-manager.toml"].0.clone()).unwrap();
    let c = sub_manager::config::Config::parse(&text, "t", std::path::Path::new("/")).unwrap();
    assert_ne!(c.token, token);
    assert_eq!(
        s.store
            .host_by_token(&sha256_hex(&c.token))
            .await
            .unwrap()
            .unwrap()
            .id,
        h1
    );
    assert_eq!(
        token_of(&s.store, &s.key, &h1).await.unwrap(),
        Some(c.token.clone())
    );

    // Unpacked, the scripts start the binary in the background and stop it.
    let root: &Path = &s.api.dir;
    let dir = root.join("unpacked");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, (data, mode)) in unzip(&bytes) {
        let p = dir.join(&name);
        std::fs::write(&p, data).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode.unwrap() & 0o777))
            .unwrap();
    }
    let run = |script: &str| {
        let out = std::process::Command::new(dir.join(script))
            .current_dir(root)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let said = run("start.sh");
    assert!(said.contains("started"), "{said}");
    let pid = std::fs::read_to_string(dir.join("sub-manager.pid")).unwrap();
    let pid = pid.trim().to_owned();
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.split(' ').nth(2) != Some("Z"))
            .unwrap_or(false)
    };
    assert!(alive(&pid), "started");
    // `nohup` execs the binary in the same process: wait for it to.
    let mut cmdline = String::new();
    for _ in 0..100 {
        cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.contains("sleep") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(cmdline.contains("sleep"), "the binary runs: {cmdline:?}");
    assert!(run("start.sh").contains("already running"));
    let said = run("stop.sh");
    assert!(said.contains("stopped"), "{said}");
    assert!(!alive(&pid), "stopped");
    assert!(!dir.join("sub-manager.pid").exists());
}
