//! Processes through the API with a real engine (SQLite): deploy (a version
//! per key, the same text no new version, a bad document rejected naming the
//! element), list, read a version, start with variables, list and filter
//! instances, read one with variables, outputs and history, terminate; a
//! second company sees none of it and its same key is its own process.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use http_body_util::BodyExt;
use serde_json::{Value, json};

use common::{Api, TempDir};

const DONE: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="d1" targetNamespace="t">
  <process id="orders" name="Orders" isExecutable="true" baton:owner="tests"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="calc"/>
  <scriptTask id="calc" scriptFormat="rhai"><script>total = n * 2;</script></scriptTask>
  <sequenceFlow id="f2" sourceRef="calc" targetRef="e"/><endEvent id="e"/></process></definitions>"#;

const FRAGILE: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="d3" targetNamespace="t">
  <process id="fragile" isExecutable="true" baton:owner="tests"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
  <scriptTask id="t" scriptFormat="rhai"><script>if !ready { throw "not ready"; } done = true;</script></scriptTask>
  <sequenceFlow id="f2" sourceRef="t" targetRef="e"/><endEvent id="e"/></process></definitions>"#;

const WAITS: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="d2" targetNamespace="t">
  <message id="m" name="never"/>
  <process id="waits" isExecutable="true" baton:owner="tests"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="c"/>
  <intermediateCatchEvent id="c"><messageEventDefinition messageRef="m"/></intermediateCatchEvent>
  <sequenceFlow id="f2" sourceRef="c" targetRef="e"/><endEvent id="e"/></process></definitions>"#;

