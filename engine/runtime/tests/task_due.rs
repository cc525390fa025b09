//! User tasks' due dates and helpers on SQLite and PostgreSQL, with a test
//! clock: a `dueDate` written as a date-time, a date, a duration or a `${}`
//! expression becomes the task's due time when the engine creates it; a bad
//! literal is refused at deploy with the element and `line:col`; a bad
//! expression puts the task in front of an operator (an incident naming the
//! task and the value), and a retry after the fix creates it. Helpers: a
//! helped task is among the helper's to-dos, and no longer once removed.

mod common;

use std::sync::Arc;
use std::time::Duration;

use baton_core::Command;
use baton_runtime::engine::{Engine, Options, TestClock};
use baton_runtime::handlers::Builtin;
use baton_runtime::store::{TaskScope, UserTaskRow};
use common::{TestDb, on_both};
use serde_json::{Map, json};

const NOW: i64 = 1_800_000_000_000;
const DAY: i64 = 86_400_000;
const NS: &str = r#"xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:baton="http://baton.dev/schema/bpmn" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:flowable="http://flowable.org/bpmn" targetNamespace="t""#;

async fn engine(db: &TestDb) -> (Engine, Arc<TestClock>) {
    let clock = Arc::new(TestClock::new(NOW));
    let opts = Options {
        poll: Duration::from_millis(10),
        lease_ms: 60_000,
        ..Options::default()
    };
    let store = baton_runtime::store::Store::connect(&db.url).await.unwrap();
    let e = Engine::start(store, clock.clone(), Arc::new(Builtin::default()), opts)
        .await
        .unwrap();
    (e, clock)
}

