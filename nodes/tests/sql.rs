//! The `sql` node against real PostgreSQL (127.0.0.1:5432, user postgres,
//! database `test`), MariaDB (127.0.0.1:3306, root, empty password, `test`)
//! and SQLite (a temporary file). Under `CI=true` a missing server fails the
//! test; elsewhere the test prints a note and returns.

use std::sync::Arc;
use std::time::{Duration, Instant};

use baton_nodes::resources::{DataSource, MemResources};
use baton_nodes::sql::test_connection;
use baton_nodes::{Ctx, JobInfo, NodeError, Registry, RunResult, Secret};
use serde_json::{Map, Value, json};

const PG: &str = "postgres://127.0.0.1:5432/test";
const MY: &str = "mysql://127.0.0.1:3306/test";

fn ds(url: &str, user: Option<&str>, password: Option<&str>) -> DataSource {
    DataSource {
        id: "ds1".into(),
        name: "db".into(),
        url: url.into(),
        username: user.map(str::to_owned),
        password: password.map(Secret::new),
        comments: String::new(),
    }
}

fn pg_ds() -> DataSource {
    ds(PG, Some("postgres"), None)
}

fn my_ds() -> DataSource {
    ds(MY, Some("root"), None)
}

/// A SQLite file of this test's own (created by the first statement).
fn lite_ds(tag: &str) -> DataSource {
    let path = std::env::temp_dir().join(format!("baton-sql-{}-{tag}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    ds(&format!("sqlite:{}?mode=rwc", path.display()), None, None)
}

/// Whether the server answers; under CI a missing server is a failure.
async fn available(d: &DataSource) -> bool {
    match test_connection(d).await {
        Ok(_) => true,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{} is required under CI=true: {e}", d.url)
        }
        Err(e) => {
            eprintln!("note: skipping, {} is not available: {e}", d.url);
            false
        }
    }
}

fn table(tag: &str) -> String {
    format!("baton_sql_{}_{tag}", std::process::id())
}

async fn run(d: &DataSource, props: Value, vars: Value) -> RunResult {
    let res = MemResources {
        data_sources: vec![d.clone()],
        ..Default::default()
    };
    let obj = |v: Value| v.as_object().cloned().unwrap_or_default();
    let mut p = obj(props);
    p.entry("dataSource").or_insert(json!("db"));
    let ctx = Ctx::new(
        JobInfo {
            job_id: "i1:1".into(),
            instance_id: "i1".into(),
            element_id: "q".into(),
            name: "Query".into(),
            attempt: 1,
        },
        p,
        Arc::new(res),
    )
    .with_vars(obj(vars));
    Registry::with_defaults().run("sql", ctx).await
}

fn done(r: RunResult) -> Map<String, Value> {
    match r {
        RunResult::Done { outputs, .. } => outputs,
        RunResult::Failed(e) => panic!("node failed: {e}"),
    }
}

fn failed(r: RunResult) -> NodeError {
    match r {
        RunResult::Failed(e) => e,
        RunResult::Done { outputs, .. } => panic!("node succeeded: {outputs:?}"),
    }
}

async fn exec(d: &DataSource, sql: &str) -> Map<String, Value> {
    done(run(d, json!({"sql": sql, "query": "false"}), json!({})).await)
}

async fn rows(d: &DataSource, sql: &str, vars: Value) -> Vec<Value> {
    let o = done(run(d, json!({"sql": sql}), vars).await);
    o["rows"].as_array().cloned().unwrap_or_default()
}

// ---- typed values ---------------------------------------------------------

#[tokio::test]
async fn postgres_typed_values() {
    let d = pg_ds();
    if !available(&d).await {
        return;
    }
    let t = table("typed");
    exec(&d, &format!("DROP TABLE IF EXISTS {t}")).await;
    exec(
        &d,
        &format!(
            "CREATE TABLE {t} (id integer, f double precision, r real, n numeric(12,2), big numeric(30,4),
             s text, b boolean, z integer, d date, ts timestamp, tz timestamptz, raw bytea, j jsonb, a int[])"
        ),
    )
    .await;
    exec(
        &d,
        &format!(
            "INSERT INTO {t} VALUES (1, 1.5, 1.1, 12.50, 12345678901234567890.1234, 'héllo', true, NULL,
             '2024-02-29', '2024-02-29 13:45:06.5', '2024-02-29 13:45:06+02', '\\x00ff', '{{\"k\": [1, 2]}}', '{{1,NULL,3}}')"
        ),
    )
    .await;
    let o = done(
        run(
            &d,
            json!({"sql": format!("SELECT * FROM {t} WHERE id = ${{id}}")}),
            json!({"id": 1}),
        )
        .await,
    );
    assert_eq!(
        o["rows"],
        json!([{"id": 1, "f": 1.5, "r": 1.1, "n": 12.5, "big": "12345678901234567890.1234",
            "s": "héllo", "b": true, "z": null, "d": "2024-02-29", "ts": "2024-02-29T13:45:06.500",
            "tz": "2024-02-29T11:45:06Z", "raw": "AP8=", "j": {"k": [1, 2]}, "a": [1, null, 3]}])
    );
    assert_eq!(o["rowCount"], 1);
    assert_eq!(o["columns"][0], json!({"name": "id", "type": "INT4"}));
    assert_eq!(o["columns"][4], json!({"name": "big", "type": "NUMERIC"}));
    assert_eq!(o["sql"], format!("SELECT * FROM {t} WHERE id = $1"));
    assert_eq!(o["params"], json!([1]));
    assert!(o["durationMs"].is_u64());
    // No rows: the columns are still known.
    let o = done(
        run(
            &d,
            json!({"sql": format!("SELECT id, s FROM {t} WHERE false")}),
            json!({}),
        )
        .await,
    );
    assert_eq!(o["rows"], json!([]));
    assert_eq!(o["rowCount"], 0);
    assert_eq!(
        o["columns"],
        json!([{"name": "id", "type": "INT4"}, {"name": "s", "type": "TEXT"}])
    );
    exec(&d, &format!("DROP TABLE {t}")).await;
}

