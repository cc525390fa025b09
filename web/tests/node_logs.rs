//! A node's log through the API, with a real engine running the node library
//! on SQLite: a local command printing lines with sleeps is read while it
//! runs (its first lines before its end) and followed on the SSE stream (the
//! lines arrive in several events as they are written, then `end` closes the
//! stream); afterwards every line is there, in order, paged with `after`;
//! another node's lines are its own; another company gets 404, a user
//! without monitor permission 403, bad parameters 400 naming the field.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use baton_nodes::Registry;
use baton_runtime::nodes::{DEFAULT_COMPANY, NodeHandler, StoreResources};
use baton_web::AppState;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use common::TempDir;

/// `work` prints `one`, `oops` (stderr), then `two` after 2 s and `three`
/// 1 s later; `next` prints `other`.
const PROCESS: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="d1" targetNamespace="t">
  <process id="chatty" isExecutable="true" baton:owner="tests"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="work"/>
  <serviceTask id="work" baton:type="local-command">
    <extensionElements><baton:property name="command" value="echo one; echo oops 1&gt;&amp;2; sleep 2; echo two; sleep 1; echo three"/></extensionElements>
  </serviceTask>
  <sequenceFlow id="f2" sourceRef="work" targetRef="next"/>
  <serviceTask id="next" baton:type="local-command">
    <extensionElements><baton:property name="command" value="echo other"/></extensionElements>
  </serviceTask>
  <sequenceFlow id="f3" sourceRef="next" targetRef="e"/><endEvent id="e"/></process></definitions>"#;

async fn setup() -> (AppState, TempDir) {
    let dir = TempDir::new("node-logs");
    let store = common::sqlite(&dir).await;
    common::user(&store, "default", "a", true).await;
    common::user(&store, "default", "nobody", false).await;
    common::user(&store, "acme", "b", true).await;
    let key = common::key();
    let handler = NodeHandler::new(
        Registry::with_defaults(),
        Arc::new(StoreResources {
            store: store.clone(),
            key: key.clone(),
            company: DEFAULT_COMPANY.into(),
            roots: vec![std::env::temp_dir()],
            data_dir: dir.join("data"),
        }),
        Some(store.clone()),
    );
    let engine = common::engine_with(&store, Arc::new(handler)).await;
    (
        AppState::new(store, key, dir.join("data")).with_engine(engine),
        dir,
    )
}

fn texts(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect()
}

