//! Script tasks: an embedded, sandboxed, time-limited [Rhai](https://rhai.rs)
//! interpreter that turns a [`JobInput`] into a [`JobResult`].
//!
//! # Formats
//! `rhai`, and `javascript`/`js`/`ecmascript` (MIME spellings too): BPMN tools
//! default to JavaScript, so those scripts are run by Rhai after a lexical
//! pre-pass. What works: expressions, `let`/`const`/`var`, assignment,
//! `if (…) {…} else {…}`, `while`, `&&`/`||`/`!`, `===`/`!==` (as `==`/`!=`,
//! which never coerce types in Rhai), `'…'` and `"…"` strings, `` `…${x}…` ``,
//! `null`/`undefined` (as `()`), object literals `{a: 1}` after `=`, `(`, `,`,
//! `:`, `[`, `return`, arrays, `x.y` / `x["y"]`, postfix `i++`/`i--`
//! statements, `function f(a) {…}` (a Rhai function: it cannot see outer
//! variables), `throw new Error("…")`, `console.log(…)` (1–3 arguments),
//! `execution.getVariable/setVariable`, and `.length`, `toUpperCase`,
//! `toLowerCase`, `startsWith`, `endsWith`, `includes` (strings), `indexOf`,
//! `trim`, `toString`, `parseInt`, `parseFloat`. Not supported: C-style `for`,
//! `?:`, `typeof`, `JSON`, `Math`, regexes, statements without `;`. A script
//! that does not parse fails with a message saying Baton runs JavaScript with
//! Rhai and Rhai's error at line:column. Other formats: [`ScriptEngine::supports`]
//! is false, so they are rejected at deploy time.
//!
//! # Variables
//! Each process variable whose name is an identifier is a Rhai variable;
//! all of them are also in the read-only map `vars` (`vars["my-var"]`).
//! After the run, Rhai's scope holds the injected variables plus every
//! top-level `let`/`const` (block and function locals are gone by then).
//! Bare assignments to unknown names (`total = …`, anywhere, as JavaScript
//! creates globals) work because those names are found lexically and
//! declared as `()` before the run. For each name in that scope — its latest
//! binding, when `let` shadows — the value is written back to
//! [`JobResult::Done`]`.vars` when
//! 1. it was a process variable and its JSON value now differs, or
//! 2. it is new and its value is not `()` (`()` means "never assigned";
//!    to create a `null` variable use `set("name", ())`).
//!
//! Variables declared inside blocks or functions are not written back;
//! `vars`, `console`, `execution` never are (use `set`). Values without a
//! JSON form (function pointers, ranges, timestamps) are skipped. Then
//! `set("name", value)` writes apply, last one winning.
//!
//! # Output
//! `output(value)` sets the node output. Without it, the output is
//! `{"log": [..print/console lines..], "result": <script value>}` with each
//! key present only when non-empty / not `()`; no output when both are absent.
//!
//! # Errors
//! `throw_bpmn_error("CODE", "message")` fails with [`Failure::Bpmn`] (catchable
//! by a boundary event; a script may also `catch` and rethrow it). Anything
//! else — `throw`, type errors, unknown variables or functions, limits —
//! fails with [`Failure::Technical`] naming the line:column.
//!
//! # Sandbox
//! Rhai has no file, network, process or environment access; `import` and
//! `eval` are disabled, modules resolve to nothing, `sleep` fails, `print`
//! and `debug` are captured. [`Limits`] bound operations, wall-clock time,
//! data sizes and nesting. Rhai panics are caught and reported as Technical.
//! Rhai recurses over nested values, so a run needs
//! [`ScriptEngine::stack_size`] of stack; on a thread with less it switches
//! to a fresh stack segment rather than risk a stack overflow (an abort).
//!
//! [`Failure::Bpmn`]: baton_core::Failure::Bpmn
//! [`Failure::Technical`]: baton_core::Failure::Technical

mod cache;
mod convert;
mod dialect;
mod host;
mod outcome;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{AST, Dynamic, Engine, Scope};
use serde_json::{Map, Value};

use crate::job::{JobInput, JobResult};
use dialect::Dialect;

