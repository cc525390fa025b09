//! Database failures in words an operator can act on: which server refused
//! which login, which database is missing, what the database said about the
//! statement and where. Never the password: messages are built from the
//! target's parts, not from its URL.

use std::io::ErrorKind;

use sqlx::mysql::MySqlDatabaseError;
use sqlx::postgres::{PgDatabaseError, PgErrorPosition};

use super::statement::Statement;
use super::url::{Dialect, Target};
use crate::error::NodeError;

fn user(t: &Target) -> String {
    t.username.clone().unwrap_or_else(|| "(default)".into())
}

fn db(t: &Target) -> String {
    t.database.clone().unwrap_or_else(|| "(default)".into())
}

/// An I/O failure reaching `t`.
pub fn io(t: &Target, e: &std::io::Error) -> NodeError {
    let (what, addr) = (t.dialect.name(), t.address());
    NodeError::failed(match e.kind() {
        ErrorKind::ConnectionRefused => format!(
            "cannot reach {what} at {addr}: connection refused (is the server running and listening on that port?)"
        ),
        ErrorKind::TimedOut => format!("cannot reach {what} at {addr}: timed out"),
        ErrorKind::NotFound if t.dialect == Dialect::Sqlite => {
            format!("SQLite database `{addr}` does not exist")
        }
        _ if e.to_string().contains("lookup") || e.to_string().contains("resolve") => {
            format!("cannot reach {what} at {addr}: the host name does not resolve ({e})")
        }
        _ => format!("cannot reach {what} at {addr}: {e}"),
    })
}

/// Why connecting (or logging in) failed.
pub fn connect(t: &Target, e: sqlx::Error) -> NodeError {
    let (what, addr) = (t.dialect.name(), t.address());
    match e {
        sqlx::Error::Io(e) => io(t, &e),
        sqlx::Error::Tls(e) => NodeError::failed(format!("TLS with {what} at {addr} failed: {e}")),
        sqlx::Error::Database(d) => {
            let msg = d.message().to_owned();
            let code = d.code().map(|c| c.into_owned()).unwrap_or_default();
            let number = d
                .try_downcast_ref::<MySqlDatabaseError>()
                .map(MySqlDatabaseError::number);
            let login = match t.dialect {
                Dialect::Postgres => matches!(code.as_str(), "28P01" | "28000"),
                Dialect::MySql => number == Some(1045),
                _ => false,
            };
            let no_db = match t.dialect {
                Dialect::Postgres => code == "3D000",
                Dialect::MySql => number == Some(1049),
                _ => false,
            };
            NodeError::failed(if login {
                format!(
                    "{what} at {addr} refused the login of user `{}` (wrong user name or password?): {msg}",
                    user(t)
                )
            } else if no_db {
                format!(
                    "database `{}` does not exist on {what} at {addr}: {msg}",
                    db(t)
                )
            } else if t.dialect == Dialect::Sqlite {
                let hint = if t.option("mode").is_none() {
                    " (a missing file is not created: add ?mode=rwc to the URL to create it)"
                } else {
                    ""
                };
                format!("cannot open SQLite database `{addr}`: {msg}{hint}")
            } else {
                format!("cannot connect to {what} at {addr} as `{}`: {msg}", user(t))
            })
        }
        sqlx::Error::Configuration(e) => {
            NodeError::Resource(format!("{what} data source options are not valid: {e}"))
        }
        e => NodeError::failed(format!("cannot connect to {what} at {addr}: {e}")),
    }
}

/// Why a statement failed.
pub fn statement(t: &Target, st: &Statement, e: sqlx::Error) -> NodeError {
    let (what, addr) = (t.dialect.name(), t.address());
    match e {
        sqlx::Error::Database(d) => {
            if let Some(pg) = d.try_downcast_ref::<PgDatabaseError>() {
                return NodeError::failed(postgres(pg, st));
            }
            if let Some(my) = d.try_downcast_ref::<MySqlDatabaseError>() {
                return NodeError::failed(format!(
                    "{what} rejected the statement: {} [error {}]",
                    my.message(),
                    my.number()
                ));
            }
            NodeError::failed(format!("{what} rejected the statement: {}", d.message()))
        }
        sqlx::Error::Io(e) => NodeError::failed(format!(
            "lost the connection to {what} at {addr} during the statement: {e}"
        )),
        sqlx::Error::ColumnDecode { index, source } => NodeError::failed(format!(
            "cannot read column {index} of the result: {source}"
        )),
        e => NodeError::failed(format!("{what} statement failed: {e}")),
    }
}

fn postgres(e: &PgDatabaseError, st: &Statement) -> String {
    let mut m = if e.code() == "57014" {
        format!(
            "PostgreSQL cancelled the statement (statement_timeout or an administrator): {}",
            e.message()
        )
    } else {
        format!("PostgreSQL rejected the statement: {}", e.message())
    };
    if let Some(PgErrorPosition::Original(p)) = e.position() {
        m.push_str(&position(&st.sql, p));
    }
    m.push_str(&format!(" [SQLSTATE {}]", e.code()));
    if let Some(d) = e.detail() {
        m.push_str(&format!("; {d}"));
    }
    if let Some(h) = e.hint() {
        m.push_str(&format!("; hint: {h}"));
    }
    m
}

/// ` at line L, column C (near `…`)` for a 1-based character position.
pub fn position(sql: &str, p: usize) -> String {
    let before: String = sql.chars().take(p.saturating_sub(1)).collect();
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let near: String = sql
        .chars()
        .skip(p.saturating_sub(1))
        .take_while(|c| *c != '\n')
        .take(30)
        .collect();
    if near.trim().is_empty() {
        format!(" at line {line}, column {col}")
    } else {
        format!(" at line {line}, column {col} (near `{}`)", near.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_line_and_column() {
        assert_eq!(
            position("SELECT 1\nFROM nowhere WHERE", 15),
            " at line 2, column 6 (near `nowhere WHERE`)"
        );
        assert_eq!(
            position("SELEC 1", 1),
            " at line 1, column 1 (near `SELEC 1`)"
        );
        assert_eq!(position("x", 99), " at line 1, column 2");
    }
}
