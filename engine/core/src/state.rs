//! The state of one process instance: a tree of executions, event
//! subscriptions, tokens waiting at joins, variables and node outputs.
//!
//! Plain data, serde-serialisable: the runtime persists it after every step.

use baton_model::{El, Model};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Identifies an execution (an activity instance or a scope instance) within one instance.
pub type ExecId = u32;
/// Identifies an event subscription within one instance.
pub type SubId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Completed,
    /// Ended by a terminate end event at process level.
    Terminated,
    /// Ended by an error no boundary or event sub-process caught.
    Failed,
    /// Stopped by an operator or by its caller.
    Cancelled,
}

impl Status {
    pub fn is_ended(self) -> bool {
        self != Status::Running
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    pub status: Status,
    pub process: El,
    /// Live executions, sorted by id.
    pub execs: Vec<Exec>,
    pub subs: Vec<Sub>,
    pub joins: Vec<Join>,
    /// Process (root scope) variables.
    pub vars: Map<String, Value>,
    /// Node outputs by element id: `${nodeId.prop}`.
    pub outputs: Map<String, Value>,
    /// Completed activities that can be compensated, in completion order.
    pub compensable: Vec<Compensable>,
    /// The uncaught error or the incident that ended the instance, if any.
    pub error: Option<String>,
    pub next_id: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exec {
    pub id: ExecId,
    pub element: El,
    pub parent: Option<ExecId>,
    pub wait: Wait,
    /// Local variables (multi-instance iteration, loop counters, event payloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vars: Option<Box<Map<String, Value>>>,
    /// Standard loop: iterations done so far. Ad-hoc: activities started so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub count: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What an execution is waiting for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Wait {
    /// A process, sub-process or event sub-process instance: waits for its children.
    Scope,
    /// The body of a multi-instance activity.
    Multi(Box<MultiState>),
    /// A job dispatched to a worker.
    Job { attempt: u32 },
    /// A user task.
    Task,
    /// An intermediate catch event, receive task or event-based gateway.
    Event,
    /// A call activity's child instance.
    Child,
    /// Running compensation handlers (its children); then `then`.
    Compensating { then: AfterCompensation },
    /// Stuck: an operator must retry or skip.
    Incident { message: String, retry: RetryAs },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterCompensation {
    /// The throwing event continues along its outgoing flows.
    Continue,
    /// The token ends (compensation end event).
    End,
    /// The transaction (exec) is cancelled and its cancel boundary taken.
    CancelTransaction(ExecId),
}

/// How an incident is retried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryAs {
    /// Dispatch the job again.
    Job { attempt: u32 },
    /// Take the element's outgoing flows again (a gateway without a way out).
    Leave,
    /// Enter the element again (an activity that failed to start).
    Enter,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiState {
    pub total: u32,
    pub started: u32,
    pub completed: u32,
    pub active: u32,
    /// The collection being iterated, when there is one.
    pub items: Option<Vec<Value>>,
    pub one_thrown: bool,
}

/// An event subscription: `element` (a boundary event, an event sub-process's
/// start event, a catch event or a receive task) waits for `trigger` while
/// `owner` lives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sub {
    pub id: SubId,
    pub owner: ExecId,
    pub element: El,
    /// Index into the element's triggers (0 for a receive task's message).
    pub trigger: u16,
    /// Parallel-multiple: this part has fired. Conditional: last value.
    pub fired: bool,
    /// Timers: due time (ms since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<i64>,
    /// Timer cycles: repetitions left after this one (`None` = unbounded) and the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cycle: Option<Cycle>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cycle {
    pub left: Option<u32>,
    pub every_ms: i64,
}

/// Tokens that arrived at a joining element and have not been consumed yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    pub scope: ExecId,
    pub element: El,
    /// Tokens per incoming flow (index into the element's `incoming`); one
    /// counter for activities with a start quantity.
    pub counts: Vec<u32>,
    /// Complex gateway: fired, now absorbing the remaining tokens.
    pub fired: bool,
    /// Complex gateway: incoming flows that delivered since it fired.
    pub seen: Vec<bool>,
}

/// A completed activity that a compensation event can undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compensable {
    /// The scope instance it completed in.
    pub scope: ExecId,
    pub activity: El,
    /// Its own execution id: nested compensables of a sub-process use it as their scope.
    pub exec: ExecId,
}

impl InstanceState {
    pub fn new(process: El) -> Self {
        InstanceState {
            status: Status::Running,
            process,
            execs: Vec::new(),
            subs: Vec::new(),
            joins: Vec::new(),
            vars: Map::new(),
            outputs: Map::new(),
            compensable: Vec::new(),
            error: None,
            next_id: 1,
        }
    }

    pub fn exec(&self, id: ExecId) -> Option<&Exec> {
        self.execs
            .binary_search_by_key(&id, |e| e.id)
            .ok()
            .map(|i| &self.execs[i])
    }

    pub fn exec_mut(&mut self, id: ExecId) -> Option<&mut Exec> {
        self.execs
            .binary_search_by_key(&id, |e| e.id)
            .ok()
            .map(|i| &mut self.execs[i])
    }

    pub fn sub(&self, id: SubId) -> Option<&Sub> {
        self.subs.iter().find(|s| s.id == id)
    }

    /// What the caller's call activity `exec` hears when this (child)
    /// instance has ended: completed (its variables come back) or failed.
    pub fn outcome_for_caller(&self, exec: ExecId) -> crate::Command {
        match self.status {
            Status::Completed | Status::Terminated => crate::Command::ChildCompleted {
                exec,
                vars: self.vars.clone(),
            },
            status => {
                let message = self.error.clone().unwrap_or_else(|| format!("{status:?}"));
                crate::Command::ChildFailed {
                    exec,
                    error: crate::Failure::Technical { message },
                }
            }
        }
    }

    /// Executions waiting for an operator.
    pub fn incidents(&self) -> impl Iterator<Item = &Exec> {
        self.execs
            .iter()
            .filter(|e| matches!(e.wait, Wait::Incident { .. }))
    }

    /// Ids of the elements that hold a live execution (for the monitor's colours).
    pub fn active_elements<'m>(&self, model: &'m Model) -> Vec<&'m str> {
        self.execs
            .iter()
            .map(|e| model.element(e.element).id.as_str())
            .collect()
    }
}
