//! `${…}` in SQL text becomes a bound parameter, never spliced text.
//!
//! The statement's template yields literal text and evaluated values; each
//! value becomes the dialect's placeholder (`$1` PostgreSQL, `?` MySQL and
//! SQLite, `@P1` SQL Server) and a parameter. A light lexer follows quotes
//! and comments, so that:
//!
//! - a `${…}` inside a string literal (`'host-${n}'`) turns the whole
//!   literal into one text parameter (the quotes said "a string");
//! - a `${…}` inside a comment is dropped (it is not part of the statement);
//! - a `${…}` inside a quoted identifier is an error: names cannot be bound.
//!
//! No path copies a value into the SQL text.

use baton_expr::Piece;
use serde_json::Value;

use super::url::Dialect;

/// The statement sent to the database and its parameters, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL with placeholders (also what the node records as `sql`).
    pub sql: String,
    pub params: Vec<Value>,
}

/// Where the lexer is.
enum State {
    Code,
    /// A string literal: `close` ends it (`'`, `"`, `$tag$`).
    Str {
        close: String,
        /// Where its opening quote is in the output.
        start: usize,
        /// The literal's value so far (escapes decoded).
        content: String,
        /// Whether a `${…}` was inside.
        has_value: bool,
        /// Backslash escapes (MySQL strings, PostgreSQL `E'…'`).
        backslash: bool,
    },
    /// A quoted identifier, ended by this character.
    Ident(char),
    LineComment,
    BlockComment(u32),
}

/// Builds the statement for `dialect` from a template's pieces.
pub fn build(dialect: Dialect, pieces: &[Piece<'_>]) -> Result<Statement, String> {
    let mut out = String::new();
    let mut params = Vec::new();
    let mut state = State::Code;
    // Just after a placeholder: `${n}0` must not become `$10` (or `?0`).
    let mut glue = false;
    for piece in pieces {
        match piece {
            Piece::Text(t) => {
                if std::mem::take(&mut glue) && t.starts_with(is_ident_or_dollar) {
                    out.push(' ');
                }
                lex(dialect, t, &mut out, &mut params, &mut state)?
            }
            Piece::Value(v) => match &mut state {
                State::Code => {
                    params.push(v.clone());
                    // `x${n}` must not become the identifier `x$1`.
                    if out.chars().next_back().is_some_and(is_ident_or_dollar) {
                        out.push(' ');
                    }
                    out.push_str(&placeholder(dialect, params.len()));
                    glue = true;
                }
                State::Str {
                    content, has_value, ..
                } => {
                    content.push_str(&as_text(v));
                    *has_value = true;
                }
                State::Ident(_) => {
                    return Err(
                        "a `${…}` inside a quoted identifier: table and column names cannot be bound as parameters"
                            .to_owned(),
                    );
                }
                State::LineComment | State::BlockComment(_) => {}
            },
        }
    }
    if let State::Str {
        has_value: true, ..
    } = state
    {
        return Err("a `${…}` is inside a string literal that is not closed".to_owned());
    }
    Ok(Statement { sql: out, params })
}

fn placeholder(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Postgres => format!("${n}"),
        Dialect::SqlServer => format!("@P{n}"),
        Dialect::MySql | Dialect::Sqlite => "?".to_owned(),
    }
}

/// A value as text inside a string literal: as a template renders it.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_ident_or_dollar(c: char) -> bool {
    is_ident(c) || c == '$' || c == '@'
}

