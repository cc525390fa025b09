//! Jobs on relays: a node against sshd, failover of lost relays to
//! different backups, a relay restarted at once.

use std::time::{Duration, Instant};

use baton_nodes::resources::Terminal;
use baton_runtime::nodes::DEFAULT_COMPANY;
use baton_runtime::store::{AccountRow, RelaySecretRow};
use serde_json::json;

use crate::cloud::{cloud, connected};
use crate::relay::Relay;
use crate::sshd;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_runs_on_its_relay_against_sshd_and_the_secret_leaves_the_server() {
    let Some(sshd) = sshd::Sshd::start() else {
        return;
    };
    let c = cloud("ssh").await;
    let token = c.host("h1", &[], None).await;
    c.store
        .put_terminal(
            DEFAULT_COMPANY,
            &Terminal {
                id: "t1".into(),
                name: "box".into(),
                host_name: "box".into(),
                host_address: "127.0.0.1".into(),
                port: sshd.port,
                connection_type: "ssh".into(),
                host_id: Some("h1".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The cloud keeps no secret of a relay's terminal: an empty secret here,
    // the key queued (encrypted) until the relay has it.
    c.store
        .put_account(&AccountRow {
            id: "a1".into(),
            terminal_id: "t1".into(),
            username: sshd.user.clone(),
            auth_kind: "key".into(),
            secret_enc: String::new(),
            passphrase_enc: None,
            comments: String::new(),
        })
        .await
        .unwrap();
    c.store
        .queue_relay_secret(&RelaySecretRow {
            host_id: "h1".into(),
            account_id: "a1".into(),
            secret_enc: c.key.encrypt(&sshd.key),
            passphrase_enc: None,
        })
        .await
        .unwrap();
    let relay = Relay::start(&c, "h1", &token, DEFAULT_COMPANY, 8);
    let h = connected(&c, "h1").await;
    assert!(
        h.facts["hostName"].as_str().is_some_and(|s| !s.is_empty()),
        "facts: {}",
        h.facts
    );
    let xml = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="r-defs" targetNamespace="t">
  <process id="remote" isExecutable="true">
    <startEvent id="start"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="who"/>
    <serviceTask id="who" baton:type="remote-command">
      <extensionElements>
        <baton:property name="terminal" value="box"/>
        <baton:property name="command" value="echo relay-$(id -un)"/>
      </extensionElements>
    </serviceTask>
    <sequenceFlow id="f2" sourceRef="who" targetRef="end"/>
    <endEvent id="end"/>
  </process>
</definitions>"#;
    c.engine.deploy(xml, None).await.unwrap();
    let ids = c.start("remote", 3).await;
    let done = c.finished(&ids, Duration::from_secs(30)).await;
    for (status, out) in &done {
        assert_eq!(status, "completed", "{out}\n{}", relay.log());
        assert_eq!(out["who"]["stdout"], format!("relay-{}\n", sshd.user));
        // `${who.host.*}`: the relay's record and facts.
        assert_eq!(out["who"]["host"]["id"], "h1");
        assert_eq!(out["who"]["host"]["name"], "h1");
        assert_eq!(out["who"]["host"]["hostName"], h.facts["hostName"]);
        assert!(out["who"]["host"]["osName"].is_string(), "{out}");
        assert!(out["who"]["host"]["memoryTotal"].is_u64(), "{out}");
    }
    // Delivered, then forgotten here; the relay never sends it back.
    assert!(c.store.relay_secrets("h1").await.unwrap().is_empty());
    let acct = c.store.account("t1", Some("a1")).await.unwrap().unwrap();
    assert_eq!(acct.secret_enc, "");
    assert!(!relay.log().contains(&sshd.key[40..80]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_lost_relays_fail_over_to_two_different_available_backups() {
    let c = cloud("failover").await;
    // b is over its memory threshold: never available, so skipped.
    let huge = json!({"minMemFreeBytes": 1_000_000_000_000_000u64});
    let mut tokens = Vec::new();
    // Backups first: a backup must exist when a host names it.
    for (id, backups, t) in [
        ("b", vec![], Some(huge)),
        ("c", vec![], None),
        ("d", vec![], None),
        ("a", vec!["b", "c", "d"], None),
        ("x", vec!["b", "c", "d"], None),
    ] {
        tokens.push((id, c.host(id, &backups, t).await));
    }
    let mut relays: Vec<(&str, Relay)> = tokens
        .iter()
        .map(|(id, t)| (*id, Relay::start(&c, id, t, DEFAULT_COMPANY, 64)))
        .collect();
    for (id, _) in &relays {
        connected(&c, id).await;
    }
    c.until_host("b", "not available", |h| {
        h.heartbeat.is_some() && !h.available
    })
    .await;
    for id in ["c", "d"] {
        c.until_host(id, "available", |h| h.available).await;
    }
    // Each job appends its own line once it has slept: a job run twice
    // would show twice.
    let marks = c.dir.join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    for (key, host) in [("on_a", "a"), ("on_x", "x")] {
        let cmd = format!("sleep 2; echo ${{n}} >> {}/{key}.txt", marks.display());
        c.deploy_local(key, host, &cmd).await;
    }
    let on_a = c.start("on_a", 6).await;
    let on_x = c.start("on_x", 6).await;
    // Both relays hold their jobs (claimed, sent, accepted and running).
    for host in ["a", "x"] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let hb = c.host_row(host).await.heartbeat.unwrap_or_default();
            if hb["running"].as_u64() == Some(6) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{host} never ran its 6 jobs: {hb}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let kill = |name: &str, relays: &mut Vec<(&str, Relay)>| {
        relays
            .iter_mut()
            .find(|(n, _)| *n == name)
            .unwrap()
            .1
            .kill();
    };
    kill("a", &mut relays);
    c.until_host("c", "covering a", |h| h.covering.as_deref() == Some("a"))
        .await;
    kill("x", &mut relays);
    c.until_host("d", "covering x", |h| h.covering.as_deref() == Some("x"))
        .await;
    for (ids, backup, key) in [(&on_a, "c", "on_a"), (&on_x, "d", "on_x")] {
        let done = c.finished(ids, Duration::from_secs(30)).await;
        for (status, out) in &done {
            assert_eq!(status, "completed", "{out}");
            assert_eq!(out["work"]["host"]["id"], backup, "{out}");
        }
        // Every job's line exactly once: none lost, none run twice.
        let text = std::fs::read_to_string(marks.join(format!("{key}.txt"))).unwrap();
        let mut lines: Vec<u32> = text.lines().map(|l| l.trim().parse().unwrap()).collect();
        lines.sort_unstable();
        assert_eq!(lines, (0..6).collect::<Vec<u32>>(), "{key}: {text}");
    }
    let failovers = c.store.list_failovers(DEFAULT_COMPANY, 10).await.unwrap();
    let pairs: Vec<(String, Option<String>, i64)> = failovers
        .iter()
        .rev()
        .map(|f| (f.host_id.clone(), f.backup_id.clone(), f.jobs))
        .collect();
    assert_eq!(
        pairs,
        [
            ("a".to_owned(), Some("c".to_owned()), 6),
            ("x".to_owned(), Some("d".to_owned()), 6)
        ]
    );
    // The instance history shows the move.
    let events = c.store.relay_events(&on_a[0]).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.event == "failover" && e.host_id == "c" && !e.detail.contains("`b`")),
        "{events:?}"
    );
    for id in on_a.iter().chain(&on_x) {
        let completions = c
            .store
            .history(id)
            .await
            .unwrap()
            .iter()
            .filter(|h| h.element_id == "work" && h.kind == "completed")
            .count();
        assert_eq!(completions, 1, "instance {id}");
    }
    // a comes back: its interrupted jobs' results are late and ignored; c is free again.
    let a = &mut relays.iter_mut().find(|(n, _)| *n == "a").unwrap().1;
    a.restart();
    connected(&c, "a").await;
    c.until_host("c", "free again", |h| h.covering.is_none())
        .await;
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    for id in &on_a {
        let row = c.store.load_instance(id).await.unwrap().unwrap();
        assert_eq!(row.status, "completed");
        assert!(c.store.incidents(id).await.unwrap().is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_restarted_at_once_keeps_the_jobs_it_accepted() {
    let c = cloud("restart").await;
    let token = c.host("r", &[], None).await;
    let mut relay = Relay::start(&c, "r", &token, DEFAULT_COMPANY, 1);
    connected(&c, "r").await;
    c.deploy_local("slow", "r", "sleep 1; echo ${n}").await;
    let ids = c.start("slow", 4).await;
    // One runs (max_jobs = 1), three wait in the relay's journal.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hb = c.host_row("r").await.heartbeat.unwrap_or_default();
        if hb["running"].as_u64() == Some(1) && hb["queued"].as_u64() == Some(3) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never 1 running + 3 queued: {hb}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.restart();
    let mut completed = 0;
    let mut interrupted = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    for id in &ids {
        loop {
            let row = c.store.load_instance(id).await.unwrap().unwrap();
            let incidents = c.store.incidents(id).await.unwrap();
            if row.status == "completed" {
                completed += 1;
                break;
            }
            if let Some(i) = incidents.first() {
                assert!(i.message.contains("interrupted"), "{i:?}");
                interrupted += 1;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "instance {id} neither completed nor interrupted\n{}",
                relay.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // The running one was interrupted (not safe to re-run); the queued ones ran.
    assert_eq!((completed, interrupted), (3, 1), "{}", relay.log());
    assert_eq!(c.host_row("r").await.state, "connected");
}
