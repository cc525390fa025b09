//! Property schemas (JSON Schema, the editor's properties panel is generated
//! from them) and the deploy-time checks derived from them.

use serde_json::{Value, json};

use crate::Outputs;
use crate::error::NodeError;

/// One property of a node's schema.
pub fn prop(kind: &str, title: &str, description: &str) -> Value {
    json!({"type": kind, "title": title, "description": description})
}

/// A property with a fixed set of values.
pub fn choice(title: &str, values: &[&str], default: &str) -> Value {
    json!({"type": "string", "title": title, "enum": values, "default": default})
}

/// A write-only property (a password): the editor masks it.
pub fn secret(title: &str) -> Value {
    json!({"type": "string", "title": title, "x-secret": true})
}

/// The kinds of resource a property may name (its `x-ref`): the editor
/// offers a picker of the company's objects of that kind. The value stored
/// is the object's name (the nodes resolve an id or a name; an account by
/// its user name, a form or a process by its key).
pub const REF_KINDS: &[&str] = &[
    "terminal",
    "account",
    "host",
    "dataSource",
    "script",
    "reportTemplate",
    "form",
    "process",
];

/// A property naming a resource of `kind` (one of [`REF_KINDS`]).
pub fn reference(kind: &str, title: &str, description: &str) -> Value {
    let mut v = prop("string", title, description);
    v["x-ref"] = json!(kind);
    v
}

/// What every node run outputs (`${elementId.name}`, ...), before its own.
pub const COMMON_OUTPUTS: &[&str] = &["name", "createDate", "createDatetime"];

/// The outputs a node kind adds to [`COMMON_OUTPUTS`] (`${elementId.stdout}`),
/// besides its rendered properties: the single list the editor's `${}`
/// completion reads (`x-outputs` of the schemas served).
pub fn outputs(kind: &str) -> &'static [&'static str] {
    match kind {
        "local-command" => &[
            "command",
            "stdout",
            "stderr",
            "exitCode",
            "durationMs",
            "truncated",
        ],
        "remote-command" => &[
            "terminal",
            "terminalUser",
            "command",
            "stdout",
            "stderr",
            "exitCode",
            "durationMs",
            "truncated",
        ],
        "sql" => &[
            "dataSource",
            "rowCount",
            "columns",
            "rows",
            "truncated",
            "affectedRows",
        ],
        "file-distribution" => &["terminal", "terminalUser", "size", "sha256", "durationMs"],
        "file-operation" => &["path", "size", "content", "encoding", "newPath", "deleted"],
        "http" => &[
            "status",
            "headers",
            "body",
            "finalUrl",
            "durationMs",
            "errorMessage",
        ],
        "mail" => &["messageId", "recipients", "smtpResponse"],
        "report" => &["report", "size", "rowsAdded"],
        _ => &[],
    }
}

/// `schema` with its kind's outputs as `x-outputs` ([`COMMON_OUTPUTS`] first).
pub fn with_outputs(kind: &str, mut schema: Value) -> Value {
    let all: Vec<&str> = COMMON_OUTPUTS
        .iter()
        .chain(outputs(kind))
        .copied()
        .collect();
    if let Some(m) = schema.as_object_mut() {
        m.insert("x-outputs".into(), json!(all));
    }
    schema
}

/// The properties every node has: the registry reads them.
pub fn common() -> Vec<(&'static str, Value)> {
    vec![
        (
            "timeout",
            prop(
                "number",
                "Timeout (s)",
                "Stop the work after this many seconds.",
            ),
        ),
        (
            "resultVariable",
            prop(
                "string",
                "Result variable",
                "Also store the outputs as this process variable.",
            ),
        ),
        (
            "inCloud",
            prop(
                "boolean",
                "In cloud",
                "Run on the server (true) or on the chosen host's Sub-Manager.",
            ),
        ),
        (
            "host",
            reference(
                "host",
                "Host",
                "The Sub-Manager host (id or name) that runs this node; empty: the \
                 terminal's host, or the server when the terminal has none.",
            ),
        ),
    ]
}

/// A node schema: an object with `properties` (the common ones added) and
/// `required`. Every property value is a string template in BPMN; `type`
/// says what it must render to. `x-order` lists the properties in the order
/// written here (a JSON object keeps none), the order the editor shows them in.
pub fn object(title: &str, props: Vec<(&str, Value)>, required: &[&str]) -> Value {
    let mut map = serde_json::Map::new();
    let mut order = Vec::new();
    for (k, v) in props.into_iter().chain(common()) {
        order.push(k.to_owned());
        map.insert(k.to_owned(), v);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": map,
        "required": required,
        "x-order": order,
    })
}

/// The properties of `call-process`: the model compiles it into a call
/// activity (no node runs it), but the editor offers it beside the nodes.
pub fn call_process() -> Value {
    with_outputs(
        "call-process",
        json!({
            "type": "object",
            "title": "Call process",
            "properties": {
                "processKey": {"type": "string", "title": "Process key",
                    "description": "The deployed process to start and wait for.",
                    "x-ref": "process"},
                "version": {"type": "string", "title": "Version",
                    "description": "Its version; empty: the latest."},
                "param": {"type": "string", "title": "Parameter",
                    "description": "Given to the child as LWAMS_CALL_PARAM."}
            },
            "required": ["processKey"],
            "x-order": ["processKey", "version", "param"]
        }),
    )
}

/// Every `required` property is present and not blank.
pub fn check_required(schema: &Value, props: &Outputs) -> Result<(), NodeError> {
    let required = schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    for name in required {
        let present = props
            .get(name)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        if !present {
            return Err(NodeError::property(name, "is required"));
        }
    }
    Ok(())
}

/// Every property is a well-formed `${}` template.
pub fn check_templates(props: &Outputs) -> Result<(), NodeError> {
    for (name, v) in props {
        if let Some(s) = v.as_str() {
            baton_expr::parse_template(s).map_err(|e| NodeError::property(name, e))?;
        }
    }
    Ok(())
}

/// An enumerated property, when written literally, is one of `values`.
pub fn check_choice(props: &Outputs, name: &str, values: &[&str]) -> Result<(), NodeError> {
    let Some(v) = props.get(name).and_then(Value::as_str) else {
        return Ok(());
    };
    if v.contains("${") || v.contains("#{") || v.trim().is_empty() {
        return Ok(());
    }
    if values.iter().any(|x| x.eq_ignore_ascii_case(v.trim())) {
        Ok(())
    } else {
        Err(NodeError::property(
            name,
            format!("`{v}` is not one of {}", values.join(", ")),
        ))
    }
}