/// The SSE events of a stream until it ends (or 30 s pass): (event, id, data).
async fn sse(state: &AppState, uri: &str) -> Vec<(String, String, Value, Instant)> {
    let mut body = common::event_stream(state, "a", uri).await;
    let mut text = String::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = match tokio::time::timeout(left, body.frame()).await {
            Ok(Some(f)) => f.unwrap(),
            Ok(None) => break,
            Err(_) => panic!("the stream did not end; events so far: {events:?}"),
        };
        if let Ok(d) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&d));
        }
        while let Some(i) = text.find("\n\n") {
            let block: String = text.drain(..i + 2).collect();
            let (mut event, mut id, mut data) = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !event.is_empty() {
                events.push((
                    event,
                    id,
                    serde_json::from_str(&data).unwrap(),
                    Instant::now(),
                ));
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nodes_log_read_while_it_runs_followed_and_paged() {
    let (state, _dir) = setup().await;
    let (s, v) = common::call(
        &state,
        "a",
        "POST",
        "/api/v1/processes",
        Some(json!({"xml": PROCESS})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = common::call(
        &state,
        "a",
        "POST",
        "/api/v1/instances",
        Some(json!({"process": "chatty"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let logs = format!("/api/v1/instances/{id}/nodes/work/logs");

    // Follow from the start while reading pages beside it.
    let follower = tokio::spawn({
        let state = state.clone();
        let uri = format!("{logs}/stream");
        async move { sse(&state, &uri).await }
    });

    // While it runs: the first lines, not the last; stderr marked.
    let deadline = Instant::now() + Duration::from_secs(20);
    let early = loop {
        let (s, v) = common::call(&state, "a", "GET", &logs, None).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        if texts(&v["items"]).contains(&"one".to_owned()) {
            break v;
        }
        assert!(Instant::now() < deadline, "no line yet: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let got = texts(&early["items"]);
    assert!(!got.contains(&"three".to_owned()), "{early}");
    assert_eq!(early["running"], true, "{early}");
    assert_eq!(early["more"], false, "{early}");
    let (s, inst) =
        common::call(&state, "a", "GET", &format!("/api/v1/instances/{id}"), None).await;
    assert_eq!(
        (s, inst["status"].as_str()),
        (StatusCode::OK, Some("running"))
    );
    let items = early["items"].as_array().unwrap();
    let oops = items.iter().find(|l| l["text"] == "oops");
    if let Some(l) = oops {
        assert_eq!(l["stream"], "stderr");
    }
    assert!(
        items
            .iter()
            .all(|l| l["exec"].as_i64().unwrap() > 0 && l["attempt"] == 1)
    );
    // Polling by the cursor: only what is new.
    let cursor = early["next"].as_i64().unwrap();
    assert_eq!(Some(cursor), items.last().unwrap()["seq"].as_i64());

    // The stream: lines in more than one event as they were written, ids
    // the cursor, then `end`, and the stream closes.
    let events = follower.await.unwrap();
    let (last, rest) = events.split_last().unwrap();
    assert_eq!(last.0, "end", "{events:?}");
    assert!(rest.len() >= 2, "lines came in one lump: {events:?}");
    let mut streamed = Vec::new();
    for (event, id, data, _) in rest {
        assert_eq!(event, "lines");
        assert_eq!(
            Some(id.parse::<i64>().unwrap()),
            data.as_array().unwrap().last().unwrap()["seq"].as_i64()
        );
        streamed.extend(texts(data));
    }
    let first_at = rest
        .iter()
        .find(|e| texts(&e.2).contains(&"one".to_owned()))
        .unwrap()
        .3;
    let three_at = rest
        .iter()
        .find(|e| texts(&e.2).contains(&"three".to_owned()))
        .unwrap()
        .3;
    assert!(
        three_at.duration_since(first_at) >= Duration::from_millis(2_000),
        "`one` and `three` came together: {events:?}"
    );

    // Afterwards: every line, in order, the same as streamed.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, v) =
            common::call(&state, "a", "GET", &format!("/api/v1/instances/{id}"), None).await;
        if v["status"] == "completed" {
            break;
        }
        assert!(Instant::now() < deadline, "{v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (s, all) = common::call(&state, "a", "GET", &logs, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(all["running"], false, "{all}");
    let lines = texts(&all["items"]);
    assert_eq!(lines, streamed);
    let stdout: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["stream"] == "stdout")
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(stdout, ["one", "two", "three"], "{all}");
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["stream"] == "stderr" && l["text"] == "oops"),
        "{all}"
    );
    let seqs: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // Paged two at a time with `after`: the same lines.
    let mut paged = Vec::new();
    let mut after = 0;
    let mut calls = 0;
    loop {
        let (s, v) = common::call(
            &state,
            "a",
            "GET",
            &format!("{logs}?after={after}&limit=2"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        calls += 1;
        paged.extend(texts(&v["items"]));
        after = v["next"].as_i64().unwrap();
        if v["more"] == false {
            break;
        }
        assert!(calls < 50);
    }
    assert_eq!(paged, lines);
    assert!(
        calls >= lines.len() / 2,
        "{calls} calls for {} lines",
        lines.len()
    );
    // Nothing after the last.
    let (_, v) = common::call(&state, "a", "GET", &format!("{logs}?after={after}"), None).await;
    assert_eq!(
        (v["items"].as_array().unwrap().len(), v["next"].as_i64()),
        (0, Some(after))
    );

    // The next node's lines are its own; a node that did not run has none.
    let (_, v) = common::call(
        &state,
        "a",
        "GET",
        &format!("/api/v1/instances/{id}/nodes/next/logs"),
        None,
    )
    .await;
    let next = texts(&v["items"]);
    assert!(
        next.contains(&"other".to_owned()) && !next.contains(&"one".to_owned()),
        "{v}"
    );
    let (s, v) = common::call(
        &state,
        "a",
        "GET",
        &format!("/api/v1/instances/{id}/nodes/e/logs"),
        None,
    )
    .await;
    assert_eq!(
        (s, v["items"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0))
    );
    // A finished node's stream: its lines, then `end`.
    let events = sse(&state, &format!("{logs}/stream?after={cursor}")).await;
    assert_eq!(events.last().unwrap().0, "end");
    let after_cursor: Vec<String> = events
        .iter()
        .filter(|e| e.0 == "lines")
        .flat_map(|e| texts(&e.2))
        .collect();
    assert!(
        after_cursor.contains(&"three".to_owned()) && !after_cursor.contains(&"one".to_owned()),
        "{after_cursor:?}"
    );

    // Another company: no such instance. No monitor permission: 403.
    for uri in [logs.clone(), format!("{logs}/stream")] {
        let (s, v) = common::call(&state, "b", "GET", &uri, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}: {v}");
        let (s, v) = common::call(&state, "nobody", "GET", &uri, None).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{uri}: {v}");
    }
    let (s, v) = common::call(
        &state,
        "a",
        "GET",
        "/api/v1/instances/nope/nodes/work/logs",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    // Bad parameters name the field.
    for (q, field) in [
        ("limit=0", "query.limit"),
        ("limit=1001", "query.limit"),
        ("after=-1", "query.after"),
        ("colour=red", "query.colour"),
    ] {
        let (s, v) = common::call(&state, "a", "GET", &format!("{logs}?{q}"), None).await;
        assert_eq!(
            (s, v["field"].as_str()),
            (StatusCode::BAD_REQUEST, Some(field)),
            "{q}: {v}"
        );
    }
    let (s, v) = common::call(&state, "a", "GET", &format!("{logs}/stream?after=-5"), None).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("query.after")),
        "{v}"
    );
    let long = "x".repeat(300);
    let (s, v) = common::call(
        &state,
        "a",
        "GET",
        &format!("/api/v1/instances/{id}/nodes/{long}/logs"),
        None,
    )
    .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("path.element")),
        "{v}"
    );
}