#[tokio::test]
async fn mariadb_typed_values() {
    let d = my_ds();
    if !available(&d).await {
        return;
    }
    let t = table("typed");
    exec(&d, &format!("DROP TABLE IF EXISTS {t}")).await;
    exec(
        &d,
        &format!(
            "CREATE TABLE {t} (id int, f double, r float, n decimal(12,2), big decimal(30,4), s varchar(100),
             b boolean, z int, d date, ts datetime(3), tm time, raw varbinary(10), u bigint unsigned)"
        ),
    )
    .await;
    exec(
        &d,
        &format!(
            "INSERT INTO {t} VALUES (1, 1.5, 1.1, 12.50, 12345678901234567890.1234, 'héllo', true, NULL,
             '2024-02-29', '2024-02-29 13:45:06.5', '-01:02:03', x'00ff', 18446744073709551615)"
        ),
    )
    .await;
    let o = done(
        run(
            &d,
            json!({"sql": format!("SELECT * FROM {t} WHERE id = ${{id}}")}),
            json!({"id": 1}),
        )
        .await,
    );
    assert_eq!(
        o["rows"],
        json!([{"id": 1, "f": 1.5, "r": 1.1, "n": 12.5, "big": "12345678901234567890.1234",
            "s": "héllo", "b": true, "z": null, "d": "2024-02-29", "ts": "2024-02-29T13:45:06.500",
            "tm": "-01:02:03", "raw": "AP8=", "u": 18446744073709551615u64}])
    );
    assert_eq!(o["columns"][3], json!({"name": "n", "type": "DECIMAL"}));
    assert_eq!(o["sql"], format!("SELECT * FROM {t} WHERE id = ?"));
    exec(&d, &format!("DROP TABLE {t}")).await;
}

#[tokio::test]
async fn sqlite_typed_values() {
    let d = lite_ds("typed");
    exec(
        &d,
        "CREATE TABLE t (id INTEGER, f REAL, n NUMERIC, s TEXT, b BOOLEAN, z INTEGER, d DATE, ts DATETIME, raw BLOB)",
    )
    .await;
    exec(
        &d,
        "INSERT INTO t VALUES (1, 1.5, 12.50, 'héllo', 1, NULL, '2024-02-29', '2024-02-29 13:45:06', x'00ff')",
    )
    .await;
    let o = done(
        run(
            &d,
            json!({"sql": "SELECT *, 2 + 3 AS five FROM t WHERE id = ${id}"}),
            json!({"id": 1}),
        )
        .await,
    );
    assert_eq!(
        o["rows"],
        json!([{"id": 1, "f": 1.5, "n": 12.5, "s": "héllo", "b": true, "z": null,
            "d": "2024-02-29", "ts": "2024-02-29 13:45:06", "raw": "AP8=", "five": 5}])
    );
    assert_eq!(o["columns"][4], json!({"name": "b", "type": "BOOLEAN"}));
    assert_eq!(o["columns"][9], json!({"name": "five", "type": "INTEGER"}));
    assert_eq!(o["sql"], "SELECT *, 2 + 3 AS five FROM t WHERE id = ?");
}

