//! Java-style methods that users call on values: `s.contains('a')`,
//! `list.size()`, `map.containsKey('k')`. String indices count characters.

use std::borrow::Cow;

use regex_lite::{Regex, RegexBuilder};

use crate::Value;
use crate::coerce::{Num, same, to_int, to_num, to_text};

/// Longest string a method may build (4 MiB), so that chained `replace`
/// calls cannot grow a string exponentially. Operators that only join their
/// operands (`+`, templates) grow linearly and are not limited.
const MAX_STRING_LEN: usize = 4 << 20;

/// Most parts `split` may return.
const MAX_SPLIT_PARTS: usize = 1 << 20;

/// Largest compiled regex (the engine runs in time linear in the input).
const MAX_REGEX_SIZE: usize = 64 << 10;

/// Why a method call failed.
pub(crate) enum MethodFault {
    /// The receiver's type has no such method.
    Unknown,
    /// Wrong arguments, a bad index, an invalid pattern.
    Bad(String),
}

type Res = Result<Value, MethodFault>;

fn bad(message: impl Into<String>) -> MethodFault {
    MethodFault::Bad(message.into())
}

/// Calls `method` on `recv` with `args`.
pub(crate) fn call(recv: &Value, method: &str, args: &[Cow<'_, Value>]) -> Res {
    let args: Vec<&Value> = args.iter().map(|a| &**a).collect();
    // Methods every object has in Java.
    match (method, args.as_slice()) {
        ("toString", []) if !recv.is_null() => {
            return Ok(Value::String(to_text(recv).into_owned()));
        }
        ("equals", [x]) if !recv.is_null() => return Ok(Value::Bool(same(recv, x))),
        _ => {}
    }
    match recv {
        Value::String(s) => string(s, method, &args),
        Value::Array(a) => array(a, method, &args),
        Value::Object(o) => object(o, method, &args),
        Value::Number(_) => number(recv, method, &args),
        _ => Err(MethodFault::Unknown),
    }
}

fn arity(args: &[&Value], min: usize, max: usize) -> Result<(), MethodFault> {
    if args.len() < min || args.len() > max {
        let want = if min == max {
            format!("{min}")
        } else {
            format!("{min} to {max}")
        };
        return Err(bad(format!(
            "expects {want} argument(s), got {}",
            args.len()
        )));
    }
    Ok(())
}

fn text_arg<'v>(args: &[&'v Value], i: usize) -> Cow<'v, str> {
    args.get(i).map_or(Cow::Borrowed(""), |v| to_text(v))
}

fn int_arg(args: &[&Value], i: usize) -> Result<i64, MethodFault> {
    let v = args.get(i).copied().unwrap_or(&Value::Null);
    to_int(v).map_err(|_| bad(format!("argument {} must be an integer", i + 1)))
}

/// Byte offset of character index `i`, if `0 <= i <= char count`.
fn byte_at(s: &str, i: i64) -> Option<usize> {
    let i = usize::try_from(i).ok()?;
    s.char_indices().map(|(b, _)| b).chain([s.len()]).nth(i)
}

fn char_index(s: &str, byte: usize) -> Value {
    Value::from(s.get(..byte).map_or(0, |p| p.chars().count()))
}

fn string_result(s: String) -> Res {
    if s.len() > MAX_STRING_LEN {
        return Err(bad("result too long"));
    }
    Ok(Value::String(s))
}

/// Compiles a Java-style pattern; the engine is linear-time, with size limits.
fn regex(pattern: &str, whole: bool) -> Result<Regex, MethodFault> {
    let src = if whole {
        format!(r"\A(?:{pattern})\z")
    } else {
        pattern.to_string()
    };
    RegexBuilder::new(&src)
        .size_limit(MAX_REGEX_SIZE)
        .nest_limit(64)
        .build()
        .map_err(|e| bad(format!("invalid pattern '{pattern}': {e}")))
}

