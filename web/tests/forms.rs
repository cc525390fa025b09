//! Form templates, holiday calendars and languages through the API (SQLite,
//! a real engine): create, list, read, replace, delete; bad input names the
//! field; another company sees none of it; a schedule names a stored
//! calendar and follows its replacement; completing a task whose form key
//! names a stored form refuses a value that does not fit and takes one that does.

mod common;

use axum::http::StatusCode;
use serde_json::{Value, json};

use common::{Api, TempDir};

const CN_2026: &str = include_str!("../../templates/holidays/cn-2026.json");

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
    async fn refused(
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

async fn setup(name: &str) -> Api {
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

fn approval_form() -> Value {
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

fn keys(page: &Value, field: &str) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}

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
async fn holiday_calendars_and_the_schedules_that_name_them() {
    let api = setup("holidays").await;
    let cn: Value = serde_json::from_str(CN_2026).unwrap();
    let created = api
        .ok(
            "admin",
            "POST",
            "/api/v1/holidays",
            Some(cn.clone()),
            StatusCode::CREATED,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "cn-2026");
    assert_eq!(created["calendar"]["ranges"].as_array().unwrap().len(), 7);
    assert_eq!(created["calendar"]["workdays"][0], "2026-01-04");
    let page = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/holidays?q=cn",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(keys(&page, "id"), vec![id.clone()]);
    let got = api
        .ok(
            "viewer",
            "GET",
            &format!("/api/v1/holidays/{id}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["calendar"], created["calendar"]);

    // The parser's faults, by place.
    for (body, field, says) in [
        (
            json!({"name": "x", "ranges": [{"start": "2026-01-01", "end": "2026-01-01"}, {"start": "2026-01-05", "end": "2026-01-04"}]}),
            "body.ranges[1]",
            "range 1",
        ),
        (
            json!({"name": "x", "ranges": [{"start": "2026-01-01", "end": "2026-01-01"}, {"start": "Jan 5"}]}),
            "body.ranges[1]",
            "range 1",
        ),
        (
            json!({"name": "x", "holidays": []}),
            "body.holidays",
            "unknown field `holidays`",
        ),
        (
            json!({"name": "x", "workdays": ["2026-02-30"]}),
            "body.workdays[0]",
            "workday 0",
        ),
        (json!({"ranges": []}), "body.name", "name"),
        (json!({"name": " "}), "body.name", "name"),
        (json!([1]), "body", "object"),
    ] {
        let v = api
            .refused(
                "admin",
                "POST",
                "/api/v1/holidays",
                body.clone(),
                StatusCode::BAD_REQUEST,
                Some(field),
            )
            .await;
        assert!(v["message"].as_str().unwrap().contains(says), "{body}: {v}");
    }
    api.refused(
        "admin",
        "POST",
        "/api/v1/holidays",
        cn.clone(),
        StatusCode::CONFLICT,
        Some("body.name"),
    )
    .await;

    // Another company sees none of it, and cannot name it in a schedule.
    let page = api
        .ok("zed", "GET", "/api/v1/holidays", None, StatusCode::OK)
        .await;
    assert_eq!(page["total"], 0);
    for method in ["GET", "PUT", "DELETE"] {
        let body = (method == "PUT").then(|| cn.clone());
        let (s, _) = api
            .call("zed", method, &format!("/api/v1/holidays/{id}"), body)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method}");
    }
    api.refused(
        "zed",
        "POST",
        "/api/v1/schedules/preview",
        json!({"cron": "0 0 9 * * ?", "calendar": "cn-2026"}),
        StatusCode::BAD_REQUEST,
        Some("body.calendar"),
    )
    .await;

    // A schedule names it; the preview too (National Day week skipped).
    let preview = api
        .ok(
            "admin",
            "POST",
            "/api/v1/schedules/preview",
            Some(
                json!({"cron": "0 0 9 * * ?", "tz": "Asia/Shanghai", "calendar": "cn-2026",
                        "after": "2026-09-30T00:00:00Z", "n": 2}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        preview["fires"],
        json!(["2026-09-30T09:00:00+08:00", "2026-10-08T09:00:00+08:00"])
    );
    let schedule = api
        .ok(
            "admin",
            "POST",
            "/api/v1/schedules",
            Some(
                json!({"name": "daily", "process": "approval", "cron": "0 0 9 * * ?",
                        "tz": "Asia/Shanghai", "calendar": "cn-2026", "enabled": false}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let sid = schedule["id"].as_str().unwrap().to_owned();
    assert_eq!(schedule["spec"]["calendar"]["name"], "cn-2026");
    assert_eq!(
        schedule["spec"]["calendar"]["ranges"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    // By id works as well; an unknown name is refused on `body.calendar`.
    api.ok(
        "admin",
        "POST",
        "/api/v1/schedules/preview",
        Some(json!({"cron": "0 0 9 * * ?", "calendar": id})),
        StatusCode::OK,
    )
    .await;
    api.refused(
        "admin",
        "POST",
        "/api/v1/schedules",
        json!({"process": "approval", "cron": "0 0 9 * * ?", "calendar": "nope"}),
        StatusCode::BAD_REQUEST,
        Some("body.calendar"),
    )
    .await;

    // Replacing the calendar updates the schedule that holds it.
    let mut v2 = cn.clone();
    v2["ranges"] = json!([{"name": "freeze", "start": "2026-12-24", "end": "2026-12-31"}]);
    v2["workdays"] = json!([]);
    let replaced = api
        .ok(
            "admin",
            "PUT",
            &format!("/api/v1/holidays/{id}"),
            Some(v2),
            StatusCode::OK,
        )
        .await;
    assert_eq!(replaced["calendar"]["ranges"][0]["name"], "freeze");
    let schedule = api
        .ok(
            "admin",
            "GET",
            &format!("/api/v1/schedules/{sid}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        schedule["spec"]["calendar"]["ranges"],
        json!([{"name": "freeze", "start": "2026-12-24", "end": "2026-12-31"}]),
        "{schedule}"
    );

    // In use: not deleted. Unused: deleted.
    let v = api
        .call("admin", "DELETE", &format!("/api/v1/holidays/{id}"), None)
        .await;
    assert_eq!(v.0, StatusCode::CONFLICT, "{}", v.1);
    assert!(
        v.1["message"].as_str().unwrap().contains("daily"),
        "{}",
        v.1
    );
    api.ok(
        "admin",
        "DELETE",
        &format!("/api/v1/schedules/{sid}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api.ok(
        "admin",
        "DELETE",
        &format!("/api/v1/holidays/{id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let page = api
        .ok("admin", "GET", "/api/v1/holidays", None, StatusCode::OK)
        .await;
    assert_eq!(page["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_built_in_and_added() {
    let api = setup("languages").await;
    let page = api
        .ok("viewer", "GET", "/api/v1/languages", None, StatusCode::OK)
        .await;
    assert_eq!(keys(&page, "code"), ["en", "zh-CN"]);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["builtIn"] == true && l["enabled"] == true)
    );

    let fr = api
        .ok(
            "admin",
            "POST",
            "/api/v1/languages",
            Some(json!({"code": "FR", "name": "Français", "messages": {"menu.tasks": "Tâches"}})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!((&fr["code"], &fr["builtIn"]), (&json!("fr"), &json!(false)));
    for (body, status, field) in [
        (
            json!({"code": "fr", "name": "Again"}),
            StatusCode::CONFLICT,
            "body.code",
        ),
        (
            json!({"code": "zh-cn", "name": "Again"}),
            StatusCode::CONFLICT,
            "body.code",
        ),
        (
            json!({"code": "not a code", "name": "X"}),
            StatusCode::BAD_REQUEST,
            "body.code",
        ),
        (
            json!({"code": "es", "name": ""}),
            StatusCode::BAD_REQUEST,
            "body.name",
        ),
        (
            json!({"code": "es", "name": "E", "messages": {"": "x"}}),
            StatusCode::BAD_REQUEST,
            "body.messages",
        ),
        (
            json!({"code": "es", "name": "E", "flag": "x"}),
            StatusCode::BAD_REQUEST,
            "body.flag",
        ),
    ] {
        api.refused(
            "admin",
            "POST",
            "/api/v1/languages",
            body,
            status,
            Some(field),
        )
        .await;
    }

    // Built-ins take overrides and may be disabled while another stays enabled.
    let zh = api
        .ok(
            "admin",
            "PUT",
            "/api/v1/languages/zh-cn",
            Some(json!({"enabled": false, "messages": {"menu.tasks": "待办"}})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        (
            &zh["code"],
            &zh["name"],
            &zh["enabled"],
            &zh["messages"]["menu.tasks"]
        ),
        (
            &json!("zh-CN"),
            &json!("简体中文"),
            &json!(false),
            &json!("待办")
        )
    );
    api.ok(
        "admin",
        "PUT",
        "/api/v1/languages/en",
        Some(json!({"enabled": false})),
        StatusCode::OK,
    )
    .await;
    // fr is the last one enabled.
    api.refused(
        "admin",
        "PUT",
        "/api/v1/languages/fr",
        json!({"enabled": false}),
        StatusCode::BAD_REQUEST,
        Some("body.enabled"),
    )
    .await;
    let (s, v) = api
        .call("admin", "DELETE", "/api/v1/languages/fr", None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = api
        .call("admin", "DELETE", "/api/v1/languages/en", None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["message"].as_str().unwrap().contains("built in"), "{v}");
    api.ok(
        "admin",
        "PUT",
        "/api/v1/languages/en",
        Some(json!({"name": "English (UK)"})),
        StatusCode::OK,
    )
    .await;
    api.ok(
        "admin",
        "DELETE",
        "/api/v1/languages/fr",
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let page = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/languages?sort=name",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(keys(&page, "name"), ["English (UK)", "简体中文"]);
    let got = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/languages/zh-CN",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["enabled"], false);
    api.ok(
        "viewer",
        "GET",
        "/api/v1/languages/fr",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Another company: its own built-ins, untouched; not our additions.
    api.ok(
        "admin",
        "POST",
        "/api/v1/languages",
        Some(json!({"code": "ja", "name": "日本語"})),
        StatusCode::CREATED,
    )
    .await;
    let page = api
        .ok("zed", "GET", "/api/v1/languages", None, StatusCode::OK)
        .await;
    assert_eq!(keys(&page, "code"), ["en", "zh-CN"]);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["enabled"] == true),
        "{page}"
    );
    for method in ["GET", "PUT", "DELETE"] {
        let body = (method == "PUT").then(|| json!({"enabled": true}));
        let (s, _) = api.call("zed", method, "/api/v1/languages/ja", body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method}");
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
