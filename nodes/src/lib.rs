//! Baton's node library: the operations work a BPMN service task does.
//!
//! A node is a [`Node`]: its kind (`<serviceTask baton:type="remote-command">`),
//! the JSON schema of its properties (the editor's properties panel is
//! generated from it), deploy-time validation, whether it is idempotent, and
//! an async `run`. The [`Registry`] finds a node by kind (Flowable and Camunda 7
//! names included), renders nothing itself but gives the node a [`Ctx`] that
//! does: every property is a `${}` template resolved against built-ins, node
//! outputs, process variables and global variables, strictly (an unknown name
//! is an error that names it). The registry enforces timeouts, passes
//! cancellation, streams log lines and masks secrets.
//!
//! Nodes reach machines and databases through [`Resources`] (terminals,
//! accounts, data sources, script library, global variables, pinned SSH host
//! keys, file roots): the server implements it over its store, a Sub-Manager
//! over its local configuration, tests with [`resources::MemResources`].

pub mod capture;
pub mod ctx;
pub mod error;
pub mod fileop;
pub mod http;
pub mod local;
pub mod mail;
pub mod registry;
pub mod report;
pub mod resources;
pub mod schema;
pub mod schema_zh;
pub mod secret;
pub mod sql;
pub mod ssh;

use std::future::Future;
use std::pin::Pin;

pub use ctx::{Ctx, JobInfo, LogLine, Stream};
pub use error::NodeError;
pub use registry::{Registry, RunResult};
pub use resources::Resources;
pub use secret::{MasterKey, Secret};

/// A boxed future that borrows for `'a` (nodes borrow their context).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A node's outputs: readable afterwards as `${nodeId.name}`.
pub type Outputs = serde_json::Map<String, serde_json::Value>;

/// One kind of work.
pub trait Node: Send + Sync + 'static {
    /// The `baton:type` value, e.g. `remote-command`.
    fn kind(&self) -> &'static str;

    /// JSON Schema (draft 2020-12) of the properties, with `title` and
    /// `description` for the editor and `x-secret` on write-only fields.
    fn schema(&self) -> serde_json::Value;

    /// Whether running the work twice is harmless. A non-idempotent node
    /// interrupted by a crash is handed to the operator, not re-run.
    fn idempotent(&self) -> bool;

    /// Deploy-time checks on the raw (unrendered) properties. The default
    /// checks what the schema marks `required` and that every property is a
    /// well-formed template.
    fn validate(&self, props: &Outputs) -> Result<(), NodeError> {
        schema::check_required(&self.schema(), props)?;
        schema::check_templates(props)
    }

    /// Does the work. Long-running nodes watch [`Ctx::cancelled`] and clean
    /// up (kill the process, close the channel) before returning.
    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>>;
}
