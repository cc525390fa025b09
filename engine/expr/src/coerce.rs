//! JUEL type coercion (EL 3.0 §1.23) and the operators built on it, over JSON
//! values. Functions return a `Fault`; the evaluator adds the sub-expression.

use std::cmp::Ordering;

use serde_json::Number;

use crate::Value;

/// What went wrong, before the evaluator knows which sub-expression it was.
#[derive(Debug)]
pub(crate) enum Fault {
    Type(String),
    DivisionByZero,
    Overflow,
}

pub(crate) type Res<T> = Result<T, Fault>;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }

    pub fn into_value(self) -> Res<Value> {
        match self {
            Num::Int(i) => Ok(Value::from(i)),
            Num::Float(f) => Number::from_f64(f)
                .map(Value::Number)
                .ok_or(Fault::Overflow),
        }
    }
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// "string 'abc'", "number 3", "array": the type, and short values in full.
pub(crate) fn describe(v: &Value) -> String {
    match v {
        Value::String(s) if s.chars().count() > 40 => {
            let head: String = s.chars().take(40).collect();
            format!("string '{head}…'")
        }
        Value::String(s) => format!("string '{s}'"),
        Value::Number(_) | Value::Bool(_) => format!("{} {v}", type_name(v)),
        _ => type_name(v).to_string(),
    }
}

fn type_fault(v: &Value, wanted: &str) -> Fault {
    Fault::Type(format!("expected {wanted}, got {}", describe(v)))
}

fn number_of(n: &Number) -> Num {
    n.as_i64()
        .map_or_else(|| Num::Float(n.as_f64().unwrap_or(0.0)), Num::Int)
}

/// A string as a number: "" is 0 (EL), otherwise a decimal integer or float.
/// `None` when it is not numeric (including "NaN" and "inf", which Rust accepts).
pub(crate) fn parse_num(s: &str) -> Option<Num> {
    let t = s.trim();
    if t.is_empty() {
        return Some(Num::Int(0));
    }
    if let Ok(i) = t.parse::<i64>() {
        return Some(Num::Int(i));
    }
    let numeric = t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
    match t.parse::<f64>() {
        Ok(f) if numeric && f.is_finite() => Some(Num::Float(f)),
        _ => None,
    }
}

/// Coerces to a number: null is 0, numeric strings parse; others are errors.
pub(crate) fn to_num(v: &Value) -> Res<Num> {
    match v {
        Value::Null => Ok(Num::Int(0)),
        Value::Number(n) => Ok(number_of(n)),
        Value::String(s) => parse_num(s).ok_or_else(|| type_fault(v, "a number")),
        _ => Err(type_fault(v, "a number")),
    }
}

/// Coerces to an integer (method arguments): floats truncate, as Java's `intValue`.
pub(crate) fn to_int(v: &Value) -> Res<i64> {
    match to_num(v)? {
        Num::Int(i) => Ok(i),
        // `as` saturates, and the value is finite.
        Num::Float(f) => Ok(f as i64),
    }
}

/// EL boolean coercion: null and "" are false, a string is true iff it equals
/// "true" ignoring case; numbers, arrays and objects are errors.
pub(crate) fn to_bool(v: &Value) -> Res<bool> {
    match v {
        Value::Null => Ok(false),
        Value::Bool(b) => Ok(*b),
        Value::String(s) => Ok(s.eq_ignore_ascii_case("true")),
        _ => Err(type_fault(v, "a boolean")),
    }
}

/// Text of a value: strings as-is, null as "", numbers and booleans as JSON,
/// arrays and objects as JSON text.
pub(crate) fn to_text(v: &Value) -> std::borrow::Cow<'_, str> {
    match v {
        Value::String(s) => s.as_str().into(),
        Value::Null => "".into(),
        other => other.to_string().into(),
    }
}

/// `empty x`: true for null, "", [] and {}.
pub(crate) fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn num_arith(
    a: Num,
    b: Num,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Res<Num> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => int(x, y).map(Num::Int).ok_or(Fault::Overflow),
        _ => {
            let r = float(a.as_f64(), b.as_f64());
            if r.is_finite() {
                Ok(Num::Float(r))
            } else {
                Err(Fault::Overflow)
            }
        }
    }
}

fn is_non_numeric_string(v: &Value) -> bool {
    matches!(v, Value::String(s) if s.is_empty() || parse_num(s).is_none())
}

