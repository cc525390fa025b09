//! Why a node failed, in words an operator can act on.

use std::time::Duration;

/// A node's failure. Messages name the property, resource, host or statement
/// at fault; secrets are masked before a message leaves the node's [`crate::Ctx`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NodeError {
    /// A property is missing, malformed, or its `${}` does not resolve.
    #[error("property `{name}`: {message}")]
    Property { name: String, message: String },
    /// A terminal, account, data source or script that does not exist.
    #[error("{0}")]
    Resource(String),
    /// The work ran and failed (non-zero exit, SQL error, refused connection, ...).
    #[error("{0}")]
    Failed(String),
    /// A business error the process may catch with an error boundary event.
    #[error("{code}: {message}")]
    Bpmn { code: String, message: String },
    /// The node's `timeout` passed; the work was stopped.
    #[error("timed out after {}", humantime(*.0))]
    Timeout(Duration),
    /// The engine cancelled the work (instance terminated, boundary event).
    #[error("cancelled")]
    Cancelled,
}

impl NodeError {
    pub fn property(name: impl Into<String>, message: impl std::fmt::Display) -> Self {
        NodeError::Property {
            name: name.into(),
            message: message.to_string(),
        }
    }

    pub fn failed(message: impl std::fmt::Display) -> Self {
        NodeError::Failed(message.to_string())
    }

    /// The same error with every secret in its text replaced by `******`.
    pub fn masked(self, mask: impl Fn(&str) -> String) -> Self {
        match self {
            NodeError::Property { name, message } => NodeError::Property {
                name,
                message: mask(&message),
            },
            NodeError::Resource(m) => NodeError::Resource(mask(&m)),
            NodeError::Failed(m) => NodeError::Failed(mask(&m)),
            NodeError::Bpmn { code, message } => NodeError::Bpmn {
                code,
                message: mask(&message),
            },
            e @ (NodeError::Timeout(_) | NodeError::Cancelled) => e,
        }
    }
}

fn humantime(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{ms} ms")
    }
}
