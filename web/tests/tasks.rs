//! User tasks through the API with a real engine (SQLite): a process whose
//! approval is offered to a candidate group; its members see it in their
//! to-do list, two claim it at once and exactly one wins, the holder
//! delegates it, only the delegate may then complete it, the form values
//! become process variables and the instance moves on before the answer; a
//! second completion is refused and changes nothing; done lists; another
//! company and users outside the group see nothing; bad input names its field.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use common::{Api, TempDir, err, ids};

/// Approve → (decision == 'yes') approved, else rejected: the instance ends
/// in the same step as the completion.
const APPROVAL: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:baton="http://baton.dev/schema/bpmn" id="d1" targetNamespace="t">
  <process id="approval" name="Change approval" isExecutable="true" baton:owner="tests">
    <startEvent id="s"/><sequenceFlow id="f1" sourceRef="s" targetRef="approve"/>
    <userTask id="approve" name="Approve the change" baton:candidateGroups="approvers, cab" baton:formKey="change-approval"/>
    <sequenceFlow id="f2" sourceRef="approve" targetRef="g"/>
    <exclusiveGateway id="g" default="no"/>
    <sequenceFlow id="yes" sourceRef="g" targetRef="approved"><conditionExpression xsi:type="tFormalExpression">${decision == 'yes'}</conditionExpression></sequenceFlow>
    <sequenceFlow id="no" sourceRef="g" targetRef="rejected"/>
    <endEvent id="approved"/><endEvent id="rejected"/>
  </process></definitions>"#;

/// alice and bob are approvers, carol and dave staff (both act on tasks);
/// zed is of another company; the approval deployed.
async fn setup(name: &str) -> Api {
    let dir = TempDir::new(name);
    let store = common::sqlite(&dir).await;
    common::default_and_acme(&store, &["alice", "bob", "carol", "dave"]).await;
    let act = json!({"tasks": "manage", "monitor": "view"});
    common::group(
        &store,
        "default",
        "g-approvers",
        "approvers",
        act.clone(),
        &["alice", "bob"],
    )
    .await;
    common::group(
        &store,
        "default",
        "g-staff",
        "staff",
        act,
        &["carol", "dave"],
    )
    .await;
    let api = Api::with_engine(store, dir).await;
    api.deploy("admin", APPROVAL).await;
    api
}

