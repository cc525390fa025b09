//! SQL Server through tiberius (TDS 7.3 over rustls): connect, bind
//! `@P1…`, run, read rows; on cancellation an attention is sent to stop the
//! statement and the connection is dropped.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat};
use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use tiberius::{AuthMethod, Client, ColumnData, Config, EncryptionLevel, Query, Row};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::statement::Statement;
use super::url::Target;
use super::{Column, MAX_ROWS, Outcome, decode, failure, row_keys};
use crate::ctx::Ctx;
use crate::error::NodeError;

type Conn = Client<Compat<TcpStream>>;

/// How long stopping a statement may take after a cancel.
const KILL_WAIT: Duration = Duration::from_secs(3);

fn config(t: &Target) -> Config {
    let mut c = Config::new();
    c.host(&t.host);
    c.port(t.port);
    if let Some(db) = &t.database {
        c.database(db);
    }
    c.application_name("baton");
    c.authentication(AuthMethod::sql_server(
        t.username.as_deref().unwrap_or(""),
        t.password.as_ref().map_or("", |p| p.expose()),
    ));
    // As the JDBC driver since 10.2: encrypted unless told otherwise.
    c.encryption(match t.option("encrypt") {
        Some("false") => EncryptionLevel::Off,
        _ => EncryptionLevel::Required,
    });
    if t.option("trustServerCertificate") == Some("true") {
        c.trust_cert();
    }
    c
}

/// Why talking to SQL Server failed; `login`: while connecting.
fn error(t: &Target, e: tiberius::error::Error, login: bool) -> NodeError {
    use tiberius::error::Error as E;
    let addr = t.address();
    match e {
        E::Io { kind, message } => failure::io(t, &std::io::Error::new(kind, message)),
        E::Tls(m) => NodeError::failed(format!(
            "TLS with SQL Server at {addr} failed: {m} (a self-signed certificate needs trustServerCertificate=true)"
        )),
        E::Routing { host, port } => NodeError::failed(format!(
            "SQL Server at {addr} redirects to {host}:{port}: use that address"
        )),
        E::Server(te) => NodeError::failed(match te.code() {
            18456 => format!(
                "SQL Server at {addr} refused the login of user `{}` (wrong user name or password?): {}",
                t.username.as_deref().unwrap_or(""),
                te.message()
            ),
            4060 => format!(
                "database `{}` cannot be opened on SQL Server at {addr}: {}",
                t.database.as_deref().unwrap_or(""),
                te.message()
            ),
            code if login => format!(
                "cannot connect to SQL Server at {addr}: {} [error {code}]",
                te.message()
            ),
            code => format!(
                "SQL Server rejected the statement: {} [error {code}, line {}]",
                te.message(),
                te.line()
            ),
        }),
        e if login => NodeError::failed(format!("cannot connect to SQL Server at {addr}: {e}")),
        e => NodeError::failed(format!("SQL Server statement failed: {e}")),
    }
}

async fn connect(t: &Target) -> Result<Conn, NodeError> {
    let tcp = TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(|e| failure::io(t, &e))?;
    let _ = tcp.set_nodelay(true);
    Client::connect(config(t), tcp.compat_write())
        .await
        .map_err(|e| error(t, e, true))
}

fn bind(q: &mut Query<'_>, v: &Value) {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Bool(b) => q.bind(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => q.bind(i),
            _ if n.is_u64() => q.bind(n.to_string()),
            (None, Some(f)) => q.bind(f),
            (None, None) => q.bind(n.to_string()),
        },
        Value::String(s) => q.bind(s.clone()),
        other => q.bind(other.to_string()),
    }
}

