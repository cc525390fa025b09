//! Turning a finished Rhai run into a [`JobResult`]: which variables are
//! written back, what the output is, and how errors read.

use std::collections::HashSet;

use rhai::{Dynamic, EvalAltResult, Scope};
use serde_json::{Map, Value};

use super::Limits;
use super::convert::to_json;
use super::host::{self, BpmnError, RunState, TIME_UP};
use crate::job::JobResult;

/// The write-back rule of the module docs, over the scope after the run
/// (Rhai has rewound block-local `let`s; top-level ones remain). `iter_raw`
/// yields the newest entry first, so the first entry seen for a name is its
/// latest binding.
pub fn written_vars(
    scope: &Scope,
    before: &Map<String, Value>,
    protected: &[&str],
) -> Map<String, Value> {
    let mut seen = HashSet::new();
    let mut written = Map::new();
    for (name, _, value) in scope.iter_raw() {
        if protected.contains(&name) || !seen.insert(name) {
            continue;
        }
        let old = before.get(name);
        if old.is_none() && value.is_unit() {
            continue; // new but never given a value
        }
        let Ok(new) = to_json(value) else { continue };
        if old != Some(&new) {
            written.insert(name.to_string(), new);
        }
    }
    written
}

/// Adds explicit `set` writes and builds the output. An explicit value with
/// no JSON form is an error (it would otherwise be lost silently).
pub fn done(
    mut vars: Map<String, Value>,
    state: RunState,
    result: Dynamic,
) -> Result<JobResult, String> {
    for (name, value) in state.writes {
        let value = to_json(&value).map_err(|e| format!("failed: set(\"{name}\", …): {e}"))?;
        vars.insert(name, value);
    }
    let output = match state.output {
        Some(value) => Some(to_json(&value).map_err(|e| format!("failed: output(…): {e}"))?),
        None => {
            let mut output = Map::new();
            if !state.log.is_empty() {
                output.insert("log".into(), state.log.into());
            }
            if !result.is_unit()
                && let Ok(result) = to_json(&result)
            {
                output.insert("result".into(), result);
            }
            (!output.is_empty()).then_some(Value::Object(output))
        }
    };
    Ok(JobResult::Done { output, vars })
}

/// A failed run: a BPMN error when `throw_bpmn_error` raised it (even from
/// inside a function), else a technical failure with line:column.
pub fn failure(err: &EvalAltResult, limits: &Limits, element: &str) -> JobResult {
    let inner = err.unwrap_inner();
    if let EvalAltResult::ErrorRuntime(value, _) = inner
        && let Some(bpmn) = value.read_lock::<BpmnError>()
    {
        return JobResult::bpmn(bpmn.code.clone(), bpmn.message.clone());
    }
    let what = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!(
                "exceeded the operation limit ({} operations)",
                limits.max_operations
            )
        }
        EvalAltResult::ErrorTerminated(token, _) if token.to_string() == TIME_UP => {
            format!("exceeded the time limit ({:?})", limits.max_time)
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => format!(
            "{what} exceeds the size limit (strings {} bytes, arrays {} elements, maps {} entries)",
            limits.max_string, limits.max_array, limits.max_map
        ),
        EvalAltResult::ErrorStackOverflow(_) => {
            format!(
                "exceeded the call depth limit ({} nested calls)",
                limits.max_call_depth
            )
        }
        // Rhai appends " (line L, position C)"; we print line:column first.
        other => {
            let text = other.to_string();
            let suffix = format!(" ({})", other.position());
            match text.strip_suffix(&suffix) {
                Some(bare) if !other.position().is_none() => bare.to_string(),
                _ => text,
            }
        }
    };
    let mut at = inner.position();
    let mut calls = Vec::new();
    let mut layer = err;
    while let EvalAltResult::ErrorInFunctionCall(name, _, next, pos) = layer {
        calls.push(format!("in `{name}` called at {}", host::position(*pos)));
        if at.is_none() {
            at = *pos;
        }
        layer = next;
    }
    let mut message = format!(
        "script task '{element}' failed at {}: {what}",
        host::position(at)
    );
    if !calls.is_empty() {
        message.push_str(&format!(" ({})", calls.join(", ")));
    }
    JobResult::technical(message)
}
