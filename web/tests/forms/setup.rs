//! The API with a real engine, the approval process deployed and users
//! who may act or only view ([`setup`]); a form for it; what a refusal and
//! a list hold.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::{self, Api, TempDir};

/// Approve (form `change-approval`) → (decision == 'yes') approved, else rejected.
const APPROVAL: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:baton="http://baton.dev/schema/bpmn" id="d1" targetNamespace="t">
  <process id="approval" name="Change approval" isExecutable="true" baton:owner="tests">
    <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="approve"/>
    <userTask id="approve" name="Approve the change" baton:assignee="alice" baton:formKey="change-approval"/>
    <sequenceFlow id="f2" sourceRef="approve" targetRef="g"/>
    <exclusiveGateway id="g" default="no"/>
    <sequenceFlow id="yes" sourceRef="g" targetRef="approved"><conditionExpression xsi:type="tFormalExpression">${decision == 'yes'}</conditionExpression></sequenceFlow>
    <sequenceFlow id="no" sourceRef="g" targetRef="rejected"/>
    <endEvent id="approved"/><endEvent id="rejected"/>
  </process></definitions>"#;

impl Api {
    /// A call that must be refused with `want` naming `field`.
    pub(crate) async fn refused(
        &self,
        token: &str,
        method: &str,
        uri: &str,
        body: Value,
        want: StatusCode,
        field: Option<&str>,
    ) -> Value {
        let (s, v) = self.call(token, method, uri, Some(body.clone())).await;
        assert_eq!(s, want, "{method} {uri} {body}: {v}");
        assert_eq!(v["field"].as_str(), field, "{method} {uri} {body}: {v}");
        v
    }
}

pub(crate) async fn setup(name: &str) -> Api {
    let dir = TempDir::new(&format!("forms-{name}"));
    let store = common::sqlite(&dir).await;
    common::default_and_acme(&store, &["alice", "viewer"]).await;
    for (gid, perms, member) in [
        (
            "g-act",
            json!({"tasks": "manage", "forms": "view"}),
            "alice",
        ),
        (
            "g-view",
            json!({"forms": "view", "holidays": "view", "languages": "view"}),
            "viewer",
        ),
    ] {
        common::group(&store, "default", gid, gid, perms, &[member]).await;
    }
    let api = Api::with_engine(store, dir).await;
    api.deploy("admin", APPROVAL).await;
    api
}

pub(crate) fn approval_form() -> Value {
    json!({
        "key": "change-approval",
        "name": "Change approval",
        "fields": [
            {"id": "decision", "label": "Decision", "type": "radio", "required": true,
             "options": [{"value": "yes", "label": "Approve"}, {"value": "no", "label": "Reject"}]},
            {"id": "budget", "label": "Budget", "type": "number", "min": 0, "max": 1000, "default": 100},
            {"id": "ticket", "label": "Ticket", "type": "text", "pattern": "CHG-[0-9]+", "maxLength": 12},
            {"id": "notify", "label": "Notify", "type": "switch", "default": true},
            {"id": "when", "label": "When", "type": "date"},
            {"id": "areas", "label": "Areas", "type": "checkbox",
             "options": [{"value": "db", "label": "Database"}, {"value": "net", "label": "Network"}]},
            {"id": "env", "label": "Environment", "type": "select",
             "options": [{"value": "prod", "label": "Production"}]},
            {"id": "why", "label": "Why", "type": "textarea"},
            {"id": "plan", "label": "Plan", "type": "longtext"},
            {"id": "evidence", "label": "Evidence", "type": "file"}
        ]
    })
}

pub(crate) fn keys(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}