// ---- statements, parameters, injection -------------------------------------

/// Inserts with parameters (text, integer, float, boolean, null), updates,
/// and stores an injection attempt literally; the table survives.
async fn parameters_and_injection(d: &DataSource, t: &str, create: &str) {
    let evil = "x'; DROP TABLE t; --";
    let evil = evil.replace(" t;", &format!(" {t};"));
    exec(d, &format!("DROP TABLE IF EXISTS {t}")).await;
    exec(d, &create.replace("{t}", t)).await;
    let insert = format!(
        "INSERT INTO {t} (id, s, f, b, z) VALUES (${{id}}, ${{s}}, ${{f}}, ${{b}}, ${{z}})"
    );
    for (id, s) in [(1, "a"), (2, "b"), (3, evil.as_str())] {
        let o = done(
            run(
                d,
                json!({"sql": insert, "query": "false"}),
                json!({"id": id, "s": s, "f": 2.25, "b": id % 2 == 1, "z": null}),
            )
            .await,
        );
        assert_eq!(o["affectedRows"], 1);
        assert_eq!(o["params"], json!([id, s, 2.25, id % 2 == 1, null]));
    }
    // The value inside a literal becomes one parameter too.
    let o = done(
        run(
            d,
            json!({"sql": format!("INSERT INTO {t} (id, s) VALUES (4, 'pre-${{evil}}')"), "query": "false"}),
            json!({"evil": evil}),
        )
        .await,
    );
    assert_eq!(o["params"], json!([format!("pre-{evil}")]));
    let o = done(
        run(
            d,
            json!({"sql": format!("UPDATE {t} SET f = ${{f}} WHERE id <= ${{max}}"), "query": "false"}),
            json!({"f": 3.5, "max": 2}),
        )
        .await,
    );
    assert_eq!(o["affectedRows"], 2);
    let r = rows(
        d,
        &format!(
            "SELECT id, s, f, b, z FROM {t} WHERE s = ${{evil}} OR s = 'pre-${{evil}}' ORDER BY id"
        ),
        json!({"evil": evil}),
    )
    .await;
    assert_eq!(
        r,
        [
            json!({"id": 3, "s": evil, "f": 2.25, "b": true, "z": null}),
            json!({"id": 4, "s": format!("pre-{evil}"), "f": null, "b": null, "z": null}),
        ]
    );
    let r = rows(d, &format!("SELECT count(*) AS n FROM {t}"), json!({})).await;
    assert_eq!(r, [json!({"n": 4})], "the table survived");
    exec(d, &format!("DROP TABLE {t}")).await;
}

#[tokio::test]
async fn postgres_parameters_and_injection() {
    let d = pg_ds();
    if !available(&d).await {
        return;
    }
    parameters_and_injection(
        &d,
        &table("params"),
        "CREATE TABLE {t} (id integer, s text, f double precision, b boolean, z integer)",
    )
    .await;
}

#[tokio::test]
async fn mariadb_parameters_and_injection() {
    let d = my_ds();
    if !available(&d).await {
        return;
    }
    parameters_and_injection(
        &d,
        &table("params"),
        "CREATE TABLE {t} (id int, s varchar(100), f double, b boolean, z int)",
    )
    .await;
}

#[tokio::test]
async fn sqlite_parameters_and_injection() {
    let d = lite_ds("params");
    parameters_and_injection(
        &d,
        "t",
        "CREATE TABLE {t} (id INTEGER, s TEXT, f REAL, b BOOLEAN, z INTEGER)",
    )
    .await;
}

#[tokio::test]
async fn postgres_text_parameters_cast_to_other_types() {
    let d = pg_ds();
    if !available(&d).await {
        return;
    }
    let r = rows(
        &d,
        "SELECT ${day}::date + 1 AS next, ${n}::numeric * 2 AS twice",
        json!({"day": "2024-02-28", "n": "0.1"}),
    )
    .await;
    assert_eq!(r, [json!({"next": "2024-02-29", "twice": 0.2})]);
}

