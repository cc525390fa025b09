//! The permission matrix, generated from `baton_web::ROUTES`: every route ×
//! (anonymous, no permission, view, manage, admin, another company's admin)
//! gives the expected answer — 401, 403, 404 for another company's object,
//! or through the gate (any other status below 500). Each cell runs on a
//! fresh store (SQLite file) seeded with two companies and their objects, so
//! one cell's changes cannot pass or fail another. No response anywhere
//! contains a stored secret. Plus the completeness check: every operation in
//! the OpenAPI document is in the table and the other way round.

#[path = "../common/mod.rs"]
mod common;

mod requests;
mod roles;
mod seed;

use std::collections::BTreeSet;
use std::path::PathBuf;

use axum::http::StatusCode;
use baton_web::{AppState, ROUTES};

use common::TempDir;
use requests::call;
use roles::{Expect, ROLES, Role, expect};
use seed::seed;

const PASSWORD: &str = "Matrix-pass-123";
const DS_SECRET: &str = "S3cret-datasource-pw";
const WECHAT_SECRET: &str = "S3cret-wechat-appsecret";
const TERMINAL_SECRET: &str = "S3cret-terminal-pw";
const TEMPLATE: &[u8] = include_bytes!("../../../templates/reports/lwams-example.xlsx");
/// A process whose instances wait (the engine here is a client: it runs no job).
const PROCESS: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="pd" targetNamespace="t">
  <process id="p" isExecutable="true"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="w"/>
  <serviceTask id="w" baton:type="noop"/><sequenceFlow id="f2" sourceRef="w" targetRef="e"/><endEvent id="e"/></process>
</definitions>"#;

/// A process with an approval assigned to the `manager` user.
const TASK_PROCESS: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="td" targetNamespace="t">
  <process id="pt" isExecutable="true" baton:owner="tests"><startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="u"/>
  <userTask id="u" baton:assignee="manager" baton:candidateGroups="g-manage" baton:formKey="form-a"/><sequenceFlow id="f2" sourceRef="u" targetRef="e"/><endEvent id="e"/></process>
</definitions>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_by_every_role() {
    let mut failures = Vec::new();
    let mut cells = 0;
    for (i, route) in ROUTES.iter().enumerate() {
        for (j, role) in ROLES.iter().enumerate() {
            let s = seed(i * 10 + j, route.path.ends_with("/package")).await;
            let token = match role {
                Role::Anonymous => None,
                Role::NoPermission => Some(&s.tokens["nobody"]),
                Role::Viewer => Some(&s.tokens["viewer"]),
                Role::Manager => Some(&s.tokens["manager"]),
                Role::Admin => Some(&s.tokens["admin"]),
                Role::OtherCompany => Some(&s.tokens["b-admin"]),
            };
            let (status, body) =
                call(&s, route.method, route.path, token.map(String::as_str)).await;
            cells += 1;
            let want = expect(route, *role);
            let ok = match want {
                Expect::Unauthenticated => status == StatusCode::UNAUTHORIZED,
                Expect::Forbidden => status == StatusCode::FORBIDDEN,
                Expect::NotFound => status == StatusCode::NOT_FOUND,
                Expect::Through => {
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !status.is_server_error()
                }
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {role:?}: expected {want:?}, got {status} {}",
                    route.method,
                    route.path,
                    body.chars().take(200).collect::<String>()
                ));
            }
            for secret in [
                DS_SECRET,
                WECHAT_SECRET,
                TERMINAL_SECRET,
                "pw-new",
                PASSWORD,
            ] {
                if body.contains(secret) {
                    failures.push(format!(
                        "{} {} as {role:?}: the response holds a secret",
                        route.method, route.path
                    ));
                }
            }
            if *role == Role::OtherCompany && route.method == "GET" && status.is_success() {
                for id in &s.a_ids {
                    if id != "default" && body.contains(&format!("\"{id}\"")) {
                        failures.push(format!(
                            "GET {} as another company shows `{id}`",
                            route.path
                        ));
                    }
                }
            }
            if status.is_server_error() {
                failures.push(format!(
                    "{} {} as {role:?}: {status} {body}",
                    route.method, route.path
                ));
            }
        }
    }
    assert_eq!(cells, ROUTES.len() * ROLES.len());
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_and_the_openapi_document_list_the_same_routes() {
    let dir = TempDir::new("doc");
    let store = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(common::sqlite(&dir));
    let (_, doc) = baton_web::api(AppState::new(store, common::key(), PathBuf::from("data")));
    let doc = serde_json::to_value(doc).unwrap();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let table: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| (r.method.to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, table);
}