/// `+`. JUEL adds numbers only; as an extension (LWAMS users rely on it), if
/// either side is a string that is not numeric (or is empty) both sides are
/// concatenated as text.
pub(crate) fn add(a: &Value, b: &Value) -> Res<Value> {
    if is_non_numeric_string(a) || is_non_numeric_string(b) {
        return Ok(Value::String([to_text(a), to_text(b)].concat()));
    }
    arith(a, b, i64::checked_add, |x, y| x + y)
}

pub(crate) fn arith(
    a: &Value,
    b: &Value,
    int: fn(i64, i64) -> Option<i64>,
    float: fn(f64, f64) -> f64,
) -> Res<Value> {
    if a.is_null() && b.is_null() {
        return Ok(Value::from(0));
    }
    num_arith(to_num(a)?, to_num(b)?, int, float)?.into_value()
}

/// `/` and `div`: always a float, as in JUEL.
pub(crate) fn divide(a: &Value, b: &Value) -> Res<Value> {
    if a.is_null() && b.is_null() {
        return Ok(Value::from(0));
    }
    let (x, y) = (to_num(a)?.as_f64(), to_num(b)?.as_f64());
    if y == 0.0 {
        return Err(Fault::DivisionByZero);
    }
    Num::Float(x / y).into_value().map_err(|_| Fault::Overflow)
}

/// `%` and `mod`: integer when both sides are integers, else a float remainder.
pub(crate) fn modulo(a: &Value, b: &Value) -> Res<Value> {
    if a.is_null() && b.is_null() {
        return Ok(Value::from(0));
    }
    match (to_num(a)?, to_num(b)?) {
        (_, Num::Int(0)) => Err(Fault::DivisionByZero),
        (Num::Int(x), Num::Int(y)) => Ok(Value::from(x.wrapping_rem(y))),
        (_, y) if y.as_f64() == 0.0 => Err(Fault::DivisionByZero),
        (x, y) => Num::Float(x.as_f64() % y.as_f64()).into_value(),
    }
}

pub(crate) fn negate(v: &Value) -> Res<Value> {
    match to_num(v)? {
        Num::Int(i) => i.checked_neg().map(Value::from).ok_or(Fault::Overflow),
        Num::Float(f) => Num::Float(-f).into_value(),
    }
}

fn cmp_num(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        _ => a.as_f64().partial_cmp(&b.as_f64()),
    }
}

/// Ordering for `<`, `>`, `<=`, `>=`. `None` means the comparison is false
/// (a null operand). Numbers win over strings; two strings compare
/// lexically; booleans order false < true.
pub(crate) fn compare(a: &Value, b: &Value) -> Res<Option<Ordering>> {
    use serde_json::Value::*;
    match (a, b) {
        (Null, Null) => Ok(Some(Ordering::Equal)),
        (Null, _) | (_, Null) => Ok(None),
        (Number(_), _) | (_, Number(_)) => Ok(cmp_num(to_num(a)?, to_num(b)?)),
        (String(x), String(y)) => Ok(Some(x.as_str().cmp(y.as_str()))),
        (Bool(x), Bool(y)) => Ok(Some(x.cmp(y))),
        (String(x), Bool(y)) => Ok(Some(x.as_str().cmp(if *y { "true" } else { "false" }))),
        (Bool(x), String(y)) => Ok(Some((if *x { "true" } else { "false" }).cmp(y.as_str()))),
        (Array(_) | Object(_), _) => Err(type_fault(a, "a number, string or boolean")),
        _ => Err(type_fault(b, "a number, string or boolean")),
    }
}

/// `==` (EL §1.8.2): numbers compare numerically (strings coerce to numbers),
/// booleans coerce the other side with boolean coercion, strings compare as
/// text; arrays and objects compare structurally.
pub(crate) fn equals(a: &Value, b: &Value) -> Res<bool> {
    use serde_json::Value::*;
    match (a, b) {
        (Null, Null) => Ok(true),
        (Null, _) | (_, Null) => Ok(false),
        (Number(_), _) | (_, Number(_)) => {
            Ok(cmp_num(to_num(a)?, to_num(b)?) == Some(Ordering::Equal))
        }
        (Bool(_), _) | (_, Bool(_)) => Ok(to_bool(a)? == to_bool(b)?),
        (String(x), String(y)) => Ok(x == y),
        _ => Ok(same(a, b)),
    }
}

/// Structural equality without coercion (Java `equals`), except that numbers
/// compare by value (1 equals 1.0).
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) => cmp_num(number_of(x), number_of(y)) == Some(Ordering::Equal),
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