/// Start an approval; the instance's id.
async fn start(api: &Api, amount: i64) -> String {
    let (s, v) = api
        .call(
            "admin",
            "POST",
            "/api/v1/instances",
            Some(json!({"process": "approval", "variables": {"amount": amount}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claim_delegate_complete_through_the_api() {
    let api = setup("tasks").await;
    let instance = start(&api, 100).await;

    // Offered to the approvers: alice and bob see it, carol (another group) and zed (another company) do not.
    let (s, page) = api.call("alice", "GET", "/api/v1/tasks", None).await;
    assert_eq!(
        (s, page["total"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{page}"
    );
    let task = page["items"][0].clone();
    let id = task["id"].as_str().unwrap().to_owned();
    assert_eq!(task["instanceId"], instance.as_str());
    assert_eq!(task["name"], "Approve the change");
    assert_eq!(task["process"], "approval");
    assert_eq!(task["processName"], "Change approval");
    assert_eq!(task["candidateGroups"], json!(["approvers", "cab"]));
    assert_eq!(task["assignee"], Value::Null);
    assert_eq!(task["state"], "open");
    let (_, page) = api
        .call("bob", "GET", "/api/v1/tasks?view=todo", None)
        .await;
    assert_eq!(ids(&page), vec![id.clone()]);
    for outsider in ["carol", "zed"] {
        for view in ["todo", "done", "all"] {
            let (s, page) = api
                .call(outsider, "GET", &format!("/api/v1/tasks?view={view}"), None)
                .await;
            assert_eq!(
                (s, page["total"].as_u64()),
                (StatusCode::OK, Some(0)),
                "{outsider} {view}"
            );
        }
        for (method, path) in [("GET", ""), ("POST", "/claim")] {
            let r = api
                .call(outsider, method, &format!("/api/v1/tasks/{id}{path}"), None)
                .await;
            assert_eq!(
                err(&r),
                (StatusCode::NOT_FOUND, Some("not_found"), None),
                "{outsider} {method} {path}"
            );
        }
    }

    // The detail: instance, process, form key, the variables the form needs.
    let (s, d) = api
        .call("alice", "GET", &format!("/api/v1/tasks/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["formKey"], "change-approval");
    assert_eq!(d["processName"], "Change approval");
    assert_eq!(d["instance"]["id"], instance.as_str());
    assert_eq!(d["instance"]["status"], "running");
    assert_eq!(d["variables"]["amount"], 100);
    assert_eq!(d["variables"]["LWAMS_INITIATOR_ID"], "admin");

    // Not yet claimed: nobody but an admin may complete it.
    let r = api
        .call(
            "alice",
            "POST",
            &format!("/api/v1/tasks/{id}/complete"),
            Some(json!({"values": {}})),
        )
        .await;
    assert_eq!(
        err(&r),
        (StatusCode::CONFLICT, Some("conflict"), None),
        "{}",
        r.1
    );
    assert!(r.1["message"].as_str().unwrap().contains("claim it first"));

    // Two claims at once: exactly one wins, the other gets a 409.
    let claim = |who: &'static str| {
        let state = api.state.clone();
        let uri = format!("/api/v1/tasks/{id}/claim");
        tokio::spawn(async move { common::call(&state, who, "POST", &uri, None).await })
    };
    let (ra, rb) = (claim("alice"), claim("bob"));
    let (ra, rb) = (ra.await.unwrap(), rb.await.unwrap());
    let mut statuses = [ra.0, rb.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CONFLICT],
        "{} / {}",
        ra.1,
        rb.1
    );
    let (a, b) = if ra.0 == StatusCode::OK {
        ("alice", "bob")
    } else {
        ("bob", "alice")
    };
    let (s, v) = api
        .call(b, "POST", &format!("/api/v1/tasks/{id}/claim"), None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains(&format!("already claimed by {a}")),
        "{v}"
    );
    let (s, v) = api
        .call(a, "POST", &format!("/api/v1/tasks/{id}/claim"), None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (_, v) = api
        .call(a, "GET", &format!("/api/v1/tasks/{id}"), None)
        .await;
    assert_eq!(v["assignee"], a);
    // Claimed: no longer in the other candidate's to-dos; they still see who holds it.
    let (_, page) = api.call(b, "GET", "/api/v1/tasks", None).await;
    assert_eq!(page["total"], 0, "{page}");
    let (s, v) = api
        .call(b, "GET", &format!("/api/v1/tasks/{id}"), None)
        .await;
    assert_eq!((s, v["assignee"].as_str()), (StatusCode::OK, Some(a)));
    // Only the assignee completes it.
    let r = api
        .call(
            b,
            "POST",
            &format!("/api/v1/tasks/{id}/complete"),
            Some(json!({"values": {}})),
        )
        .await;
    assert_eq!(err(&r), (StatusCode::FORBIDDEN, Some("forbidden"), None));

    // Delegation: bad input names the field.
    let delegate = format!("/api/v1/tasks/{id}/delegate");
    for body in [
        json!({"userId": "nobody-here"}),
        json!({"userId": "zed"}),
        json!({"userId": a}),
        json!({}),
    ] {
        let r = api.call(a, "POST", &delegate, Some(body.clone())).await;
        assert_eq!(
            err(&r),
            (
                StatusCode::BAD_REQUEST,
                Some("invalid"),
                Some("body.userId")
            ),
            "{body}: {}",
            r.1
        );
    }
    let r = api
        .call("carol", "POST", &delegate, Some(json!({"userId": "dave"})))
        .await;
    assert_eq!(
        r.0,
        StatusCode::NOT_FOUND,
        "carol cannot see it, let alone delegate it"
    );
    let (s, v) = api
        .call(a, "POST", &delegate, Some(json!({"userId": b})))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["assignee"].as_str(), v["delegatedBy"].as_str()),
        (Some(b), Some(a))
    );
    let (_, page) = api.call(b, "GET", "/api/v1/tasks", None).await;
    assert_eq!(ids(&page), vec![id.clone()], "the delegate has it to do");
    let (_, page) = api.call(a, "GET", "/api/v1/tasks", None).await;
    assert_eq!(page["total"], 0);
    let (_, page) = api.call(a, "GET", "/api/v1/tasks?view=all", None).await;
    assert_eq!(
        ids(&page),
        vec![id.clone()],
        "the delegator still sees it among all"
    );

    // The delegator may no longer act; the delegate completes it.
    let complete = format!("/api/v1/tasks/{id}/complete");
    let r = api
        .call(
            a,
            "POST",
            &complete,
            Some(json!({"values": {"decision": "yes"}})),
        )
        .await;
    assert_eq!(
        err(&r),
        (StatusCode::FORBIDDEN, Some("forbidden"), None),
        "{}",
        r.1
    );
    let r = api
        .call(a, "POST", &delegate, Some(json!({"userId": "carol"})))
        .await;
    assert_eq!(r.0, StatusCode::FORBIDDEN, "{}", r.1);
    for values in [json!("yes"), json!([1]), json!(3)] {
        let r = api
            .call(b, "POST", &complete, Some(json!({"values": values})))
            .await;
        assert_eq!(
            err(&r),
            (
                StatusCode::BAD_REQUEST,
                Some("invalid"),
                Some("body.values")
            ),
            "{}",
            r.1
        );
    }
    let r = api
        .call(b, "POST", &complete, Some(json!({"value": {}})))
        .await;
    assert_eq!(r.0, StatusCode::BAD_REQUEST, "unknown field: {}", r.1);
    let (s, d) = api
        .call(
            b,
            "POST",
            &complete,
            Some(json!({"values": {"decision": "yes", "amount": 120}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["state"], "completed");
    assert_eq!(d["completedBy"], b);
    assert_eq!(d["values"], json!({"decision": "yes", "amount": 120}));
    assert_eq!(
        d["instance"]["status"], "completed",
        "the instance moved on before the answer: {d}"
    );
    assert_eq!(d["variables"]["decision"], "yes");

    // A second completion: 409, nothing applied twice.
    let r = api
        .call(
            b,
            "POST",
            &complete,
            Some(json!({"values": {"decision": "no"}})),
        )
        .await;
    assert_eq!(err(&r), (StatusCode::CONFLICT, Some("conflict"), None));
    assert!(
        r.1["message"]
            .as_str()
            .unwrap()
            .contains(&format!("already completed by {b}")),
        "{}",
        r.1
    );
    let r = api
        .call(
            "admin",
            "POST",
            &complete,
            Some(json!({"values": {"decision": "no"}})),
        )
        .await;
    assert_eq!(r.0, StatusCode::CONFLICT);
    let r = api
        .call(a, "POST", &format!("/api/v1/tasks/{id}/claim"), None)
        .await;
    assert_eq!(r.0, StatusCode::CONFLICT);

    // The instance through the monitor: ended at `approved` with the form's values.
    let (s, inst) = api
        .call(b, "GET", &format!("/api/v1/instances/{instance}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{inst}");
    assert_eq!(inst["status"], "completed");
    assert_eq!(inst["variables"]["decision"], "yes");
    assert_eq!(inst["variables"]["amount"], 120);
    let reached: Vec<&str> = inst["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["elementId"].as_str())
        .collect();
    assert!(
        reached.contains(&"approved") && !reached.contains(&"rejected"),
        "{inst}"
    );

    // Done lists: the delegate's, not the delegator's.
    let (_, page) = api.call(b, "GET", "/api/v1/tasks?view=done", None).await;
    assert_eq!(ids(&page), vec![id.clone()]);
    assert_eq!(page["items"][0]["values"]["decision"], "yes");
    let (_, page) = api.call(a, "GET", "/api/v1/tasks?view=done", None).await;
    assert_eq!(page["total"], 0);
    let (_, page) = api.call(b, "GET", "/api/v1/tasks", None).await;
    assert_eq!(page["total"], 0, "nothing left to do");
    let (s, d) = api
        .call(a, "GET", &format!("/api/v1/tasks/{id}"), None)
        .await;
    assert_eq!(
        (s, d["state"].as_str()),
        (StatusCode::OK, Some("completed")),
        "the delegator reads it"
    );

    // An admin completes an unclaimed task; the instance takes the other way.
    let instance2 = start(&api, 5).await;
    let (_, page) = api
        .call("alice", "GET", "/api/v1/tasks?sort=-createdAt", None)
        .await;
    let id2 = ids(&page)[0].clone();
    let (s, d) = api
        .call(
            "admin",
            "POST",
            &format!("/api/v1/tasks/{id2}/complete"),
            Some(json!({"values": {"decision": "no"}})),
        )
        .await;
    assert_eq!(
        (s, d["instance"]["status"].as_str()),
        (StatusCode::OK, Some("completed")),
        "{d}"
    );
    let (_, inst) = api
        .call(
            "admin",
            "GET",
            &format!("/api/v1/instances/{instance2}"),
            None,
        )
        .await;
    assert!(
        inst["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["elementId"] == "rejected"),
        "{inst}"
    );
    let (_, page) = api
        .call("admin", "GET", "/api/v1/tasks?view=all", None)
        .await;
    assert_eq!(page["total"], 2, "an admin sees every task of the company");

    // Bad input elsewhere.
    let r = api
        .call("alice", "GET", "/api/v1/tasks?view=later", None)
        .await;
    assert_eq!(
        err(&r),
        (StatusCode::BAD_REQUEST, Some("invalid"), Some("query.view"))
    );
    let r = api
        .call("alice", "GET", "/api/v1/tasks?sort=color", None)
        .await;
    assert_eq!(
        err(&r),
        (StatusCode::BAD_REQUEST, Some("invalid"), Some("query.sort"))
    );
    for (method, path, body) in [
        ("GET", "", None),
        ("POST", "/claim", None),
        ("POST", "/delegate", Some(json!({"userId": "bob"}))),
        ("POST", "/complete", Some(json!({"values": {}}))),
    ] {
        let r = api
            .call(
                "alice",
                method,
                &format!("/api/v1/tasks/no-such-task{path}"),
                body,
            )
            .await;
        assert_eq!(
            err(&r),
            (StatusCode::NOT_FOUND, Some("not_found"), None),
            "{method} {path}"
        );
    }
}

/// A signed approval link: issued by the holder for itself, opened and
/// completed without signing in, once; a forged, used or expired link says
/// which; a link acts with its user's rights only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_links_open_and_complete_once() {
    let api = setup("links").await;
    let instance = start(&api, 7).await;
    let (_, todo) = api.call("alice", "GET", "/api/v1/tasks", None).await;
    let task = ids(&todo)[0].clone();
    let link = format!("/api/v1/tasks/{task}/link");
    // Unassigned: a link acts for an assignee, so there is none yet.
    let r = api.call("alice", "POST", &link, Some(json!({}))).await;
    assert_eq!(err(&r).0, StatusCode::CONFLICT, "{}", r.1);
    api.call(
        "alice",
        "POST",
        &format!("/api/v1/tasks/{task}/claim"),
        None,
    )
    .await;
    // Only the holder (or an admin) issues one; the lifetime is bounded.
    let r = api.call("bob", "POST", &link, Some(json!({}))).await;
    assert_eq!(err(&r).0, StatusCode::FORBIDDEN, "{}", r.1);
    let r = api
        .call("alice", "POST", &link, Some(json!({"hours": 0})))
        .await;
    assert_eq!(
        err(&r),
        (StatusCode::BAD_REQUEST, Some("invalid"), Some("body.hours"))
    );
    let (s, v) = api
        .call("alice", "POST", &link, Some(json!({"hours": 2})))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    assert_eq!(v["url"], format!("/m/approve#{token}"));
    assert_eq!(v["userId"], "alice");

    // Opened with no credentials but the link.
    let open = format!("/api/v1/approvals/{token}");
    let (s, v) = api.call("", "GET", &open, None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["id"], task.as_str());
    assert_eq!(v["instance"]["id"], instance.as_str());
    // A forged signature, a made-up nonce, no dot: not valid.
    let (nonce, sig) = token.split_once('.').unwrap();
    let flipped = if sig.ends_with('A') { "B" } else { "A" };
    for bad in [
        format!("{nonce}.{}{flipped}", &sig[..sig.len() - 1]),
        format!("nonce.{sig}"),
        nonce.to_owned(),
    ] {
        let r = api
            .call("", "GET", &format!("/api/v1/approvals/{bad}"), None)
            .await;
        assert_eq!(err(&r).0, StatusCode::NOT_FOUND, "{bad}: {}", r.1);
        assert_eq!(r.1["code"], "link_invalid");
    }
    // Completed through the link, as alice.
    let done = format!("/api/v1/approvals/{token}/complete");
    let (s, v) = api
        .call(
            "",
            "POST",
            &done,
            Some(json!({"values": {"decision": "yes"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "completed");
    assert_eq!(v["completedBy"], "alice");
    let (_, inst) = api
        .call(
            "admin",
            "GET",
            &format!("/api/v1/instances/{instance}"),
            None,
        )
        .await;
    assert_eq!(inst["status"], "completed", "{inst}");
    assert_eq!(inst["variables"]["decision"], "yes");
    // Once only.
    let r = api
        .call(
            "",
            "POST",
            &done,
            Some(json!({"values": {"decision": "no"}})),
        )
        .await;
    assert_eq!(
        (err(&r).0, r.1["code"].as_str()),
        (StatusCode::GONE, Some("link_used"))
    );
    let r = api.call("", "GET", &open, None).await;
    assert_eq!(r.1["code"], "link_used");

    // An expired link says so (a row as issued an hour ago for one hour).
    let second = start(&api, 8).await;
    let (_, todo) = api.call("bob", "GET", "/api/v1/tasks", None).await;
    let task2 = ids(&todo)
        .into_iter()
        .find(|t| t.starts_with(&second))
        .unwrap();
    api.call("bob", "POST", &format!("/api/v1/tasks/{task2}/claim"), None)
        .await;
    let now = chrono::Utc::now().timestamp_millis();
    let row = baton_runtime::store::ApprovalLinkRow {
        id: "expired-nonce".into(),
        company_id: "default".into(),
        task_id: task2.clone(),
        user_id: "bob".into(),
        created_at: now - 3_600_000,
        expires_at: now - 1,
        used_at: None,
    };
    api.state.store.insert_approval_link(&row).await.unwrap();
    let sig = api.state.key.sign(
        "approval-link",
        &format!(
            "{}|{}|{}|{}",
            row.id, row.task_id, row.user_id, row.expires_at
        ),
    );
    let r = api
        .call(
            "",
            "GET",
            &format!("/api/v1/approvals/expired-nonce.{sig}"),
            None,
        )
        .await;
    assert_eq!(
        (err(&r).0, r.1["code"].as_str()),
        (StatusCode::GONE, Some("link_expired"))
    );

    // A link acts for its user only while that user holds the task: bob's
    // link stops working once the task is delegated to carol.
    let (s, v) = api
        .call(
            "bob",
            "POST",
            &format!("/api/v1/tasks/{task2}/link"),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let bobs = v["token"].as_str().unwrap().to_owned();
    api.call(
        "bob",
        "POST",
        &format!("/api/v1/tasks/{task2}/delegate"),
        Some(json!({"userId": "carol"})),
    )
    .await;
    let r = api
        .call(
            "",
            "POST",
            &format!("/api/v1/approvals/{bobs}/complete"),
            Some(json!({"values": {"decision": "yes"}})),
        )
        .await;
    assert_eq!(err(&r).0, StatusCode::FORBIDDEN, "{}", r.1);
    // Refused, so not used up: still opens (and still refuses).
    let r = api
        .call("", "GET", &format!("/api/v1/approvals/{bobs}"), None)
        .await;
    assert_eq!(err(&r).0, StatusCode::FORBIDDEN, "{}", r.1);
}

/// A task that gets an assignee mails that user a signed link (claimed:
/// the claimer; delegated: the delegate), once each, through a real SMTP
/// server; the delegate's link completes the task.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assigned_task_mails_its_assignee_a_link() {
    let Some(mail) = common::smtp::smtp("notice").await else {
        return;
    };
    let api = setup("notice").await;
    common::set_emails(
        &api.state.store,
        &[
            ("alice", "alice@example.com"),
            ("carol", "carol@example.com"),
        ],
    )
    .await;
    common::mail_notices(&api.state, &mail, "http://baton.test/");
    let instance = start(&api, 9).await;
    // Offered to a group, held by nobody: nobody to mail yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(mail.messages().is_empty(), "{:?}", mail.messages());
    let (_, todo) = api.call("alice", "GET", "/api/v1/tasks", None).await;
    let task = ids(&todo)[0].clone();
    api.call(
        "alice",
        "POST",
        &format!("/api/v1/tasks/{task}/claim"),
        None,
    )
    .await;
    let m = common::mails(&mail, 1).await;
    assert_eq!(m[0]["rcpt"], json!(["alice@example.com"]));
    assert!(
        m[0]["subject"]
            .as_str()
            .unwrap()
            .contains("Approve the change"),
        "{}",
        m[0]
    );
    let text = m[0]["text"].as_str().unwrap();
    assert!(text.contains("http://baton.test/m/approve#"), "{text}");
    let alices = common::link_token(text);
    let (s, v) = api
        .call("", "GET", &format!("/api/v1/approvals/{alices}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    api.call(
        "alice",
        "POST",
        &format!("/api/v1/tasks/{task}/delegate"),
        Some(json!({"userId": "carol"})),
    )
    .await;
    let m = common::mails(&mail, 2).await;
    assert_eq!(m[1]["rcpt"], json!(["carol@example.com"]));
    let carols = common::link_token(m[1]["text"].as_str().unwrap());
    // Alice's link no longer acts; carol's completes the task.
    let r = api
        .call(
            "",
            "POST",
            &format!("/api/v1/approvals/{alices}/complete"),
            Some(json!({"values": {"decision": "yes"}})),
        )
        .await;
    assert_eq!(r.0, StatusCode::FORBIDDEN, "{}", r.1);
    let (s, v) = api
        .call(
            "",
            "POST",
            &format!("/api/v1/approvals/{carols}/complete"),
            Some(json!({"values": {"decision": "yes"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["completedBy"], "carol");
    let (_, inst) = api
        .call(
            "admin",
            "GET",
            &format!("/api/v1/instances/{instance}"),
            None,
        )
        .await;
    assert_eq!(inst["status"], "completed", "{inst}");
    // One notice per assignee, never repeated.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mail.messages().len(), 2);
}
