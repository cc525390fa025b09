//! `GET /api/v1/audit` through the API (SQLite): the caller's company only,
//! newest first, with the user's name; filtered by user, action, object kind,
//! text and time window; paged; bad parameters named; the permission checked.

mod common;

use axum::http::StatusCode;
use baton_runtime::store::AuditRow;
use baton_web::AppState;
use serde_json::Value;

use common::TempDir;

fn line(id: &str, at: i64, company: &str, user: &str, action: &str, object: &str) -> AuditRow {
    AuditRow {
        id: id.into(),
        at,
        company_id: company.into(),
        user_id: user.into(),
        action: action.into(),
        object: object.into(),
        detail: format!("detail of {id}"),
    }
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list: {v}"))
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_filtered_and_paged() {
    let dir = TempDir::new("audit");
    let store = common::sqlite(&dir).await;
    common::user(&store, "default", "admin", true).await;
    common::user(&store, "default", "plain", false).await;
    common::user(&store, "acme", "other", true).await;
    for row in [
        line("1", 1_000, "default", "admin", "create", "host:h1"),
        line("2", 2_000, "default", "plain", "update", "host:h1"),
        line("3", 3_000, "default", "admin", "delete", "terminal:t1"),
        line(
            "4",
            4_000,
            "default",
            "gone",
            "create",
            "terminalAccount:a1",
        ),
        line("5", 5_000, "acme", "other", "create", "host:h9"),
    ] {
        store.append_audit(&row).await.unwrap();
    }
    let state = AppState::new(store, common::key(), dir.join("data"));
    let get = |uri: &str| {
        let state = state.clone();
        let uri = uri.to_owned();
        async move { common::call(&state, "admin", "GET", &uri, None).await }
    };

    // The company's lines, newest first, with the user's name (none for a
    // deleted user).
    let (st, v) = get("/api/v1/audit").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(ids(&v), ["4", "3", "2", "1"]);
    assert_eq!(v[1]["userName"], "admin");
    assert_eq!(v[2]["userName"], "plain");
    assert_eq!(v[0]["userName"], Value::Null);
    assert_eq!(v[0]["userId"], "gone");

    for (query, want) in [
        ("userId=plain", vec!["2"]),
        ("action=create", vec!["4", "1"]),
        ("kind=host", vec!["2", "1"]),
        ("kind=terminal", vec!["3"]),
        ("q=DETAIL%20OF%203", vec!["3"]),
        ("q=t1", vec!["3"]),
        ("from=2000&to=4000", vec!["3", "2"]),
        ("userId=admin&action=create", vec!["1"]),
        // Blank filters are none.
        ("userId=&action=%20&kind=&q=", vec!["4", "3", "2", "1"]),
        ("limit=2", vec!["4", "3"]),
        ("limit=2&offset=2", vec!["2", "1"]),
        ("offset=10", vec![]),
    ] {
        let (st, v) = get(&format!("/api/v1/audit?{query}")).await;
        assert_eq!(st, StatusCode::OK, "{query}: {v}");
        assert_eq!(ids(&v), want, "{query}");
    }

    for (query, field) in [
        ("limit=0", "query.limit"),
        ("limit=501", "query.limit"),
        ("from=5&to=4", "query.to"),
        ("from=yesterday", "query.from"),
    ] {
        let (st, v) = get(&format!("/api/v1/audit?{query}")).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{query}: {v}");
        assert_eq!(v["field"], field, "{query}: {v}");
    }

    // Another company's admin sees its own line only; a user without the
    // users function is refused.
    let (_, v) = common::call(&state, "other", "GET", "/api/v1/audit", None).await;
    assert_eq!(ids(&v), ["5"]);
    let (st, _) = common::call(&state, "plain", "GET", "/api/v1/audit", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

/// The audit log screen offers exactly the actions the server records: the
/// `ACTIONS` list of `AuditLog.vue` is `AUDIT_ACTIONS` (and every `audit`
/// call checks its action against that in debug builds).
#[test]
fn the_screen_filters_by_every_recorded_action() {
    let vue = include_str!("../ui/src/admin/system/AuditLog.vue");
    let start = vue
        .find("const ACTIONS = [")
        .expect("ACTIONS in AuditLog.vue");
    let list = &vue[start..];
    let list = &list[..list.find(']').unwrap()];
    let mut ui: Vec<&str> = list.split('\'').skip(1).step_by(2).collect();
    let mut server = baton_web::AUDIT_ACTIONS.to_vec();
    ui.sort_unstable();
    server.sort_unstable();
    assert_eq!(ui, server);
    // Each has its label in both languages.
    for locale in [
        include_str!("../ui/src/locales/en.json"),
        include_str!("../ui/src/locales/zh-CN.json"),
    ] {
        let v: Value = serde_json::from_str(locale).unwrap();
        for a in &server {
            assert!(v["adminx"]["actions"][a].is_string(), "no label for {a}");
        }
    }
}
