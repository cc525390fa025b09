//! Variables as seen from an execution: its local scopes up the tree, then
//! node outputs (`${nodeId.prop}`), then process variables.

use std::borrow::Cow;

use baton_expr::{EvalError, Expr, Scope, Template};
use serde_json::{Map, Value};

use super::Run;
use crate::state::{ExecId, InstanceState, Wait};

/// The variables visible from one execution.
pub struct ExecScope<'a> {
    pub st: &'a InstanceState,
    pub exec: ExecId,
    pub extra: Option<&'a Map<String, Value>>,
}

impl Scope for ExecScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        self.lookup_ref(name).map(Cow::into_owned)
    }

    fn lookup_ref(&self, name: &str) -> Option<Cow<'_, Value>> {
        if let Some(v) = self.extra.and_then(|x| x.get(name)) {
            return Some(Cow::Borrowed(v));
        }
        let mut cur = self.st.exec(self.exec);
        while let Some(x) = cur {
            if let Some(v) = x.vars.as_ref().and_then(|v| v.get(name)) {
                return Some(Cow::Borrowed(v));
            }
            if let Wait::Multi(s) = &x.wait {
                let n = match name {
                    "nrOfInstances" => Some(s.total),
                    "nrOfCompletedInstances" => Some(s.completed),
                    "nrOfActiveInstances" => Some(s.active),
                    _ => None,
                };
                if let Some(n) = n {
                    return Some(Cow::Owned(Value::from(n)));
                }
            }
            cur = x.parent.and_then(|p| self.st.exec(p));
        }
        self.st
            .outputs
            .get(name)
            .or_else(|| self.st.vars.get(name))
            .map(Cow::Borrowed)
    }
}

impl Run<'_> {
    fn scope_of(&self, exec: ExecId) -> ExecScope<'_> {
        ExecScope {
            st: self.st,
            exec,
            extra: None,
        }
    }

    pub(super) fn eval(&self, exec: ExecId, e: &Expr) -> Result<Value, EvalError> {
        e.eval(&self.scope_of(exec))
    }

    pub(super) fn eval_bool(&self, exec: ExecId, e: &Expr) -> Result<bool, EvalError> {
        e.eval_bool(&self.scope_of(exec))
    }

    pub(super) fn eval_bool_with(
        &self,
        exec: ExecId,
        e: &Expr,
        extra: &Map<String, Value>,
    ) -> Result<bool, EvalError> {
        e.eval_bool(&ExecScope {
            st: self.st,
            exec,
            extra: Some(extra),
        })
    }

    pub(super) fn render(&self, exec: ExecId, t: &Template) -> Result<String, EvalError> {
        t.render(&self.scope_of(exec))
    }

    /// The correlation key of the message `el` catches or throws, evaluated
    /// from `exec`. A key that cannot be evaluated is recorded in history as
    /// a failure and becomes a key no message carries: a subscription must
    /// never widen to "any key" because its expression broke.
    pub(super) fn correlation_key(&mut self, exec: ExecId, el: baton_model::El) -> Option<String> {
        let t = self.m.element(el).correlation.as_ref()?;
        match self.render(exec, t) {
            Ok(k) => Some(k),
            Err(e) => {
                let message = format!("correlation key `{}`: {e}", t.source());
                self.history(exec, el, crate::protocol::HistoryKind::Failed { message });
                Some(format!("\u{0}unresolved:{}", t.source()))
            }
        }
    }

    /// Every variable visible from `exec`, flattened (inner scopes win).
    pub(super) fn visible_vars(&self, exec: ExecId) -> Map<String, Value> {
        visible_vars(self.st, exec)
    }

    /// Set variables from `exec`'s point of view: a name already local to a
    /// scope on the way up is updated there; anything else is a process variable.
    pub(super) fn set_vars(&mut self, exec: ExecId, vars: Map<String, Value>) {
        if vars.is_empty() {
            return;
        }
        self.vars_changed = true;
        'names: for (k, v) in vars {
            let mut cur = Some(exec);
            while let Some(id) = cur {
                let Some(x) = self.st.exec_mut(id) else { break };
                if let Some(local) = x.vars.as_mut().and_then(|m| m.get_mut(&k)) {
                    *local = v;
                    continue 'names;
                }
                cur = x.parent;
            }
            self.st.vars.insert(k, v);
        }
    }
}

/// Every variable visible from an execution, flattened (inner scopes win):
/// what a job or a child instance receives.
pub fn visible_vars(st: &InstanceState, exec: ExecId) -> Map<String, Value> {
    let mut out = st.vars.clone();
    let mut chain = Vec::new();
    let mut cur = st.exec(exec);
    while let Some(x) = cur {
        chain.push(x);
        cur = x.parent.and_then(|p| st.exec(p));
    }
    for x in chain.into_iter().rev() {
        if let Some(v) = &x.vars {
            out.extend(v.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    out
}
