//! Database values as JSON: integers as numbers; NUMERIC/DECIMAL as numbers
//! when an `f64` holds them exactly, else as decimal strings; floats as
//! numbers (NaN and infinities as strings); dates, times and timestamps as
//! ISO 8601 strings (`timestamptz` in UTC with `Z`); bytes as base64; JSON as
//! JSON; NULL as null. A type not listed comes as its text when it is UTF-8,
//! else as base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, SecondsFormat, Utc};
use serde_json::{Number, Value};
use sqlx::mysql::MySqlRow;
use sqlx::postgres::PgRow;
use sqlx::postgres::types::{Oid, PgInterval};
use sqlx::sqlite::SqliteRow;
use sqlx::types::{Json, Uuid};
use sqlx::{Row, TypeInfo, ValueRef};

/// A float as JSON (NaN and infinities have no JSON number).
pub fn float(x: f64) -> Value {
    match Number::from_f64(x) {
        Some(n) => Value::Number(n),
        None if x.is_nan() => Value::String("NaN".into()),
        None if x > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

/// An `f32` by its shortest decimal (`1.1`, not `1.100000023841858`).
pub fn float32(x: f32) -> Value {
    x.to_string().parse::<f64>().map_or(Value::Null, float)
}

/// A decimal's text as a number when `f64` holds it exactly, else as the text.
pub fn decimal(text: &str) -> Value {
    let t = text.trim();
    let Ok(x) = t.parse::<f64>() else {
        return Value::String(t.to_owned());
    };
    if x.is_finite() && normalize(&x.to_string()) == normalize(t) {
        float_or_int(x, t)
    } else {
        Value::String(t.to_owned())
    }
}

fn float_or_int(x: f64, t: &str) -> Value {
    if !t.contains(['.', 'e', 'E'])
        && let Ok(i) = t.parse::<i64>()
    {
        return Value::from(i);
    }
    float(x)
}

/// `+0012.3400` → `12.34`, `-0.0` → `0`.
fn normalize(t: &str) -> String {
    let (neg, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let body = match (int.is_empty(), frac.is_empty()) {
        (true, true) => return "0".to_owned(),
        (_, true) => int.to_owned(),
        (true, false) => format!("0.{frac}"),
        (false, false) => format!("{int}.{frac}"),
    };
    if neg { format!("-{body}") } else { body }
}

pub fn bytes(b: &[u8]) -> Value {
    Value::String(B64.encode(b))
}

/// Unknown types: their text when UTF-8, else base64.
fn unknown(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => bytes(b),
    }
}

pub fn date(d: NaiveDate) -> Value {
    Value::String(d.format("%Y-%m-%d").to_string())
}

pub fn time(t: NaiveTime) -> Value {
    Value::String(t.format("%H:%M:%S%.f").to_string())
}

pub fn datetime(t: NaiveDateTime) -> Value {
    Value::String(t.format("%Y-%m-%dT%H:%M:%S%.f").to_string())
}

pub fn datetime_utc(t: DateTime<Utc>) -> Value {
    Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// PostgreSQL `NUMERIC` in binary form (sign, weight, base-10000 digits,
/// display scale) as decimal text, whatever its size.
pub fn pg_numeric(b: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes([*b.get(2 * i)?, *b.get(2 * i + 1)?]))
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i32;
    let sign = word(2)?;
    let dscale = word(3)? as usize;
    match sign {
        0xC000 => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Option<_>>()?;
    let mut int = String::new();
    let mut frac = String::new();
    // Digit k (0-based) stands for 10000^(weight - k).
    for k in 0..=weight.max(-1) {
        let d = digits.get(k as usize).copied().unwrap_or(0);
        if int.is_empty() {
            if d != 0 {
                int = d.to_string();
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    // Fraction group j (weight -j) is digit weight + j; before the first stored digit, zeros.
    let mut j: i32 = 1;
    while frac.len() < dscale {
        let k = weight + j;
        let d = if k < 0 {
            0
        } else {
            digits.get(k as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{d:04}"));
        j += 1;
    }
    frac.truncate(dscale);
    let mut s = String::new();
    if sign == 0x4000 {
        s.push('-');
    }
    s.push_str(&int);
    if dscale > 0 {
        s.push('.');
        s.push_str(&frac);
    }
    Some(s)
}

/// `PT…` ISO 8601 duration of a PostgreSQL `interval`.
fn interval(i: &PgInterval) -> Value {
    let mut s = String::from("P");
    let (y, m) = (i.months / 12, i.months % 12);
    if y != 0 {
        s.push_str(&format!("{y}Y"));
    }
    if m != 0 {
        s.push_str(&format!("{m}M"));
    }
    if i.days != 0 {
        s.push_str(&format!("{}D", i.days));
    }
    if i.microseconds != 0 {
        let us = i.microseconds;
        let (sign, us) = if us < 0 { ("-", -us) } else { ("", us) };
        let (h, rest) = (us / 3_600_000_000, us % 3_600_000_000);
        let (min, rest) = (rest / 60_000_000, rest % 60_000_000);
        let (sec, micro) = (rest / 1_000_000, rest % 1_000_000);
        s.push('T');
        if h != 0 {
            s.push_str(&format!("{sign}{h}H"));
        }
        if min != 0 {
            s.push_str(&format!("{sign}{min}M"));
        }
        if sec != 0 || micro != 0 {
            let frac = if micro == 0 {
                String::new()
            } else {
                format!(".{micro:06}").trim_end_matches('0').to_owned()
            };
            s.push_str(&format!("{sign}{sec}{frac}S"));
        }
    }
    if s == "P" {
        s.push_str("T0S");
    }
    Value::String(s)
}

fn list<T>(v: Vec<Option<T>>, f: impl Fn(T) -> Value) -> Value {
    Value::Array(v.into_iter().map(|x| x.map_or(Value::Null, &f)).collect())
}

/// Column `i` of a PostgreSQL row.
pub fn pg(row: &PgRow, i: usize) -> Value {
    let Ok(raw) = row.try_get_raw(i) else {
        return Value::Null;
    };
    if raw.is_null() {
        return Value::Null;
    }
    let ty = raw.type_info().name().to_owned();
    let v: Result<Value, sqlx::Error> = match ty.as_str() {
        "BOOL" => row.try_get::<bool, _>(i).map(Value::from),
        "INT2" => row.try_get::<i16, _>(i).map(Value::from),
        "INT4" => row.try_get::<i32, _>(i).map(Value::from),
        "INT8" => row.try_get::<i64, _>(i).map(Value::from),
        "OID" => row.try_get::<Oid, _>(i).map(|o| Value::from(o.0)),
        "FLOAT4" => row.try_get::<f32, _>(i).map(float32),
        "FLOAT8" => row.try_get::<f64, _>(i).map(float),
        "NUMERIC" => match raw.as_bytes().ok().and_then(pg_numeric) {
            Some(t) => Ok(decimal(&t)),
            None => Ok(unknown(raw.as_bytes().unwrap_or_default())),
        },
        "TEXT" | "VARCHAR" | "BPCHAR" | "CHAR" | "NAME" | "CITEXT" | "UNKNOWN" | "XML" => {
            row.try_get_unchecked::<String, _>(i).map(Value::from)
        }
        "DATE" => row.try_get::<NaiveDate, _>(i).map(date),
        "TIME" => row.try_get::<NaiveTime, _>(i).map(time),
        "TIMESTAMP" => row.try_get::<NaiveDateTime, _>(i).map(datetime),
        "TIMESTAMPTZ" => row.try_get::<DateTime<Utc>, _>(i).map(datetime_utc),
        "INTERVAL" => row.try_get::<PgInterval, _>(i).map(|v| interval(&v)),
        "BYTEA" => row.try_get::<Vec<u8>, _>(i).map(|b| bytes(&b)),
        "JSON" | "JSONB" => row.try_get::<Json<Value>, _>(i).map(|j| j.0),
        "UUID" => row
            .try_get::<Uuid, _>(i)
            .map(|u| Value::String(u.to_string())),
        "VOID" => Ok(Value::Null),
        "BOOL[]" => row
            .try_get::<Vec<Option<bool>>, _>(i)
            .map(|v| list(v, Value::from)),
        "INT2[]" => row
            .try_get::<Vec<Option<i16>>, _>(i)
            .map(|v| list(v, Value::from)),
        "INT4[]" => row
            .try_get::<Vec<Option<i32>>, _>(i)
            .map(|v| list(v, Value::from)),
        "INT8[]" => row
            .try_get::<Vec<Option<i64>>, _>(i)
            .map(|v| list(v, Value::from)),
        "FLOAT4[]" => row
            .try_get::<Vec<Option<f32>>, _>(i)
            .map(|v| list(v, float32)),
        "FLOAT8[]" => row
            .try_get::<Vec<Option<f64>>, _>(i)
            .map(|v| list(v, float)),
        "TEXT[]" | "VARCHAR[]" | "NAME[]" | "BPCHAR[]" => row
            .try_get::<Vec<Option<String>>, _>(i)
            .map(|v| list(v, Value::from)),
        _ => Ok(unknown(raw.as_bytes().unwrap_or_default())),
    };
    v.unwrap_or_else(|_| match row.try_get_raw(i) {
        Ok(raw) => unknown(raw.as_bytes().unwrap_or_default()),
        Err(_) => Value::Null,
    })
}

/// MySQL `TIME` (a duration up to ±838 h): `[-]HH:MM:SS[.ffffff]`.
fn mysql_time(t: &sqlx::mysql::types::MySqlTime) -> Value {
    // Not `t.is_negative()`: sqlx 0.9 returns the positive flag there.
    let sign = if t.sign().is_negative() { "-" } else { "" };
    let mut s = format!(
        "{sign}{:02}:{:02}:{:02}",
        t.hours(),
        t.minutes(),
        t.seconds()
    );
    if t.microseconds() != 0 {
        s.push_str(format!(".{:06}", t.microseconds()).trim_end_matches('0'));
    }
    Value::String(s)
}

/// Column `i` of a MySQL / MariaDB row.
pub fn mysql(row: &MySqlRow, i: usize) -> Value {
    let Ok(raw) = row.try_get_raw(i) else {
        return Value::Null;
    };
    if raw.is_null() {
        return Value::Null;
    }
    let ty = raw.type_info().name().to_owned();
    let v: Result<Value, sqlx::Error> = match ty.as_str() {
        // TINYINT(1): MySQL's BOOLEAN; other values it may hold stay numbers.
        "BOOLEAN" => row.try_get::<i8, _>(i).map(|n| match n {
            0 => Value::Bool(false),
            1 => Value::Bool(true),
            n => Value::from(n),
        }),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => {
            row.try_get::<i64, _>(i).map(Value::from)
        }
        t if t.ends_with(" UNSIGNED") => row.try_get::<u64, _>(i).map(Value::from),
        "YEAR" => row.try_get_unchecked::<u16, _>(i).map(Value::from),
        "BIT" => row.try_get::<u64, _>(i).map(Value::from),
        "FLOAT" => row.try_get::<f32, _>(i).map(float32),
        "DOUBLE" => row.try_get::<f64, _>(i).map(float),
        "DECIMAL" => row.try_get_unchecked::<String, _>(i).map(|s| decimal(&s)),
        "DATE" => row.try_get::<NaiveDate, _>(i).map(date),
        "DATETIME" => row.try_get::<NaiveDateTime, _>(i).map(datetime),
        // sqlx sets the session time zone to UTC: TIMESTAMP values are UTC.
        "TIMESTAMP" => row.try_get::<DateTime<Utc>, _>(i).map(datetime_utc),
        "TIME" => row
            .try_get::<sqlx::mysql::types::MySqlTime, _>(i)
            .map(|t| mysql_time(&t)),
        "JSON" => row
            .try_get_unchecked::<String, _>(i)
            .map(|s| serde_json::from_str(&s).unwrap_or(Value::String(s))),
        "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" | "GEOMETRY" => {
            row.try_get_unchecked::<Vec<u8>, _>(i).map(|b| bytes(&b))
        }
        "NULL" => Ok(Value::Null),
        _ => row.try_get_unchecked::<Vec<u8>, _>(i).map(|b| unknown(&b)),
    };
    // Zero dates ('0000-00-00') and other undecodable values: their text, else null.
    v.unwrap_or_else(|_| {
        row.try_get_unchecked::<Vec<u8>, _>(i)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|s| !s.is_empty() && !s.starts_with("0000-00-00"))
            .map_or(Value::Null, Value::String)
    })
}

/// Column `i` of a SQLite row: by the value's storage class (SQLite is
/// dynamically typed); a `BOOLEAN` column's integers as booleans.
pub fn sqlite(row: &SqliteRow, i: usize, declared: &str) -> Value {
    let Ok(raw) = row.try_get_raw(i) else {
        return Value::Null;
    };
    if raw.is_null() {
        return Value::Null;
    }
    let ty = raw.type_info().name().to_owned();
    let v: Result<Value, sqlx::Error> = match ty.as_str() {
        "INTEGER" | "BOOLEAN" if declared.eq_ignore_ascii_case("BOOLEAN") => row
            .try_get_unchecked::<i64, _>(i)
            .map(|n| Value::Bool(n != 0)),
        "INTEGER" | "BOOLEAN" => row.try_get_unchecked::<i64, _>(i).map(Value::from),
        "REAL" => row.try_get_unchecked::<f64, _>(i).map(float),
        "BLOB" => row.try_get_unchecked::<Vec<u8>, _>(i).map(|b| bytes(&b)),
        _ => row.try_get_unchecked::<String, _>(i).map(Value::from),
    };
    v.unwrap_or(Value::Null)
}

/// The storage class of column `i`'s value (for columns SQLite declares no type for).
pub fn sqlite_storage(row: &SqliteRow, i: usize) -> Option<String> {
    let raw = row.try_get_raw(i).ok()?;
    (!raw.is_null()).then(|| raw.type_info().name().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// PostgreSQL's binary NUMERIC for `digits` (base 10000), weight, sign, dscale.
    fn numeric(digits: &[u16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
        let mut b = Vec::new();
        for w in [digits.len() as u16, weight as u16, sign, dscale] {
            b.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    }

    #[test]
    fn pg_numeric_text() {
        assert_eq!(pg_numeric(&numeric(&[12, 3400], 0, 0, 2)).unwrap(), "12.34");
        assert_eq!(
            pg_numeric(&numeric(&[1, 0], 1, 0x4000, 0)).unwrap(),
            "-10000"
        );
        assert_eq!(pg_numeric(&numeric(&[5], -1, 0, 4)).unwrap(), "0.0005");
        assert_eq!(pg_numeric(&numeric(&[5], -2, 0, 8)).unwrap(), "0.00000005");
        assert_eq!(pg_numeric(&numeric(&[], 0, 0, 3)).unwrap(), "0.000");
        assert_eq!(
            pg_numeric(&numeric(&[1234, 5678, 9012, 3456, 7890, 1234], 4, 0, 4)).unwrap(),
            "12345678901234567890.1234"
        );
        assert_eq!(pg_numeric(&numeric(&[], 0, 0xC000, 0)).unwrap(), "NaN");
        assert_eq!(pg_numeric(&[0, 1]), None);
    }

    #[test]
    fn decimals_are_numbers_only_when_exact() {
        assert_eq!(decimal("12.50"), json!(12.5));
        assert_eq!(decimal("-0.1"), json!(-0.1));
        assert_eq!(decimal("42"), json!(42));
        assert_eq!(decimal("0.000"), json!(0.0));
        assert_eq!(
            decimal("12345678901234567890.1234"),
            json!("12345678901234567890.1234")
        );
        assert_eq!(
            decimal("0.30000000000000000001"),
            json!("0.30000000000000000001")
        );
        assert_eq!(decimal("NaN"), json!("NaN"));
        assert_eq!(float(f64::INFINITY), json!("Infinity"));
        assert_eq!(float32(1.1), json!(1.1));
    }

    #[test]
    fn intervals_are_iso_durations() {
        let i = |months, days, microseconds| {
            interval(&PgInterval {
                months,
                days,
                microseconds,
            })
        };
        assert_eq!(i(14, 3, 3_723_500_000), json!("P1Y2M3DT1H2M3.5S"));
        assert_eq!(i(0, 0, 0), json!("PT0S"));
        assert_eq!(i(0, 0, -90_000_000), json!("PT-1M-30S"));
    }
}
