//! The job contract between the engine and whatever does the work: what a
//! worker is given and what it returns.

use baton_core::Failure;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One attempt of one activity instance's work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInput {
    /// `instance:exec:attempt`.
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
    /// Extension properties of the element (`baton:property`, `flowable:field`, ...).
    #[serde(default)]
    pub props: Map<String, Value>,
    /// Extension attributes of the element.
    #[serde(default)]
    pub attrs: Map<String, Value>,
    /// Every variable visible from the activity, node outputs included.
    #[serde(default)]
    pub vars: Map<String, Value>,
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
    pub fn done() -> Self {
        JobResult::Done { output: None, vars: Map::new() }
    }
    pub fn technical(message: impl Into<String>) -> Self {
        JobResult::Failed(Failure::Technical { message: message.into() })
    }
    pub fn bpmn(code: impl Into<String>, message: impl Into<String>) -> Self {
        JobResult::Failed(Failure::Bpmn { code: code.into(), message: message.into() })
    }
}
