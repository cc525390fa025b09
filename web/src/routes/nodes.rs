//! The node types the editor's palette and properties panel offer, each with
//! the JSON Schema of its properties (the same schemas the engine validates
//! a deployment against).

use axum::Json;
use baton_nodes::Registry;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::ApiResult;
use crate::perm::{Function, Level};

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeType {
    /// The `baton:type` of a service task.
    #[serde(rename = "type")]
    pub kind: String,
    /// JSON Schema of its properties: `title`, `description`, `type`,
    /// `enum`, `default`, `required`; `x-secret` marks write-only ones.
    #[schema(value_type = Object)]
    pub schema: Value,
}

/// `call-process` is compiled into a call activity by the model, not run by
/// a node, so the registry does not hold it; its properties are these.
fn call_process() -> NodeType {
    NodeType {
        kind: "call-process".into(),
        schema: json!({
            "type": "object",
            "title": "Call process",
            "properties": {
                "processKey": {"type": "string", "title": "Process key",
                    "description": "The deployed process to start and wait for."},
                "version": {"type": "string", "title": "Version",
                    "description": "Its version; empty: the latest."},
                "param": {"type": "string", "title": "Parameter",
                    "description": "Given to the child as LWAMS_CALL_PARAM."}
            },
            "required": ["processKey"]
        }),
    }
}

/// Every node type, sorted by type.
#[utoipa::path(get, path = "/api/v1/node-types", tag = "processes",
    responses((status = 200, body = Vec<NodeType>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_node_types(caller: Caller) -> ApiResult<Json<Vec<NodeType>>> {
    caller.require(Function::Editor, Level::View)?;
    let mut types: Vec<NodeType> = Registry::with_defaults()
        .schemas()
        .into_iter()
        .map(|(kind, schema)| NodeType {
            kind: kind.to_owned(),
            schema,
        })
        .collect();
    types.push(call_process());
    types.sort_by(|a, b| a.kind.cmp(&b.kind));
    Ok(Json(types))
}
