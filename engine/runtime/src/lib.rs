//! The runtime: deployments, the engine loop that drives `baton-core`,
//! job handlers, timers and the store.
pub mod deploy;
pub mod engine;
pub mod feed;
pub mod handlers;
pub mod job;
pub mod machine;
pub mod nodes;
pub mod report_check;
pub mod script;
pub mod store;
pub mod tenancy;
