//! Form templates: the widgets a user-task form offers, what a saved form
//! must satisfy ([`check_fields`]) and the check of the values submitted
//! with a task's completion ([`check_values`]). Pure: no store, no I/O.
//!
//! A field is `{"id", "label", "type", "required", "options", "default",
//! "min", "max", "pattern", "maxLength"}`. `id` is the process variable the
//! value becomes. Types (SPEC.md §1, 表单模版):
//!
//! | type | widget | value |
//! |---|---|---|
//! | `text` | single-line text | string (`pattern`, `maxLength`) |
//! | `textarea` | multi-line text | string (`pattern`, `maxLength`) |
//! | `longtext` | long (rich) text | string (`pattern`, `maxLength`) |
//! | `number` | number | number (`min`, `max`) |
//! | `radio` | radio group | one option's value |
//! | `select` | select | one option's value |
//! | `checkbox` | checkbox group | an array of distinct options' values |
//! | `switch` | switch | `true` / `false` |
//! | `date` | date picker | `YYYY-MM-DD` or an RFC 3339 date-time |
//! | `file` | file upload | a file uploaded for the task: its id, or an object with its `id` (or an array of these) |
//!
//! `pattern` must match the whole text (it is anchored). A required field
//! must be present and not `null`, `""` or `[]`; a value for a field the form
//! does not have is let through (it is a process variable like any other).
//! A `file` field has no default; [`resolve_files`] then checks that each
//! reference names a file uploaded for the task being completed and makes it
//! the variable `{"id", "name", "size"}`.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Every widget type, in the designer's order.
pub const TYPES: &[&str] = &[
    "text", "textarea", "number", "radio", "checkbox", "select", "switch", "date", "file",
    "longtext",
];

/// Widgets whose value is one or more of the field's options.
const CHOICES: &[&str] = &["radio", "checkbox", "select"];
/// Widgets whose value is text (`pattern`, `maxLength`).
const TEXTS: &[&str] = &["text", "textarea", "longtext"];

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FormField {
    /// The variable the value becomes (a letter or `_`, then letters, digits or `_`).
    pub id: String,
    pub label: String,
    /// `text`, `textarea`, `number`, `radio`, `checkbox`, `select`, `switch`,
    /// `date`, `file`, `longtext`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    /// The choices of `radio`, `checkbox` and `select` (required for them, refused for others).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FormOption>,
    /// The value the form starts with; it must fit the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub default: Option<Value>,
    /// `number`: the least value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// `number`: the greatest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Text widgets: a regular expression the whole text must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Text widgets: the most characters allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// One choice of a radio group, checkbox group or select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormOption {
    pub value: String,
    pub label: String,
}

/// What is wrong and where: `field` is a path (`body.fields[2].options`,
/// or for [`check_values`] the form field's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormError {
    pub field: String,
    pub message: String,
    pub zh: String,
}

fn fault(field: String, message: impl Into<String>, zh: impl Into<String>) -> FormError {
    FormError {
        field,
        message: message.into(),
        zh: zh.into(),
    }
}

/// Whether `name` is a variable name: a letter or `_`, then letters, digits or `_`.
pub fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
        && name.len() <= 128
}

/// The field at `at` (`body.fields`) read and checked: known types, distinct
/// ids, options for choice widgets only (distinct, non-empty values),
/// validation that fits the widget, a default that fits the field. The
/// first fault is reported with its path.
pub fn check_fields(at: &str, fields: &[Value]) -> Result<Vec<FormField>, FormError> {
    let mut out: Vec<FormField> = Vec::with_capacity(fields.len());
    let mut ids = HashSet::new();
    for (i, raw) in fields.iter().enumerate() {
        let here = format!("{at}[{i}]");
        let f: FormField = serde_json::from_value(raw.clone()).map_err(|e| {
            let text = e.to_string();
            // serde names the field in backticks for unknown and missing fields.
            let named = text.starts_with("unknown field") || text.starts_with("missing field");
            let field = match text.split('`').nth(1) {
                Some(name) if named => format!("{here}.{name}"),
                _ => here.clone(),
            };
            fault(
                field,
                format!("field {i}: {text}"),
                format!("第 {i} 个字段格式不正确：{text}"),
            )
        })?;
        check_field(&here, &f)?;
        if !ids.insert(f.id.clone()) {
            return Err(fault(
                format!("{here}.id"),
                format!("two fields have the id `{}`", f.id),
                format!("字段标识「{}」重复", f.id),
            ));
        }
        out.push(f);
    }
    Ok(out)
}

