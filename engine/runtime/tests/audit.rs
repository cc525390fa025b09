//! The audit log's filters on SQLite and PostgreSQL: by user, action,
//! object kind (a LIKE whose wildcards in the kind stay literal), text in
//! the object or detail whatever its case, and a time window; newest first,
//! paged, one company only.

mod common;

use baton_runtime::store::{AuditFilter, AuditRow};
use common::TestDb;

fn line(
    id: &str,
    at: i64,
    company: &str,
    user: &str,
    action: &str,
    object: &str,
    detail: &str,
) -> AuditRow {
    AuditRow {
        id: id.into(),
        at,
        company_id: company.into(),
        user_id: user.into(),
        action: action.into(),
        object: object.into(),
        detail: detail.into(),
    }
}

async fn filters(db: TestDb) {
    let s = &db.store;
    for row in [
        line("1", 1_000, "c", "alice", "create", "host:h1", "Web Server"),
        line("2", 2_000, "c", "bob", "update", "host:h1", "backups: h2"),
        line("3", 3_000, "c", "alice", "delete", "terminal:t1", "db01"),
        line(
            "4",
            4_000,
            "c",
            "alice",
            "create",
            "terminalAccount:a1",
            "root@db01",
        ),
        line("5", 5_000, "c", "bob", "login", "user:bob", "100%_done"),
        line(
            "6",
            6_000,
            "other",
            "carol",
            "create",
            "host:h9",
            "Web Server",
        ),
        line(
            "7",
            7_000,
            "c",
            "alice",
            "create",
            "ho_t:x",
            "kind with a wildcard",
        ),
    ] {
        s.append_audit(&row).await.unwrap();
    }
    let ids = |rows: Vec<AuditRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let find = |f: AuditFilter, offset: u64, limit: u64| async move {
        ids(s.find_audit("c", &f, offset, limit).await.unwrap())
    };

    // No filter: the company's lines, newest first; the old read is the same.
    assert_eq!(
        find(AuditFilter::default(), 0, 50).await,
        ["7", "5", "4", "3", "2", "1"]
    );
    assert_eq!(
        ids(s.list_audit("c", 0, 50).await.unwrap()),
        ["7", "5", "4", "3", "2", "1"]
    );
    // Paged.
    assert_eq!(find(AuditFilter::default(), 2, 2).await, ["4", "3"]);
    assert_eq!(
        find(AuditFilter::default(), 6, 2).await,
        Vec::<String>::new()
    );

    let by = |user_id: Option<&str>,
              action: Option<&str>,
              kind: Option<&str>,
              text: Option<&str>| AuditFilter {
        user_id: user_id.map(str::to_owned),
        action: action.map(str::to_owned),
        kind: kind.map(str::to_owned),
        text: text.map(str::to_owned),
        from: None,
        until: None,
    };
    assert_eq!(
        find(by(Some("bob"), None, None, None), 0, 50).await,
        ["5", "2"]
    );
    assert_eq!(
        find(by(None, Some("create"), None, None), 0, 50).await,
        ["7", "4", "1"]
    );
    assert_eq!(
        find(by(Some("alice"), Some("create"), None, None), 0, 50).await,
        ["7", "4", "1"]
    );
    // A kind is the part before the colon: `terminal` is not `terminalAccount`,
    // and `_` in a kind is no wildcard (`ho_t` does not match `host`).
    assert_eq!(
        find(by(None, None, Some("host"), None), 0, 50).await,
        ["2", "1"]
    );
    assert_eq!(
        find(by(None, None, Some("terminal"), None), 0, 50).await,
        ["3"]
    );
    assert_eq!(find(by(None, None, Some("ho_t"), None), 0, 50).await, ["7"]);
    assert_eq!(
        find(by(None, None, Some("h%"), None), 0, 50).await,
        Vec::<String>::new()
    );
    // Text: object or detail, any case; `%` and `_` are literal.
    assert_eq!(
        find(by(None, None, None, Some("web server")), 0, 50).await,
        ["1"]
    );
    assert_eq!(
        find(by(None, None, None, Some("DB01")), 0, 50).await,
        ["4", "3"]
    );
    assert_eq!(find(by(None, None, None, Some("0%_d")), 0, 50).await, ["5"]);
    assert_eq!(find(by(None, None, None, Some("%")), 0, 50).await, ["5"]);
    assert_eq!(
        find(by(None, None, None, Some("H1")), 0, 50).await,
        ["2", "1"]
    );
    // A window: from inclusive, until exclusive.
    let window = AuditFilter {
        from: Some(2_000),
        until: Some(5_000),
        ..AuditFilter::default()
    };
    assert_eq!(find(window.clone(), 0, 50).await, ["4", "3", "2"]);
    assert_eq!(
        find(
            AuditFilter {
                user_id: Some("alice".into()),
                ..window
            },
            0,
            50
        )
        .await,
        ["4", "3"]
    );
    // Another company's lines stay there.
    assert_eq!(
        ids(s
            .find_audit("other", &AuditFilter::default(), 0, 50)
            .await
            .unwrap()),
        ["6"]
    );
}

common::on_both!(filters);