fn string(s: &str, method: &str, args: &[&Value]) -> Res {
    let n = args.len();
    let a0 = text_arg(args, 0);
    Ok(match method {
        "length" | "size" if n == 0 => Value::from(s.chars().count()),
        "isEmpty" if n == 0 => Value::Bool(s.is_empty()),
        "isBlank" if n == 0 => Value::Bool(s.trim().is_empty()),
        // Java's trim strips every char <= ' '.
        "trim" if n == 0 => Value::from(s.trim_matches(|c| c <= ' ')),
        "strip" if n == 0 => Value::from(s.trim()),
        "toUpperCase" if n == 0 => string_result(s.to_uppercase())?,
        "toLowerCase" if n == 0 => string_result(s.to_lowercase())?,
        "contains" if n == 1 => Value::Bool(s.contains(&*a0)),
        "startsWith" => {
            arity(args, 1, 2)?;
            let from = if n == 2 { int_arg(args, 1)? } else { 0 };
            let hit = byte_at(s, from)
                .and_then(|b| s.get(b..))
                .is_some_and(|t| t.starts_with(&*a0));
            Value::Bool(hit)
        }
        "endsWith" if n == 1 => Value::Bool(s.ends_with(&*a0)),
        "equalsIgnoreCase" if n == 1 => {
            let given = args.first().is_some_and(|a| !a.is_null());
            Value::Bool(given && s.to_lowercase() == a0.to_lowercase())
        }
        "concat" if n == 1 => string_result([s, &a0].concat())?,
        "indexOf" => {
            arity(args, 1, 2)?;
            let from = if n == 2 { int_arg(args, 1)?.max(0) } else { 0 };
            let Some(start) = byte_at(s, from) else {
                return Ok(Value::from(-1));
            };
            let found = s.get(start..).and_then(|t| t.find(&*a0)).map(|b| b + start);
            found.map_or(Value::from(-1), |b| char_index(s, b))
        }
        "lastIndexOf" if n == 1 => s.rfind(&*a0).map_or(Value::from(-1), |b| char_index(s, b)),
        "charAt" if n == 1 => {
            let i = int_arg(args, 0)?;
            let c = usize::try_from(i).ok().and_then(|i| s.chars().nth(i));
            let c = c.ok_or_else(|| {
                bad(format!(
                    "index {i} out of range for length {}",
                    s.chars().count()
                ))
            })?;
            Value::String(c.to_string())
        }
        "substring" => {
            arity(args, 1, 2)?;
            let len = s.chars().count();
            let begin = int_arg(args, 0)?;
            let end = if n == 2 {
                int_arg(args, 1)?
            } else {
                len as i64
            };
            let range = byte_at(s, begin)
                .zip(byte_at(s, end))
                .filter(|(b, e)| b <= e);
            let (b, e) = range.ok_or_else(|| {
                bad(format!(
                    "range {begin}..{end} out of bounds for length {len}"
                ))
            })?;
            Value::from(s.get(b..e).unwrap_or(""))
        }
        "replace" if n == 2 => {
            let (from, to) = (a0, text_arg(args, 1));
            let count = if from.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(&*from).count()
            };
            if s.len().saturating_add(count.saturating_mul(to.len())) > MAX_STRING_LEN {
                return Err(bad("result too long"));
            }
            Value::String(s.replace(&*from, &to))
        }
        "replaceAll" | "replaceFirst" if n == 2 => {
            let re = regex(&a0, false)?;
            let rep = java_replacement(&text_arg(args, 1));
            let out = if method == "replaceAll" {
                re.replace_all(s, rep.as_str())
            } else {
                re.replace(s, rep.as_str())
            };
            string_result(out.into_owned())?
        }
        "matches" if n == 1 => Value::Bool(regex(&a0, true)?.is_match(s)),
        "split" if n == 1 => split(s, &a0)?,
        _ => {
            return Err(if KNOWN_STRING.contains(&method) {
                bad(format!("wrong number of arguments ({n})"))
            } else {
                MethodFault::Unknown
            });
        }
    })
}

const KNOWN_STRING: &[&str] = &[
    "length",
    "size",
    "isEmpty",
    "isBlank",
    "trim",
    "strip",
    "toUpperCase",
    "toLowerCase",
    "contains",
    "endsWith",
    "equalsIgnoreCase",
    "concat",
    "lastIndexOf",
    "charAt",
    "replace",
    "replaceAll",
    "replaceFirst",
    "matches",
    "split",
    "toString",
    "equals",
];

