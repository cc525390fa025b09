//! What a script can call beyond Rhai's standard library — `set`, `output`,
//! `throw_bpmn_error`, captured `print`/`debug`, JavaScript-style helpers —
//! and the per-run state those calls write to.
//!
//! Rhai callbacks get no per-run context (`on_progress` sees only an
//! operation count), so the state of the run in progress lives in a
//! thread-local installed by [`begin`]: a run is synchronous on one thread
//! and a script cannot start another run.

use std::cell::RefCell;
use std::time::Instant;

use rhai::{Array, Dynamic, Engine, EvalAltResult, FLOAT, INT, ImmutableString, Map, Position};

/// `print` output kept per run; more is dropped with one marker line.
const MAX_LOG_LINES: usize = 1000;
const MAX_LOG_BYTES: usize = 64 * 1024;
/// The value `on_progress` terminates a run with when time is up.
pub const TIME_UP: &str = "baton:time-limit";

/// What one run has produced so far besides its variables.
pub struct RunState {
    /// `None` when `max_time` is too large to add to now.
    deadline: Option<Instant>,
    pub log: Vec<String>,
    log_bytes: usize,
    pub output: Option<Dynamic>,
    /// `set(..)` calls in order; a later write of a name wins.
    pub writes: Vec<(String, Dynamic)>,
    /// A copy of the variables for `execution.getVariable`, when the script
    /// mentions it.
    vars: Option<Map>,
}

thread_local! {
    static RUN: RefCell<Option<RunState>> = const { RefCell::new(None) };
}

/// Installs the state of a run on this thread until [`Run::finish`] (or drop).
pub fn begin(deadline: Option<Instant>, vars: Option<Map>) -> Run {
    let state = RunState {
        deadline,
        log: Vec::new(),
        log_bytes: 0,
        output: None,
        writes: Vec::new(),
        vars,
    };
    RUN.with(|run| *run.borrow_mut() = Some(state));
    Run(())
}

pub struct Run(());

impl Run {
    pub fn finish(self) -> Option<RunState> {
        RUN.with(|run| run.borrow_mut().take())
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        RUN.with(|run| run.borrow_mut().take());
    }
}

fn with_run<R>(f: impl FnOnce(&mut RunState) -> R) -> Option<R> {
    RUN.with(|run| run.try_borrow_mut().ok()?.as_mut().map(f))
}

fn log(line: String) {
    with_run(|run| {
        if run.log.len() >= MAX_LOG_LINES || run.log_bytes + line.len() > MAX_LOG_BYTES {
            if run.log.last().is_none_or(|l| l != "… log truncated") {
                run.log.push("… log truncated".into());
            }
            return;
        }
        run.log_bytes += line.len();
        run.log.push(line);
    });
}

/// Called by Rhai on every operation: ends the run once the deadline passes.
/// The clock is read every 1024 operations only, to keep the check cheap.
pub fn check_time(operations: u64) -> Option<Dynamic> {
    if !operations.is_multiple_of(1024) {
        return None;
    }
    let late = with_run(|run| run.deadline.is_some_and(|d| Instant::now() >= d)).unwrap_or(false);
    late.then(|| Dynamic::from(TIME_UP))
}

/// A BPMN error raised by `throw_bpmn_error`: thrown like any Rhai value (a
/// script may catch and rethrow it), told apart from other throws by type.
#[derive(Debug, Clone)]
pub struct BpmnError {
    pub code: String,
    pub message: String,
}

/// `console.log(..)` and friends, for pasted JavaScript.
#[derive(Debug, Clone)]
pub struct Console;

/// `execution.setVariable/getVariable`, the Camunda/Flowable script API.
#[derive(Debug, Clone)]
pub struct Execution;

fn runtime_error(message: impl Into<Dynamic>) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
}

fn set(name: &str, value: Dynamic) -> Result<(), Box<EvalAltResult>> {
    if name.is_empty() {
        return Err(runtime_error(
            "set(name, value): the name must not be empty",
        ));
    }
    with_run(|run| run.writes.push((name.to_string(), value)));
    Ok(())
}

fn get(name: &str) -> Dynamic {
    with_run(|run| {
        if let Some((_, v)) = run.writes.iter().rev().find(|(n, _)| n == name) {
            return v.clone();
        }
        run.vars
            .as_ref()
            .and_then(|m| m.get(name).cloned())
            .unwrap_or(Dynamic::UNIT)
    })
    .unwrap_or(Dynamic::UNIT)
}