fn check_field(here: &str, f: &FormField) -> Result<(), FormError> {
    let at = |name: &str| format!("{here}.{name}");
    if !is_variable_name(&f.id) {
        return Err(fault(
            at("id"),
            format!(
                "`{}` is not a variable name (a letter or _, then letters, digits or _)",
                f.id
            ),
            format!("「{}」不是合法的变量名", f.id),
        ));
    }
    if f.label.trim().is_empty() {
        return Err(fault(at("label"), "a field needs a label", "字段需要标签"));
    }
    let kind = f.kind.as_str();
    if !TYPES.contains(&kind) {
        return Err(fault(
            at("type"),
            format!("`{kind}` is not a field type (one of {})", TYPES.join(", ")),
            format!("「{kind}」不是有效的字段类型（可选：{}）", TYPES.join("、")),
        ));
    }
    if CHOICES.contains(&kind) {
        if f.options.is_empty() {
            return Err(fault(
                at("options"),
                format!("a `{kind}` field needs options"),
                format!("「{kind}」字段需要选项"),
            ));
        }
        let mut seen = HashSet::new();
        for (j, o) in f.options.iter().enumerate() {
            if o.value.is_empty() {
                return Err(fault(
                    format!("{here}.options[{j}].value"),
                    "an option needs a value",
                    "选项需要值",
                ));
            }
            if !seen.insert(o.value.as_str()) {
                return Err(fault(
                    format!("{here}.options[{j}].value"),
                    format!("two options have the value `{}`", o.value),
                    format!("选项值「{}」重复", o.value),
                ));
            }
        }
    } else if !f.options.is_empty() {
        return Err(fault(
            at("options"),
            format!("a `{kind}` field has no options (only radio, checkbox and select do)"),
            format!("「{kind}」字段不能有选项（仅单选、多选和下拉框可以）"),
        ));
    }
    let only = |name: &str, set: bool, ok: bool, for_what: &str| {
        if set && !ok {
            Err(fault(
                at(name),
                format!("`{name}` is for {for_what} fields, not `{kind}`"),
                format!("「{name}」仅适用于{for_what}字段，不适用于「{kind}」"),
            ))
        } else {
            Ok(())
        }
    };
    only("min", f.min.is_some(), kind == "number", "number")?;
    only("max", f.max.is_some(), kind == "number", "number")?;
    only(
        "pattern",
        f.pattern.is_some(),
        TEXTS.contains(&kind),
        "text",
    )?;
    only(
        "maxLength",
        f.max_length.is_some(),
        TEXTS.contains(&kind),
        "text",
    )?;
    if let (Some(min), Some(max)) = (f.min, f.max)
        && min > max
    {
        return Err(fault(
            at("max"),
            format!("max {max} is below min {min}"),
            format!("最大值 {max} 小于最小值 {min}"),
        ));
    }
    if let Some(p) = &f.pattern {
        anchored(p).map_err(|e| {
            fault(
                at("pattern"),
                format!("not a regular expression: {e}"),
                format!("不是合法的正则表达式：{e}"),
            )
        })?;
    }
    if kind == "file" && f.default.as_ref().is_some_and(|d| !d.is_null()) {
        return Err(fault(
            at("default"),
            "a `file` field has no default (its value is a file uploaded for the task)",
            "「file」字段不能有默认值（其值为为该任务上传的文件）",
        ));
    }
    if let Some(d) = f.default.as_ref().filter(|d| !d.is_null()) {
        check_value(f, d).map_err(|(en, zh)| {
            fault(
                at("default"),
                format!("the default does not fit: {en}"),
                format!("默认值不符合字段要求：{zh}"),
            )
        })?;
    }
    Ok(())
}

fn anchored(pattern: &str) -> Result<regex_lite::Regex, regex_lite::Error> {
    regex_lite::Regex::new(&format!("^(?:{pattern})$"))
}

