//! What a running node sees: its properties (rendered on demand, strictly),
//! the variables they resolve against, its resources, a log stream, and a
//! cancellation signal.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_expr::{Scope, Template, parse_template};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use crate::error::NodeError;
use crate::resources::{Account, DataSource, Resources, Script, Terminal};
use crate::secret::mask_all;
use crate::{Outputs, secret};

/// Which job this is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    /// `instance:exec`.
    pub job_id: String,
    pub instance_id: String,
    /// The BPMN element id (`${thisId.…}` in later nodes).
    pub element_id: String,
    /// The element's name.
    pub name: String,
    pub attempt: u32,
}

/// Which stream a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
    /// The node's own account of what it does ("connecting to ...").
    Info,
}

/// One line of a node's log, secrets already masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub job_id: String,
    pub attempt: u32,
    pub stream: Stream,
    pub text: String,
}

/// A running node's context.
pub struct Ctx {
    pub job: JobInfo,
    props: Outputs,
    vars: Map<String, Value>,
    outputs: Map<String, Value>,
    globals: Map<String, Value>,
    resources: Arc<dyn Resources>,
    log: Option<UnboundedSender<LogLine>>,
    cancel: CancellationToken,
    secrets: Mutex<Vec<String>>,
    /// Rendered properties and resolved resources: part of the node's outputs
    /// (`${node.workDir}`, `${node.terminal.hostAddress}`).
    seen: Mutex<Outputs>,
}

/// Built-ins (`LWAMS_*`), node outputs, process variables, global variables:
/// the first that defines a name wins.
fn layered<'a>(
    name: &str,
    vars: &'a Map<String, Value>,
    outputs: &'a Map<String, Value>,
    globals: &'a Map<String, Value>,
) -> Option<&'a Value> {
    name.starts_with("LWAMS_")
        .then(|| vars.get(name))
        .flatten()
        .or_else(|| outputs.get(name))
        .or_else(|| vars.get(name))
        .or_else(|| globals.get(name))
}

struct NodeScope<'a>(&'a Ctx);

impl Scope for NodeScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.lookup_ref(name).map(Cow::into_owned)
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        let c = self.0;
        layered(name, &c.vars, &c.outputs, &c.globals).map(Cow::Borrowed)
    }
}

/// An owned copy of what `${}` resolves against, for work moved off the
/// async runtime (filling a report).
#[derive(Debug, Clone, Default)]
pub struct ScopeSnapshot {
    vars: Map<String, Value>,
    outputs: Map<String, Value>,
    globals: Map<String, Value>,
}

impl Scope for ScopeSnapshot {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.lookup_ref(name).map(Cow::into_owned)
    }
    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        layered(name, &self.vars, &self.outputs, &self.globals).map(Cow::Borrowed)
    }
}

impl Ctx {
    pub fn new(job: JobInfo, props: Outputs, resources: Arc<dyn Resources>) -> Self {
        Ctx {
            job,
            props,
            vars: Map::new(),
            outputs: Map::new(),
            globals: Map::new(),
            resources,
            log: None,
            cancel: CancellationToken::new(),
            secrets: Mutex::new(Vec::new()),
            seen: Mutex::new(Map::new()),
        }
    }

    /// Process variables (built-ins `LWAMS_*` among them).
    pub fn with_vars(mut self, vars: Map<String, Value>) -> Self {
        self.vars = vars;
        self
    }
    /// Earlier nodes' outputs, by element id.
    pub fn with_outputs(mut self, outputs: Map<String, Value>) -> Self {
        self.outputs = outputs;
        self
    }
    pub fn with_globals(mut self, globals: Map<String, Value>) -> Self {
        self.globals = globals;
        self
    }
    pub fn with_log(mut self, log: UnboundedSender<LogLine>) -> Self {
        self.log = Some(log);
        self
    }
    pub fn with_cancel(mut self, cancel: CancellationToken) -> Self {
        self.cancel = cancel;
        self
    }

    pub fn resources(&self) -> &dyn Resources {
        &*self.resources
    }

