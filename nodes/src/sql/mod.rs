//! `sql`: one statement against a data source (PostgreSQL, MySQL/MariaDB,
//! SQLite through sqlx; SQL Server through tiberius).
//!
//! `${…}` in the statement is bound as a parameter, never spliced into the
//! text ([`statement`]). A query (`query: true`) gives `rows`, `columns` and
//! `rowCount` (at most [`MAX_ROWS`] rows, then `truncated: true`); a
//! statement gives `affectedRows`. One connection per run: a pool shared
//! across runs would tie connections to whichever tokio runtime opened them
//! and keep a changed password's sessions alive; connecting is milliseconds
//! next to a job's overhead.

mod decode;
mod failure;
mod mssql;
mod sqlx_driver;
pub mod statement;
pub mod url;

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::resources::DataSource;
use crate::schema::{self, prop};
use crate::secret::mask_all;
use crate::{BoxFuture, Node, Outputs};

use self::url::{Dialect, Target};

/// The most rows a query returns; the rest are not read (`truncated: true`).
pub const MAX_ROWS: usize = 100_000;

/// How long [`test_connection`] waits for the server.
const TEST_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Sql;

/// A result column: its name and the database's name for its type.
#[derive(Debug, Clone, PartialEq)]
struct Column {
    name: String,
    ty: String,
}

/// What a statement produced.
#[derive(Debug)]
enum Outcome {
    Rows {
        columns: Vec<Column>,
        rows: Vec<Map<String, Value>>,
        truncated: bool,
    },
    Affected(u64),
}

impl Node for Sql {
    fn kind(&self) -> &'static str {
        "sql"
    }

    fn schema(&self) -> Value {
        schema::object(
            "SQL",
            vec![
                (
                    "dataSource",
                    schema::reference(
                        "dataSource",
                        "Data source",
                        "The database: a data source's id or name (PostgreSQL, MySQL/MariaDB, SQLite, SQL Server).",
                    ),
                ),
                (
                    "sql",
                    prop(
                        "string",
                        "SQL",
                        "One statement. Each `${…}` is sent as a bound parameter, never pasted into the text (a `${…}` inside '…' makes the whole literal one parameter); table and column names cannot come from variables. In PostgreSQL text parameters are `text`: cast them where another type is needed (`${day}::date`).",
                    ),
                ),
                (
                    "query",
                    json!({
                        "type": "boolean",
                        "title": "Returns rows",
                        "description": "true: a query; outputs `rows` (objects by column: integers and floats as numbers, decimals as numbers when exact else strings, dates and timestamps as ISO 8601, bytes as base64), `columns` and `rowCount`, at most 100,000 rows (`truncated`). false: a statement; outputs `affectedRows`.",
                        "default": true,
                    }),
                ),
            ],
            &["dataSource", "sql"],
        )
    }

    fn idempotent(&self) -> bool {
        false
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(run(ctx))
    }
}