// ---- errors -----------------------------------------------------------------

#[tokio::test]
async fn bad_sql_names_the_error_and_where() {
    let d = pg_ds();
    if available(&d).await {
        let e = failed(
            run(
                &d,
                json!({"sql": "SELECT ${n}\nFROM WHERE"}),
                json!({"n": 1}),
            )
            .await,
        );
        let m = e.to_string();
        assert!(
            m.starts_with("PostgreSQL rejected the statement: syntax error at or near \"WHERE\" at line 2, column 6 (near `WHERE`)"),
            "{m}"
        );
        assert!(m.contains("SQLSTATE 42601"), "{m}");
        let e = failed(
            run(
                &d,
                json!({"sql": "SELECT * FROM baton_no_such_table"}),
                json!({}),
            )
            .await,
        );
        assert!(
            e.to_string()
                .contains("relation \"baton_no_such_table\" does not exist"),
            "{e}"
        );
    }
    let d = my_ds();
    if available(&d).await {
        let e = failed(run(&d, json!({"sql": "SELEC 1"}), json!({})).await);
        let m = e.to_string();
        assert!(
            m.starts_with(
                "MySQL/MariaDB rejected the statement: You have an error in your SQL syntax"
            ),
            "{m}"
        );
        assert!(
            m.contains("near 'SELEC 1' at line 1") && m.contains("[error 1064]"),
            "{m}"
        );
    }
    let d = lite_ds("badsql");
    let e = failed(run(&d, json!({"sql": "SELEC 1"}), json!({})).await);
    assert_eq!(
        e.to_string(),
        "SQLite rejected the statement: near \"SELEC\": syntax error"
    );
}

#[tokio::test]
async fn wrong_credentials_are_refused_without_the_password() {
    let d = pg_ds();
    if available(&d).await {
        // Trust authentication admits any existing role: a missing role is a real refusal.
        let bad = ds(PG, Some("baton_no_such_role"), Some("hunter22-secret"));
        let m = failed(run(&bad, json!({"sql": "SELECT 1"}), json!({})).await).to_string();
        assert!(
            m.starts_with(
                "PostgreSQL at 127.0.0.1:5432 refused the login of user `baton_no_such_role`"
            ),
            "{m}"
        );
        assert!(!m.contains("hunter22"), "{m}");
        let m = test_connection(&bad).await.unwrap_err().to_string();
        assert!(
            m.contains("refused the login") && !m.contains("hunter22"),
            "{m}"
        );
    }
    let d = my_ds();
    if available(&d).await {
        let bad = ds(MY, Some("root"), Some("hunter22-secret"));
        let m = failed(run(&bad, json!({"sql": "SELECT 1"}), json!({})).await).to_string();
        assert!(
            m.starts_with("MySQL/MariaDB at 127.0.0.1:3306 refused the login of user `root`"),
            "{m}"
        );
        assert!(m.contains("Access denied"), "{m}");
        assert!(!m.contains("hunter22"), "{m}");
        // The password in the URL is overridden by the data source's and never shown either.
        let bad = ds(
            "mysql://root:url-secret-pw@127.0.0.1:3306/test",
            None,
            Some("hunter22-secret"),
        );
        let m = failed(run(&bad, json!({"sql": "SELECT 1"}), json!({})).await).to_string();
        assert!(
            m.contains("refused the login") && !m.contains("hunter22") && !m.contains("url-secret"),
            "{m}"
        );
    }
}

#[tokio::test]
async fn unknown_database_is_named() {
    let d = pg_ds();
    if available(&d).await {
        let bad = ds(
            "postgres://127.0.0.1:5432/baton_no_such_db",
            Some("postgres"),
            None,
        );
        let m = failed(run(&bad, json!({"sql": "SELECT 1"}), json!({})).await).to_string();
        assert!(
            m.starts_with(
                "database `baton_no_such_db` does not exist on PostgreSQL at 127.0.0.1:5432"
            ),
            "{m}"
        );
    }
    let d = my_ds();
    if available(&d).await {
        let bad = ds(
            "mysql://127.0.0.1:3306/baton_no_such_db",
            Some("root"),
            None,
        );
        let m = failed(run(&bad, json!({"sql": "SELECT 1"}), json!({})).await).to_string();
        assert!(
            m.starts_with(
                "database `baton_no_such_db` does not exist on MySQL/MariaDB at 127.0.0.1:3306"
            ),
            "{m}"
        );
    }
    let missing = std::env::temp_dir().join(format!("baton-sql-{}-missing.db", std::process::id()));
    let bad = ds(&format!("sqlite:{}", missing.display()), None, None);
    let m = failed(run(&bad, json!({"sql": "SELECT 1"}), json!({})).await).to_string();
    assert!(m.starts_with("cannot open SQLite database"), "{m}");
    assert!(m.contains("?mode=rwc"), "{m}");
    assert!(!missing.exists(), "a missing SQLite file is not created");
}

