//! JSON ↔ Rhai value conversion for process variables.
//!
//! JSON → Rhai: objects → maps, arrays → arrays, integers that fit `i64` →
//! `i64`, other numbers → `f64`, strings → strings, `null` → `()`.
//! Rhai → JSON is the inverse, plus `char` → one-character string and BLOB →
//! array of byte numbers. Non-finite floats become `null` (JSON has no NaN).
//! Function pointers, ranges, timestamps and other host types have no JSON
//! form and are reported as [`Unrepresentable`].

use rhai::{Array, Blob, Dynamic, FLOAT, INT, ImmutableString, Map};
use serde_json::{Number, Value};

/// Deeper values are refused both ways: the conversion recurses, and a
/// script can build `a = [a]` chains deep enough to overflow a thread stack.
pub const MAX_DEPTH: usize = 128;

/// Why a Rhai value has no JSON form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrepresentable(pub String);

impl std::fmt::Display for Unrepresentable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Converts a JSON value; nesting deeper than [`MAX_DEPTH`] becomes `()`.
#[cfg(test)]
pub fn to_dynamic(value: &Value) -> Dynamic {
    to_dynamic_at(value, 0)
}

fn to_dynamic_at(value: &Value, depth: usize) -> Dynamic {
    if depth > MAX_DEPTH {
        return Dynamic::UNIT;
    }
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Dynamic::from_int(i),
            None => Dynamic::from_float(n.as_f64().unwrap_or(FLOAT::NAN)),
        },
        Value::String(s) => Dynamic::from(ImmutableString::from(s.as_str())),
        Value::Array(items) => {
            let array: Array = items.iter().map(|v| to_dynamic_at(v, depth + 1)).collect();
            Dynamic::from_array(array)
        }
        Value::Object(entries) => Dynamic::from_map(to_map_at(entries, depth)),
    }
}

/// Converts a JSON object into a Rhai map.
pub fn to_map(entries: &serde_json::Map<String, Value>) -> Map {
    to_map_at(entries, 0)
}

fn to_map_at(entries: &serde_json::Map<String, Value>, depth: usize) -> Map {
    entries
        .iter()
        .map(|(k, v)| (k.as_str().into(), to_dynamic_at(v, depth + 1)))
        .collect()
}

/// Converts a Rhai value back to JSON.
pub fn to_json(value: &Dynamic) -> Result<Value, Unrepresentable> {
    to_json_at(value, 0)
}

fn to_json_at(value: &Dynamic, depth: usize) -> Result<Value, Unrepresentable> {
    if depth > MAX_DEPTH {
        return Err(Unrepresentable(format!(
            "value is nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if value.is_shared() {
        return to_json_at(&value.flatten_clone(), depth);
    }
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(Value::Number(Number::from(i as INT)));
    }
    if let Ok(f) = value.as_float() {
        return Ok(Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    if let Ok(c) = value.as_char() {
        return Ok(Value::String(c.to_string()));
    }
    if let Some(s) = value.read_lock::<ImmutableString>() {
        return Ok(Value::String(s.to_string()));
    }
    if let Some(array) = value.read_lock::<Array>() {
        let items = array.iter().map(|v| to_json_at(v, depth + 1));
        return items.collect::<Result<_, _>>().map(Value::Array);
    }
    if let Some(map) = value.read_lock::<Map>() {
        let mut object = serde_json::Map::with_capacity(map.len());
        for (k, v) in map.iter() {
            object.insert(k.to_string(), to_json_at(v, depth + 1)?);
        }
        return Ok(Value::Object(object));
    }
    if let Some(blob) = value.read_lock::<Blob>() {
        return Ok(Value::Array(blob.iter().map(|b| Value::from(*b)).collect()));
    }
    Err(Unrepresentable(format!(
        "a value of type `{}` has no JSON form",
        value.type_name()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_rhai() {
        let cases = [
            json!(null),
            json!(true),
            json!(-7),
            json!(i64::MAX),
            json!(1.5),
            json!("héllo"),
            json!([1, "a", null, [2.5]]),
            json!({"a": {"b": [1, {"c": false}]}, "my-key": ""}),
        ];
        for case in cases {
            assert_eq!(to_json(&to_dynamic(&case)), Ok(case.clone()), "{case}");
        }
    }

    #[test]
    fn numbers_outside_i64_become_floats() {
        let big = json!(u64::MAX);
        assert_eq!(to_dynamic(&big).as_float(), Ok(u64::MAX as f64));
    }

    #[test]
    fn host_values_are_unrepresentable() {
        let range = Dynamic::from(0_i64..3);
        assert!(to_json(&range).is_err());
        assert_eq!(to_json(&Dynamic::from_float(f64::NAN)), Ok(Value::Null));
        assert_eq!(to_json(&Dynamic::from('x')), Ok(json!("x")));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut value = Dynamic::from_array(Array::new());
        for _ in 0..=MAX_DEPTH + 1 {
            value = Dynamic::from_array(vec![value]);
        }
        assert!(to_json(&value).is_err());
    }
}
