//! The registry: node kinds (and the Flowable / Camunda 7 names read as
//! them), and the one place a node is run: timeout, cancellation, outputs
//! assembled, secrets masked.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::ctx::Ctx;
use crate::error::NodeError;
use crate::{Node, Outputs};

/// How long a node gets to clean up (kill its process) after a timeout.
const GRACE: Duration = Duration::from_secs(5);

/// Another tool's name for a node: its properties are mapped to Baton's
/// before the node sees them.
#[derive(Clone)]
struct Alias {
    to: &'static str,
    map: fn(&mut Outputs),
    /// `(property, output)`: when `property` names a variable, the output is
    /// stored in it (Flowable's `outputVariable`, `errorCodeVariable`, ...).
    vars: &'static [(&'static str, &'static str)],
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq)]
pub enum RunResult {
    /// `outputs` become `${elementId.…}`; `vars` are set as process variables.
    Done {
        outputs: Outputs,
        vars: Map<String, Value>,
    },
    Failed(NodeError),
}

/// Node kinds by name.
#[derive(Clone, Default)]
pub struct Registry {
    nodes: HashMap<&'static str, Arc<dyn Node>>,
    aliases: HashMap<&'static str, Alias>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every node this crate has, with the Flowable and Camunda 7 names.
    pub fn with_defaults() -> Self {
        let mut r = Registry::new();
        r.add(crate::local::LocalCommand);
        r.add(crate::sql::Sql);
        r.add(crate::ssh::RemoteCommand);
        r.add(crate::ssh::FileDistribution);
        r.alias(
            "shell",
            "local-command",
            crate::local::from_flowable,
            &[
                ("outputVariable", "stdout"),
                ("errorCodeVariable", "exitCode"),
            ],
        );
        r.add(crate::http::Http);
        // Flowable's `http` and `mail` tasks share Baton's names: the alias
        // maps their fields and leaves Baton's properties as they are.
        r.alias(
            "http",
            "http",
            crate::http::from_flowable,
            &[("responseVariableName", "body")],
        );
        r.alias("http-connector", "http", crate::http::from_camunda, &[]);
        r.add(crate::mail::Mail);
        r.add(crate::report::Report);
        r.alias("mail", "mail", crate::mail::from_flowable, &[]);
        r.alias("mail-send", "mail", crate::mail::from_camunda, &[]);
        r.add(crate::fileop::FileOperation);
        r
    }

    pub fn add(&mut self, node: impl Node) {
        self.nodes.insert(node.kind(), Arc::new(node));
    }

    /// Reads `name` as node `to`, properties mapped by `map`.
    pub fn alias(
        &mut self,
        name: &'static str,
        to: &'static str,
        map: fn(&mut Outputs),
        vars: &'static [(&'static str, &'static str)],
    ) {
        self.aliases.insert(name, Alias { to, map, vars });
    }

    fn find(&self, kind: &str) -> Option<(&Arc<dyn Node>, Option<&Alias>)> {
        // An alias may share its node's name (Flowable's `http`): its mapping applies.
        if let Some(a) = self.aliases.get(kind)
            && let Some(n) = self.nodes.get(a.to)
        {
            return Some((n, Some(a)));
        }
        self.nodes.get(kind).map(|n| (n, None))
    }

    pub fn supports(&self, kind: &str) -> bool {
        self.find(kind).is_some()
    }

    /// The Baton kind `kind` is read as (itself, or an alias's target).
    pub fn canonical<'a>(&'a self, kind: &'a str) -> Option<&'a str> {
        self.find(kind).map(|(n, _)| n.kind())
    }

    /// Whether re-running `kind` after a crash is harmless (unknown kinds: no).
    pub fn idempotent(&self, kind: &str) -> bool {
        self.find(kind).is_some_and(|(n, _)| n.idempotent())
    }

    /// The Baton kinds and their property schemas, for the editor (each
    /// with its outputs as `x-outputs`, `schema::with_outputs`).
    pub fn schemas(&self) -> Vec<(&'static str, Value)> {
        let mut v: Vec<_> = self
            .nodes
            .values()
            .map(|n| (n.kind(), crate::schema::with_outputs(n.kind(), n.schema())))
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// Deploy-time check of a node's raw properties.
    pub fn validate(&self, kind: &str, props: &Outputs) -> Result<(), NodeError> {
        let (node, alias) = self
            .find(kind)
            .ok_or_else(|| NodeError::failed(format!("no node of type `{kind}`")))?;
        let mut props = props.clone();
        if let Some(a) = alias {
            (a.map)(&mut props);
        }
        node.validate(&props)
    }

    /// Runs the node of `kind` in `ctx`: its `timeout` property enforced,
    /// outputs assembled (`name`, `createDate`, `createDatetime`, rendered
    /// properties, resolved resources, the node's own outputs), secrets masked,
    /// `resultVariable` set.
    pub async fn run(&self, kind: &str, mut ctx: Ctx) -> RunResult {
        let Some((node, alias)) = self.find(kind) else {
            return RunResult::Failed(NodeError::failed(format!("no node of type `{kind}`")));
        };
        if let Some(a) = alias {
            (a.map)(ctx.props_mut());
        }
        if let Ok(globals) = ctx.resources().globals().await {
            ctx.set_globals(globals);
        }
        let started = chrono::Local::now();
        let result = match ctx.seconds("timeout") {
            Err(e) => Err(e),
            Ok(timeout) => run_bounded(&**node, &ctx, timeout).await,
        };
        let outputs = match result {
            Ok(o) => o,
            Err(e) => return RunResult::Failed(e.masked(|s| ctx.mask(s))),
        };
        let mut all = Outputs::new();
        all.insert("name".into(), json!(ctx.job.name));
        all.insert(
            "createDate".into(),
            json!(started.format("%Y-%m-%d").to_string()),
        );
        all.insert(
            "createDatetime".into(),
            json!(started.format("%Y-%m-%d %H:%M:%S").to_string()),
        );
        all.extend(ctx.recorded());
        all.extend(outputs);
        let all = match mask_value(Value::Object(all), &|s| ctx.mask(s)) {
            Value::Object(m) => m,
            _ => unreachable!("masking keeps the shape"),
        };
        let mut vars = Map::new();
        if let Some(a) = alias {
            for (prop, out) in a.vars {
                if let (Some(var), Some(v)) = (ctx.raw(prop), all.get(*out)) {
                    vars.insert(var.trim().to_owned(), v.clone());
                }
            }
        }
        if let Some(rv) = ctx.raw("resultVariable") {
            vars.insert(rv.trim().to_owned(), Value::Object(all.clone()));
        }
        RunResult::Done { outputs: all, vars }
    }
}

async fn run_bounded(
    node: &dyn Node,
    ctx: &Ctx,
    timeout: Option<Duration>,
) -> Result<Outputs, NodeError> {
    let fut = node.run(ctx);
    let Some(t) = timeout else {
        return fut.await;
    };
    tokio::pin!(fut);
    tokio::select! {
        r = &mut fut => r,
        _ = tokio::time::sleep(t) => {
            ctx.cancel_token().cancel();
            // Let the node stop its work (kill the remote process) before giving up on it.
            let _ = tokio::time::timeout(GRACE, fut).await;
            Err(NodeError::Timeout(t))
        }
    }
}

fn mask_value(v: Value, mask: &dyn Fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(mask(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| mask_value(x, mask)).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (k, mask_value(x, mask)))
                .collect(),
        ),
        other => other,
    }
}