#[tokio::test]
async fn unreachable_servers_name_host_and_port() {
    for (url, what) in [
        ("postgres://127.0.0.1:1/test", "PostgreSQL"),
        ("jdbc:mariadb://127.0.0.1:1/test", "MySQL/MariaDB"),
        (
            "jdbc:sqlserver://127.0.0.1:1;databaseName=ops;user=sa;password=hunter22-secret;encrypt=false",
            "SQL Server",
        ),
    ] {
        let d = ds(url, None, None);
        let m = failed(run(&d, json!({"sql": "SELECT ${n}"}), json!({"n": 1})).await).to_string();
        assert_eq!(
            m,
            format!(
                "cannot reach {what} at 127.0.0.1:1: connection refused (is the server running and listening on that port?)"
            ),
        );
        let m = test_connection(&d).await.unwrap_err().to_string();
        assert!(
            m.starts_with(&format!("cannot reach {what} at 127.0.0.1:1")),
            "{m}"
        );
    }
    let d = ds("oracle://scott:tiger-pw@h/db", None, None);
    let m = failed(run(&d, json!({"sql": "SELECT 1"}), json!({})).await).to_string();
    assert!(
        m.starts_with("data source `db`: data source URL: `oracle:` is not supported"),
        "{m}"
    );
    assert!(!m.contains("tiger"), "{m}");
}

#[tokio::test]
async fn sql_server_refusal_hides_the_password() {
    // No SQL Server here: only the refused connection can be checked.
    let d = ds(
        "mssql://sa:url-secret-pw@127.0.0.1:1/ops",
        None,
        Some("hunter22-secret"),
    );
    let e = failed(
        run(
            &d,
            json!({"sql": "SELECT * FROM t WHERE a = ${a} AND b = '${b}'"}),
            json!({"a": 1, "b": "x"}),
        )
        .await,
    );
    let m = e.to_string();
    assert!(
        m.starts_with("cannot reach SQL Server at 127.0.0.1:1"),
        "{m}"
    );
    assert!(!m.contains("hunter22") && !m.contains("url-secret"), "{m}");
}

// ---- timeout and cancellation ----------------------------------------------

/// A sleeping statement with `timeout: 1` ends with the Timeout error within
/// seconds, and the server is no longer running it.
async fn times_out(d: &DataSource, sleep: &str, still_running: &str) {
    let started = Instant::now();
    let e = failed(run(d, json!({"sql": sleep, "timeout": "1"}), json!({})).await);
    assert_eq!(e, NodeError::Timeout(Duration::from_secs(1)));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // The cancel reached the server: poll briefly for the session to stop.
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let r = rows(d, still_running, json!({})).await;
        if r[0]["n"] == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the statement still runs on the server: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn postgres_timeout_cancels_the_statement() {
    let d = pg_ds();
    if !available(&d).await {
        return;
    }
    let tag = format!("baton-{}", std::process::id());
    times_out(
        &d,
        &format!("SELECT pg_sleep(10) AS \"{tag}\""),
        &format!("SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%pg_sleep(10) AS \"{tag}\"%' AND pid <> pg_backend_pid()"),
    )
    .await;
}

#[tokio::test]
async fn mariadb_timeout_kills_the_statement() {
    let d = my_ds();
    if !available(&d).await {
        return;
    }
    let tag = format!("baton_{}", std::process::id());
    times_out(
        &d,
        &format!("SELECT SLEEP(10) AS {tag}"),
        &format!("SELECT count(*) AS n FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(10) AS {tag}%'"),
    )
    .await;
}

#[tokio::test]
async fn sqlite_timeout_interrupts_the_statement() {
    let d = lite_ds("timeout");
    exec(&d, "CREATE TABLE t (x INTEGER)").await;
    let started = Instant::now();
    // An endless insert: it holds the write lock until it is interrupted.
    let e = failed(
        run(
            &d,
            json!({"sql": "INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c", "query": "false", "timeout": "1"}),
            json!({}),
        )
        .await,
    );
    assert_eq!(e, NodeError::Timeout(Duration::from_secs(1)));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    // Interrupted and rolled back: another writer gets the lock at once
    // (a runaway statement would hold it past the 5 s busy timeout).
    let started = Instant::now();
    exec(&d, "INSERT INTO t VALUES (-1)").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        rows(&d, "SELECT x FROM t", json!({})).await,
        [json!({"x": -1})]
    );
}