fn throw_bpmn_error(code: &str, message: &str) -> Result<(), Box<EvalAltResult>> {
    if code.trim().is_empty() {
        return Err(runtime_error(
            "throw_bpmn_error(code, message): the code must not be empty",
        ));
    }
    let error = BpmnError {
        code: code.to_string(),
        message: message.to_string(),
    };
    Err(runtime_error(Dynamic::from(error)))
}

fn join(parts: &[Dynamic]) -> String {
    parts
        .iter()
        .map(Dynamic::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Registers everything above on `engine`, and shadows what must not run.
pub fn register(engine: &mut Engine) {
    engine.on_print(|s| log(s.to_string()));
    engine.on_debug(|s, _, pos| log(format!("[debug {}] {s}", position(pos))));
    engine.on_progress(check_time);

    engine.register_fn("set", set);
    engine.register_fn("output", |value: Dynamic| {
        with_run(|run| run.output = Some(value));
    });
    engine.register_fn("throw_bpmn_error", throw_bpmn_error);
    engine.register_fn("throw_bpmn_error", |code: &str| throw_bpmn_error(code, ""));
    engine.register_type_with_name::<BpmnError>("BpmnError");
    engine.register_get("code", |e: &mut BpmnError| e.code.clone());
    engine.register_get("message", |e: &mut BpmnError| e.message.clone());
    engine.register_fn("to_string", |e: &mut BpmnError| {
        format!("BPMN error {}: {}", e.code, e.message)
    });

    // Rhai's `sleep` would hold the worker thread beyond the time limit.
    let no_sleep = || Err::<(), _>(runtime_error("sleep is not available in script tasks"));
    engine.register_fn("sleep", move |_: INT| no_sleep());
    engine.register_fn("sleep", move |_: FLOAT| no_sleep());

    engine.register_type_with_name::<Console>("Console");
    for name in ["log", "info", "warn", "error"] {
        engine.register_fn(name, |_: &mut Console, a: Dynamic| log(join(&[a])));
        engine.register_fn(name, |_: &mut Console, a: Dynamic, b: Dynamic| {
            log(join(&[a, b]))
        });
        engine.register_fn(
            name,
            |_: &mut Console, a: Dynamic, b: Dynamic, c: Dynamic| {
                log(join(&[a, b, c]));
            },
        );
    }
    engine.register_type_with_name::<Execution>("Execution");
    engine.register_fn(
        "setVariable",
        |_: &mut Execution, name: &str, value: Dynamic| set(name, value),
    );
    engine.register_fn("getVariable", |_: &mut Execution, name: &str| get(name));

    register_javascript_helpers(engine);
}

/// The JavaScript spellings of common Rhai string/array functions.
fn register_javascript_helpers(engine: &mut Engine) {
    engine.register_get("length", |s: &mut ImmutableString| s.chars().count() as INT);
    engine.register_get("length", |a: &mut Array| a.len() as INT);
    engine.register_fn("toUpperCase", |s: &mut ImmutableString| s.to_uppercase());
    engine.register_fn("toLowerCase", |s: &mut ImmutableString| s.to_lowercase());
    engine.register_fn("startsWith", |s: &mut ImmutableString, p: &str| {
        s.starts_with(p)
    });
    engine.register_fn("endsWith", |s: &mut ImmutableString, p: &str| {
        s.ends_with(p)
    });
    engine.register_fn("includes", |s: &mut ImmutableString, p: &str| s.contains(p));
    engine.register_fn("indexOf", |s: &mut ImmutableString, p: &str| {
        s.find(p)
            .map_or(-1, |byte| s[..byte].chars().count() as INT)
    });
    // Rhai's `trim` trims in place and returns `()`; JavaScript's returns the
    // result. This one does both, so `s = s.trim()` keeps working.
    engine.register_fn("trim", |s: &mut ImmutableString| {
        let trimmed: ImmutableString = s.trim().into();
        *s = trimmed.clone();
        trimmed
    });
    engine.register_fn("toString", |v: &mut Dynamic| v.to_string());
    engine.register_fn("parseInt", |s: &str| {
        s.trim()
            .parse::<INT>()
            .map_or(Dynamic::UNIT, Dynamic::from_int)
    });
    engine.register_fn("parseFloat", |s: &str| {
        s.trim()
            .parse::<FLOAT>()
            .map_or(Dynamic::UNIT, Dynamic::from_float)
    });
    engine.register_fn("Error", |message: Dynamic| message.to_string());
}

/// `line:column`, or `?` when Rhai has no position.
pub fn position(pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(line), Some(col)) => format!("{line}:{col}"),
        (Some(line), None) => format!("{line}"),
        _ => "?".into(),
    }
}