fn lex(
    dialect: Dialect,
    text: &str,
    out: &mut String,
    params: &mut Vec<Value>,
    state: &mut State,
) -> Result<(), String> {
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        let rest = &text[i..];
        let next = rest[c.len_utf8()..].chars().next();
        let mut step = c.len_utf8();
        match state {
            State::Code => match c {
                '\'' | '"' if c == '\'' || dialect == Dialect::MySql => {
                    let prev = out.chars().next_back();
                    let before = out.chars().nth_back(1);
                    let e_string = dialect == Dialect::Postgres
                        && matches!(prev, Some('E' | 'e'))
                        && !before.is_some_and(is_ident);
                    *state = State::Str {
                        close: c.to_string(),
                        start: out.len(),
                        content: String::new(),
                        has_value: false,
                        backslash: dialect == Dialect::MySql || e_string,
                    };
                    out.push(c);
                }
                '"' => {
                    *state = State::Ident('"');
                    out.push(c);
                }
                '`' if matches!(dialect, Dialect::MySql | Dialect::Sqlite) => {
                    *state = State::Ident('`');
                    out.push(c);
                }
                '[' if dialect == Dialect::SqlServer => {
                    *state = State::Ident(']');
                    out.push(c);
                }
                '-' if next == Some('-') => {
                    *state = State::LineComment;
                    out.push_str("--");
                    step += 1;
                }
                '#' if dialect == Dialect::MySql => {
                    *state = State::LineComment;
                    out.push(c);
                }
                '/' if next == Some('*') => {
                    *state = State::BlockComment(1);
                    out.push_str("/*");
                    step += 1;
                }
                '$' if dialect == Dialect::Postgres => {
                    if next.is_some_and(|d| d.is_ascii_digit()) {
                        return Err(
                            "positional parameters (`$1`) cannot be bound here: write `${variable}` and Baton binds it"
                                .to_owned(),
                        );
                    }
                    match dollar_tag(rest)
                        .filter(|_| !out.chars().next_back().is_some_and(is_ident))
                    {
                        Some(tag) => {
                            *state = State::Str {
                                close: tag.to_owned(),
                                start: out.len(),
                                content: String::new(),
                                has_value: false,
                                backslash: false,
                            };
                            out.push_str(tag);
                            step = tag.len();
                        }
                        None => out.push(c),
                    }
                }
                '?' if matches!(dialect, Dialect::MySql | Dialect::Sqlite) => {
                    return Err(
                        "`?` placeholders cannot be bound here: write `${variable}` and Baton binds it"
                            .to_owned(),
                    );
                }
                _ => out.push(c),
            },
            State::Str {
                close,
                start,
                content,
                has_value,
                backslash,
            } => {
                if *backslash
                    && c == '\\'
                    && let Some(n) = next
                {
                    out.push(c);
                    out.push(n);
                    content.push(match n {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '0' => '\0',
                        'Z' => '\u{1a}',
                        'b' => '\u{8}',
                        other => other,
                    });
                    if matches!(n, '%' | '_') && dialect == Dialect::MySql {
                        // MySQL keeps `\%` and `\_` as written (LIKE escapes).
                        content.pop();
                        content.push('\\');
                        content.push(n);
                    }
                    step += n.len_utf8();
                } else if rest.starts_with(close.as_str()) {
                    let doubled = close.len() == 1 && rest[1..].starts_with(close.as_str());
                    if doubled {
                        out.push_str(close);
                        out.push_str(close);
                        content.push_str(close);
                        step = 2;
                    } else {
                        step = close.len();
                        if *has_value {
                            out.truncate(*start);
                            // The literal's prefix goes with it (E'…', N'…', _utf8mb4'…').
                            while out.ends_with(is_ident) {
                                out.pop();
                            }
                            if out.ends_with(is_ident_or_dollar) {
                                out.push(' ');
                            }
                            params.push(Value::String(std::mem::take(content)));
                            out.push_str(&placeholder(dialect, params.len()));
                        } else {
                            out.push_str(close);
                        }
                        *state = State::Code;
                    }
                } else {
                    out.push(c);
                    content.push(c);
                }
            }
            State::Ident(close) => {
                if c == *close {
                    if next == Some(*close) {
                        out.push(c);
                        step += c.len_utf8();
                    } else {
                        *state = State::Code;
                    }
                }
                out.push(c);
            }
            State::LineComment => {
                if c == '\n' {
                    *state = State::Code;
                }
                out.push(c);
            }
            State::BlockComment(depth) => {
                if c == '*' && next == Some('/') {
                    out.push_str("*/");
                    step += 1;
                    *depth -= 1;
                    if *depth == 0 {
                        *state = State::Code;
                    }
                } else if c == '/' && next == Some('*') && dialect == Dialect::Postgres {
                    // PostgreSQL nests block comments.
                    out.push_str("/*");
                    step += 1;
                    *depth += 1;
                } else {
                    out.push(c);
                }
            }
        }
        i += step;
    }
    Ok(())
}

