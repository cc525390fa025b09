//! The compiled model: an index-based graph the core executes.
//!
//! Everything is addressed by `u32` indexes into the model's vectors, so the
//! core never hashes or compares strings on its hot path. The original ids are
//! kept for history, diagnostics and the API.

use std::collections::HashMap;

use baton_expr::{Expr, Template};
use serde_json::{Map, Value};

use crate::xml::Pos;

/// Index of an element (flow node, process or sub-process) in [`Model::elements`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct El(pub u32);

/// Index of a sequence flow in [`Model::flows`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Fl(pub u32);

/// A compiled, validated definitions document.
#[derive(Debug, Clone)]
pub struct Model {
    pub id: Option<String>,
    pub processes: Vec<El>,
    pub elements: Vec<Element>,
    pub flows: Vec<Flow>,
    pub messages: Vec<Named>,
    pub signals: Vec<Named>,
    pub errors: Vec<Named>,
    pub escalations: Vec<Named>,
    /// For each incoming flow of an inclusive or complex gateway: the elements
    /// (of the same scope) from which a token could still reach that flow
    /// without passing through the gateway. Drives the inclusive join rule.
    pub upstream: HashMap<Fl, Bits>,
    pub(crate) index: HashMap<String, El>,
}

/// A set of element indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn with_capacity(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    pub fn insert(&mut self, el: El) -> bool {
        let (w, b) = ((el.0 / 64) as usize, el.0 % 64);
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        let was = self.0[w] & (1 << b) != 0;
        self.0[w] |= 1 << b;
        !was
    }
    pub fn contains(&self, el: El) -> bool {
        let (w, b) = ((el.0 / 64) as usize, el.0 % 64);
        self.0.get(w).is_some_and(|x| x & (1 << b) != 0)
    }
}

/// A message, signal, error or escalation declared at the top level.
/// `code` is the errorCode / escalationCode (empty for messages and signals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub id: String,
    pub name: String,
    pub code: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Flow {
    pub id: String,
    pub source: El,
    pub target: El,
    pub condition: Option<Expr>,
    pub pos: Pos,
}

#[derive(Debug, Clone)]
pub struct Element {
    pub id: String,
    pub name: Option<String>,
    pub pos: Pos,
    /// The process or sub-process this element sits in (`None` for processes).
    pub parent: Option<El>,
    pub kind: Kind,
    pub incoming: Vec<Fl>,
    pub outgoing: Vec<Fl>,
    pub default_flow: Option<Fl>,
    /// Boundary events attached to this activity.
    pub boundaries: Vec<El>,
    /// For scopes: the flow nodes directly inside (not nested deeper).
    pub children: Vec<El>,
    /// For scopes: event sub-processes directly inside.
    pub event_subprocesses: Vec<El>,
    pub start_quantity: u32,
    pub completion_quantity: u32,
    pub looping: Option<Loop>,
    /// This activity is a compensation handler (`isForCompensation`).
    pub for_compensation: bool,
    /// The handler reached through this activity's compensation boundary event.
    pub compensation_handler: Option<El>,
    /// Extension data for node implementations (Baton, Flowable, Camunda).
    pub ext: Option<Box<Extension>>,
    /// The correlation key of the message this element catches or throws:
    /// `baton:correlationKey="${…}"`, or the standard
    /// `correlationPropertyRetrievalExpression` of its message.
    pub correlation: Option<Template>,
}

impl Element {
    pub fn is_scope(&self) -> bool {
        matches!(self.kind, Kind::Process | Kind::SubProcess { .. })
    }

    pub fn is_activity(&self) -> bool {
        matches!(
            self.kind,
            Kind::Task(_) | Kind::SubProcess { .. } | Kind::CallActivity { .. }
        )
    }
}

#[derive(Debug, Clone)]
pub enum Kind {
    Process,
    SubProcess {
        triggered_by_event: bool,
        transaction: bool,
        ad_hoc: Option<AdHoc>,
    },
    CallActivity(CallTarget),
    Task(TaskKind),
    Gateway(Gateway),
    StartEvent {
        triggers: Vec<Trigger>,
        interrupting: bool,
        parallel_multiple: bool,
    },
    EndEvent {
        results: Vec<Throw>,
    },
    CatchEvent {
        triggers: Vec<Trigger>,
        parallel_multiple: bool,
    },
    ThrowEvent {
        results: Vec<Throw>,
    },
    Boundary {
        attached_to: El,
        triggers: Vec<Trigger>,
        interrupting: bool,
        parallel_multiple: bool,
    },
}

#[derive(Debug, Clone)]
pub struct AdHoc {
    pub sequential: bool,
    pub completion: Option<Expr>,
    pub cancel_remaining: bool,
}

