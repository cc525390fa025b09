//! The node types the editor's palette and properties panel offer, each with
//! the JSON Schema of its properties (the same schemas the engine validates
//! a deployment against), in English or Chinese (`baton_nodes::schema_zh`).

use axum::Json;
use axum::http::{HeaderMap, HeaderName, header};
use baton_nodes::{Registry, schema, schema_zh};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiResult, wants_zh};
use crate::perm::{Function, Level};

#[derive(Debug, Serialize, ToSchema)]
pub struct NodeType {
    /// The `baton:type` of a service task.
    #[serde(rename = "type")]
    pub kind: String,
    /// JSON Schema of its properties: `title`, `description`, `type`,
    /// `enum`, `default`, `required`; `x-secret` marks write-only ones,
    /// `x-order` lists the properties in the order to show them, `x-ref`
    /// the kind of object a property names (`terminal`, `account`, `host`,
    /// `dataSource`, `script`, `reportTemplate`, `process`: the editor's
    /// pickers), `x-outputs` the outputs the node gives (for `${}`).
    #[schema(value_type = Object)]
    pub schema: Value,
}

/// Every node type, sorted by type. The schemas' titles and descriptions
/// follow `Accept-Language`: Simplified Chinese for `zh-CN` (any `zh`),
/// otherwise English.
#[utoipa::path(get, path = "/api/v1/node-types", tag = "processes",
    responses((status = 200, body = Vec<NodeType>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_node_types(
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<([(HeaderName, &'static str); 1], Json<Vec<NodeType>>)> {
    caller.require(Function::Editor, Level::View)?;
    let zh = wants_zh(&headers);
    let mut types: Vec<NodeType> = Registry::with_defaults()
        .schemas()
        .into_iter()
        .chain([("call-process", schema::call_process())])
        .map(|(kind, schema)| NodeType {
            kind: kind.to_owned(),
            schema: if zh {
                schema_zh::localize(&schema)
            } else {
                schema
            },
        })
        .collect();
    types.sort_by(|a, b| a.kind.cmp(&b.kind));
    Ok(([(header::VARY, "Accept-Language")], Json(types)))
}