/// Whether `v` counts as no value (for `required`).
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Check the values submitted for a form: every required field present and
/// not empty; each value of the field's type, among its options, within
/// `min`/`max`, matching `pattern`, at most `maxLength` characters. The
/// error's `field` is the form field's id.
pub fn check_values(fields: &[FormField], values: &Map<String, Value>) -> Result<(), FormError> {
    for f in fields {
        match values.get(&f.id) {
            Some(v) if !is_empty(v) => check_value(f, v).map_err(|(en, zh)| {
                fault(
                    f.id.clone(),
                    format!("{}: {en}", f.label),
                    format!("「{}」：{zh}", f.label),
                )
            })?,
            _ if f.required => {
                return Err(fault(
                    f.id.clone(),
                    format!("{} is required", f.label),
                    format!("「{}」为必填项", f.label),
                ));
            }
            // An empty value of an optional field: fine, whatever its type.
            _ => {}
        }
    }
    Ok(())
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One non-empty value against its field: `Err((en, zh))`.
fn check_value(f: &FormField, v: &Value) -> Result<(), (String, String)> {
    let want = |what: &str, zh: &str| {
        Err((
            format!("expected {what}, got {}", kind_of(v)),
            format!("应为{zh}"),
        ))
    };
    let option = |s: &str| -> Result<(), (String, String)> {
        if f.options.iter().any(|o| o.value == s) {
            Ok(())
        } else {
            let values: Vec<&str> = f.options.iter().map(|o| o.value.as_str()).collect();
            Err((
                format!("`{s}` is not one of the options ({})", values.join(", ")),
                format!("「{s}」不在可选项中（{}）", values.join("、")),
            ))
        }
    };
    match f.kind.as_str() {
        "text" | "textarea" | "longtext" => {
            let Value::String(s) = v else {
                return want("text", "文本");
            };
            if let Some(n) = f.max_length
                && s.chars().count() > n as usize
            {
                return Err((
                    format!("at most {n} characters"),
                    format!("最多 {n} 个字符"),
                ));
            }
            if let Some(p) = &f.pattern {
                let re = anchored(p).map_err(|e| (e.to_string(), e.to_string()))?;
                if !re.is_match(s) {
                    return Err((
                        format!("does not match the pattern `{p}`"),
                        format!("不符合格式「{p}」"),
                    ));
                }
            }
            Ok(())
        }
        "number" => {
            let Some(n) = v.as_f64() else {
                return want("a number", "数字");
            };
            if let Some(min) = f.min
                && n < min
            {
                return Err((format!("at least {min}"), format!("不能小于 {min}")));
            }
            if let Some(max) = f.max
                && n > max
            {
                return Err((format!("at most {max}"), format!("不能大于 {max}")));
            }
            Ok(())
        }
        "radio" | "select" => match v {
            Value::String(s) => option(s),
            _ => want("one option's value (a string)", "一个选项值"),
        },
        "checkbox" => {
            let Value::Array(items) = v else {
                return want("an array of options' values", "选项值数组");
            };
            let mut seen = HashSet::new();
            for item in items {
                let Value::String(s) = item else {
                    return want("an array of strings", "字符串数组");
                };
                option(s)?;
                if !seen.insert(s.as_str()) {
                    return Err((format!("`{s}` is chosen twice"), format!("「{s}」重复选择")));
                }
            }
            Ok(())
        }
        "switch" => match v {
            Value::Bool(_) => Ok(()),
            _ => want("true or false", "布尔值"),
        },
        "date" => {
            let ok = v.as_str().is_some_and(|s| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
                    || chrono::DateTime::parse_from_rfc3339(s).is_ok()
            });
            if ok {
                Ok(())
            } else {
                want(
                    "a date (YYYY-MM-DD or RFC 3339)",
                    "日期（YYYY-MM-DD 或 RFC 3339）",
                )
            }
        }
        "file" => {
            let ok = match v {
                Value::Array(items) => items.iter().all(|x| file_id(x).is_some()),
                other => file_id(other).is_some(),
            };
            if ok {
                Ok(())
            } else {
                want(
                    "an uploaded file's reference (its id, or an object with its `id`)",
                    "已上传文件的引用（文件 id 或带 id 的对象）",
                )
            }
        }
        // check_fields refused every other type.
        other => Err((
            format!("unknown field type `{other}`"),
            format!("未知字段类型「{other}」"),
        )),
    }
}

/// The file id a `file` value names: the string itself, or an object's `id`.
fn file_id(v: &Value) -> Option<&str> {
    let id = match v {
        Value::String(s) => s.as_str(),
        Value::Object(m) => m.get("id").and_then(Value::as_str)?,
        _ => return None,
    };
    let id = id.trim();
    (!id.is_empty()).then_some(id)
}

