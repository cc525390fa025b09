//! Due dates and helpers of user tasks through the API with a real engine
//! (SQLite): task views carry `due` and `overdue`, lists filter overdue
//! tasks and sort by due date, the assignee changes the due date (checked);
//! the assignee asks a colleague to help, who then sees the task among its
//! to-dos and completes it; a user of another company, without the right
//! to act on tasks, or the assignee itself is refused naming `body.user`;
//! only the assignee or an admin adds helpers; everything is audited. A
//! helper is mailed a signed link like an assignee, and the link works.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use common::{Api, TempDir, err, ids};

/// A review held by alice, offered to the approvers too, due `${due}`.
const REVIEW: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" id="d1" targetNamespace="t">
  <process id="review" name="Change review" isExecutable="true" baton:owner="tests">
    <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="check"/>
    <userTask id="check" name="Check the change" baton:assignee="alice" baton:candidateGroups="approvers" baton:dueDate="${due}"/>
    <sequenceFlow id="f2" sourceRef="check" targetRef="e"/><endEvent id="e"/>
  </process></definitions>"#;

/// alice, bob and dave act on tasks (dave is an approver), carol only views
/// them; zed (admin) and yan are of another company.
async fn setup(name: &str) -> Api {
    let dir = TempDir::new(name);
    let store = common::sqlite(&dir).await;
    common::default_and_acme(&store, &["alice", "bob", "carol", "dave"]).await;
    common::user(&store, "acme", "yan", false).await;
    let act = json!({"tasks": "manage", "monitor": "view"});
    common::group(
        &store,
        "default",
        "g-staff",
        "staff",
        act.clone(),
        &["alice", "bob"],
    )
    .await;
    common::group(
        &store,
        "default",
        "g-approvers",
        "approvers",
        act.clone(),
        &["dave"],
    )
    .await;
    common::group(
        &store,
        "default",
        "g-viewers",
        "viewers",
        json!({"tasks": "view"}),
        &["carol"],
    )
    .await;
    common::group(&store, "acme", "g-acme-staff", "acme-staff", act, &["yan"]).await;
    let api = Api::with_engine(store, dir).await;
    api.deploy("admin", REVIEW).await;
    api
}

