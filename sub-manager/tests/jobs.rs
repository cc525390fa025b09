//! Jobs over the link: accepted, run by the node library on the relay,
//! logs streamed before the result, cancelled, timed out, run once when
//! sent twice, refused when the queue is full, and the failures a relay
//! reports (unknown kind, resources kept by the server, a failing command).

mod common;

use std::time::Duration;

use baton_relay_protocol::{JobRef, LogStream, Outcome, RelayJob, ToRelay, ToServer};
use common::cloud::Cloud;
use common::relay::Relay;
use common::{as_result, job};
use serde_json::json;

fn jobs(list: Vec<RelayJob>) -> Vec<ToRelay> {
    vec![ToRelay::Jobs { jobs: list }]
}

fn failed(o: Outcome) -> String {
    match o {
        Outcome::Failed { message, .. } => message,
        other => panic!("expected a failure: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_command_runs_and_its_logs_and_result_arrive() {
    let mut cloud = Cloud::start().await;
    let _relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    let mut j = job(
        "i1:5",
        "local-command",
        json!({"command": "echo hello ${who}; echo oops >&2; echo ${region}", "resultVariable": "r"}),
    );
    j.attempt = 3;
    conn.send(jobs(vec![j]));
    let mut seen = Vec::new();
    let outcome = loop {
        match conn.recv().await {
            ToServer::Heartbeat(_) => {}
            ToServer::Result {
                job_id,
                attempt,
                outcome,
            } => {
                assert_eq!((job_id.as_str(), attempt), ("i1:5", 3));
                break outcome;
            }
            m => seen.push(m),
        }
    };
    assert_eq!(
        seen[0],
        ToServer::Accepted {
            jobs: vec![JobRef::new("i1:5", 3)]
        },
        "accepted first"
    );
    let logs: Vec<(LogStream, String)> = seen[1..]
        .iter()
        .filter_map(|m| match m {
            ToServer::Log {
                job_id,
                attempt,
                stream,
                text,
            } => {
                assert_eq!((job_id.as_str(), *attempt), ("i1:5", 3));
                Some((*stream, text.clone()))
            }
            _ => None,
        })
        .collect();
    assert!(
        logs.contains(&(LogStream::Stdout, "hello world".into())),
        "{logs:?}"
    );
    assert!(
        logs.contains(&(LogStream::Stderr, "oops".into())),
        "{logs:?}"
    );
    assert!(
        logs.contains(&(LogStream::Stdout, "east".into())),
        "globals: {logs:?}"
    );
    let Outcome::Done { outputs, vars } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(outputs["stdout"], "hello world\neast\n");
    assert_eq!(outputs["stderr"], "oops\n");
    assert_eq!(outputs["exitCode"], 0);
    assert_eq!(outputs["name"], "Task");
    assert_eq!(
        outputs["command"],
        "echo hello world; echo oops >&2; echo east"
    );
    assert_eq!(vars["r"]["stdout"], "hello world\neast\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_running_command() {
    let mut cloud = Cloud::start().await;
    let _relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    conn.send(jobs(vec![job(
        "c1",
        "local-command",
        json!({"command": "echo started; sleep 30; echo never"}),
    )]));
    conn.until(|m| matches!(m, ToServer::Log { text, .. } if text == "started").then_some(()))
        .await;
    let t = std::time::Instant::now();
    conn.send(vec![ToRelay::Cancel {
        job_id: "c1".into(),
    }]);
    let (id, _, outcome) = conn.until(as_result).await;
    assert_eq!(id, "c1");
    assert_eq!(failed(outcome), "cancelled");
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_job_cancelled_never_runs() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "max_jobs = 1");
    let mut conn = cloud.accept().await;
    let marker = relay.dir.join("queued.marker");
    conn.send(jobs(vec![
        job("busy", "noop", json!({"delayMs": "1500"})),
        job(
            "waiting",
            "local-command",
            json!({"command": format!("touch {}", marker.display())}),
        ),
    ]));
    conn.until(|m| matches!(m, ToServer::Accepted { .. }).then_some(()))
        .await;
    conn.send(vec![ToRelay::Cancel {
        job_id: "waiting".into(),
    }]);
    let (id, _, outcome) = conn.until(as_result).await;
    assert_eq!(id, "waiting", "the queued job ends first");
    assert_eq!(failed(outcome), "cancelled");
    let (id, _, outcome) = conn.until(as_result).await;
    assert_eq!(id, "busy");
    assert!(matches!(outcome, Outcome::Done { .. }));
    assert!(!marker.exists(), "the cancelled job never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_time_limit_stops_a_job() {
    let mut cloud = Cloud::start().await;
    let _relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    let mut j = job("t1", "local-command", json!({"command": "sleep 30"}));
    j.timeout_ms = Some(300);
    conn.send(jobs(vec![j]));
    let (_, _, outcome) = conn.until(as_result).await;
    assert_eq!(
        failed(outcome),
        "timed out after 300 ms (the server's limit for this job)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_sent_twice_runs_once() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    let file = relay.dir.join("twice.txt");
    let j = job(
        "d1",
        "local-command",
        json!({"command": format!("echo ran >> {}; sleep 0.5", file.display())}),
    );
    // Twice in one frame and once more in the next.
    conn.send(jobs(vec![j.clone(), j.clone()]));
    conn.send(jobs(vec![j.clone()]));
    let mut accepted = 0;
    let (_, _, first) = loop {
        let m = conn.recv().await;
        if matches!(m, ToServer::Accepted { .. }) {
            accepted += 1;
        }
        if let Some(r) = as_result(&m) {
            break r;
        }
    };
    assert_eq!(accepted, 2, "acknowledged per frame, the duplicate again");
    assert!(matches!(first, Outcome::Done { .. }));
    // Once finished, a resend gets the same result back without a run.
    conn.send(jobs(vec![j]));
    let (_, _, again) = conn.until(as_result).await;
    assert_eq!(again, first);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "ran\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_rejects_what_does_not_fit() {
    let mut cloud = Cloud::start().await;
    let _relay = Relay::start(cloud.port, &cloud.cert.pin(), "max_held_jobs = 2");
    let mut conn = cloud.accept().await;
    conn.send(jobs(vec![
        job("q1", "noop", json!({"delayMs": "300"})),
        job("q2", "noop", json!({"delayMs": "300"})),
        job("q3", "noop", json!({})),
    ]));
    let (rejected, reason) = conn
        .until(|m| match m {
            ToServer::Rejected { jobs, reason } => Some((jobs.clone(), reason.clone())),
            _ => None,
        })
        .await;
    assert_eq!(rejected, vec![JobRef::new("q3", 1)]);
    assert!(reason.contains("max_held_jobs = 2"), "{reason}");
    let accepted = conn
        .until(|m| match m {
            ToServer::Accepted { jobs } => Some(jobs.clone()),
            _ => None,
        })
        .await;
    assert_eq!(accepted, vec![JobRef::new("q1", 1), JobRef::new("q2", 1)]);
    // Results held until acknowledged still count; acknowledged ones free room.
    let mut done = Vec::new();
    while done.len() < 2 {
        done.push(conn.until(as_result).await.0);
    }
    conn.send(jobs(vec![job("q4", "noop", json!({}))]));
    conn.until(|m| matches!(m, ToServer::Rejected { .. }).then_some(()))
        .await;
    conn.send(vec![ToRelay::Ack {
        results: vec![JobRef::new("q1", 1), JobRef::new("q2", 1)],
    }]);
    conn.send(jobs(vec![job("q4", "noop", json!({}))]));
    let (id, _, _) = conn.until(as_result).await;
    assert_eq!(id, "q4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_say_what_is_wrong() {
    let mut cloud = Cloud::start().await;
    let _relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    conn.send(jobs(vec![
        job("f1", "teleport", json!({})),
        job(
            "f2",
            "local-command",
            json!({"command": "echo bad >&2; exit 3"}),
        ),
        job("f3", "sql", json!({"dataSource": "db", "sql": "select 1"})),
        job("f4", "local-command", json!({"script": "collect-info"})),
        job("f5", "local-command", json!({"command": "echo ${nope}"})),
        job(
            "f6",
            "remote-command",
            json!({"terminal": "nowhere", "command": "id"}),
        ),
    ]));
    let mut got = std::collections::BTreeMap::new();
    while got.len() < 6 {
        let (id, _, o) = conn.until(as_result).await;
        got.insert(id, failed(o));
    }
    assert_eq!(got["f1"], "no node of type `teleport`");
    assert!(got["f2"].contains("exit code 3"), "{}", got["f2"]);
    assert!(
        got["f3"].contains("data sources are kept by the server"),
        "{}",
        got["f3"]
    );
    assert!(
        got["f4"].contains("the script library is kept by the server"),
        "{}",
        got["f4"]
    );
    assert!(got["f5"].contains("nope"), "{}", got["f5"]);
    assert_eq!(got["f6"], "no terminal `nowhere`");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_jobs_run_concurrently_up_to_the_limit() {
    let mut cloud = Cloud::start().await;
    let _relay = Relay::start(cloud.port, &cloud.cert.pin(), "max_jobs = 8");
    let mut conn = cloud.accept().await;
    let list: Vec<RelayJob> = (0..32)
        .map(|i| job(&format!("p{i}"), "noop", json!({"delayMs": "400"})))
        .collect();
    let t = std::time::Instant::now();
    conn.send(jobs(list));
    let mut max_running = 0;
    let mut done = 0;
    while done < 32 {
        match conn.recv().await {
            ToServer::Heartbeat(hb) => max_running = max_running.max(hb.running),
            m if as_result(&m).is_some() => done += 1,
            _ => {}
        }
    }
    let took = t.elapsed();
    // 32 jobs of 400 ms, 8 at a time: 4 rounds (≈1.6 s), not 32 (12.8 s), not 1.
    assert!(took >= Duration::from_millis(1500), "{took:?}");
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert!(max_running <= 8, "{max_running}");
    assert!(max_running >= 2, "heartbeats saw {max_running} running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_secret_in_the_vault_is_masked_in_logs_and_results() {
    let mut cloud = Cloud::start().await;
    let relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    // A secret no node of this job uses: the relay masks it anyway.
    conn.send(vec![
        ToRelay::SetSecret {
            account_id: "unrelated".into(),
            secret: baton_relay_protocol::Secret::new("Zebra-Secret-991"),
            passphrase: Some(baton_relay_protocol::Secret::new("Okapi-Phrase-17")),
        },
        ToRelay::Jobs {
            jobs: vec![job(
                "m1",
                "local-command",
                json!({"command": "printf 'Zebra-Secret-991\\n' ; printf 'x Okapi-Phrase-17 y\\n' >&2; exit 1"}),
            )],
        },
    ]);
    let mut logs = Vec::new();
    let outcome = loop {
        let m = conn.recv().await;
        if let ToServer::Log { text, .. } = &m {
            logs.push(text.clone());
        }
        if let Some((_, _, o)) = as_result(&m) {
            break o;
        }
    };
    assert!(logs.contains(&"******".to_owned()), "{logs:?}");
    assert!(logs.contains(&"x ****** y".to_owned()), "{logs:?}");
    let message = failed(outcome);
    assert!(
        !message.contains("Zebra") && !message.contains("Okapi"),
        "{message}"
    );
    for needle in ["Zebra-Secret-991", "Okapi-Phrase-17"] {
        let frames = cloud.all_frames();
        // The command itself (sent by the cloud) is echoed in no output: the
        // relay masks the `command` output too.
        assert!(
            !frames.contains(needle),
            "{needle} in a frame the relay sent"
        );
        assert!(!relay.log().contains(needle));
    }
}
