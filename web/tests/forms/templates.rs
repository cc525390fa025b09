//! Form templates: create, list, read, replace, delete, validation and
//! isolation; completing a task checks its stored form.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::setup::{approval_form, keys, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_crud_validation_and_isolation() {
    let api = setup("crud").await;
    let created = api
        .ok(
            "admin",
            "POST",
            "/api/v1/forms",
            Some(approval_form()),
            StatusCode::CREATED,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["key"], "change-approval");
    assert_eq!(created["fields"].as_array().unwrap().len(), 10);
    assert_eq!(created["fields"][0]["type"], "radio");
    assert_eq!(created["fields"][2]["maxLength"], 12);
    let other = api
        .ok(
            "admin",
            "POST",
            "/api/v1/forms",
            Some(json!({"key": "leave", "fields": [{"id": "days", "label": "Days", "type": "number"}]})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!(other["name"], "leave");

    // List: q, sort, paging; a viewer reads, does not write.
    let page = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/forms?sort=-key",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(keys(&page, "key"), ["leave", "change-approval"]);
    let page = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/forms?q=CHANGE",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(keys(&page, "key"), ["change-approval"]);
    let page = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/forms?limit=1&offset=1&sort=key",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        (keys(&page, "key"), &page["total"]),
        (vec!["leave".to_owned()], &json!(2))
    );
    let got = api
        .ok(
            "viewer",
            "GET",
            &format!("/api/v1/forms/{id}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["fields"], created["fields"]);
    let (s, _) = api
        .call("viewer", "POST", "/api/v1/forms", Some(approval_form()))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Bad input names the field.
    let with_field = |f: Value| json!({"key": "k", "fields": [{"id": "a", "label": "A", "type": "text"}, {"id": "b", "label": "B", "type": "text"}, f]});
    for (body, field) in [
        (
            with_field(json!({"id": "a", "label": "Again", "type": "text"})),
            "body.fields[2].id",
        ),
        (
            with_field(json!({"id": "c", "label": "C", "type": "slider"})),
            "body.fields[2].type",
        ),
        (
            with_field(json!({"id": "c", "label": "C", "type": "select"})),
            "body.fields[2].options",
        ),
        (
            with_field(
                json!({"id": "c", "label": "C", "type": "radio", "options": [{"value": "x", "label": "X"}], "default": "y"}),
            ),
            "body.fields[2].default",
        ),
        (
            with_field(json!({"id": "c", "label": "C", "type": "number", "default": "ten"})),
            "body.fields[2].default",
        ),
        (
            with_field(json!({"id": "c", "label": "C", "type": "text", "min": 1})),
            "body.fields[2].min",
        ),
        (
            with_field(json!({"id": "c", "label": "C", "type": "text", "pattern": "(["})),
            "body.fields[2].pattern",
        ),
        (
            with_field(json!({"id": "c", "label": "C", "type": "text", "colour": "red"})),
            "body.fields[2].colour",
        ),
        (
            with_field(json!({"id": "c d", "label": "C", "type": "text"})),
            "body.fields[2].id",
        ),
        (json!({"key": "has space", "fields": []}), "body.key"),
        (json!({"key": "k", "fields": [], "extra": 1}), "body.extra"),
        (json!({"fields": []}), "body.key"),
    ] {
        api.refused(
            "admin",
            "POST",
            "/api/v1/forms",
            body,
            StatusCode::BAD_REQUEST,
            Some(field),
        )
        .await;
    }
    // The key is unique in the company.
    let v = api
        .refused(
            "admin",
            "POST",
            "/api/v1/forms",
            approval_form(),
            StatusCode::CONFLICT,
            Some("body.key"),
        )
        .await;
    assert!(
        v["message"].as_str().unwrap().contains("change-approval"),
        "{v}"
    );

    // Replace.
    let mut changed = approval_form();
    changed["name"] = json!("Approval v2");
    changed["fields"] =
        json!([{"id": "decision", "label": "Decision", "type": "switch", "required": true}]);
    let v = api
        .ok(
            "admin",
            "PUT",
            &format!("/api/v1/forms/{id}"),
            Some(changed),
            StatusCode::OK,
        )
        .await;
    assert_eq!((&v["id"], &v["name"]), (&json!(id), &json!("Approval v2")));
    assert_eq!(v["fields"].as_array().unwrap().len(), 1);

    // Another company: nothing to see, nothing to touch; its own key is free.
    let page = api
        .ok("zed", "GET", "/api/v1/forms", None, StatusCode::OK)
        .await;
    assert_eq!(page["total"], 0);
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(approval_form())),
        ("DELETE", None),
    ] {
        let (s, v) = api
            .call("zed", method, &format!("/api/v1/forms/{id}"), body)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method}: {v}");
    }
    api.ok(
        "zed",
        "POST",
        "/api/v1/forms",
        Some(approval_form()),
        StatusCode::CREATED,
    )
    .await;

    // Delete; the audit log has every change.
    api.ok(
        "admin",
        "DELETE",
        &format!("/api/v1/forms/{id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api.ok(
        "admin",
        "GET",
        &format!("/api/v1/forms/{id}"),
        None,
        StatusCode::NOT_FOUND,
    )
    .await;
    let audit = api
        .ok(
            "admin",
            "GET",
            "/api/v1/audit?limit=500",
            None,
            StatusCode::OK,
        )
        .await;
    let actions: Vec<String> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["object"] == format!("form:{id}"))
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for a in ["create", "update", "delete"] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} in {actions:?}: {audit}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completing_a_task_checks_its_stored_form() {
    let api = setup("complete").await;
    api.ok(
        "admin",
        "POST",
        "/api/v1/forms",
        Some(approval_form()),
        StatusCode::CREATED,
    )
    .await;
    // Another company's form of the same key must not apply here (it would refuse everything).
    api.ok(
        "zed",
        "POST",
        "/api/v1/forms",
        Some(json!({"key": "change-approval", "fields": [{"id": "never", "label": "Never", "type": "text", "required": true}]})),
        StatusCode::CREATED,
    )
    .await;
    let started = api
        .ok(
            "admin",
            "POST",
            "/api/v1/instances",
            Some(json!({"process": "approval"})),
            StatusCode::CREATED,
        )
        .await;
    let instance = started["id"].as_str().unwrap().to_owned();
    let page = api
        .ok("alice", "GET", "/api/v1/tasks", None, StatusCode::OK)
        .await;
    assert_eq!(page["total"], 1, "{page}");
    let task = page["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(page["items"][0]["formKey"], "change-approval");
    let complete = format!("/api/v1/tasks/{task}/complete");
    for (values, field) in [
        (json!({}), "body.values.decision"),
        (json!({"decision": ""}), "body.values.decision"),
        (json!({"decision": "maybe"}), "body.values.decision"),
        (
            json!({"decision": "yes", "budget": 5000}),
            "body.values.budget",
        ),
        (
            json!({"decision": "yes", "budget": "100"}),
            "body.values.budget",
        ),
        (
            json!({"decision": "yes", "ticket": "INC-1"}),
            "body.values.ticket",
        ),
        (
            json!({"decision": "yes", "notify": "yes"}),
            "body.values.notify",
        ),
        (
            json!({"decision": "yes", "when": "tomorrow"}),
            "body.values.when",
        ),
        (
            json!({"decision": "yes", "areas": ["db", "disk"]}),
            "body.values.areas",
        ),
        (json!({"decision": "yes", "env": "dev"}), "body.values.env"),
    ] {
        api.refused(
            "alice",
            "POST",
            &complete,
            json!({"values": values}),
            StatusCode::BAD_REQUEST,
            Some(field),
        )
        .await;
    }
    // Nothing changed: the task is still open and the instance waits.
    let t = api
        .ok(
            "alice",
            "GET",
            &format!("/api/v1/tasks/{task}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        (&t["state"], &t["instance"]["status"]),
        (&json!("open"), &json!("running"))
    );
    // The task carries its stored form, for pages without forms rights.
    assert_eq!(t["form"]["key"], t["formKey"], "{t}");
    assert!(
        t["form"]["fields"]
            .as_array()
            .is_some_and(|f| !f.is_empty()),
        "{t}"
    );

    let done = api
        .ok(
            "alice",
            "POST",
            &complete,
            Some(
                json!({"values": {"decision": "yes", "budget": 250, "ticket": "CHG-42",
                                   "notify": false, "when": "2026-05-04", "areas": ["net", "db"],
                                   "env": "prod", "extra": 1}}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(done["state"], "completed", "{done}");
    let detail = api
        .ok(
            "admin",
            "GET",
            &format!("/api/v1/instances/{instance}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(detail["status"], "completed", "{detail}");
    assert_eq!(detail["variables"]["decision"], "yes", "{detail}");
    assert_eq!(detail["variables"]["budget"], 250, "{detail}");
}