/// Start a review due `due`; its task's id once the engine wrote it.
async fn start(api: &Api, due: &str) -> String {
    let (s, v) = api
        .call(
            "admin",
            "POST",
            "/api/v1/instances",
            Some(json!({"process": "review", "variables": {"due": due}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let instance = v["id"].as_str().unwrap().to_owned();
    for _ in 0..500 {
        let (_, page) = api
            .call("admin", "GET", "/api/v1/tasks?view=all", None)
            .await;
        if let Some(t) = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["instanceId"] == instance.as_str())
        {
            return t["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no task for {instance}");
}

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn due_dates_through_the_api() {
    let api = setup("due").await;
    let before = chrono::Utc::now().timestamp_millis();
    let soon = start(&api, "P1D").await;
    let late = start(&api, "2020-01-01T08:00:00+08:00").await;

    let (s, t) = api
        .call("alice", "GET", &format!("/api/v1/tasks/{soon}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let due = ms(t["due"].as_str().unwrap());
    assert!(
        (before + 86_400_000 - 1000..=before + 86_400_000 + 60_000).contains(&due),
        "a day from its creation: {t}"
    );
    assert_eq!(t["overdue"], false);
    let (_, t) = api
        .call("alice", "GET", &format!("/api/v1/tasks/{late}"), None)
        .await;
    assert_eq!(t["due"], "2020-01-01T00:00:00Z", "{t}");
    assert_eq!(t["overdue"], true);

    // Filter and sort.
    let (s, page) = api
        .call("alice", "GET", "/api/v1/tasks?overdue=true", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert_eq!(ids(&page), [late.as_str()]);
    let (_, page) = api
        .call("alice", "GET", "/api/v1/tasks?overdue=false", None)
        .await;
    assert_eq!(ids(&page), [soon.as_str()]);
    let (_, page) = api
        .call("alice", "GET", "/api/v1/tasks?sort=due", None)
        .await;
    assert_eq!(ids(&page), [late.clone(), soon.clone()]);
    let (_, page) = api
        .call("alice", "GET", "/api/v1/tasks?sort=-due", None)
        .await;
    assert_eq!(ids(&page), [soon.clone(), late.clone()]);
    let r = api
        .call("alice", "GET", "/api/v1/tasks?overdue=yes", None)
        .await;
    assert_eq!(
        err(&r),
        (
            StatusCode::BAD_REQUEST,
            Some("invalid"),
            Some("query.overdue")
        )
    );

    // The assignee changes it; bad values name `body.due`.
    let path = format!("/api/v1/tasks/{late}/due");
    for bad in [
        json!({"due": "next week"}),
        json!({"due": "P2X"}),
        json!({"due": 5}),
        json!({}),
    ] {
        let r = api.call("alice", "PUT", &path, Some(bad.clone())).await;
        assert_eq!(
            err(&r),
            (StatusCode::BAD_REQUEST, Some("invalid"), Some("body.due")),
            "{bad}: {}",
            r.1
        );
    }
    let (s, t) = api
        .call(
            "alice",
            "PUT",
            &path,
            Some(json!({"due": "2031-05-06T07:08:09Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        (t["due"].as_str(), &t["overdue"]),
        (Some("2031-05-06T07:08:09Z"), &json!(false))
    );
    let (_, page) = api
        .call("alice", "GET", "/api/v1/tasks?overdue=true", None)
        .await;
    assert!(ids(&page).is_empty(), "{page}");
    // An approver who sees the task but does not hold it may not.
    let r = api
        .call("dave", "PUT", &path, Some(json!({"due": null})))
        .await;
    assert_eq!(err(&r).0, StatusCode::FORBIDDEN, "{}", r.1);
    let (s, t) = api
        .call("admin", "PUT", &path, Some(json!({"due": null})))
        .await;
    assert_eq!((s, &t["due"]), (StatusCode::OK, &Value::Null), "{t}");
    // Another company does not see the task at all.
    let r = api
        .call("zed", "PUT", &path, Some(json!({"due": "P1D"})))
        .await;
    assert_eq!(err(&r).0, StatusCode::NOT_FOUND, "{}", r.1);

    let audit = api.state.store.list_audit("default", 0, 100).await.unwrap();
    let set: Vec<_> = audit.iter().filter(|a| a.action == "set-due").collect();
    assert_eq!(set.len(), 2, "{audit:?}");
    assert!(set.iter().all(|a| a.object == format!("task:{late}")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_sees_and_completes_the_task() {
    let api = setup("helpers").await;
    let task = start(&api, "P1D").await;
    let path = format!("/api/v1/tasks/{task}/helpers");

    // Bob does not see it yet.
    let (_, page) = api.call("bob", "GET", "/api/v1/tasks", None).await;
    assert!(ids(&page).is_empty(), "{page}");
    let r = api
        .call("bob", "GET", &format!("/api/v1/tasks/{task}"), None)
        .await;
    assert_eq!(err(&r).0, StatusCode::NOT_FOUND);

    // Who may be a helper.
    for (user, why) in [
        ("zed", "another company's admin"),
        ("yan", "another company's user"),
        ("nobody", "no such user"),
        ("carol", "may only view tasks"),
        ("alice", "the assignee"),
        ("", "nobody named"),
    ] {
        let r = api
            .call("alice", "POST", &path, Some(json!({"user": user})))
            .await;
        assert_eq!(
            err(&r),
            (StatusCode::BAD_REQUEST, Some("invalid"), Some("body.user")),
            "{why}: {}",
            r.1
        );
    }
    let r = api.call("alice", "POST", &path, Some(json!({}))).await;
    assert_eq!(err(&r).2, Some("body.user"), "{}", r.1);
    // Who may add one: dave sees the task (an approver) but does not hold it.
    let r = api
        .call("dave", "POST", &path, Some(json!({"user": "bob"})))
        .await;
    assert_eq!(
        err(&r),
        (StatusCode::FORBIDDEN, Some("forbidden"), None),
        "{}",
        r.1
    );
    let r = api
        .call("zed", "POST", &path, Some(json!({"user": "bob"})))
        .await;
    assert_eq!(err(&r).0, StatusCode::NOT_FOUND, "{}", r.1);

    // Alice asks bob (by username).
    let (s, t) = api
        .call("alice", "POST", &path, Some(json!({"user": "bob"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        t["helpers"],
        json!([{"id": "bob", "username": "bob", "name": "bob"}])
    );
    assert_eq!(t["assignee"], "alice");
    let r = api
        .call("alice", "POST", &path, Some(json!({"user": "bob"})))
        .await;
    assert_eq!(err(&r).2, Some("body.user"), "once: {}", r.1);

    // Bob now has it to do; alice keeps it.
    let (_, page) = api.call("bob", "GET", "/api/v1/tasks", None).await;
    assert_eq!(ids(&page), [task.as_str()]);
    assert_eq!(page["items"][0]["helpers"][0]["username"], "bob");
    let (_, page) = api.call("alice", "GET", "/api/v1/tasks", None).await;
    assert_eq!(ids(&page), [task.as_str()]);
    // A helper may not ask others, nor take the assignee's link.
    let r = api
        .call("bob", "POST", &path, Some(json!({"user": "dave"})))
        .await;
    assert_eq!(err(&r).0, StatusCode::FORBIDDEN, "{}", r.1);
    let r = api
        .call(
            "bob",
            "POST",
            &format!("/api/v1/tasks/{task}/link"),
            Some(json!({"hours": 1})),
        )
        .await;
    assert_eq!(err(&r).0, StatusCode::FORBIDDEN, "{}", r.1);

    // Removing a helper: gone from its to-dos; twice is 404.
    let (s, t) = api
        .call("alice", "DELETE", &format!("{path}/bob"), None)
        .await;
    assert_eq!((s, &t["helpers"]), (StatusCode::OK, &json!([])), "{t}");
    let (_, page) = api.call("bob", "GET", "/api/v1/tasks", None).await;
    assert!(ids(&page).is_empty(), "{page}");
    let r = api
        .call("alice", "DELETE", &format!("{path}/bob"), None)
        .await;
    assert_eq!(err(&r).0, StatusCode::NOT_FOUND, "{}", r.1);

    // An admin may ask too; then the helper completes the task.
    let (s, t) = api
        .call("admin", "POST", &path, Some(json!({"user": "bob"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let (s, d) = api
        .call(
            "bob",
            "POST",
            &format!("/api/v1/tasks/{task}/complete"),
            Some(json!({"values": {"checked": true}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["completedBy"], "bob");
    assert_eq!(d["instance"]["status"], "completed", "{d}");
    assert_eq!(d["overdue"], false, "a completed task is never overdue");
    let (_, page) = api
        .call("bob", "GET", "/api/v1/tasks?view=done", None)
        .await;
    assert_eq!(ids(&page), [task.as_str()]);
    // Nothing to help with any more.
    let r = api
        .call("alice", "POST", &path, Some(json!({"user": "dave"})))
        .await;
    assert_eq!(err(&r).0, StatusCode::CONFLICT, "{}", r.1);

    let audit = api.state.store.list_audit("default", 0, 100).await.unwrap();
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|a| a.object == format!("task:{task}"))
        .map(|a| (a.action.as_str(), a.detail.as_str()))
        .rev()
        .collect();
    assert_eq!(
        actions,
        [
            ("add-helper", "user bob"),
            ("remove-helper", "user bob"),
            ("add-helper", "user bob"),
            ("complete", "fields: checked"),
        ]
    );
}

/// A helper is mailed a signed link as an assignee is; the link opens the
/// task and completes it as the helper.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_helper_is_mailed_a_link() {
    let Some(mail) = common::smtp::smtp("helper-notice").await else {
        return;
    };
    let api = setup("help-mail").await;
    common::set_emails(
        &api.state.store,
        &[("alice", "alice@example.com"), ("bob", "bob@example.com")],
    )
    .await;
    common::mail_notices(&api.state, &mail, "http://baton.test");
    let task = start(&api, "PT4H").await;
    // Created assigned: alice is told.
    let m = common::mails(&mail, 1).await;
    assert_eq!(m[0]["rcpt"], json!(["alice@example.com"]));
    api.call(
        "alice",
        "POST",
        &format!("/api/v1/tasks/{task}/helpers"),
        Some(json!({"user": "bob"})),
    )
    .await;
    let m = common::mails(&mail, 2).await;
    assert_eq!(m[1]["rcpt"], json!(["bob@example.com"]));
    assert!(
        m[1]["subject"]
            .as_str()
            .unwrap()
            .contains("Check the change"),
        "{}",
        m[1]
    );
    let bobs = common::link_token(m[1]["text"].as_str().unwrap());
    let (s, v) = api
        .call("", "GET", &format!("/api/v1/approvals/{bobs}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["id"], task.as_str());
    let (s, v) = api
        .call(
            "",
            "POST",
            &format!("/api/v1/approvals/{bobs}/complete"),
            Some(json!({"values": {"ok": "yes"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["completedBy"], "bob");
    // Each once: nobody is mailed again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mail.messages().len(), 2, "{:?}", mail.messages());
}

/// A task past its due date: its assignee and helpers are reminded once,
/// each with a link; a new due date passed reminds them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_task_reminds_its_people_once_per_due_date() {
    let Some(mail) = common::smtp::smtp("overdue-notice").await else {
        return;
    };
    let api = setup("overdue").await;
    common::set_emails(
        &api.state.store,
        &[("alice", "alice@example.com"), ("bob", "bob@example.com")],
    )
    .await;
    let settings = common::mail_settings(&mail, "http://baton.test");
    let remind = || baton_web::notify::remind_overdue(&api.state, &settings);
    let later = start(&api, "PT4H").await;
    let late = start(&api, "2020-01-01T00:00:00Z").await;
    api.call(
        "alice",
        "POST",
        &format!("/api/v1/tasks/{late}/helpers"),
        Some(json!({"user": "bob"})),
    )
    .await;

    // Only the late task: to alice (its assignee) and bob (its helper).
    assert_eq!(remind().await, 1);
    let m = common::mails(&mail, 2).await;
    let mut to: Vec<String> = m
        .iter()
        .map(|x| x["rcpt"][0].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    assert_eq!(to, ["alice@example.com", "bob@example.com"]);
    for x in &m {
        let subject = x["subject"].as_str().unwrap();
        assert!(
            subject.contains("Overdue") && subject.contains("Check the change"),
            "{x}"
        );
        let text = x["text"].as_str().unwrap();
        assert!(text.contains("due 2020-01-01 00:00 UTC"), "{text}");
    }
    // The link in bob's reminder opens the task.
    let bobs = m
        .iter()
        .find(|x| x["rcpt"][0] == "bob@example.com")
        .unwrap();
    let token = common::link_token(bobs["text"].as_str().unwrap());
    let (s, v) = api
        .call("", "GET", &format!("/api/v1/approvals/{token}"), None)
        .await;
    assert_eq!(
        (s, v["id"].as_str()),
        (StatusCode::OK, Some(late.as_str())),
        "{v}"
    );

    // Once: nobody is reminded again of the same due date.
    assert_eq!(remind().await, 0);
    // A new due date that passes: reminded again (the other task still is not due).
    let (s, v) = api
        .call(
            "alice",
            "PUT",
            &format!("/api/v1/tasks/{late}/due"),
            Some(json!({"due": "2021-06-01T08:00:00Z"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(remind().await, 1);
    let m = common::mails(&mail, 4).await;
    assert!(
        m[2..].iter().all(|x| x["text"]
            .as_str()
            .unwrap()
            .contains("due 2021-06-01 08:00 UTC")),
        "{m:?}"
    );
    assert_eq!(remind().await, 0);
    // A completed task is never reminded, whatever its due date.
    let (s, v) = api
        .call(
            "alice",
            "PUT",
            &format!("/api/v1/tasks/{later}/due"),
            Some(json!({"due": "2020-01-01"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = api
        .call(
            "alice",
            "POST",
            &format!("/api/v1/tasks/{later}/complete"),
            Some(json!({"values": {"ok": "yes"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(remind().await, 0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mail.messages().len(), 4, "{:?}", mail.messages());
}
