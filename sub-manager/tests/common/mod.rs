//! Helpers shared by the Sub-Manager's integration tests (`mod common;`).
#![allow(dead_code)]

pub mod cloud;
pub mod relay;

use baton_relay_protocol::{Map, RelayJob, ToServer};
use serde_json::Value;

pub fn map(v: Value) -> Map {
    v.as_object().expect("an object").clone()
}

/// A job of `kind` with `props`.
pub fn job(id: &str, kind: &str, props: Value) -> RelayJob {
    RelayJob {
        job_id: id.into(),
        attempt: 1,
        kind: kind.into(),
        element_id: "task".into(),
        element_name: "Task".into(),
        instance_id: "inst-1".into(),
        props: map(props),
        vars: map(serde_json::json!({"who": "world"})),
        outputs: Map::new(),
        globals: map(serde_json::json!({"region": "east"})),
        timeout_ms: None,
    }
}

/// `Some((job_id, attempt, outcome))` for a `result` message.
pub fn as_result(m: &ToServer) -> Option<(String, u32, baton_relay_protocol::Outcome)> {
    match m {
        ToServer::Result {
            job_id,
            attempt,
            outcome,
        } => Some((job_id.clone(), *attempt, outcome.clone())),
        _ => None,
    }
}