fn cell(row: &Row, i: usize, data: &ColumnData<'static>) -> Value {
    let iso = |v: Option<String>| v.map_or(Value::Null, Value::String);
    match data {
        ColumnData::U8(v) => v.map_or(Value::Null, Value::from),
        ColumnData::I16(v) => v.map_or(Value::Null, Value::from),
        ColumnData::I32(v) => v.map_or(Value::Null, Value::from),
        ColumnData::I64(v) => v.map_or(Value::Null, Value::from),
        ColumnData::F32(v) => v.map_or(Value::Null, decode::float32),
        ColumnData::F64(v) => v.map_or(Value::Null, decode::float),
        ColumnData::Bit(v) => v.map_or(Value::Null, Value::from),
        ColumnData::String(v) => v.as_ref().map_or(Value::Null, |s| Value::from(s.as_ref())),
        ColumnData::Guid(v) => v.map_or(Value::Null, |g| Value::String(g.to_string())),
        ColumnData::Binary(v) => v.as_ref().map_or(Value::Null, |b| decode::bytes(b)),
        ColumnData::Numeric(v) => v.map_or(Value::Null, |n| decode::decimal(&n.to_string())),
        ColumnData::Xml(v) => v
            .as_ref()
            .map_or(Value::Null, |x| Value::String(x.to_string())),
        ColumnData::Date(_) => iso(row
            .try_get::<NaiveDate, _>(i)
            .ok()
            .flatten()
            .map(|d| d.format("%Y-%m-%d").to_string())),
        ColumnData::Time(_) => iso(row
            .try_get::<NaiveTime, _>(i)
            .ok()
            .flatten()
            .map(|t| t.format("%H:%M:%S%.f").to_string())),
        ColumnData::DateTimeOffset(_) => iso(row
            .try_get::<DateTime<FixedOffset>, _>(i)
            .ok()
            .flatten()
            .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            iso(row
                .try_get::<NaiveDateTime, _>(i)
                .ok()
                .flatten()
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.f").to_string()))
        }
    }
}

async fn execute(conn: &mut Conn, st: &Statement, query: bool) -> tiberius::Result<Outcome> {
    let mut q = Query::new(st.sql.as_str());
    for p in &st.params {
        bind(&mut q, p);
    }
    if !query {
        return Ok(Outcome::Affected(q.execute(conn).await?.total()));
    }
    let mut stream = q.query(conn).await?;
    let columns: Vec<Column> = stream
        .columns()
        .await?
        .unwrap_or_default()
        .iter()
        .map(|c| Column {
            name: c.name().to_owned(),
            ty: format!("{:?}", c.column_type()),
        })
        .collect();
    let keys = row_keys(&columns);
    let mut rows = Vec::new();
    let mut truncated = false;
    let mut rs = stream.into_row_stream();
    while let Some(row) = rs.try_next().await? {
        // Later result sets (a batch of statements) are not read.
        if row.result_index() > 0 {
            break;
        }
        if rows.len() == MAX_ROWS {
            truncated = true;
            break;
        }
        let mut m = Map::with_capacity(keys.len());
        for (i, ((_, data), k)) in row.cells().zip(&keys).enumerate() {
            m.insert(k.clone(), cell(&row, i, data));
        }
        rows.push(m);
    }
    Ok(Outcome::Rows {
        columns,
        rows,
        truncated,
    })
}

pub(super) async fn run(
    ctx: &Ctx,
    t: &Target,
    st: &Statement,
    query: bool,
) -> Result<Outcome, NodeError> {
    let mut conn = tokio::select! {
        c = connect(t) => c?,
        _ = ctx.cancelled() => return Err(NodeError::Cancelled),
    };
    let done = tokio::select! {
        r = execute(&mut conn, st, query) => Some(r),
        _ = ctx.cancelled() => None,
    };
    match done {
        Some(r) => {
            let _ = tokio::time::timeout(KILL_WAIT, conn.close()).await;
            r.map_err(|e| error(t, e, false))
        }
        None => {
            let _ = tokio::time::timeout(KILL_WAIT, conn.cancel_query()).await;
            Err(NodeError::Cancelled)
        }
    }
}

/// The server's version, for "Test connection".
pub(super) async fn version(t: &Target) -> Result<String, NodeError> {
    let mut conn = connect(t).await?;
    let row = conn
        .simple_query("SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128))")
        .await
        .map_err(|e| error(t, e, false))?
        .into_row()
        .await
        .map_err(|e| error(t, e, false))?;
    let v = row
        .and_then(|r| r.get::<&str, _>(0).map(str::to_owned))
        .unwrap_or_default();
    let _ = conn.close().await;
    Ok(v)
}