    /// The variables `${}` resolves against.
    pub fn scope(&self) -> impl Scope + '_ {
        NodeScope(self)
    }

    /// The same, owned.
    pub fn snapshot(&self) -> ScopeSnapshot {
        ScopeSnapshot {
            vars: self.vars.clone(),
            outputs: self.outputs.clone(),
            globals: self.globals.clone(),
        }
    }

    // ---- properties ----------------------------------------------------

    /// A property as written (unrendered); `None` when absent or blank.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.props
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    }

    /// The first of `names` that is present, as written, with its name.
    pub fn raw_any<'n>(&self, names: &[&'n str]) -> Option<(&'n str, &str)> {
        names.iter().find_map(|n| self.raw(n).map(|v| (*n, v)))
    }

    /// A property as a parsed template.
    pub fn template(&self, name: &str) -> Result<Option<Template>, NodeError> {
        self.raw(name)
            .map(|src| parse_template(src).map_err(|e| NodeError::property(name, e)))
            .transpose()
    }

    /// A property rendered to text (strict: an unknown name is an error that
    /// names it). Recorded among the node's outputs.
    pub fn text(&self, name: &str) -> Result<Option<String>, NodeError> {
        let Some(t) = self.template(name)? else {
            return Ok(None);
        };
        let s = t
            .render_strict(&self.scope())
            .map_err(|e| NodeError::property(name, e))?;
        self.record(name, Value::String(s.clone()));
        Ok(Some(s))
    }

    /// A property that must be present.
    pub fn required(&self, name: &str) -> Result<String, NodeError> {
        self.text(name)?
            .ok_or_else(|| NodeError::property(name, "is required"))
    }

    /// A property's typed value: `${n}` alone gives `n`'s value, anything
    /// else the rendered text. Recorded among the outputs.
    pub fn value(&self, name: &str) -> Result<Option<Value>, NodeError> {
        let Some(t) = self.template(name)? else {
            return Ok(None);
        };
        let v = t
            .eval_strict(&self.scope())
            .map_err(|e| NodeError::property(name, e))?;
        self.record(name, v.clone());
        Ok(Some(v))
    }

    /// A secret property (a password in the node): rendered, masked from
    /// now on, never recorded.
    pub fn secret_text(&self, name: &str) -> Result<Option<secret::Secret>, NodeError> {
        let Some(t) = self.template(name)? else {
            return Ok(None);
        };
        let s = t
            .render_strict(&self.scope())
            .map_err(|e| NodeError::property(name, e))?;
        self.add_secret(&s);
        Ok(Some(secret::Secret::new(s)))
    }

    /// `true`/`false` (also `yes`/`no`, `1`/`0`); `default` when absent.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, NodeError> {
        match self.value(name)? {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(v) => match v.as_str().map(|s| s.trim().to_ascii_lowercase()).as_deref() {
                Some("true" | "yes" | "1" | "on") => Ok(true),
                Some("false" | "no" | "0" | "off") => Ok(false),
                _ => match v.as_i64() {
                    Some(n) => Ok(n != 0),
                    None => Err(NodeError::property(
                        name,
                        format!("`{v}` is not true or false"),
                    )),
                },
            },
        }
    }

    /// A non-negative number.
    pub fn number(&self, name: &str) -> Result<Option<f64>, NodeError> {
        let Some(v) = self.value(name)? else {
            return Ok(None);
        };
        let n = v
            .as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
            .filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| NodeError::property(name, format!("`{v}` is not a number ≥ 0")))?;
        Ok(Some(n))
    }

    /// A duration in seconds (fractions allowed).
    pub fn seconds(&self, name: &str) -> Result<Option<Duration>, NodeError> {
        Ok(self
            .number(name)?
            .map(|s| Duration::from_secs_f64(s.min(1e9))))
    }

    /// Records an output of the node (a resolved property or resource).
    pub fn record(&self, name: &str, value: Value) {
        lock(&self.seen).insert(name.to_owned(), value);
    }

    /// What the node recorded: its rendered properties and resources.
    pub fn recorded(&self) -> Outputs {
        lock(&self.seen).clone()
    }

    // ---- resources -----------------------------------------------------

    /// The terminal (`terminal`) and account (`terminalAccount`, also
    /// `terminalUser`; the terminal's first account when absent). Recorded
    /// as `terminal` and `terminalUser`; the account's secrets are masked.
    pub async fn terminal_and_account(&self) -> Result<(Terminal, Account), NodeError> {
        let tname = self.required("terminal")?;
        let terminal = self
            .resources
            .terminal(&tname)
            .await
            .map_err(NodeError::Resource)?
            .ok_or_else(|| NodeError::Resource(format!("no terminal `{tname}`")))?;
        let aname = match self.raw_any(&["terminalAccount", "terminalUser"]) {
            Some((n, _)) => self.text(n)?,
            None => None,
        };
        let account = self
            .resources
            .account(&terminal, aname.as_deref())
            .await
            .map_err(NodeError::Resource)?
            .ok_or_else(|| match &aname {
                Some(a) => NodeError::Resource(format!(
                    "terminal `{}` has no account `{a}`",
                    terminal.name
                )),
                None => NodeError::Resource(format!("terminal `{}` has no account", terminal.name)),
            })?;
        for s in account.secrets() {
            self.add_secret(&s);
        }
        self.record("terminal", terminal.to_value());
        self.record("terminalUser", account.to_value());
        Ok((terminal, account))
    }

    /// The data source (`dataSource`), recorded as `dataSource`; its password is masked.
    pub async fn data_source(&self) -> Result<DataSource, NodeError> {
        let name = self.required("dataSource")?;
        let ds = self
            .resources
            .data_source(&name)
            .await
            .map_err(NodeError::Resource)?
            .ok_or_else(|| NodeError::Resource(format!("no data source `{name}`")))?;
        if let Some(p) = &ds.password {
            self.add_secret(p.expose());
        }
        self.record("dataSource", ds.to_value());
        Ok(ds)
    }

    /// A script-library entry by id or name.
    pub async fn script(&self, name: &str) -> Result<Script, NodeError> {
        self.resources
            .script(name)
            .await
            .map_err(NodeError::Resource)?
            .ok_or_else(|| NodeError::Resource(format!("no script `{name}` in the script library")))
    }

    /// The command to run: the `command` property, or the script-library
    /// template named by `script` rendered with the node's variables.
    /// Recorded as `command`.
    pub async fn command(&self) -> Result<String, NodeError> {
        if self.raw("command").is_some() {
            return self.required("command");
        }
        let Some(name) = self.text("script")? else {
            return Err(NodeError::property(
                "command",
                "is required (or `script`, a script-library entry)",
            ));
        };
        let script = self.script(&name).await?;
        let t = parse_template(&script.content)
            .map_err(|e| NodeError::property("script", format!("library script `{name}`: {e}")))?;
        let text = t
            .render_strict(&self.scope())
            .map_err(|e| NodeError::property("script", format!("library script `{name}`: {e}")))?;
        self.record("command", Value::String(text.clone()));
        Ok(text)
    }

    // ---- secrets, logs, cancellation ---------------------------------

    /// From now on `s` is masked in logs, errors and outputs.
    pub fn add_secret(&self, s: &str) {
        if !s.is_empty() {
            lock(&self.secrets).push(s.to_owned());
        }
    }

    /// `text` with every known secret masked.
    pub fn mask(&self, text: &str) -> String {
        mask_all(text, &lock(&self.secrets))
    }

    /// Streams one log line (masked).
    pub fn log(&self, stream: Stream, text: &str) {
        if let Some(tx) = &self.log {
            let _ = tx.send(LogLine {
                job_id: self.job.job_id.clone(),
                attempt: self.job.attempt,
                stream,
                text: self.mask(text),
            });
        }
    }

    /// Resolves when the work must stop (timeout or engine cancel).
    pub async fn cancelled(&self) {
        self.cancel.cancelled().await
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    pub(crate) fn set_globals(&mut self, globals: Map<String, Value>) {
        if self.globals.is_empty() {
            self.globals = globals;
        }
    }

    pub(crate) fn props_mut(&mut self) -> &mut Outputs {
        &mut self.props
    }

    pub(crate) fn cancel_token(&self) -> &CancellationToken {
        &self.cancel
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
