//! PostgreSQL, MySQL/MariaDB and SQLite through sqlx (the version the store
//! uses, one copy): connect, bind, run, read rows; on cancellation the
//! server is asked to stop the statement (`pg_cancel_backend`, `KILL`) and
//! the connection is dropped.

use std::str::FromStr;
use std::time::Duration;

use futures_util::TryStreamExt;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};
use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgTypeInfo, Postgres};
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteConnectOptions, SqliteConnection};
use sqlx::{
    AssertSqlSafe, Column as _, Connection, Database, Encode, Executor, SqlSafeStr, Statement as _,
    Type, TypeInfo,
};

use super::statement::Statement;
use super::url::{Dialect, Target};
use super::{Column, MAX_ROWS, Outcome, decode, failure, row_keys};
use crate::ctx::Ctx;
use crate::error::NodeError;

/// What cannot stand in a URL's host.
const HOST: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'/')
    .add(b'?')
    .add(b'#')
    .add(b'@')
    .add(b':');

/// How long stopping a statement on the server may take after a cancel.
const KILL_WAIT: Duration = Duration::from_secs(3);

/// What differs between the sqlx databases.
trait Driver: Database {
    /// The type a value is declared as (PostgreSQL infers `null`'s).
    fn declared(v: &Value) -> Self::TypeInfo;
    fn bind<'q>(q: Query<'q, Self, Self::Arguments>, v: &Value)
    -> Query<'q, Self, Self::Arguments>;
    fn affected(r: &Self::QueryResult) -> u64;
    /// Column `i` as JSON (`declared`: the column's type name).
    fn value(row: &Self::Row, i: usize, declared: &str) -> Value;
    /// The type of a value, for columns the database declares none for.
    fn storage(_row: &Self::Row, _i: usize) -> Option<String> {
        None
    }
}

/// Binds a JSON value as the nearest SQL type: text, 64-bit integer, double,
/// boolean, `null`; arrays and objects as JSON text.
fn bind_with<'q, DB, N>(
    q: Query<'q, DB, DB::Arguments>,
    v: &Value,
    null: N,
) -> Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'a> N: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> f64: Encode<'a, DB> + Type<DB>,
    for<'a> bool: Encode<'a, DB> + Type<DB>,
{
    match v {
        Value::Null => q.bind(null),
        Value::Bool(b) => q.bind(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => q.bind(i),
            // Beyond i64 (u64): as text, exact.
            _ if n.is_u64() => q.bind(n.to_string()),
            (None, Some(f)) => q.bind(f),
            (None, None) => q.bind(n.to_string()),
        },
        Value::String(s) => q.bind(s.clone()),
        other => q.bind(other.to_string()),
    }
}

/// A PostgreSQL `NULL` of no declared type: the server infers it from where
/// it stands (a `text` NULL could not go into an integer column).
struct PgNull;

impl Type<Postgres> for PgNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl Encode<'_, Postgres> for PgNull {
    fn encode_by_ref(
        &self,
        _: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

impl Driver for Postgres {
    fn declared(v: &Value) -> PgTypeInfo {
        match v {
            Value::Null => PgNull::type_info(),
            Value::Bool(_) => <bool as Type<Postgres>>::type_info(),
            Value::Number(n) if n.is_i64() => <i64 as Type<Postgres>>::type_info(),
            Value::Number(n) if !n.is_u64() => <f64 as Type<Postgres>>::type_info(),
            _ => <String as Type<Postgres>>::type_info(),
        }
    }
    fn bind<'q>(
        q: Query<'q, Self, Self::Arguments>,
        v: &Value,
    ) -> Query<'q, Self, Self::Arguments> {
        bind_with(q, v, PgNull)
    }
    fn affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
    fn value(row: &Self::Row, i: usize, _: &str) -> Value {
        decode::pg(row, i)
    }
}

impl Driver for MySql {
    fn declared(_: &Value) -> Self::TypeInfo {
        <String as Type<MySql>>::type_info()
    }
    fn bind<'q>(
        q: Query<'q, Self, Self::Arguments>,
        v: &Value,
    ) -> Query<'q, Self, Self::Arguments> {
        bind_with(q, v, None::<String>)
    }
    fn affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
    fn value(row: &Self::Row, i: usize, _: &str) -> Value {
        decode::mysql(row, i)
    }
}

impl Driver for Sqlite {
    fn declared(_: &Value) -> Self::TypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn bind<'q>(
        q: Query<'q, Self, Self::Arguments>,
        v: &Value,
    ) -> Query<'q, Self, Self::Arguments> {
        bind_with(q, v, None::<String>)
    }
    fn affected(r: &Self::QueryResult) -> u64 {
        r.rows_affected()
    }
    fn value(row: &Self::Row, i: usize, declared: &str) -> Value {
        decode::sqlite(row, i, declared)
    }
    fn storage(row: &Self::Row, i: usize) -> Option<String> {
        decode::sqlite_storage(row, i)
    }
}