/// Bounds on one run. A zero numeric limit means "unlimited" (Rhai's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations (roughly: expression nodes evaluated). Default 1 000 000.
    pub max_operations: u64,
    /// Wall-clock time of one run. Default 1 s.
    pub max_time: Duration,
    /// Bytes in one string. Default 1 MiB.
    pub max_string: usize,
    /// Elements in one array, nested arrays counted. Default 50 000.
    pub max_array: usize,
    /// Entries in one map, nested maps counted. Default 50 000.
    pub max_map: usize,
    /// Nested script-function calls. Default 32.
    pub max_call_depth: usize,
    /// Nesting of expressions/statements, checked at parse time. Default 64.
    pub max_expr_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 1_000_000,
            max_time: Duration::from_secs(1),
            max_string: 1 << 20,
            max_array: 50_000,
            max_map: 50_000,
            max_call_depth: 32,
            max_expr_depth: 64,
        }
    }
}

/// Compiled scripts kept per dialect.
const CACHE_CAPACITY: usize = 512;

/// Names bound by the engine itself; process variables of these names are
/// only reachable as `vars["…"]`.
const PROTECTED: [&str; 3] = ["vars", "console", "execution"];

/// The script runtime: build once, share (Send + Sync); runs are independent.
pub struct ScriptEngine {
    engine: Engine,
    limits: Limits,
    rhai_cache: cache::Lru<String, Compiled>,
    js_cache: cache::Lru<String, Compiled>,
}

/// A parsed script, ready to run (cheap to clone).
#[derive(Clone)]
pub struct CompiledScript {
    dialect: Dialect,
    inner: Arc<Compiled>,
}

struct Compiled {
    ast: AST,
    /// Bare assignment targets, declared as `()` before each run.
    assigned: Vec<String>,
    /// Whether the script may call `execution.getVariable`, which needs its
    /// own copy of the variables.
    reads_vars: bool,
}