/// Java's `$1` group references become `${1}`; `\x` escapes a literal `x`.
fn java_replacement(rep: &str) -> String {
    let mut out = String::with_capacity(rep.len());
    let mut chars = rep.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('$') => out.push_str("$$"),
                Some(e) => out.push(e),
                None => {}
            },
            '$' if chars.peek().is_some_and(char::is_ascii_digit) => {
                out.push_str("${");
                while let Some(d) = chars.next_if(char::is_ascii_digit) {
                    out.push(d);
                }
                out.push('}');
            }
            '$' => out.push_str("$$"),
            c => out.push(c),
        }
    }
    out
}

/// Java `String.split(regex)`: no match gives the whole string; trailing
/// empty strings are removed; a zero-width match at the start is skipped.
fn split(s: &str, pattern: &str) -> Res {
    let re = regex(pattern, false)?;
    let mut parts: Vec<&str> = Vec::new();
    let mut last = 0;
    for m in re.find_iter(s) {
        if m.end() == 0 {
            continue;
        }
        if parts.len() >= MAX_SPLIT_PARTS {
            return Err(bad(format!("more than {MAX_SPLIT_PARTS} parts")));
        }
        parts.push(s.get(last..m.start()).unwrap_or(""));
        last = m.end();
    }
    if parts.is_empty() {
        return Ok(Value::Array(vec![Value::from(s)]));
    }
    parts.push(s.get(last..).unwrap_or(""));
    while parts.last() == Some(&"") {
        parts.pop();
    }
    Ok(Value::Array(parts.into_iter().map(Value::from).collect()))
}

fn array(a: &[Value], method: &str, args: &[&Value]) -> Res {
    let position = |x: &Value| a.iter().position(|v| same(v, x));
    Ok(match (method, args) {
        ("size" | "length", []) => Value::from(a.len()),
        ("isEmpty", []) => Value::Bool(a.is_empty()),
        ("contains", [x]) => Value::Bool(position(x).is_some()),
        ("indexOf", [x]) => position(x).map_or(Value::from(-1), Value::from),
        ("get", [_]) => {
            let i = int_arg(args, 0)?;
            let item = usize::try_from(i).ok().and_then(|i| a.get(i));
            item.cloned()
                .ok_or_else(|| bad(format!("index {i} out of range for size {}", a.len())))?
        }
        ("size" | "length" | "isEmpty" | "contains" | "indexOf" | "get", _) => {
            return Err(bad(format!("wrong number of arguments ({})", args.len())));
        }
        _ => return Err(MethodFault::Unknown),
    })
}

fn object(o: &serde_json::Map<String, Value>, method: &str, args: &[&Value]) -> Res {
    Ok(match (method, args) {
        ("size", []) => Value::from(o.len()),
        ("isEmpty", []) => Value::Bool(o.is_empty()),
        ("containsKey", [k]) => Value::Bool(o.contains_key(&*to_text(k))),
        ("containsValue", [x]) => Value::Bool(o.values().any(|v| same(v, x))),
        ("get", [k]) => o.get(&*to_text(k)).cloned().unwrap_or(Value::Null),
        ("keySet", []) => Value::Array(o.keys().map(|k| Value::from(k.as_str())).collect()),
        ("values", []) => Value::Array(o.values().cloned().collect()),
        ("size" | "isEmpty" | "containsKey" | "containsValue" | "get" | "keySet" | "values", _) => {
            return Err(bad(format!("wrong number of arguments ({})", args.len())));
        }
        _ => return Err(MethodFault::Unknown),
    })
}

fn number(recv: &Value, method: &str, args: &[&Value]) -> Res {
    let n = to_num(recv).map_err(|_| MethodFault::Unknown)?;
    match (method, args) {
        ("intValue" | "longValue", []) => Ok(Value::from(match n {
            Num::Int(i) => i,
            Num::Float(f) => f as i64,
        })),
        ("doubleValue" | "floatValue", []) => Num::Float(n.as_f64())
            .into_value()
            .map_err(|_| bad("not finite")),
        _ => Err(MethodFault::Unknown),
    }
}