async fn run(ctx: &Ctx) -> Result<Outputs, NodeError> {
    let ds = ctx.data_source().await?;
    let query = ctx.bool("query", true)?;
    let target = target(&ds)?;
    let template = ctx
        .template("sql")?
        .ok_or_else(|| NodeError::property("sql", "is required"))?;
    let pieces = template
        .pieces_strict(&ctx.scope())
        .map_err(|e| NodeError::property("sql", e))?;
    let st =
        statement::build(target.dialect, &pieces).map_err(|e| NodeError::property("sql", e))?;
    ctx.record("sql", Value::String(st.sql.clone()));
    ctx.record("params", Value::Array(st.params.clone()));
    if !target.ignored.is_empty() {
        ctx.log(
            Stream::Info,
            &format!(
                "data source `{}`: URL options with no equivalent here, not applied: {}",
                ds.name,
                target.ignored.join(", ")
            ),
        );
    }
    ctx.log(
        Stream::Info,
        &format!(
            "{} at {}{}: {}",
            target.dialect.name(),
            target.address(),
            match (&target.database, target.dialect) {
                (Some(db), d) if d != Dialect::Sqlite => format!(", database `{db}`"),
                _ => String::new(),
            },
            st.sql
        ),
    );
    let started = Instant::now();
    let outcome = match target.dialect {
        Dialect::SqlServer => mssql::run(ctx, &target, &st, query).await?,
        _ => sqlx_driver::run(ctx, &target, &st, query).await?,
    };
    let mut o = Outputs::new();
    match outcome {
        Outcome::Rows {
            columns,
            rows,
            truncated,
        } => {
            o.insert("rowCount".into(), json!(rows.len()));
            o.insert(
                "columns".into(),
                Value::Array(
                    columns
                        .into_iter()
                        .map(|c| json!({"name": c.name, "type": c.ty}))
                        .collect(),
                ),
            );
            o.insert(
                "rows".into(),
                Value::Array(rows.into_iter().map(Value::Object).collect()),
            );
            if truncated {
                ctx.log(
                    Stream::Info,
                    &format!("the query returned more than {MAX_ROWS} rows: only the first {MAX_ROWS} are kept"),
                );
                o.insert("truncated".into(), json!(true));
            }
        }
        Outcome::Affected(n) => {
            o.insert("affectedRows".into(), json!(n));
        }
    }
    o.insert(
        "durationMs".into(),
        json!(started.elapsed().as_millis() as u64),
    );
    Ok(o)
}

/// The data source's URL read, its own credentials applied.
fn target(ds: &DataSource) -> Result<Target, NodeError> {
    let t = url::parse(&ds.url)
        .map_err(|e| NodeError::Resource(format!("data source `{}`: {e}", ds.name)))?;
    Ok(t.with_credentials(ds.username.as_deref(), ds.password.as_ref()))
}

/// Connects to the data source and asks for the server's version
/// ("PostgreSQL 15.5", "MySQL/MariaDB 10.11.6-MariaDB", "SQLite 3.46.0"): the
/// editor's "Test connection".
pub async fn test_connection(ds: &DataSource) -> Result<String, NodeError> {
    let secrets: Vec<String> = ds.password.iter().map(|p| p.expose().to_owned()).collect();
    let work = async {
        let t = target(ds)?;
        let version = match t.dialect {
            Dialect::SqlServer => mssql::version(&t).await?,
            _ => sqlx_driver::version(&t).await?,
        };
        Ok(format!("{} {}", t.dialect.name(), version.trim()))
    };
    let r = match tokio::time::timeout(TEST_TIMEOUT, work).await {
        Ok(r) => r,
        Err(_) => Err(NodeError::Timeout(TEST_TIMEOUT)),
    };
    r.map_err(|e| e.masked(|s| mask_all(s, &secrets)))
}

/// Column names as row keys: a repeated name gets `_2`, `_3`, ...
fn row_keys(columns: &[Column]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::with_capacity(columns.len());
    for c in columns {
        let mut key = c.name.clone();
        let mut n = 1;
        while keys.contains(&key) {
            n += 1;
            key = format!("{}_{n}", c.name);
        }
        keys.push(key);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_column_names_get_suffixes() {
        let col = |n: &str| Column {
            name: n.into(),
            ty: "INT4".into(),
        };
        assert_eq!(
            row_keys(&[col("id"), col("name"), col("id"), col("id")]),
            ["id", "name", "id_2", "id_3"]
        );
    }

    #[test]
    fn validation_requires_sql_and_data_source_and_well_formed_templates() {
        let props = |v: Value| v.as_object().cloned().unwrap_or_default();
        let e = Sql
            .validate(&props(json!({"sql": "SELECT 1"})))
            .unwrap_err();
        assert_eq!(e.to_string(), "property `dataSource`: is required");
        let e = Sql
            .validate(&props(json!({"dataSource": "db"})))
            .unwrap_err();
        assert_eq!(e.to_string(), "property `sql`: is required");
        let e = Sql
            .validate(&props(json!({"dataSource": "db", "sql": "SELECT ${a +}"})))
            .unwrap_err();
        assert!(e.to_string().starts_with("property `sql`:"), "{e}");
        Sql.validate(&props(json!({"dataSource": "db", "sql": "SELECT ${a}"})))
            .unwrap();
    }
}