#[derive(Debug, Clone)]
pub enum CallTarget {
    /// A process by id (same document) or by deployed key.
    Process(Template),
    /// A global task run in place (`globalScriptTask`, `globalTask`, ...).
    GlobalTask(TaskKind),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TaskKind {
    /// `task` and `manualTask`: pass straight through.
    Plain,
    Service,
    Script {
        format: Option<String>,
        script: String,
    },
    User,
    Send {
        message: Option<u32>,
    },
    Receive {
        message: Option<u32>,
    },
    BusinessRule,
}

#[derive(Debug, Clone)]
pub enum Gateway {
    Exclusive,
    Parallel,
    Inclusive,
    EventBased,
    Complex { activation: Option<Expr> },
}

/// What a catching event waits for.
#[derive(Debug, Clone)]
pub enum Trigger {
    Timer(Timer),
    Message(u32),
    Signal(u32),
    Conditional(Expr),
    /// `None` catches every error.
    Error(Option<u32>),
    /// `None` catches every escalation.
    Escalation(Option<u32>),
    Compensation,
    Link(String),
    Cancel,
}

#[derive(Debug, Clone)]
pub enum Timer {
    Date(Template),
    Duration(Template),
    Cycle(Template),
}

/// What a throwing event does.
#[derive(Debug, Clone)]
pub enum Throw {
    Terminate,
    Error(Option<u32>),
    Escalation(Option<u32>),
    Message(Option<u32>),
    Signal(Option<u32>),
    Compensation { activity: Option<El>, wait: bool },
    Link(String),
    Cancel,
}

#[derive(Debug, Clone)]
pub enum Loop {
    Standard {
        condition: Option<Expr>,
        test_before: bool,
        maximum: Option<u64>,
    },
    /// Boxed: far larger than the other variant.
    Multi(Box<MultiInstance>),
}

#[derive(Debug, Clone)]
pub struct MultiInstance {
    pub sequential: bool,
    pub cardinality: Option<Expr>,
    /// An expression yielding the list to iterate (`loopDataInputRef`, or
    /// `camunda:collection` / `flowable:collection`).
    pub collection: Option<Expr>,
    pub element_variable: Option<String>,
    pub completion: Option<Expr>,
    pub behavior: MiBehavior,
}

/// `behavior` of a multi-instance activity: which implicit event an iteration
/// throws when it completes.
#[derive(Debug, Clone, PartialEq)]
pub enum MiBehavior {
    All,
    None { signal: Option<u32> },
    One { signal: Option<u32> },
}

/// Implementation data outside the BPMN namespace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extension {
    /// `baton:type`, `flowable:type` or `camunda:type` (e.g. `remote-command`, `shell`).
    pub node_type: Option<String>,
    /// Attributes outside the BPMN namespace, keyed `prefixless-name`.
    pub attrs: Map<String, Value>,
    /// Properties from `extensionElements` (`baton:property`, `flowable:field`, `camunda:field`, ...).
    pub props: Map<String, Value>,
}

impl Model {
    pub fn element(&self, el: El) -> &Element {
        &self.elements[el.0 as usize]
    }

    pub fn flow(&self, fl: Fl) -> &Flow {
        &self.flows[fl.0 as usize]
    }

    /// Look an element up by its XML id.
    pub fn by_id(&self, id: &str) -> Option<El> {
        self.index.get(id).copied()
    }

    /// The executable process with this id.
    pub fn process(&self, id: &str) -> Option<El> {
        self.processes
            .iter()
            .copied()
            .find(|p| self.element(*p).id == id)
    }

    /// The process a caller starts by default: the only executable one, or the first.
    pub fn main_process(&self) -> Option<El> {
        self.processes.first().copied()
    }

    /// The process (root scope) that contains `el`.
    pub fn process_of(&self, mut el: El) -> El {
        while let Some(p) = self.element(el).parent {
            el = p;
        }
        el
    }

    /// Every service-like job kind the model needs a handler for, with the element that needs it.
    pub fn job_kinds(&self) -> Vec<(El, String)> {
        let mut out = Vec::new();
        for (i, e) in self.elements.iter().enumerate() {
            if let Some(k) = job_kind(e) {
                out.push((El(i as u32), k));
            }
        }
        out
    }
}

/// The job kind an element dispatches when it runs, if it is a job at all.
pub fn job_kind(e: &Element) -> Option<String> {
    let typed = e.ext.as_ref().and_then(|x| x.node_type.clone());
    match &e.kind {
        Kind::Task(t) | Kind::CallActivity(CallTarget::GlobalTask(t)) => match t {
            TaskKind::Script { format, .. } => Some(format!(
                "script:{}",
                format.as_deref().unwrap_or("").to_ascii_lowercase()
            )),
            TaskKind::Service | TaskKind::BusinessRule => {
                Some(typed.unwrap_or_else(|| "service".to_owned()))
            }
            TaskKind::Send { .. } => typed,
            _ => None,
        },
        _ => None,
    }
}