impl std::fmt::Debug for CompiledScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledScript")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl ScriptEngine {
    pub fn new(limits: Limits) -> Self {
        let mut engine = Engine::new();
        engine
            .set_max_operations(limits.max_operations)
            .set_max_string_size(limits.max_string)
            .set_max_array_size(limits.max_array)
            .set_max_map_size(limits.max_map)
            .set_max_call_levels(limits.max_call_depth)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth)
            .set_max_modules(0)
            .set_module_resolver(rhai::module_resolvers::DummyModuleResolver::new())
            .disable_symbol("import")
            .disable_symbol("eval");
        host::register(&mut engine);
        ScriptEngine {
            engine,
            limits,
            rhai_cache: cache::Lru::new(CACHE_CAPACITY),
            js_cache: cache::Lru::new(CACHE_CAPACITY),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The stack a run needs (from the limits; 100 MiB by default). A run on
    /// a thread with less stack left first switches to a fresh stack segment
    /// (~25 µs); threads that run many scripts should be spawned with this
    /// much stack (it is reserved, and committed only as touched).
    pub fn stack_size(&self) -> usize {
        stack_size(&self.limits)
    }

    /// Whether scripts of this BPMN `scriptFormat` can run (case-insensitive;
    /// the empty format is not supported here).
    pub fn supports(format: &str) -> bool {
        Dialect::of(format).is_some()
    }

    /// Parses `script`, e.g. to reject a deployment early. The error names
    /// the line:column. Results are cached by script text.
    pub fn compile(&self, format: &str, script: &str) -> Result<CompiledScript, String> {
        let dialect = Dialect::of(format).ok_or_else(|| {
            format!(
                "unsupported script format '{format}': Baton runs rhai and javascript (with Rhai)"
            )
        })?;
        let cache = match dialect {
            Dialect::Rhai => &self.rhai_cache,
            Dialect::JavaScript => &self.js_cache,
        };
        if let Some(inner) = cache.get(script) {
            return Ok(CompiledScript { dialect, inner });
        }
        let source = match dialect {
            Dialect::Rhai => script.to_string(),
            Dialect::JavaScript => dialect::javascript_to_rhai(script),
        };
        let ast = match catch_unwind(AssertUnwindSafe(|| self.engine.compile(&source))) {
            Ok(Ok(ast)) => ast,
            Ok(Err(e)) => {
                let at = host::position(e.position());
                return Err(match dialect {
                    Dialect::Rhai => format!("syntax error at {at}: {}", e.err_type()),
                    Dialect::JavaScript => format!(
                        "Baton runs JavaScript-format scripts with Rhai (https://rhai.rs), \
                         and this script is not valid Rhai: syntax error at {at}: {}",
                        e.err_type()
                    ),
                });
            }
            Err(_) => return Err("the script parser failed unexpectedly".into()),
        };
        let assigned = dialect::assigned_names(&source);
        let reads_vars = source.contains("getVariable");
        let inner = Arc::new(Compiled {
            ast,
            assigned,
            reads_vars,
        });
        cache.insert(script.to_string(), inner.clone());
        Ok(CompiledScript { dialect, inner })
    }

    /// Runs a script task's job: `job.kind` is `script:<format>`, `job.script`
    /// the text, `job.vars` the visible variables. Never panics.
    pub fn run(&self, job: &JobInput) -> JobResult {
        let element = &job.element_id;
        let Some(format) = job.kind.strip_prefix("script:") else {
            return JobResult::technical(format!(
                "'{element}' is not a script task (job kind '{}')",
                job.kind
            ));
        };
        let Some(script) = job.script.as_deref() else {
            return JobResult::technical(format!("script task '{element}' has no script"));
        };
        match self.compile(format, script) {
            Ok(compiled) => self.run_compiled(&compiled, &job.vars, element),
            Err(e) => JobResult::technical(format!("script task '{element}': {e}")),
        }
    }

    /// Runs an already compiled script against `vars`.
    pub fn run_compiled(
        &self,
        compiled: &CompiledScript,
        vars: &Map<String, Value>,
        element: &str,
    ) -> JobResult {
        // Rhai recurses over nested values (size checks, clone, drop), so a
        // script nesting arrays/maps deeply needs a deep stack: run on a
        // fresh segment unless this thread has room to spare.
        let stack = self.stack_size();
        stacker::maybe_grow(stack, stack, || {
            self.run_on_this_stack(compiled, vars, element)
        })
    }

    fn run_on_this_stack(
        &self,
        compiled: &CompiledScript,
        vars: &Map<String, Value>,
        element: &str,
    ) -> JobResult {
        let inner = &compiled.inner;
        let map = convert::to_map(vars);
        let mut scope = Scope::with_capacity(vars.len() + PROTECTED.len() + inner.assigned.len());
        for (name, value) in &map {
            if is_identifier(name) && !PROTECTED.contains(&name.as_str()) {
                scope.push_dynamic(name.as_str(), value.clone());
            }
        }
        for name in &inner.assigned {
            if !scope.contains(name) && !PROTECTED.contains(&name.as_str()) {
                scope.push_dynamic(name.as_str(), Dynamic::UNIT);
            }
        }
        let host_vars = inner.reads_vars.then(|| map.clone());
        scope.push_constant("console", host::Console);
        scope.push_constant("execution", host::Execution);
        scope.push_constant_dynamic("vars", Dynamic::from_map(map));

        let deadline = Instant::now().checked_add(self.limits.max_time);
        let run = host::begin(deadline, host_vars);
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.engine
                .eval_ast_with_scope::<Dynamic>(&mut scope, &inner.ast)
        }));
        let state = run.finish();
        let fail =
            |message: String| JobResult::technical(format!("script task '{element}' {message}"));
        let value = match result {
            Ok(Ok(value)) => value,
            Ok(Err(err)) => match *err {
                rhai::EvalAltResult::Exit(value, _) => value,
                err => return outcome::failure(&err, &self.limits, element),
            },
            Err(_) => return fail("failed: the script engine panicked (a bug in Baton)".into()),
        };
        let Some(state) = state else {
            return fail("failed: the run state was lost (a bug in Baton)".into());
        };
        let written = outcome::written_vars(&scope, vars, &PROTECTED);
        outcome::done(written, state, value).unwrap_or_else(fail)
    }
}

/// Stack a run may need: Rhai's recursion costs a few hundred bytes per
/// nesting level (measured ~300–400 B in debug builds), and nesting is
/// bounded by the element counts; 1 KiB per level leaves a margin. Only
/// touched pages are committed, so a large reservation is cheap.
fn stack_size(limits: &Limits) -> usize {
    const MIN: usize = 16 << 20;
    const MAX: usize = 1 << 30;
    let levels = limits.max_array.saturating_add(limits.max_map);
    let levels = if limits.max_array == 0 || limits.max_map == 0 {
        usize::MAX
    } else {
        levels
    };
    levels.saturating_mul(1024).clamp(MIN, MAX)
}

/// A name a script can refer to as a plain variable.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