/// Prepares, binds and runs `st` on `conn`.
async fn execute<DB: Driver>(
    conn: &mut DB::Connection,
    st: &Statement,
    query: bool,
) -> Result<Outcome, sqlx::Error>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let types: Vec<DB::TypeInfo> = st.params.iter().map(DB::declared).collect();
    let prepared = (&mut *conn)
        .prepare_with(AssertSqlSafe(st.sql.clone()).into_sql_str(), &types)
        .await?;
    let mut q = prepared.query();
    for p in &st.params {
        q = DB::bind(q, p);
    }
    if !query {
        let done = (&mut *conn).execute(q).await?;
        return Ok(Outcome::Affected(DB::affected(&done)));
    }
    let mut columns: Vec<Column> = prepared
        .columns()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            ty: c.type_info().name().to_owned(),
        })
        .collect();
    let keys = row_keys(&columns);
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut stream = (&mut *conn).fetch(q);
    while let Some(row) = stream.try_next().await? {
        if rows.len() == MAX_ROWS {
            truncated = true;
            break;
        }
        let mut m = Map::with_capacity(columns.len());
        for (i, (c, k)) in columns.iter_mut().zip(&keys).enumerate() {
            if (c.ty.is_empty() || c.ty == "NULL")
                && let Some(t) = DB::storage(&row, i)
            {
                c.ty = t;
            }
            m.insert(k.clone(), DB::value(&row, i, &c.ty));
        }
        rows.push(m);
    }
    Ok(Outcome::Rows {
        columns,
        rows,
        truncated,
    })
}

/// `scheme://host:port/database?options`, credentials left out (they are set
/// on the options, never formatted into text).
fn native_url(scheme: &str, t: &Target) -> String {
    let host = if t.host.contains(':') {
        format!("[{}]", t.host)
    } else {
        utf8_percent_encode(&t.host, HOST).to_string()
    };
    let mut url = format!("{scheme}://{host}:{}", t.port);
    if let Some(db) = &t.database {
        url.push('/');
        url.push_str(&utf8_percent_encode(db, NON_ALPHANUMERIC).to_string());
    }
    if !t.options.is_empty() {
        let mut q = ::url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &t.options {
            q.append_pair(k, v);
        }
        url.push('?');
        url.push_str(&q.finish());
    }
    url
}

fn pg_options(t: &Target) -> Result<PgConnectOptions, NodeError> {
    let mut o = PgConnectOptions::from_str(&native_url("postgres", t))
        .map_err(|e| failure::connect(t, e))?;
    if let Some(u) = &t.username {
        o = o.username(u);
    }
    if let Some(p) = &t.password {
        o = o.password(p.expose());
    }
    if o.get_application_name().is_none() {
        o = o.application_name("baton");
    }
    Ok(o.statement_cache_capacity(0))
}

fn mysql_options(t: &Target) -> Result<MySqlConnectOptions, NodeError> {
    let mut o = MySqlConnectOptions::from_str(&native_url("mysql", t))
        .map_err(|e| failure::connect(t, e))?;
    if let Some(u) = &t.username {
        o = o.username(u);
    }
    if let Some(p) = &t.password {
        o = o.password(p.expose());
    }
    Ok(o.statement_cache_capacity(0))
}

fn sqlite_options(t: &Target) -> Result<SqliteConnectOptions, NodeError> {
    let file = t.database.as_deref().unwrap_or(":memory:");
    let mode = t.option("mode");
    let o = if file == ":memory:" || mode == Some("memory") {
        SqliteConnectOptions::from_str("sqlite::memory:").map_err(|e| failure::connect(t, e))?
    } else {
        SqliteConnectOptions::new()
            .filename(file)
            .create_if_missing(mode == Some("rwc"))
            .read_only(mode == Some("ro"))
    };
    Ok(o.statement_cache_capacity(0))
}

/// Runs `fut` unless the work is cancelled first (`None`).
async fn or_cancel<T>(ctx: &Ctx, fut: impl Future<Output = T>) -> Option<T> {
    tokio::select! {
        r = fut => Some(r),
        _ = ctx.cancelled() => None,
    }
}