// ---- many rows ---------------------------------------------------------------

#[tokio::test]
async fn rows_are_capped() {
    let d = lite_ds("cap");
    let o = done(
        run(
            &d,
            json!({"sql": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100005) SELECT x FROM c"}),
            json!({}),
        )
        .await,
    );
    assert_eq!(o["rowCount"], 100_000);
    assert_eq!(o["truncated"], true);
    assert_eq!(o["rows"][99_999], json!({"x": 100_000}));
    let d = pg_ds();
    if available(&d).await {
        let o = done(
            run(
                &d,
                json!({"sql": "SELECT generate_series(1, 100000) AS x"}),
                json!({}),
            )
            .await,
        );
        assert_eq!(o["rowCount"], 100_000);
        assert!(o.get("truncated").is_none());
    }
}

// ---- URLs and test connection -----------------------------------------------

#[tokio::test]
async fn jdbc_urls_and_test_connection() {
    let d = pg_ds();
    if available(&d).await {
        let j = ds(
            "jdbc:postgresql://127.0.0.1:5432/test?user=postgres&ApplicationName=baton-test&loginTimeout=5",
            None,
            None,
        );
        let r = rows(&j, "SELECT current_database() AS db, current_user AS u, current_setting('application_name') AS app", json!({})).await;
        assert_eq!(
            r,
            [json!({"db": "test", "u": "postgres", "app": "baton-test"})]
        );
        let v = test_connection(&j).await.unwrap();
        assert!(v.starts_with("PostgreSQL 1"), "{v}");
    }
    let d = my_ds();
    if available(&d).await {
        for url in [
            "jdbc:mysql://127.0.0.1:3306/test?user=root&useSSL=false&serverTimezone=UTC",
            "jdbc:mariadb://127.0.0.1:3306/test?user=root",
            "mariadb://root@127.0.0.1/test",
        ] {
            let j = ds(url, None, None);
            let r = rows(&j, "SELECT DATABASE() AS db", json!({})).await;
            assert_eq!(r, [json!({"db": "test"})], "{url}");
            let v = test_connection(&j).await.unwrap();
            assert!(
                v.starts_with("MySQL/MariaDB ") && v.contains("MariaDB"),
                "{v}"
            );
        }
    }
    let lite = lite_ds("jdbc");
    exec(&lite, "CREATE TABLE t (x INTEGER)").await;
    let file = lite
        .url
        .trim_start_matches("sqlite:")
        .trim_end_matches("?mode=rwc");
    let j = ds(&format!("jdbc:sqlite:{file}"), None, None);
    exec(&j, "INSERT INTO t VALUES (7)").await;
    assert_eq!(
        rows(&j, "SELECT x FROM t", json!({})).await,
        [json!({"x": 7})]
    );
    let v = test_connection(&j).await.unwrap();
    assert!(v.starts_with("SQLite 3."), "{v}");
    let _ = std::fs::remove_file(file);
}

#[tokio::test]
async fn outputs_hold_no_password() {
    let d = pg_ds();
    if !available(&d).await {
        return;
    }
    // Trust authentication ignores the password: the run succeeds and must not show it.
    let with_pw = ds(PG, Some("postgres"), Some("hunter22-secret"));
    let o = done(
        run(
            &with_pw,
            json!({"sql": "SELECT ${pw} AS echoed", "resultVariable": "r"}),
            json!({"pw": "hunter22-secret"}),
        )
        .await,
    );
    let text = serde_json::to_string(&o).unwrap_or_default();
    assert!(!text.contains("hunter22"), "{text}");
    assert_eq!(o["rows"], json!([{"echoed": "******"}]));
    assert_eq!(o["dataSource"]["name"], "db");
}
