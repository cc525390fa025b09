//! What goes into a step (commands) and what comes out (actions and history).

use baton_model::El;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::state::{ExecId, Status, SubId};

/// Everything that can happen to an instance. Time comes with the step, never
/// from a clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "cmd")]
pub enum Command {
    /// Start the instance at its none start event(s), or at `start` (a
    /// message, signal or timer start event that has just been triggered).
    Start {
        #[serde(default)]
        vars: Map<String, Value>,
        #[serde(default)]
        start: Option<El>,
    },
    JobCompleted {
        exec: ExecId,
        #[serde(default)]
        output: Option<Value>,
        #[serde(default)]
        vars: Map<String, Value>,
    },
    JobFailed {
        exec: ExecId,
        error: Failure,
    },
    TaskCompleted {
        exec: ExecId,
        #[serde(default)]
        vars: Map<String, Value>,
    },
    TimerFired {
        sub: SubId,
    },
    /// A message the runtime correlated to one subscription.
    MessageReceived {
        sub: SubId,
        #[serde(default)]
        vars: Map<String, Value>,
    },
    /// A broadcast signal: every matching subscription in the instance fires.
    Signal {
        name: String,
        #[serde(default)]
        vars: Map<String, Value>,
    },
    ChildCompleted {
        exec: ExecId,
        #[serde(default)]
        vars: Map<String, Value>,
    },
    ChildFailed {
        exec: ExecId,
        error: Failure,
    },
    /// Variables changed from outside (API): conditional events re-evaluate.
    SetVars {
        vars: Map<String, Value>,
    },
    /// Operator: take an incident's element again.
    Retry {
        exec: ExecId,
    },
    /// Operator: treat a waiting or failed activity as completed.
    Skip {
        exec: ExecId,
        #[serde(default)]
        vars: Map<String, Value>,
    },
    /// Operator (or a caller): end the instance now.
    Terminate {
        reason: String,
    },
}

/// Why a job or a child instance failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Failure {
    /// A BPMN error: boundary events and event sub-processes may catch it.
    Bpmn { code: String, message: String },
    /// A technical failure: the activity becomes an incident.
    Technical { message: String },
}

/// Effects for the runtime to carry out after it persists the step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// Run the element's job (service, script, node types).
    Dispatch {
        exec: ExecId,
        element: El,
        attempt: u32,
    },
    CancelJob {
        exec: ExecId,
    },
    CreateTask {
        exec: ExecId,
        element: El,
        /// When it is due (ms since the epoch), from its `dueDate`.
        due: Option<i64>,
    },
    CancelTask {
        exec: ExecId,
    },
    SetTimer {
        sub: SubId,
        element: El,
        due: i64,
    },
    CancelTimer {
        sub: SubId,
    },
    /// Wait for a message by name (and correlation key, when the model gives one).
    SubscribeMessage {
        sub: SubId,
        element: El,
        name: String,
        /// Only a message with this key reaches the subscription.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
    },
    /// Wait for a signal by name (the runtime delivers `Command::Signal`).
    SubscribeSignal {
        sub: SubId,
        element: El,
        name: String,
    },
    Unsubscribe {
        sub: SubId,
    },
    /// Start a child instance of `process` for a call activity.
    StartChild {
        exec: ExecId,
        element: El,
        process: String,
        vars: Map<String, Value>,
    },
    CancelChild {
        exec: ExecId,
    },
    /// Broadcast a signal to other instances and signal start events (this
    /// instance has already received it).
    ThrowSignal {
        name: String,
        vars: Map<String, Value>,
    },
    /// Deliver a message to whichever instance or message start event waits for it.
    SendMessage {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        vars: Map<String, Value>,
    },
    Incident {
        exec: ExecId,
        element: El,
        message: String,
    },
    /// The instance ended.
    Ended {
        status: Status,
    },
}

/// One history record: what happened to which element instance, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub exec: ExecId,
    pub element: El,
    pub kind: HistoryKind,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum HistoryKind {
    /// Started and completed in the same step (events, gateways, plain tasks).
    Passed,
    Started,
    Completed,
    /// Cancelled by an interrupting event, a terminate end event or an operator.
    Terminated,
    Failed {
        message: String,
    },
    Retried,
    Skipped,
    /// An error or escalation was thrown (caught or not).
    Thrown {
        what: String,
        caught: bool,
    },
}

/// The reusable output buffers of [`crate::step`].
#[derive(Debug, Default)]
pub struct Output {
    pub actions: Vec<Action>,
    pub history: Vec<HistoryEvent>,
}

impl Output {
    pub fn clear(&mut self) {
        self.actions.clear();
        self.history.clear();
    }
}

/// A command the instance cannot accept (its caller is out of date or wrong);
/// the state is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("the instance has ended ({0:?})")]
    Ended(Status),
    #[error("execution {0} does not exist (it may have completed or been cancelled)")]
    NoExec(ExecId),
    #[error("execution {exec} is not waiting for {expected}")]
    WrongState {
        exec: ExecId,
        expected: &'static str,
    },
    #[error("subscription {0} does not exist")]
    NoSub(SubId),
    #[error("the instance has already started")]
    AlreadyStarted,
    #[error("cannot start: {0}")]
    CannotStart(String),
}
