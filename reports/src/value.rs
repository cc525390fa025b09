//! A placeholder's value: resolved from the data (plain paths map over
//! arrays), checked for shape (a cell takes a scalar; a list of scalars
//! expands rows), and turned into what a cell holds (number, boolean, text,
//! date serial, nothing).

use baton_expr::{EvalError, Scope, Value};
use chrono::{NaiveDate, NaiveDateTime};

use crate::placeholder::{Eval, Ph, Seg};

/// A placeholder's value, checked for shape.
#[derive(Debug)]
pub(crate) enum Resolved {
    Scalar(Value),
    List(Vec<Value>),
}

/// Why a placeholder has no value (the caller adds sheet and cell).
#[derive(Debug)]
pub(crate) enum Failure {
    /// An unknown name or member, an index out of range, a member of null.
    Missing(String),
    /// Any other evaluation error.
    Eval(String),
    /// An object, or a list of objects or lists.
    Shape(String),
}

/// Evaluates `ph` against `scope` (strictly; `${?...}` turns missing into null).
pub(crate) fn resolve(ph: &Ph, scope: &dyn Scope) -> Result<Resolved, Failure> {
    let value = match &ph.eval {
        Eval::Path(segs) => resolve_path(segs, scope, ph.optional),
        Eval::Expr(tpl) => tpl.eval_strict(scope).map_err(|e| match e {
            EvalError::UnknownVariable { .. } | EvalError::UnknownProperty { .. } => {
                Failure::Missing(e.to_string())
            }
            e => Failure::Eval(e.to_string()),
        }),
    };
    let value = match value {
        Ok(v) => v,
        Err(Failure::Missing(_)) if ph.optional => Value::Null,
        Err(e) => return Err(e),
    };
    shape(value, &ph.expression)
}

fn resolve_path(segs: &[Seg], scope: &dyn Scope, optional: bool) -> Result<Value, Failure> {
    let Some((Seg::Name(head), rest)) = segs.split_first() else {
        return Err(Failure::Eval("not a path".to_string()));
    };
    let Some(root) = scope.lookup_ref(head) else {
        return Err(Failure::Missing(format!("unknown name '{head}'")));
    };
    walk(&root, rest, optional)
}