/// The open task of `instance` at element `el`, once the engine wrote it.
async fn task(e: &Engine, instance: &str, el: &str) -> UserTaskRow {
    for _ in 0..2000 {
        let tasks = e
            .store()
            .list_tasks("default", TaskScope::All)
            .await
            .unwrap();
        if let Some(t) = tasks
            .into_iter()
            .find(|t| t.instance_id == instance && t.element_id == el)
        {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no task {el} in {instance}");
}

fn vars(v: serde_json::Value) -> Map<String, serde_json::Value> {
    v.as_object().unwrap().clone()
}

/// Every way of writing a due date, in one process (parallel user tasks).
async fn due_dates_are_evaluated_when_the_task_is_created(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="d-due"><process id="due" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
          <parallelGateway id="split"/>
          <sequenceFlow id="f1" sourceRef="split" targetRef="at"/>
          <userTask id="at" camunda:dueDate="2027-01-15T10:00:00+08:00"/>
          <sequenceFlow id="f2" sourceRef="split" targetRef="in2d"/>
          <userTask id="in2d" flowable:dueDate="P2D"/>
          <sequenceFlow id="f3" sourceRef="split" targetRef="day"/>
          <userTask id="day" baton:dueDate="${{deadline}}"/>
          <sequenceFlow id="f4" sourceRef="split" targetRef="span"/>
          <userTask id="span" baton:dueDate="${{wait}}"/>
          <sequenceFlow id="f5" sourceRef="split" targetRef="ms"/>
          <userTask id="ms" baton:dueDate="${{at}}"/>
          <sequenceFlow id="f6" sourceRef="split" targetRef="none"/>
          <userTask id="none"/>
          </process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let id = e
        .start_instance(
            "due",
            vars(json!({"deadline": "2027-02-01", "wait": "PT4H", "at": NOW + 7 * DAY})),
            "api",
        )
        .await
        .unwrap();
    let at = task(&e, &id, "at").await;
    assert_eq!(
        at.due_at,
        Some(
            chrono::DateTime::parse_from_rfc3339("2027-01-15T02:00:00Z")
                .unwrap()
                .timestamp_millis()
        )
    );
    let in2d = task(&e, &id, "in2d").await;
    assert_eq!(in2d.due_at, Some(in2d.created_at + 2 * DAY));
    let day = task(&e, &id, "day").await;
    assert_eq!(
        day.due_at,
        Some(
            chrono::DateTime::parse_from_rfc3339("2027-02-01T00:00:00Z")
                .unwrap()
                .timestamp_millis()
        ),
        "a date is its midnight, UTC"
    );
    let span = task(&e, &id, "span").await;
    assert_eq!(span.due_at, Some(span.created_at + 4 * 3_600_000));
    assert_eq!(task(&e, &id, "ms").await.due_at, Some(NOW + 7 * DAY));
    let none = task(&e, &id, "none").await;
    assert_eq!(none.due_at, None);
    // Overdue: open and past the due date.
    assert!(!in2d.overdue(NOW + DAY));
    assert!(in2d.overdue(NOW + 3 * DAY));
    assert!(!none.overdue(i64::MAX));
    // The due date can be changed while the task is open.
    assert!(
        e.store()
            .set_task_due(&none.id, Some(NOW - 1))
            .await
            .unwrap()
    );
    let none = task(&e, &id, "none").await;
    assert_eq!(none.due_at, Some(NOW - 1));
    assert!(none.overdue(NOW));
}

on_both!(due_dates_are_evaluated_when_the_task_is_created);

/// A literal that is no date, date-time or duration: the deployment is
/// refused naming the element and where it is.
async fn a_bad_literal_due_date_is_refused_at_deploy(db: TestDb) {
    let (e, _) = engine(&db).await;
    for due in ["tomorrow", "P2X", "2026-13-45"] {
        let xml = format!(
            r#"<definitions {NS} id="d-bad"><process id="bad" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="approve"/>
          <userTask id="approve" camunda:dueDate="{due}"/></process></definitions>"#
        );
        let err = match e.deploy(&xml, None).await {
            Err(baton_runtime::engine::Error::Rejected(r)) => r.to_string(),
            other => panic!("{due}: {other:?}"),
        };
        assert!(err.contains("`approve`"), "{due}: {err}");
        assert!(err.contains("3:11"), "{due}: line:col in {err}");
        assert!(err.contains(due), "{due}: {err}");
    }
    assert!(
        e.store().latest_definition("bad").await.unwrap().is_none(),
        "nothing deployed"
    );
}

on_both!(a_bad_literal_due_date_is_refused_at_deploy);

/// An expression whose value is no date: an incident naming the task and
/// the value, no task row; fixed and retried, the task is created.
async fn a_bad_due_expression_is_an_incident(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="d-expr"><process id="expr" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="approve"/>
          <userTask id="approve" baton:dueDate="${{deadline}}"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let id = e
        .start_instance("expr", vars(json!({"deadline": "soon"})), "api")
        .await
        .unwrap();
    let incident = 'found: {
        for _ in 0..2000 {
            if let Some(i) = e.store().incidents(&id).await.unwrap().into_iter().next() {
                break 'found i;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no incident");
    };
    assert_eq!(incident.element_id, "approve");
    assert!(
        incident.message.contains("`approve`") && incident.message.contains("soon"),
        "{}",
        incident.message
    );
    assert!(
        e.store().tasks_of(&id).await.unwrap().is_empty(),
        "no task was created"
    );
    e.send(
        &id,
        Command::SetVars {
            vars: vars(json!({"deadline": "P1D"})),
        },
    )
    .unwrap();
    e.send(
        &id,
        Command::Retry {
            exec: incident.exec as u32,
        },
    )
    .unwrap();
    let t = task(&e, &id, "approve").await;
    assert_eq!(t.due_at, Some(t.created_at + DAY));
    assert_eq!(t.state, "open");
}

on_both!(a_bad_due_expression_is_an_incident);

/// A helper finds the task among its to-dos while it helps, the assignee
/// keeps it; removed, the helper no longer sees it.
async fn a_helped_task_is_among_the_helpers_todos(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="d-help"><process id="help" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="approve"/>
          <userTask id="approve" baton:assignee="alice"/></process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let id = e.start_instance("help", Map::new(), "api").await.unwrap();
    let t = task(&e, &id, "approve").await;
    let store = e.store();
    let todo = |who: &'static str| {
        let store = store.clone();
        async move {
            let me = [who.to_owned()];
            store
                .list_tasks(
                    "default",
                    TaskScope::Todo {
                        me: &me,
                        groups: &[],
                    },
                )
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.id)
                .collect::<Vec<_>>()
        }
    };
    assert!(todo("bob").await.is_empty());
    assert!(
        store
            .add_task_helper(&t.id, "bob", "alice", NOW)
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_task_helper(&t.id, "bob", "alice", NOW)
            .await
            .unwrap(),
        "once"
    );
    assert!(
        store
            .add_task_helper(&t.id, "carol", "alice", NOW + 1)
            .await
            .unwrap()
    );
    assert_eq!(todo("bob").await, [t.id.as_str()]);
    assert_eq!(
        todo("alice").await,
        [t.id.as_str()],
        "the assignee keeps it"
    );
    let read = store.user_task(&t.id).await.unwrap().unwrap();
    assert_eq!(read.helpers, ["bob", "carol"]);
    assert!(read.helped_by(&["bob".to_owned()]));
    assert!(store.remove_task_helper(&t.id, "bob").await.unwrap());
    assert!(!store.remove_task_helper(&t.id, "bob").await.unwrap());
    assert!(todo("bob").await.is_empty());
    assert_eq!(
        store.user_task(&t.id).await.unwrap().unwrap().helpers,
        ["carol"]
    );
}

on_both!(a_helped_task_is_among_the_helpers_todos);

/// Overdue reminders: the open tasks past their due date and not yet
/// reminded are listed, most overdue first; one claim per due date wins
/// (two servers asking: one `true`); a new due date may be reminded again.
async fn overdue_tasks_are_claimed_once_per_due_date(db: TestDb) {
    let (e, _) = engine(&db).await;
    let xml = format!(
        r#"<definitions {NS} id="d-late"><process id="late" isExecutable="true">
          <startEvent id="s"/><sequenceFlow id="f0" sourceRef="s" targetRef="split"/>
          <parallelGateway id="split"/>
          <sequenceFlow id="f1" sourceRef="split" targetRef="a"/>
          <userTask id="a" baton:dueDate="${{a}}"/>
          <sequenceFlow id="f2" sourceRef="split" targetRef="b"/>
          <userTask id="b" baton:dueDate="${{b}}"/>
          <sequenceFlow id="f3" sourceRef="split" targetRef="c"/>
          <userTask id="c" baton:dueDate="P1D"/>
          <sequenceFlow id="f4" sourceRef="split" targetRef="d"/>
          <userTask id="d"/>
          </process></definitions>"#
    );
    e.deploy(&xml, None).await.unwrap();
    let id = e
        .start_instance(
            "late",
            vars(json!({"a": NOW - DAY, "b": NOW - 2 * DAY})),
            "api",
        )
        .await
        .unwrap();
    let (a, b) = (task(&e, &id, "a").await, task(&e, &id, "b").await);
    task(&e, &id, "c").await;
    task(&e, &id, "d").await;
    let store = e.store();
    assert_eq!(
        store.overdue_unnoticed(NOW, 10).await.unwrap(),
        [b.id.clone(), a.id.clone()]
    );
    assert_eq!(
        store.overdue_unnoticed(NOW, 1).await.unwrap(),
        [b.id.as_str()]
    );
    let (first, second) = tokio::join!(
        store.claim_overdue_notice(&a.id, NOW),
        store.claim_overdue_notice(&a.id, NOW)
    );
    assert!(first.unwrap() ^ second.unwrap(), "exactly one claim wins");
    assert_eq!(
        store.overdue_unnoticed(NOW, 10).await.unwrap(),
        [b.id.as_str()]
    );
    // Not yet due at that time: no claim.
    assert!(
        !store
            .claim_overdue_notice(&b.id, NOW - 3 * DAY)
            .await
            .unwrap()
    );
    // A new due date, passed too: listed and claimed again.
    assert!(store.set_task_due(&a.id, Some(NOW - 1)).await.unwrap());
    assert!(store.claim_overdue_notice(&a.id, NOW).await.unwrap());
    // In three days task c is overdue as well.
    let later = store.overdue_unnoticed(NOW + 3 * DAY, 10).await.unwrap();
    assert_eq!(later.len(), 2, "{later:?}");
    assert!(later.contains(&b.id));
}

on_both!(overdue_tasks_are_claimed_once_per_due_date);
