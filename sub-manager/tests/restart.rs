//! The durable queue across `kill -9`: accepted jobs are finished after a
//! restart (idempotent ones re-run, queued ones run, non-idempotent ones
//! that had started reported as interrupted, not re-run), results not yet
//! acknowledged are sent again, acknowledged ones are forgotten.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use baton_relay_protocol::{INTERRUPTED, JobRef, Outcome, ToRelay, ToServer};
use common::cloud::Cloud;
use common::relay::Relay;
use common::{as_result, job};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_loses_nothing_and_reruns_nothing_it_must_not() {
    let mut cloud = Cloud::start().await;
    let mut relay = Relay::start(cloud.port, &cloud.cert.pin(), "max_jobs = 2");
    let mut conn = cloud.accept().await;
    let dir = relay.dir.clone();
    let marker = |n: &str| dir.join(format!("{n}.marker"));

    // Two quick jobs: one result acknowledged, one not.
    conn.send(vec![ToRelay::Jobs {
        jobs: vec![
            job("acked", "noop", json!({})),
            job("unacked", "noop", json!({})),
        ],
    }]);
    let mut first = BTreeMap::new();
    while first.len() < 2 {
        let (id, _, o) = conn.until(as_result).await;
        first.insert(id, o);
    }
    conn.send(vec![ToRelay::Ack {
        results: vec![JobRef::new("acked", 1)],
    }]);

    // Two slots: a non-idempotent command and a slow idempotent noop run;
    // a third job waits for a slot.
    conn.send(vec![ToRelay::Jobs {
        jobs: vec![
            job(
                "cmd-running",
                "local-command",
                json!({"command": format!("echo run >> {}; echo started; sleep 20", marker("running").display())}),
            ),
            job("noop-running", "noop", json!({"delayMs": "3000"})),
            job(
                "cmd-queued",
                "local-command",
                json!({"command": format!("echo run >> {}; echo queued-ran", marker("queued").display())}),
            ),
        ],
    }]);
    conn.until(|m| matches!(m, ToServer::Accepted { jobs } if jobs.len() == 3).then_some(()))
        .await;
    conn.until(|m| matches!(m, ToServer::Log { text, .. } if text == "started").then_some(()))
        .await;
    relay.kill9();
    assert!(conn.closed_within(Duration::from_secs(5)).await);
    assert!(!marker("queued").exists(), "the queued job had not run");

    relay.restart();
    let mut conn = cloud.accept().await;
    let resumed: BTreeSet<String> = conn
        .hello
        .resumed
        .iter()
        .map(|r| r.job_id.clone())
        .collect();
    assert_eq!(
        resumed,
        ["cmd-queued", "cmd-running", "noop-running", "unacked"]
            .map(String::from)
            .into(),
        "every job held, the acknowledged one forgotten"
    );
    let mut results = BTreeMap::new();
    while results.len() < 4 {
        let (id, attempt, o) = conn.until(as_result).await;
        assert_eq!(attempt, 1);
        results.insert(id, o);
    }
    assert_eq!(
        results["unacked"], first["unacked"],
        "the unacknowledged result is sent again, unchanged"
    );
    assert_eq!(results["cmd-running"], Outcome::failed(INTERRUPTED));
    assert!(
        matches!(results["noop-running"], Outcome::Done { .. }),
        "re-run"
    );
    let Outcome::Done { outputs, .. } = &results["cmd-queued"] else {
        panic!("{:?}", results["cmd-queued"])
    };
    assert_eq!(outputs["stdout"], "queued-ran\n");
    assert_eq!(
        std::fs::read_to_string(marker("running")).unwrap(),
        "run\n",
        "the interrupted command was not run again"
    );
    assert_eq!(std::fs::read_to_string(marker("queued")).unwrap(), "run\n");
    assert!(
        relay.log().contains("1 interrupted non-idempotent"),
        "{}",
        relay.log()
    );

    // Acknowledge everything: the next start holds nothing.
    conn.send(vec![ToRelay::Ack {
        results: results
            .keys()
            .map(|id| JobRef::new(id.clone(), 1))
            .collect(),
    }]);
    // An acknowledgement has no answer; a job sent after it is handled after it.
    conn.send(vec![ToRelay::Jobs {
        jobs: vec![job("probe", "noop", json!({}))],
    }]);
    conn.until(|m| as_result(m).filter(|(id, ..)| id == "probe"))
        .await;
    conn.send(vec![ToRelay::Ack {
        results: vec![JobRef::new("probe", 1)],
    }]);
    conn.send(vec![ToRelay::Jobs {
        jobs: vec![job("probe2", "noop", json!({}))],
    }]);
    conn.until(|m| as_result(m).filter(|(id, ..)| id == "probe2"))
        .await;
    relay.kill9();
    relay.restart();
    let conn = cloud.accept().await;
    let resumed: Vec<String> = conn
        .hello
        .resumed
        .iter()
        .map(|r| r.job_id.clone())
        .collect();
    assert_eq!(resumed, ["probe2"], "only the unacknowledged result");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_says_bye_and_keeps_the_queue() {
    let mut cloud = Cloud::start().await;
    let mut relay = Relay::start(cloud.port, &cloud.cert.pin(), "");
    let mut conn = cloud.accept().await;
    conn.send(vec![ToRelay::Jobs {
        jobs: vec![job("slow", "noop", json!({"delayMs": "60000"}))],
    }]);
    conn.until(|m| matches!(m, ToServer::Accepted { .. }).then_some(()))
        .await;
    let code = tokio::task::spawn_blocking(move || {
        let c = relay.terminate();
        (relay, c)
    })
    .await
    .unwrap();
    let (mut relay, code) = code;
    assert_eq!(code, Some(0));
    let bye = conn
        .until(|m| match m {
            ToServer::Bye { reason } => Some(reason.clone()),
            _ => None,
        })
        .await;
    assert!(bye.contains("shutting down"), "{bye}");
    relay.restart();
    let conn = cloud.accept().await;
    assert_eq!(conn.hello.resumed, vec![JobRef::new("slow", 1)]);
}