/// A store in a fresh directory with users `a` (company `default`) and `b`
/// (`acme`), an engine on it, and the API over both.
async fn setup(name: &str) -> Api {
    let dir = TempDir::new(name);
    let store = common::sqlite(&dir).await;
    common::user(&store, "default", "a", true).await;
    common::user(&store, "acme", "b", true).await;
    Api::with_engine(store, dir).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_start_inspect_terminate_per_company() {
    let api = setup("proc").await;

    let (s, v) = api
        .call("a", "POST", "/api/v1/processes", Some(json!({"xml": DONE})))
        .await;
    assert_eq!(
        (s, v["key"].as_str(), v["version"].as_i64()),
        (StatusCode::CREATED, Some("orders"), Some(1)),
        "{v}"
    );
    let (_, v) = api
        .call("a", "POST", "/api/v1/processes", Some(json!({"xml": DONE})))
        .await;
    assert_eq!(v["version"], 1, "the same text is no new version");
    let (_, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/processes",
            Some(json!({"xml": DONE.replace("n * 2", "n * 3")})),
        )
        .await;
    assert_eq!(v["version"], 2);
    // What changed from 1 to 2: the script of `calc`, nothing else.
    let (s, v) = api
        .call(
            "a",
            "GET",
            "/api/v1/processes/orders/diff?from=1&to=2",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["added"], json!([]));
    assert_eq!(v["removed"], json!([]));
    assert_eq!(v["changed"][0]["id"], "calc", "{v}");
    assert_eq!(
        v["changed"][0]["changes"],
        json!(["- script: total = n * 2;", "+ script: total = n * 3;"])
    );
    let (s, v) = api
        .call(
            "a",
            "GET",
            "/api/v1/processes/orders/diff?from=1&to=9",
            None,
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("query.to"))
    );
    api.call(
        "a",
        "POST",
        "/api/v1/processes",
        Some(json!({"xml": WAITS})),
    )
    .await;
    let bad = DONE.replace(r#"targetRef="calc""#, r#"targetRef="nowhere""#);
    let (s, v) = api
        .call("a", "POST", "/api/v1/processes", Some(json!({"xml": bad})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("nowhere"), "{v}");
    let (_, v) = api
        .call("a", "GET", "/api/v1/processes?sort=key", None)
        .await;
    assert_eq!(v["total"], 2);
    assert_eq!(
        (
            v["items"][0]["key"].as_str(),
            v["items"][0]["latestVersion"].as_i64()
        ),
        (Some("orders"), Some(2))
    );
    let (s, v) = api
        .call("a", "GET", "/api/v1/processes/orders/versions/1", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["xml"].as_str().unwrap().contains("n * 2"));

    // Start, let it complete, read it back.
    let (s, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/instances",
            Some(json!({"process": "orders", "variables": {"n": 21}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    let detail = loop {
        let (_, d) = api
            .call("a", "GET", &format!("/api/v1/instances/{id}"), None)
            .await;
        if d["status"] == "completed" {
            break d;
        }
        assert!(Instant::now() < deadline, "{d}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(detail["variables"]["total"], 63, "version 2 ran: {detail}");
    assert_eq!(detail["variables"]["LWAMS_INITIATOR_ID"], "a");
    assert_eq!(detail["version"], 2);
    assert!(
        detail["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["elementId"] == "calc")
    );

    // Deleting versions: only one nothing uses.
    api.call(
        "a",
        "POST",
        "/api/v1/processes",
        Some(json!({"xml": DONE.replace("n * 2", "n * 4")})),
    )
    .await;
    let del = |v: i32| format!("/api/v1/processes/orders/versions/{v}");
    let (s, v) = api.call("a", "DELETE", &del(3), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["message"].as_str().unwrap().contains("latest"), "{v}");
    let (s, v) = api.call("a", "DELETE", &del(2), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["message"].as_str().unwrap().contains("1 instance"), "{v}");
    let (s, _) = api.call("b", "DELETE", &del(1), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another company's");
    let (s, v) = api.call("a", "DELETE", &del(1), None).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let (s, _) = api.call("a", "GET", &del(1), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api.call("a", "DELETE", &del(1), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A waiting instance, terminated.
    let (_, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/instances",
            Some(json!({"process": "waits"})),
        )
        .await;
    let waiting = v["id"].as_str().unwrap().to_owned();
    let (_, v) = api
        .call("a", "GET", "/api/v1/instances?status=running", None)
        .await;
    assert_eq!(v["total"], 1);
    let (_, v) = api
        .call("a", "GET", "/api/v1/instances?process=orders", None)
        .await;
    assert_eq!(v["total"], 1);
    // Paused and resumed; each once.
    let pause = format!("/api/v1/instances/{waiting}/pause");
    let resume = format!("/api/v1/instances/{waiting}/resume");
    let (s, v) = api.call("a", "POST", &resume, None).await;
    assert_eq!(s, StatusCode::CONFLICT, "not paused: {v}");
    let (s, v) = api.call("a", "POST", &pause, None).await;
    assert_eq!(
        (s, v["paused"].clone()),
        (StatusCode::OK, json!(true)),
        "{v}"
    );
    let (s, _) = api.call("a", "POST", &pause, None).await;
    assert_eq!(s, StatusCode::CONFLICT, "paused already");
    let (_, v) = api
        .call("a", "GET", "/api/v1/instances?status=running", None)
        .await;
    assert_eq!(v["items"][0]["paused"], true, "{v}");
    let (s, _) = api.call("b", "POST", &pause, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another company's instance");
    let (s, v) = api.call("a", "POST", &resume, None).await;
    assert_eq!(
        (s, v["paused"].clone()),
        (StatusCode::OK, json!(false)),
        "{v}"
    );
    let (s, _) = api
        .call(
            "a",
            "POST",
            &format!("/api/v1/instances/{waiting}/terminate"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let deadline = Instant::now() + Duration::from_secs(10);
    while api
        .call("a", "GET", &format!("/api/v1/instances/{waiting}"), None)
        .await
        .1["status"]
        != "cancelled"
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (s, v) = api
        .call(
            "a",
            "POST",
            &format!("/api/v1/instances/{waiting}/terminate"),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );

    // Incidents: retried with a fix, or skipped with the node's result.
    api.call(
        "a",
        "POST",
        "/api/v1/processes",
        Some(json!({"xml": FRAGILE})),
    )
    .await;
    for (action, body) in [
        ("retry", json!({"variables": {"ready": true}})),
        (
            "skip",
            json!({"elementId": "t", "variables": {"done": "by hand"}}),
        ),
    ] {
        let start = json!({"process": "fragile", "variables": {"ready": false}});
        let (_, v) = api
            .call("a", "POST", "/api/v1/instances", Some(start))
            .await;
        let id = v["id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, d) = api
                .call("a", "GET", &format!("/api/v1/instances/{id}"), None)
                .await;
            if !d["incidents"].as_array().unwrap().is_empty() {
                assert!(
                    d["incidents"][0]["message"]
                        .as_str()
                        .unwrap()
                        .contains("not ready")
                );
                break;
            }
            assert!(Instant::now() < deadline, "no incident: {d}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let uri = format!("/api/v1/instances/{id}/{action}");
        let (s, v) = api.call("a", "POST", &uri, Some(body)).await;
        assert_eq!(
            (s, v["elements"].clone()),
            (StatusCode::ACCEPTED, json!(["t"])),
            "{action}: {v}"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        let d = loop {
            let (_, d) = api
                .call("a", "GET", &format!("/api/v1/instances/{id}"), None)
                .await;
            if d["status"] == "completed" {
                break d;
            }
            assert!(Instant::now() < deadline, "{action}: {d}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let expected = if action == "retry" {
            json!(true)
        } else {
            json!("by hand")
        };
        assert_eq!(d["variables"]["done"], expected, "{action}");
        let (s, _) = api.call("a", "POST", &uri, Some(json!({}))).await;
        assert_eq!(s, StatusCode::CONFLICT, "nothing left to {action}");
    }

    // Another company: sees nothing, and `orders` is not its process.
    let (_, v) = api.call("b", "GET", "/api/v1/processes", None).await;
    assert_eq!(v["total"], 0);
    let (_, v) = api.call("b", "GET", "/api/v1/instances", None).await;
    assert_eq!(v["total"], 0);
    let (s, _) = api
        .call("b", "GET", &format!("/api/v1/instances/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = api
        .call(
            "b",
            "POST",
            "/api/v1/instances",
            Some(json!({"process": "orders"})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("body.process"))
    );
    let (s, v) = api
        .call("b", "POST", "/api/v1/processes", Some(json!({"xml": DONE})))
        .await;
    assert_eq!(
        (s, v["version"].as_i64()),
        (StatusCode::CREATED, Some(1)),
        "its own version line"
    );
}

/// An open `GET /api/v1/events` stream: the `change` events' data, parsed.
struct Events {
    body: axum::body::Body,
    buf: String,
}

impl Events {
    async fn open(api: &Api, token: &str, query: &str) -> Events {
        let uri = format!("/api/v1/events{query}");
        Events {
            body: common::event_stream(&api.state, token, &uri).await,
            buf: String::new(),
        }
    }

    /// The next change, or `None` after `wait` without one.
    async fn next(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let event: String = self.buf.drain(..end + 2).collect();
                if event.lines().any(|l| l == "event: change") {
                    let data = event
                        .lines()
                        .find_map(|l| l.strip_prefix("data: "))
                        .expect("data");
                    return Some(serde_json::from_str(data).unwrap());
                }
                continue;
            }
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .ok()??;
            if let Ok(bytes) = frame.unwrap().into_data() {
                self.buf.push_str(std::str::from_utf8(&bytes).unwrap());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_tells_a_company_its_own_changes() {
    let api = setup("feed").await;
    api.call("a", "POST", "/api/v1/processes", Some(json!({"xml": DONE})))
        .await;
    api.call("b", "POST", "/api/v1/processes", Some(json!({"xml": DONE})))
        .await;
    let mut all_a = Events::open(&api, "a", "").await;
    let mut all_b = Events::open(&api, "b", "").await;

    let (s, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/instances",
            Some(json!({"process": "orders", "variables": {"n": 2}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let mut seen = Vec::new();
    loop {
        let c = all_a
            .next(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no completion; saw {seen:#?}"));
        seen.push(c.clone());
        if c["type"] == "instance" && c["id"] == id.as_str() && c["status"] == "completed" {
            break;
        }
    }
    assert!(
        seen.iter()
            .any(|c| c["type"] == "node" && c["elementId"] == "calc" && c["kind"] == "completed"),
        "{seen:#?}"
    );
    assert!(seen.iter().all(|c| c["company"] == "default"), "{seen:#?}");
    // Another company hears nothing of it.
    assert_eq!(all_b.next(Duration::from_millis(300)).await, None);

    // One instance's stream: only that instance.
    let mut one = Events::open(&api, "a", &format!("?instance={id}")).await;
    let (_, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/instances",
            Some(json!({"process": "orders", "variables": {"n": 3}})),
        )
        .await;
    let other = v["id"].as_str().unwrap().to_owned();
    let mut about_other = 0;
    while let Some(c) = all_a.next(Duration::from_millis(500)).await {
        if c["id"] == other.as_str() || c["instanceId"] == other.as_str() {
            about_other += 1;
        }
    }
    assert!(
        about_other > 0,
        "the company stream tells the other instance"
    );
    assert_eq!(one.next(Duration::from_millis(200)).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_starts_reach_the_callers_company_only() {
    let api = setup("cond").await;
    let hot = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="dc" targetNamespace="t"><process id="hot" isExecutable="true" baton:owner="tests">
      <startEvent id="s"><conditionalEventDefinition><condition>${temp > 30}</condition></conditionalEventDefinition></startEvent>
      <sequenceFlow id="f1" sourceRef="s" targetRef="e"/><endEvent id="e"/></process></definitions>"#;
    for who in ["a", "b"] {
        let (s, v) = api
            .call(who, "POST", "/api/v1/processes", Some(json!({"xml": hot})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let cold = json!({"variables": {"temp": 20}});
    let (s, v) = api
        .call("a", "POST", "/api/v1/conditions", Some(cold))
        .await;
    assert_eq!((s, v["ids"].clone()), (StatusCode::OK, json!([])), "{v}");
    let (_, v) = api
        .call(
            "a",
            "POST",
            "/api/v1/conditions",
            Some(json!({"variables": {"temp": 35}})),
        )
        .await;
    let ids = v["ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 1, "{v}");
    let (_, inst) = api
        .call(
            "a",
            "GET",
            &format!("/api/v1/instances/{}", ids[0].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(inst["startWay"], "condition", "{inst}");
    assert_eq!(inst["variables"]["LWAMS_INITIATOR_ID"], "a", "{inst}");
    // acme's process did not start: its list stays empty.
    let (_, list) = api.call("b", "GET", "/api/v1/instances", None).await;
    assert_eq!(list["total"], 0, "{list}");
}