/// `$$` or `$tag$` at the start of `s`.
fn dollar_tag(s: &str) -> Option<&str> {
    let body = s.strip_prefix('$')?;
    let end = body.find('$')?;
    let tag = &body[..end];
    let valid = tag.is_empty()
        || (tag.starts_with(|c: char| c.is_alphabetic() || c == '_') && tag.chars().all(is_ident));
    valid.then(|| &s[..end + 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_expr::parse_template;
    use serde_json::{Map, json};

    fn check(dialect: Dialect, src: &str, sql: &str, params: Value) {
        let vars = json!({"s": "x'; DROP TABLE t; --", "n": 42, "f": 1.5, "b": true, "z": null,
            "list": [1, 2], "name": "O'Brien"});
        let vars: Map<String, Value> = vars.as_object().cloned().unwrap_or_default();
        let t = parse_template(src).unwrap();
        let pieces = t.pieces_strict(&vars).unwrap();
        let st = build(dialect, &pieces).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(st.sql, sql, "{src}");
        assert_eq!(Value::Array(st.params), params, "{src}");
    }

    fn fails(dialect: Dialect, src: &str) -> String {
        let vars: Map<String, Value> = json!({"s": "v"}).as_object().cloned().unwrap_or_default();
        let t = parse_template(src).unwrap();
        let pieces = t.pieces_strict(&vars).unwrap();
        build(dialect, &pieces).unwrap_err()
    }

    #[test]
    fn values_become_placeholders_per_dialect() {
        let src = "SELECT * FROM t WHERE a = ${s} AND b > ${n} AND c = ${b} OR d IS ${z}";
        let p = json!(["x'; DROP TABLE t; --", 42, true, null]);
        check(
            Dialect::Postgres,
            src,
            "SELECT * FROM t WHERE a = $1 AND b > $2 AND c = $3 OR d IS $4",
            p.clone(),
        );
        check(
            Dialect::MySql,
            src,
            "SELECT * FROM t WHERE a = ? AND b > ? AND c = ? OR d IS ?",
            p.clone(),
        );
        check(
            Dialect::Sqlite,
            src,
            "SELECT * FROM t WHERE a = ? AND b > ? AND c = ? OR d IS ?",
            p.clone(),
        );
        check(
            Dialect::SqlServer,
            src,
            "SELECT * FROM t WHERE a = @P1 AND b > @P2 AND c = @P3 OR d IS @P4",
            p,
        );
    }

    #[test]
    fn a_value_inside_a_literal_makes_the_literal_one_parameter() {
        check(
            Dialect::Postgres,
            "SELECT 'it''s', 'host-${n}-${s}' || x, '${name}'",
            "SELECT 'it''s', $1 || x, $2",
            json!(["host-42-x'; DROP TABLE t; --", "O'Brien"]),
        );
        check(
            Dialect::MySql,
            r#"SELECT 'a\'b${n}', "q ${f}""#,
            "SELECT ?, ?",
            json!(["a'b42", "q 1.5"]),
        );
        check(
            Dialect::Postgres,
            r"SELECT E'\n${n}', $$ raw ${n} $$, $f$ ${b} $f$",
            "SELECT $1, $2, $3",
            json!(["\n42", " raw 42 ", " true "]),
        );
        check(
            Dialect::Postgres,
            "SELECT ${list}, 'x'",
            "SELECT $1, 'x'",
            json!([[1, 2]]),
        );
    }

    #[test]
    fn comments_drop_values_and_identifiers_refuse_them() {
        check(
            Dialect::Postgres,
            "SELECT 1 -- ${s}\n, ${n} /* ${s} /* nested ${n} */ */",
            "SELECT 1 -- \n, $1 /*  /* nested  */ */",
            json!([42]),
        );
        check(
            Dialect::MySql,
            "SELECT ${n} # ${s}",
            "SELECT ? # ",
            json!([42]),
        );
        check(
            Dialect::SqlServer,
            "SELECT N'${name}', _utf8mb4'x'",
            "SELECT @P1, _utf8mb4'x'",
            json!(["O'Brien"]),
        );
        assert!(fails(Dialect::Postgres, "SELECT \"${s}\" FROM t").contains("quoted identifier"));
        assert!(fails(Dialect::MySql, "SELECT `${s}` FROM t").contains("quoted identifier"));
        assert!(fails(Dialect::SqlServer, "SELECT [${s}] FROM t").contains("quoted identifier"));
        assert!(fails(Dialect::Postgres, "SELECT '${s}").contains("not closed"));
        // A quote inside an identifier or comment does not start a literal.
        check(
            Dialect::Postgres,
            "SELECT \"it's\" -- it's\n, ${n}",
            "SELECT \"it's\" -- it's\n, $1",
            json!([42]),
        );
    }

    #[test]
    fn placeholders_never_fuse_with_neighbouring_text() {
        check(
            Dialect::Postgres,
            "SELECT x${n}, ${n}0, ${n}${n}",
            "SELECT x $1, $2 0, $3 $4",
            json!([42, 42, 42, 42]),
        );
        check(Dialect::Sqlite, "SELECT ${n}1", "SELECT ? 1", json!([42]));
        check(
            Dialect::SqlServer,
            "SELECT a${n}",
            "SELECT a @P1",
            json!([42]),
        );
    }

    #[test]
    fn hand_written_placeholders_are_refused() {
        assert!(fails(Dialect::Postgres, "SELECT $1").contains("positional"));
        assert!(fails(Dialect::MySql, "SELECT ?").contains("`?`"));
        // ... but not inside literals, and `?` is an operator in PostgreSQL.
        check(Dialect::MySql, "SELECT '?'", "SELECT '?'", json!([]));
        check(
            Dialect::Postgres,
            "SELECT j ? 'k', 'a$1'",
            "SELECT j ? 'k', 'a$1'",
            json!([]),
        );
    }
}
