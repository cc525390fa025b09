//! The job contract between the engine and whatever does the work: what a
//! worker is given and what it returns.

use baton_core::Failure;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One attempt of one activity instance's work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInput {
    /// `instance:exec` (one row per activity instance; `attempt` counts retries).
    pub id: String,
    pub instance_id: String,
    pub exec: u32,
    pub attempt: u32,
    /// The BPMN element id of the activity.
    pub element_id: String,
    /// `script:<format>` for script tasks, else the node type (`service` when untyped).
    pub kind: String,
    /// The script text of a script task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script: Option<String>,
    /// The node's properties ([`job_props`]: extension attributes overlaid by
    /// `baton:property`, `flowable:field`, `camunda:inputParameter`, ...).
    #[serde(default)]
    pub props: Map<String, Value>,
    /// Extension attributes of the element.
    #[serde(default)]
    pub attrs: Map<String, Value>,
    /// Every variable visible from the activity.
    #[serde(default)]
    pub vars: Map<String, Value>,
    /// Earlier nodes' outputs, by element id (`${nodeId.prop}`).
    #[serde(default)]
    pub outputs: Map<String, Value>,
    /// The element's name.
    #[serde(default)]
    pub name: String,
}

/// A node's properties: its extension attributes (`baton:url="…"`, the
/// `type` attribute aside) overlaid by its `extensionElements` properties.
pub fn job_props(e: &baton_model::Element) -> Map<String, Value> {
    let Some(x) = e.ext.as_ref() else {
        return Map::new();
    };
    let mut props: Map<String, Value> = x
        .attrs
        .iter()
        .filter(|(k, _)| k.as_str() != "type")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    props.extend(x.props.iter().map(|(k, v)| (k.clone(), v.clone())));
    props
}

impl JobInput {
    /// The job for activity instance `exec` (element `el`) of an instance.
    pub fn for_exec(
        instance: &str,
        model: &baton_model::Model,
        state: &baton_core::InstanceState,
        exec: u32,
        el: baton_model::El,
        attempt: u32,
    ) -> JobInput {
        use baton_model::{CallTarget, Kind, TaskKind};
        let e = model.element(el);
        let script = match &e.kind {
            Kind::Task(TaskKind::Script { script, .. })
            | Kind::CallActivity(CallTarget::GlobalTask(TaskKind::Script { script, .. })) => {
                Some(script.clone())
            }
            _ => None,
        };
        let props = job_props(e);
        let attrs = e.ext.as_ref().map(|x| x.attrs.clone()).unwrap_or_default();
        JobInput {
            id: format!("{instance}:{exec}"),
            instance_id: instance.to_owned(),
            exec,
            attempt,
            element_id: e.id.clone(),
            kind: baton_model::job_kind(e).unwrap_or_else(|| "service".into()),
            script,
            props,
            attrs,
            vars: baton_core::visible_vars(state, exec),
            outputs: state.outputs.clone(),
            name: e.name.clone().unwrap_or_default(),
        }
    }
}

/// What the work produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "result")]
pub enum JobResult {
    /// `output` becomes `${elementId...}`; `vars` are set as process variables.
    Done {
        #[serde(default)]
        output: Option<Value>,
        #[serde(default)]
        vars: Map<String, Value>,
    },
    Failed(Failure),
}

impl JobResult {
    /// The command that hands this result to activity instance `exec`.
    pub fn into_command(self, exec: u32) -> baton_core::Command {
        match self {
            JobResult::Done { output, vars } => {
                baton_core::Command::JobCompleted { exec, output, vars }
            }
            JobResult::Failed(error) => baton_core::Command::JobFailed { exec, error },
        }
    }

    pub fn done() -> Self {
        JobResult::Done {
            output: None,
            vars: Map::new(),
        }
    }
    pub fn technical(message: impl Into<String>) -> Self {
        JobResult::Failed(Failure::Technical {
            message: message.into(),
        })
    }
    pub fn bpmn(code: impl Into<String>, message: impl Into<String>) -> Self {
        JobResult::Failed(Failure::Bpmn {
            code: code.into(),
            message: message.into(),
        })
    }
}