/// Follows `segs` from `v`. A name applied to an array applies to each item
/// (`rows.NAME` is the list of every row's NAME).
fn walk(v: &Value, segs: &[Seg], optional: bool) -> Result<Value, Failure> {
    let Some((seg, rest)) = segs.split_first() else {
        return Ok(v.clone());
    };
    match (v, seg) {
        (Value::Object(m), Seg::Name(n)) => match m.get(n) {
            Some(x) => walk(x, rest, optional),
            None => Err(Failure::Missing(format!("unknown name '{n}'"))),
        },
        (Value::Array(items), Seg::Index(i)) => match items.get(*i) {
            Some(x) => walk(x, rest, optional),
            None => Err(Failure::Missing(format!(
                "index {i} is out of range (the list has {} items)",
                items.len()
            ))),
        },
        (Value::Array(items), Seg::Name(_)) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match walk(item, segs, optional) {
                    Ok(x) => out.push(x),
                    Err(Failure::Missing(_)) if optional => out.push(Value::Null),
                    Err(e) => return Err(e),
                }
            }
            Ok(Value::Array(out))
        }
        (Value::Object(m), Seg::Index(i)) => match m.get(&i.to_string()) {
            Some(x) => walk(x, rest, optional),
            None => Err(Failure::Missing(format!("unknown name '{i}'"))),
        },
        (Value::Null, Seg::Name(n)) => Err(Failure::Missing(format!("null has no property '{n}'"))),
        (Value::Null, Seg::Index(i)) => Err(Failure::Missing(format!("null has no item {i}"))),
        (other, Seg::Name(n)) => Err(Failure::Missing(format!(
            "{} has no property '{n}'",
            type_name(other)
        ))),
        (other, Seg::Index(i)) => Err(Failure::Missing(format!(
            "{} has no item {i}",
            type_name(other)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn first_field(m: &serde_json::Map<String, Value>) -> &str {
    m.keys().next().map_or("field", String::as_str)
}

fn shape(value: Value, expression: &str) -> Result<Resolved, Failure> {
    match value {
        Value::Object(m) => Err(Failure::Shape(format!(
            "is an object; name one of its fields, e.g. ${{{expression}.{}}}",
            first_field(&m)
        ))),
        Value::Array(items) => {
            for item in &items {
                match item {
                    Value::Object(m) => {
                        return Err(Failure::Shape(format!(
                            "is a list of objects; name one of their fields, e.g. ${{{expression}.{}}}",
                            first_field(m)
                        )));
                    }
                    Value::Array(_) => {
                        return Err(Failure::Shape(
                            "is a list of lists; a cell takes one value and a row one list"
                                .to_string(),
                        ));
                    }
                    _ => {}
                }
            }
            Ok(Resolved::List(items))
        }
        v => Ok(Resolved::Scalar(v)),
    }
}

/// A scalar as text in a cell mixing text and placeholders.
pub(crate) fn push_text(out: &mut String, v: &Value) {
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        // Shape checks keep arrays and objects out of cells.
        other => out.push_str(&other.to_string()),
    }
}

/// An ISO-8601 date or date-time as an Excel serial number and whether it has
/// a time. The time is the wall time written (an offset is ignored). `None`
/// for anything else, and for dates Excel cannot show (before 1900, or
/// before 1904 in a 1904-based workbook).
pub(crate) fn date_serial(s: &str, date1904: bool) -> Option<(f64, bool)> {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    if b.len() < 10
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
    {
        return None;
    }
    let date = NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()?;
    let mut seconds = 0f64;
    let with_time = b.len() > 10;
    if with_time {
        if !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let time = s.get(11..)?;
        let cut = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
        let (time, offset) = time.split_at(cut);
        if !valid_offset(offset) {
            return None;
        }
        let time = if time.len() == 5 {
            format!("{time}:00")
        } else {
            time.to_string()
        };
        let dt = NaiveDateTime::parse_from_str(
            &format!("{}T{time}", s.get(..10)?),
            "%Y-%m-%dT%H:%M:%S%.f",
        )
        .ok()?;
        let t = dt.time();
        seconds = f64::from(chrono::Timelike::num_seconds_from_midnight(&t))
            + f64::from(chrono::Timelike::nanosecond(&t)) / 1e9;
    }
    let (epoch, min) = if date1904 {
        (
            NaiveDate::from_ymd_opt(1904, 1, 1)?,
            NaiveDate::from_ymd_opt(1904, 1, 1)?,
        )
    } else if date < NaiveDate::from_ymd_opt(1900, 3, 1)? {
        // Excel counts 1900-02-29, which did not exist: before March the serial is one less.
        (
            NaiveDate::from_ymd_opt(1899, 12, 31)?,
            NaiveDate::from_ymd_opt(1900, 1, 1)?,
        )
    } else {
        (
            NaiveDate::from_ymd_opt(1899, 12, 30)?,
            NaiveDate::from_ymd_opt(1900, 1, 1)?,
        )
    };
    if date < min || date.year_ce().1 > 9999 {
        return None;
    }
    let days = date.signed_duration_since(epoch).num_days();
    Some((days as f64 + seconds / 86_400.0, with_time))
}

use chrono::Datelike;

fn valid_offset(offset: &str) -> bool {
    let b = offset.as_bytes();
    match b.first() {
        None => true,
        Some(b'Z' | b'z') => b.len() == 1,
        Some(b'+' | b'-') => {
            let rest = &b[1..];
            matches!(rest.len(), 2 | 4 | 5)
                && rest
                    .iter()
                    .enumerate()
                    .all(|(i, c)| c.is_ascii_digit() || (i == 2 && *c == b':' && rest.len() == 5))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placeholder::Piece;
    use crate::placeholder::split;
    use serde_json::json;

    fn eval(src: &str, data: &Value) -> Result<Resolved, Failure> {
        let pieces = split(src).unwrap();
        let Some(Piece::Ph(ph)) = pieces.first() else {
            panic!("no placeholder")
        };
        resolve(ph, data)
    }

    #[test]
    fn paths_map_over_arrays() {
        let data = json!({"sql1": {"rows": [{"NAME": "a", "N": 1}, {"NAME": "b", "N": 2}]}, "x": {"y": 5}});
        assert!(
            matches!(eval("${sql1.rows.NAME}", &data), Ok(Resolved::List(v)) if v == vec![json!("a"), json!("b")])
        );
        assert!(
            matches!(eval("${sql1.rows[1].N}", &data), Ok(Resolved::Scalar(v)) if v == json!(2))
        );
        assert!(matches!(eval("${x.y * 2}", &data), Ok(Resolved::Scalar(v)) if v == json!(10)));
        assert!(
            matches!(eval("${sql1.rows.NAMEX}", &data), Err(Failure::Missing(m)) if m.contains("NAMEX"))
        );
        assert!(
            matches!(eval("${?sql1.rows.NAMEX}", &data), Ok(Resolved::List(v)) if v == vec![Value::Null, Value::Null])
        );
        assert!(matches!(eval("${nope}", &data), Err(Failure::Missing(_))));
        assert!(matches!(
            eval("${?nope.x}", &data),
            Ok(Resolved::Scalar(Value::Null))
        ));
        assert!(matches!(
            eval("${nope + 1}", &data),
            Err(Failure::Missing(_))
        ));
        assert!(matches!(eval("${x.y / 0}", &data), Err(Failure::Eval(_))));
        assert!(matches!(eval("${x}", &data), Err(Failure::Shape(m)) if m.contains("${x.y}")));
        assert!(
            matches!(eval("${sql1.rows}", &data), Err(Failure::Shape(m)) if m.contains("list of objects") && m.contains("${sql1.rows.N"))
        );
    }

    #[test]
    fn dates() {
        assert_eq!(date_serial("2026-11-21", false), Some((46347.0, false)));
        assert_eq!(
            date_serial("2026-11-21T12:00:00", false),
            Some((46347.5, true))
        );
        assert_eq!(
            date_serial("2026-11-21 06:00", false),
            Some((46347.25, true))
        );
        assert_eq!(
            date_serial("2026-11-21T12:00:00.5+08:00", false).map(|d| d.1),
            Some(true)
        );
        assert_eq!(
            date_serial("2026-11-21T12:00:00Z", false),
            Some((46347.5, true))
        );
        assert_eq!(date_serial("1900-01-01", false), Some((1.0, false)));
        assert_eq!(date_serial("1900-03-01", false), Some((61.0, false)));
        assert_eq!(date_serial("1904-01-02", true), Some((1.0, false)));
        assert_eq!(date_serial("1899-12-31", false), None);
        assert_eq!(date_serial("2026-02-30", false), None);
        assert_eq!(date_serial("2026-11-21x", false), None);
        assert_eq!(date_serial("2026-11-21T25:00:00", false), None);
        assert_eq!(date_serial("2026-11-21 note", false), None);
        assert_eq!(date_serial("20261121", false), None);
    }
}