pub(super) async fn run(
    ctx: &Ctx,
    t: &Target,
    st: &Statement,
    query: bool,
) -> Result<Outcome, NodeError> {
    match t.dialect {
        Dialect::Postgres => {
            let o = pg_options(t)?;
            let mut conn = or_cancel(ctx, PgConnection::connect_with(&o))
                .await
                .ok_or(NodeError::Cancelled)?
                .map_err(|e| failure::connect(t, e))?;
            let pid: i32 = or_cancel(
                ctx,
                sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut conn),
            )
            .await
            .ok_or(NodeError::Cancelled)?
            .map_err(|e| failure::statement(t, st, e))?;
            let done = or_cancel(ctx, execute::<Postgres>(&mut conn, st, query)).await;
            match done {
                Some(r) => {
                    let _ = tokio::time::timeout(KILL_WAIT, conn.close()).await;
                    r.map_err(|e| failure::statement(t, st, e))
                }
                None => {
                    drop(conn);
                    let stop = async {
                        let mut c = PgConnection::connect_with(&o).await?;
                        sqlx::query("SELECT pg_cancel_backend($1)")
                            .bind(pid)
                            .execute(&mut c)
                            .await
                    };
                    let _ = tokio::time::timeout(KILL_WAIT, stop).await;
                    Err(NodeError::Cancelled)
                }
            }
        }
        Dialect::MySql => {
            let o = mysql_options(t)?;
            let mut conn = or_cancel(ctx, MySqlConnection::connect_with(&o))
                .await
                .ok_or(NodeError::Cancelled)?
                .map_err(|e| failure::connect(t, e))?;
            let id: u64 = or_cancel(
                ctx,
                sqlx::query_scalar("SELECT CONNECTION_ID()").fetch_one(&mut conn),
            )
            .await
            .ok_or(NodeError::Cancelled)?
            .map_err(|e| failure::statement(t, st, e))?;
            let done = or_cancel(ctx, execute::<MySql>(&mut conn, st, query)).await;
            match done {
                Some(r) => {
                    let _ = tokio::time::timeout(KILL_WAIT, conn.close()).await;
                    r.map_err(|e| failure::statement(t, st, e))
                }
                None => {
                    drop(conn);
                    let stop = async {
                        let mut c = MySqlConnection::connect_with(&o).await?;
                        // An id the server gave, not input: safe to format.
                        sqlx::raw_sql(AssertSqlSafe(format!("KILL {id}")))
                            .execute(&mut c)
                            .await
                    };
                    let _ = tokio::time::timeout(KILL_WAIT, stop).await;
                    Err(NodeError::Cancelled)
                }
            }
        }
        Dialect::Sqlite => {
            let o = sqlite_options(t)?;
            let mut conn = or_cancel(ctx, SqliteConnection::connect_with(&o))
                .await
                .ok_or(NodeError::Cancelled)?
                .map_err(|e| failure::connect(t, e))?;
            // SQLite runs on a worker thread: a cancelled statement is interrupted there.
            let token = ctx.cancel_token().clone();
            conn.lock_handle()
                .await
                .map_err(|e| failure::connect(t, e))?
                .set_progress_handler(1000, move || !token.is_cancelled());
            let r = or_cancel(ctx, execute::<Sqlite>(&mut conn, st, query))
                .await
                .ok_or(NodeError::Cancelled)?;
            let _ = tokio::time::timeout(KILL_WAIT, conn.close()).await;
            r.map_err(|e| failure::statement(t, st, e))
        }
        Dialect::SqlServer => Err(NodeError::failed("SQL Server is not reached through sqlx")),
    }
}

/// The server's version, for "Test connection".
pub(super) async fn version(t: &Target) -> Result<String, NodeError> {
    let st = Statement {
        sql: String::new(),
        params: Vec::new(),
    };
    let v: Result<String, sqlx::Error> = match t.dialect {
        Dialect::Postgres => {
            let mut c = PgConnection::connect_with(&pg_options(t)?)
                .await
                .map_err(|e| failure::connect(t, e))?;
            sqlx::query_scalar("SHOW server_version")
                .fetch_one(&mut c)
                .await
        }
        Dialect::MySql => {
            let mut c = MySqlConnection::connect_with(&mysql_options(t)?)
                .await
                .map_err(|e| failure::connect(t, e))?;
            sqlx::query_scalar("SELECT VERSION()")
                .fetch_one(&mut c)
                .await
        }
        Dialect::Sqlite => {
            let mut c = SqliteConnection::connect_with(&sqlite_options(t)?)
                .await
                .map_err(|e| failure::connect(t, e))?;
            // Opening is lazy in SQLite: read the schema to prove the file is a database.
            sqlx::query_scalar("SELECT sqlite_version() FROM (SELECT count(*) FROM sqlite_master)")
                .fetch_one(&mut c)
                .await
        }
        Dialect::SqlServer => {
            return Err(NodeError::failed("SQL Server is not reached through sqlx"));
        }
    };
    v.map_err(|e| failure::statement(t, &st, e))
}
