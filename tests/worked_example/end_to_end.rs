//! The worked example, end to end, as one test (see the doc of `main.rs`).

use std::io::Cursor;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as Span, FixedOffset, NaiveDateTime, TimeZone, Timelike, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{self, Auth, Proc, free_port, until};
use crate::helpers::{
    contains, example, example_json, files_under, link_token, sub_manager_bin, unzip,
};
use crate::{ADMIN_PASSWORD, TEMPLATE, USER1_FIRST, USER1_PASSWORD, USER2_FIRST, USER2_PASSWORD};
use crate::{smtp, sshd};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lwams_worked_example_runs_end_to_end_through_the_api() {
    let begun = Instant::now();
    let mark = |what: &str| println!("[{:5.1} s] {what}", begun.elapsed().as_secs_f64());
    let Some(mail) = smtp::smtp("worked-example").await else {
        return;
    };
    let (Some(linux), Some(windows)) = (sshd::Sshd::start(), sshd::Sshd::start()) else {
        return;
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = std::env::temp_dir().join(format!(
        "baton-worked-example-{}-{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    ));
    std::fs::create_dir_all(&dir).unwrap();

    // ---- the server -------------------------------------------------------
    let port = free_port();
    let relay_port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let master_key = baton_nodes::MasterKey::generate();
    let store = format!("sqlite://{}?mode=rwc", dir.join("b.db").display());
    let serve = common::Serve::start(
        &dir,
        "serve.log",
        &master_key,
        port,
        &[
            "--store".into(),
            store,
            "--data-dir".into(),
            dir.join("data").display().to_string(),
            "--relay-listen".into(),
            format!("127.0.0.1:{relay_port}"),
            "--sub-manager-bin".into(),
            sub_manager_bin().display().to_string(),
            "--smtp-host".into(),
            "127.0.0.1".into(),
            "--smtp-port".into(),
            mail.port.to_string(),
            "--smtp-security".into(),
            "none".into(),
            "--smtp-from".into(),
            "Baton <baton@example.com>".into(),
            "--public-url".into(),
            base.clone(),
        ],
    )
    .await;
    let api = serve.api();
    let log = || serve.log();
    let first = serve
        .first_password
        .clone()
        .unwrap_or_else(|| panic!("no first-start password in:\n{}", log()));

    mark("baton serve answers");

    // ---- sign in, users and the group --------------------------------------
    let admin = api.sign_in("admin", &first, ADMIN_PASSWORD).await;
    let mut users = Vec::new();
    for (name, email, pw) in [
        ("User1", "user1@example.com", USER1_FIRST),
        ("User2", "user2@example.com", USER2_FIRST),
    ] {
        let u = api
            .ok(
                &admin,
                Method::POST,
                "/api/v1/users",
                Some(json!({"username": name, "name": name, "email": email, "password": pw})),
                201,
            )
            .await;
        users.push(u["id"].as_str().unwrap().to_owned());
    }
    let (user1_id, user2_id) = (users[0].clone(), users[1].clone());
    // View (not manage) every system function; manage tasks.
    let group = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/groups",
            Some(json!({
                "name": "ops-viewers",
                "comments": "LWAMS worked example: view system settings, act on tasks",
                "permissions": {"companies": "view", "users": "view", "hosts": "view",
                    "holidays": "view", "languages": "view", "tasks": "manage"},
                "members": [user1_id, user2_id],
            })),
            201,
        )
        .await;
    assert_eq!(group["name"], "ops-viewers", "{group}");
    let user1 = api.sign_in("User1", USER1_FIRST, USER1_PASSWORD).await;
    let user2 = api.sign_in("User2", USER2_FIRST, USER2_PASSWORD).await;
    // View, but not manage, system settings.
    for path in [
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/hosts",
        "/api/v1/holidays",
        "/api/v1/languages",
    ] {
        api.ok(&user1, Method::GET, path, None, 200).await;
    }
    for (path, body) in [
        ("/api/v1/hosts", json!({"name": "rogue"})),
        (
            "/api/v1/users",
            json!({"username": "rogue", "password": "x"}),
        ),
        ("/api/v1/holidays", example_json("holidays.json")),
    ] {
        let r = api.call(&user2, Method::POST, path, Some(body)).await;
        assert_eq!(r.status, 403, "User2 POST {path}: {}", r.json());
    }

    // ---- the host: package, relay, connected --------------------------------
    let host = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/hosts",
            Some(json!({"name": "lwams-sm", "comments": "the worked example's Sub-Manager"})),
            201,
        )
        .await;
    let host_id = host["id"].as_str().unwrap().to_owned();
    assert_eq!(host["state"], "not-initialised", "{host}");
    let pkg = api
        .send(
            &admin,
            Method::GET,
            &format!("/api/v1/hosts/{host_id}/package?os=linux"),
            |r| r,
        )
        .await;
    assert_eq!(
        pkg.status,
        200,
        "package: {}",
        String::from_utf8_lossy(&pkg.bytes)
    );
    let relay_dir = dir.join("relay");
    std::fs::create_dir_all(&relay_dir).unwrap();
    assert_eq!(
        unzip(&pkg.bytes, &relay_dir),
        ["start.sh", "stop.sh", "sub-manager", "sub-manager.toml"]
    );
    // The package's configuration as it is.
    let relay_log = relay_dir.join("sub-manager.log");
    let out = std::fs::File::create(&relay_log).unwrap();
    let _relay = Proc(
        Command::new(relay_dir.join("sub-manager"))
            .args(["run", "--config", "sub-manager.toml"])
            .current_dir(&relay_dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("the package's sub-manager starts"),
    );
    let rlog = || std::fs::read_to_string(&relay_log).unwrap_or_default();
    let h = until(
        Duration::from_secs(30),
        || format!("host never connected; relay log:\n{}", rlog()),
        || async {
            let h = api
                .ok(
                    &admin,
                    Method::GET,
                    &format!("/api/v1/hosts/{host_id}"),
                    None,
                    200,
                )
                .await;
            (h["state"] == "connected").then_some(h)
        },
    )
    .await;
    mark("the package's relay is connected");
    assert_eq!(
        h["facts"]["userDir"],
        json!(relay_dir.display().to_string()),
        "{h}"
    );

    // ---- two terminals behind the host, with password accounts ----------------
    let mut secrets: Vec<String> = vec![
        ADMIN_PASSWORD.into(),
        USER1_FIRST.into(),
        USER1_PASSWORD.into(),
        USER2_FIRST.into(),
        USER2_PASSWORD.into(),
        master_key.clone(),
    ];
    for (sshd, name, host_name, os) in [
        (&linux, "lwams-linux", "linux-box", "Linux"),
        (
            &windows,
            "lwams-windows",
            "windows-box",
            "Windows (a Linux stand-in)",
        ),
    ] {
        let t = api
            .ok(
                &admin,
                Method::POST,
                "/api/v1/terminals",
                Some(json!({
                    "name": name, "hostId": host_id, "hostName": host_name,
                    "hostAddress": "127.0.0.1", "port": sshd.port, "connectionType": "ssh",
                    "osName": os,
                })),
                201,
            )
            .await;
        let tid = t["id"].as_str().unwrap().to_owned();
        // As root the helper gives its user a password; otherwise a key.
        let account = match &sshd.password {
            Some(pw) => {
                secrets.push(pw.clone());
                json!({"username": sshd.user, "password": pw})
            }
            None => {
                eprintln!("note: not root: the terminal accounts use keys, not passwords");
                secrets.push(sshd.key.lines().nth(2).unwrap_or_default().to_owned());
                json!({"username": sshd.user, "privateKey": sshd.key})
            }
        };
        let a = api
            .ok(
                &admin,
                Method::POST,
                &format!("/api/v1/terminals/{tid}/accounts"),
                Some(account),
                201,
            )
            .await;
        assert_eq!(a["secretAt"], "relays", "{a}");
    }
    secrets.sort();
    secrets.dedup();

    // ---- form, process, report template ---------------------------------------
    let form = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/forms",
            Some(example_json("form.json")),
            201,
        )
        .await;
    assert_eq!(form["key"], "lwams-approval", "{form}");
    let deployed = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/processes",
            Some(json!({"xml": example("process.bpmn")})),
            201,
        )
        .await;
    assert_eq!(deployed["version"], 1, "{deployed}");
    let xlsx = std::fs::read(TEMPLATE).unwrap();
    let up = api
        .send(&admin, Method::POST, "/api/v1/report-templates", |r| {
            r.multipart(
                reqwest::multipart::Form::new()
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(xlsx)
                            .file_name("lwams-example.xlsx")
                            .mime_str(
                                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            )
                            .unwrap(),
                    )
                    .text("name", "lwams-example")
                    .text("comments", "LWAMS worked example"),
            )
        })
        .await;
    assert_eq!(up.status, 201, "{}", up.json());
    let up = up.json();
    // Every placeholder names a node of the deployed process or a built-in.
    assert_eq!(up["warnings"], json!([]), "{up}");
    assert_eq!(up["template"]["name"], "lwams-example", "{up}");

    // ---- holiday calendar and schedule ------------------------------------------
    let shipped = example_json("holidays.json");
    let schedule = example_json("schedule.json");
    // Asia/Shanghai (the schedule's zone) keeps +08:00 all year.
    assert_eq!(schedule["tz"], "Asia/Shanghai");
    let tz = FixedOffset::east_opt(8 * 3600).unwrap();
    let utc = |t: NaiveDateTime| -> DateTime<Utc> {
        tz.from_local_datetime(&t).unwrap().with_timezone(&Utc)
    };
    // The shipped three-hour range is skipped: from a quarter before it,
    // the next fires are ten to its start, then its end and ten past.
    let range = &shipped["ranges"][0];
    let start =
        NaiveDateTime::parse_from_str(range["start"].as_str().unwrap(), "%Y-%m-%dT%H:%M").unwrap();
    let end =
        NaiveDateTime::parse_from_str(range["end"].as_str().unwrap(), "%Y-%m-%dT%H:%M").unwrap();
    assert_eq!(end - start, Span::hours(3), "a three-hour range");
    let preview = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/schedules/preview",
            Some(json!({
                "cron": schedule["cron"], "dialect": schedule["dialect"], "tz": schedule["tz"],
                "calendar": shipped, "holidayPolicy": schedule["holidayPolicy"],
                "after": utc(start - Span::minutes(15)).to_rfc3339(), "n": 3,
            })),
            200,
        )
        .await;
    let fires: Vec<NaiveDateTime> = preview["fires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            DateTime::parse_from_rfc3339(f.as_str().unwrap())
                .unwrap()
                .naive_local()
        })
        .collect();
    assert_eq!(
        fires,
        [start - Span::minutes(10), end, end + Span::minutes(10)],
        "{preview}"
    );
    // The stored calendar: the shipped one, its range moved to cover now
    // (so that the saved schedule's next fire must skip it, and no tick
    // fires while this test runs).
    let now_local = Utc::now().with_timezone(&tz).naive_local();
    // On the ten minutes, so that the range's end is a tick.
    let now_local = now_local
        .with_minute(now_local.minute() / 10 * 10)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    let h_start = now_local - Span::minutes(30);
    let h_end = h_start + Span::hours(3);
    let mut stored = shipped.clone();
    stored["ranges"][0]["start"] = json!(h_start.format("%Y-%m-%dT%H:%M").to_string());
    stored["ranges"][0]["end"] = json!(h_end.format("%Y-%m-%dT%H:%M").to_string());
    let cal = api
        .ok(&admin, Method::POST, "/api/v1/holidays", Some(stored), 201)
        .await;
    assert_eq!(cal["name"], "lwams-maintenance", "{cal}");
    let saved = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/schedules",
            Some(schedule.clone()),
            201,
        )
        .await;
    let next = saved["nextFireAt"].as_i64().expect("a next fire");
    // The first tick at or after the range's end (every 10 minutes: the end
    // is on one), not the next ten minutes from now.
    assert_eq!(
        next,
        utc(h_end).timestamp_millis(),
        "next fire {} should be the holiday's end {h_end}: {saved}",
        DateTime::from_timestamp_millis(next).unwrap()
    );
    assert!(saved["enabled"].as_bool().unwrap(), "{saved}");

    // ---- start an instance through the API ----------------------------------------
    let started = api
        .ok(
            &admin,
            Method::POST,
            "/api/v1/instances",
            Some(json!({"process": "lwams-example"})),
            201,
        )
        .await;
    let instance = started["id"].as_str().unwrap().to_owned();
    let detail = || async {
        api.ok(
            &admin,
            Method::GET,
            &format!("/api/v1/instances/{instance}"),
            None,
            200,
        )
        .await
    };

    // User1 sees the approval once both terminals answered.
    let task = until(
        Duration::from_secs(60),
        || format!("no task for User1; relay log:\n{}", rlog()),
        || async {
            let page = api
                .ok(&user1, Method::GET, "/api/v1/tasks?view=todo", None, 200)
                .await;
            if page["total"].as_u64() == Some(1) {
                return Some(page["items"][0].clone());
            }
            let d = detail().await;
            assert!(
                d["status"] == "running" && d["incidents"] == json!([]),
                "the instance stopped before the approval: {d}\nrelay log:\n{}",
                rlog()
            );
            None
        },
    )
    .await;
    mark("User1 sees the approval");
    let task_id = task["id"].as_str().unwrap().to_owned();
    assert_eq!(task["instanceId"], instance.as_str(), "{task}");
    assert_eq!(task["formKey"], "lwams-approval", "{task}");
    assert_eq!(task["candidateGroups"], json!(["ops-viewers"]), "{task}");
    assert_eq!(task["assignee"], Value::Null, "{task}");
    let d = detail().await;
    for node in ["linuxInfo", "windowsInfo"] {
        let out = &d["outputs"][node];
        assert!(
            out["stdout"].as_str().unwrap_or("").contains("Linux"),
            "{node}: {out}"
        );
        // Run by the relay, not the server.
        assert_eq!(out["host"]["id"], host_id.as_str(), "{node}: {out}");
    }
    assert_eq!(
        d["outputs"]["linuxInfo"]["terminal"]["hostName"],
        "linux-box"
    );
    assert_eq!(
        d["outputs"]["windowsInfo"]["terminal"]["hostName"],
        "windows-box"
    );
    // User2 sees it too (offered to the group), until User1 claims it.
    let page = api
        .ok(&user2, Method::GET, "/api/v1/tasks?view=todo", None, 200)
        .await;
    assert_eq!(page["total"], 1, "{page}");

    // ---- claim, delegate, the notice, complete through the link --------------------
    api.ok(
        &user1,
        Method::POST,
        &format!("/api/v1/tasks/{task_id}/claim"),
        None,
        200,
    )
    .await;
    let messages = |n: usize| {
        let mail = &mail;
        until(
            Duration::from_secs(30),
            move || format!("{n} notices never came: {:?}", mail.messages()),
            move || async move {
                let m = mail.messages();
                (m.len() >= n).then_some(m)
            },
        )
    };
    let m = messages(1).await;
    assert_eq!(m[0]["rcpt"], json!(["user1@example.com"]), "{}", m[0]);
    api.ok(
        &user1,
        Method::POST,
        &format!("/api/v1/tasks/{task_id}/delegate"),
        Some(json!({"userId": user2_id})),
        200,
    )
    .await;
    let m = messages(2).await;
    assert_eq!(m[1]["rcpt"], json!(["user2@example.com"]), "{}", m[1]);
    let text = m[1]["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{base}/m/approve#")),
        "a link to this server: {text}"
    );
    let link = link_token(text);
    // The delegate holds it now.
    let page = api
        .ok(&user2, Method::GET, "/api/v1/tasks?view=todo", None, 200)
        .await;
    assert_eq!(page["items"][0]["assignee"], user2_id.as_str(), "{page}");
    let opened = api
        .ok(
            &Auth::None,
            Method::GET,
            &format!("/api/v1/approvals/{link}"),
            None,
            200,
        )
        .await;
    assert_eq!(opened["id"], task_id.as_str(), "{opened}");
    // The form is enforced: a value it does not offer is refused.
    let r = api
        .call(
            &Auth::None,
            Method::POST,
            &format!("/api/v1/approvals/{link}/complete"),
            Some(json!({"values": {"decision": "maybe"}})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("body.values.decision")),
        "{}",
        r.json()
    );
    let r = api
        .call(
            &Auth::None,
            Method::POST,
            &format!("/api/v1/approvals/{link}/complete"),
            Some(json!({"values": {"decision": "approve"}})),
        )
        .await;
    // 200: the engine committed the step; 202: it is on its way.
    assert!(matches!(r.status, 200 | 202), "{}", r.json());
    let done = r.json();
    assert_eq!(done["completedBy"], user2_id.as_str(), "{done}");

    // ---- the instance ends; its report --------------------------------------------
    let d = until(
        Duration::from_secs(60),
        || format!("the instance never completed; relay log:\n{}", rlog()),
        || async {
            let d = detail().await;
            match d["status"].as_str() {
                Some("running") => {
                    assert_eq!(d["incidents"], json!([]), "{d}");
                    None
                }
                _ => Some(d),
            }
        },
    )
    .await;
    assert_eq!(d["status"], "completed", "{d}");
    mark("the instance completed");
    assert_eq!(d["variables"]["decision"], "approve", "{d}");
    let outputs = &d["outputs"];
    let reports = api
        .ok(
            &admin,
            Method::GET,
            &format!("/api/v1/reports?instance={instance}"),
            None,
            200,
        )
        .await;
    assert_eq!(reports["total"], 1, "{reports}");
    let report = &reports["items"][0];
    assert_eq!(report["elementId"], "report", "{report}");
    let file = api
        .send(
            &admin,
            Method::GET,
            &format!("/api/v1/reports/{}/file", report["id"].as_str().unwrap()),
            |r| r,
        )
        .await;
    assert_eq!(file.status, 200);
    std::fs::write(dir.join("report.xlsx"), &file.bytes).unwrap();
    {
        use calamine::{Data, Reader, Xlsx};
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(file.bytes.clone()))
            .expect("the report is an xlsx");
        let range = book.worksheet_range("Report").unwrap();
        let cell = |r: u32, c: u32| match range.get_value((r, c)) {
            Some(Data::String(s)) => s.clone(),
            other => format!("{other:?}"),
        };
        let trimmed = |node: &str| outputs[node]["stdout"].as_str().unwrap().trim().to_owned();
        assert_eq!(cell(4, 0), "linux-box");
        assert_eq!(cell(4, 1), "127.0.0.1");
        assert_eq!(cell(4, 2), "Linux");
        assert_eq!(cell(4, 3), trimmed("linuxInfo"));
        assert_eq!(cell(5, 0), "windows-box");
        assert_eq!(cell(5, 2), "Windows (a Linux stand-in)");
        assert_eq!(cell(5, 3), trimmed("windowsInfo"));
        // Each listing one line a row, below its heading.
        let column: Vec<String> = (0..range.height() as u32).map(|r| cell(r, 0)).collect();
        let block = |heading: &str, node: &str| {
            let at = column
                .iter()
                .position(|c| c == heading)
                .unwrap_or_else(|| panic!("no heading {heading}: {column:?}"));
            let lines: Vec<String> = trimmed(node).lines().map(str::to_owned).collect();
            assert!(lines.len() > 2, "{node}: {lines:?}");
            assert_eq!(
                column[at + 1..at + 1 + lines.len()],
                lines[..],
                "{node} under {heading}"
            );
            lines
        };
        let home = block("Files in /home (Linux)", "linuxDir");
        let root = block("Files in C:/ (Windows)", "windowsDir");
        if linux.password.is_some() {
            assert!(
                home.iter().any(|l| l.ends_with(sshd::TEST_USER)),
                "{home:?}"
            );
        }
        assert!(root.iter().any(|l| l.ends_with(" etc")), "{root:?}");
    }

    // ---- no secret anywhere -------------------------------------------------------------
    let bodies = std::mem::take(&mut *api.bodies.lock().unwrap());
    assert!(bodies.len() > 40, "{} responses", bodies.len());
    let responses = bodies.len();
    // The package is a deflated zip: its files are searched unpacked below
    // (but the binary, which this test built).
    let mut places: Vec<(String, Vec<u8>)> = bodies
        .into_iter()
        .filter(|(what, _)| !what.contains("/package?"))
        .collect();
    // The first-start password is printed on the server's stderr by design;
    // no response may hold it.
    let first_seen = places
        .iter()
        .filter(|(_, b)| contains(b, &first))
        .map(|(w, _)| w.clone())
        .collect::<Vec<_>>();
    assert!(first_seen.is_empty(), "first password in {first_seen:?}");
    places.push((
        "serve stderr".into(),
        std::fs::read(&serve.log_path).unwrap(),
    ));
    for (i, m) in mail.messages().iter().enumerate() {
        places.push((format!("mail {i}"), m.to_string().into_bytes()));
    }
    let mut files = Vec::new();
    files_under(&relay_dir, &mut files);
    files_under(&dir.join("data"), &mut files);
    for f in ["b.db", "b.db-wal"] {
        files.push(dir.join(f));
    }
    assert!(
        files.iter().any(|f| f.ends_with("sub-manager.log")),
        "{files:?}"
    );
    assert!(
        files.iter().any(|f| f.starts_with(relay_dir.join("data"))),
        "the relay's data files: {files:?}"
    );
    files.retain(|f| f != &relay_dir.join("sub-manager"));
    // The relay's vault holds the terminal secrets (encrypted).
    let vault = relay_dir.join("data").join("secrets.json");
    assert!(
        files.contains(&vault) && std::fs::metadata(&vault).unwrap().len() > 0,
        "no vault: {files:?}"
    );
    // The search finds what is there: the one-time password is in the
    // server's log.
    assert!(contains(&std::fs::read(&serve.log_path).unwrap(), &first));
    for f in &files {
        if let Ok(b) = std::fs::read(f) {
            places.push((f.display().to_string(), b));
        }
    }
    let mut leaks = Vec::new();
    for (what, bytes) in &places {
        for s in &secrets {
            if contains(bytes, s) {
                leaks.push(format!("{s:?} in {what}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets found: {leaks:#?}");
    println!(
        "worked example: {} responses, {} files, the server's log and the mails searched \
         for {} secrets; {:.1} s",
        responses,
        files.len(),
        secrets.len(),
        begun.elapsed().as_secs_f64()
    );
    drop(_relay);
    let _ = std::fs::remove_dir_all(&dir);
}