/// After [`check_values`]: every `file` field's reference must name one of
/// `uploaded` (the task's own files, id → the variable it becomes,
/// `{"id", "name", "size"}`) and is replaced by it, so a caller cannot make
/// up a name or a size, nor point at another task's file. Returns the ids
/// the values name.
pub fn resolve_files(
    fields: &[FormField],
    values: &mut Map<String, Value>,
    uploaded: &HashMap<String, Value>,
) -> Result<HashSet<String>, FormError> {
    let mut used = HashSet::new();
    for f in fields.iter().filter(|f| f.kind == "file") {
        let Some(v) = values.get_mut(&f.id).filter(|v| !is_empty(v)) else {
            continue;
        };
        let mut one = |x: &Value| -> Result<Value, FormError> {
            let id = file_id(x).unwrap_or_default();
            match uploaded.get(id) {
                Some(reference) => {
                    used.insert(id.to_owned());
                    Ok(reference.clone())
                }
                None => Err(fault(
                    f.id.clone(),
                    format!("{}: no file `{id}` was uploaded for this task", f.label),
                    format!("「{}」：文件「{id}」不是为该任务上传的", f.label),
                )),
            }
        };
        let resolved = match &*v {
            Value::Array(items) => {
                Value::Array(items.iter().map(&mut one).collect::<Result<_, _>>()?)
            }
            other => one(other)?,
        };
        *v = resolved;
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Result<Vec<FormField>, FormError> {
        check_fields("body.fields", v.as_array().unwrap())
    }

    fn field_of(v: Value) -> String {
        fields(v).unwrap_err().field
    }

    #[test]
    fn saved_forms_name_the_bad_field() {
        let ok = json!([
            {"id": "decision", "label": "Decision", "type": "radio", "required": true,
             "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}], "default": "no"},
            {"id": "count", "label": "Count", "type": "number", "min": 1, "max": 9, "default": 3},
            {"id": "note", "label": "Note", "type": "text", "pattern": "[a-z]+", "maxLength": 5},
            {"id": "on", "label": "On", "type": "switch", "default": false},
            {"id": "tags", "label": "Tags", "type": "checkbox", "options": [{"value": "a", "label": "A"}], "default": ["a"]},
            {"id": "day", "label": "Day", "type": "date", "default": "2026-01-02"},
            {"id": "att", "label": "Attachment", "type": "file"},
            {"id": "body", "label": "Body", "type": "longtext"}
        ]);
        assert_eq!(fields(ok).unwrap().len(), 8);
        let x = |extra: Value| {
            let mut f = json!({"id": "x", "label": "X", "type": "text"});
            for (k, v) in extra.as_object().unwrap() {
                f[k] = v.clone();
            }
            json!([{"id": "a", "label": "A", "type": "text"}, f])
        };
        assert_eq!(
            field_of(x(json!({"type": "colour"}))),
            "body.fields[1].type"
        );
        assert_eq!(
            field_of(x(json!({"type": "select"}))),
            "body.fields[1].options"
        );
        assert_eq!(
            field_of(x(json!({"options": [{"value": "a", "label": "A"}]}))),
            "body.fields[1].options"
        );
        assert_eq!(
            field_of(x(
                json!({"type": "radio", "options": [{"value": "a", "label": "A"}, {"value": "a", "label": "B"}]})
            )),
            "body.fields[1].options[1].value"
        );
        assert_eq!(field_of(x(json!({"id": "a"}))), "body.fields[1].id");
        assert_eq!(field_of(x(json!({"id": "1a"}))), "body.fields[1].id");
        assert_eq!(field_of(x(json!({"colour": 1}))), "body.fields[1].colour");
        assert_eq!(field_of(x(json!({"min": 1}))), "body.fields[1].min");
        assert_eq!(
            field_of(x(json!({"type": "number", "min": 5, "max": 1}))),
            "body.fields[1].max"
        );
        assert_eq!(
            field_of(x(json!({"pattern": "("}))),
            "body.fields[1].pattern"
        );
        assert_eq!(
            field_of(x(json!({"maxLength": 2, "default": "abc"}))),
            "body.fields[1].default"
        );
        assert_eq!(
            field_of(x(json!({"type": "number", "default": "3"}))),
            "body.fields[1].default"
        );
        assert_eq!(
            field_of(json!([{"id": "a", "type": "text"}])),
            "body.fields[0].label"
        );
        assert_eq!(field_of(json!([1])), "body.fields[0]");
    }

    #[test]
    fn file_references_name_the_tasks_own_uploads() {
        let form = fields(json!([
            {"id": "att", "label": "File", "type": "file", "required": true},
            {"id": "more", "label": "More", "type": "file"},
            {"id": "note", "label": "Note", "type": "text"}
        ]))
        .unwrap();
        let uploaded: HashMap<String, Value> = ["f1", "f2"]
            .iter()
            .map(|id| {
                (
                    id.to_string(),
                    json!({"id": id, "name": format!("{id}.txt"), "size": 3}),
                )
            })
            .collect();
        let resolve = |v: Value| {
            let mut m = v.as_object().unwrap().clone();
            check_values(&form, &m).map_err(|e| e.field)?;
            let used = resolve_files(&form, &mut m, &uploaded).map_err(|e| e.field)?;
            let mut used: Vec<String> = used.into_iter().collect();
            used.sort();
            Ok::<_, String>((Value::Object(m), used))
        };
        // The name and size sent are replaced by the upload's own.
        let (v, used) =
            resolve(json!({"att": {"id": "f1", "name": "forged.exe", "size": 1}, "more": ["f2"]}))
                .unwrap();
        assert_eq!(v["att"], json!({"id": "f1", "name": "f1.txt", "size": 3}));
        assert_eq!(
            v["more"],
            json!([{"id": "f2", "name": "f2.txt", "size": 3}])
        );
        assert_eq!(used, ["f1", "f2"]);
        assert_eq!(resolve(json!({"att": "f3"})), Err("att".into()));
        assert_eq!(
            resolve(json!({"att": "f1", "more": ["f2", "x"]})),
            Err("more".into())
        );
        assert_eq!(resolve(json!({})), Err("att".into()));
        let (v, used) = resolve(json!({"att": "f2", "more": null, "note": "f1"})).unwrap();
        assert_eq!(
            (v["note"].clone(), used),
            (json!("f1"), vec!["f2".to_owned()])
        );
        assert_eq!(
            field_of(json!([{"id": "att", "label": "File", "type": "file", "default": "f1"}])),
            "body.fields[0].default"
        );
    }

    #[test]
    fn submitted_values_fit_the_form() {
        let form = fields(json!([
            {"id": "decision", "label": "Decision", "type": "select", "required": true,
             "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]},
            {"id": "count", "label": "Count", "type": "number", "min": 1, "max": 9},
            {"id": "code", "label": "Code", "type": "text", "pattern": "[A-Z]{3}", "maxLength": 3},
            {"id": "tags", "label": "Tags", "type": "checkbox", "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]},
            {"id": "on", "label": "On", "type": "switch"},
            {"id": "day", "label": "Day", "type": "date"},
            {"id": "att", "label": "File", "type": "file"}
        ]))
        .unwrap();
        let check = |v: Value| check_values(&form, v.as_object().unwrap()).map_err(|e| e.field);
        assert_eq!(check(json!({"decision": "yes"})), Ok(()));
        assert_eq!(
            check(
                json!({"decision": "no", "count": 9, "code": "ABC", "tags": ["b", "a"],
                         "on": false, "day": "2026-03-01", "att": {"id": "f1", "name": "a.txt"}, "other": 1})
            ),
            Ok(())
        );
        assert_eq!(check(json!({})), Err("decision".into()));
        assert_eq!(check(json!({"decision": ""})), Err("decision".into()));
        assert_eq!(check(json!({"decision": "maybe"})), Err("decision".into()));
        assert_eq!(
            check(json!({"decision": "yes", "count": 10})),
            Err("count".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "count": "5"})),
            Err("count".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "code": "abc"})),
            Err("code".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "code": "ABCD"})),
            Err("code".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "tags": ["a", "a"]})),
            Err("tags".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "tags": ["c"]})),
            Err("tags".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "on": "yes"})),
            Err("on".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "day": "03/01/2026"})),
            Err("day".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "att": 5})),
            Err("att".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "att": {"name": "a.txt"}})),
            Err("att".into())
        );
        assert_eq!(
            check(json!({"decision": "yes", "att": ["f1", {"id": " "}]})),
            Err("att".into())
        );
        assert_eq!(check(json!({"decision": "yes", "count": null})), Ok(()));
    }
}
