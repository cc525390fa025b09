//! `noop`: a node that does nothing (optionally waits `delayMs`). The
//! server's engine has its own built-in `noop`; the relay has it so the
//! server can probe a link end to end and so the relay benchmark measures
//! the relay, not a node. Idempotent.

use std::time::Duration;

use baton_nodes::schema::{self, prop};
use baton_nodes::{BoxFuture, Ctx, Node, NodeError, Outputs};
use serde_json::Value;

pub struct Noop;

impl Node for Noop {
    fn kind(&self) -> &'static str {
        "noop"
    }

    fn schema(&self) -> Value {
        schema::object(
            "No operation",
            vec![(
                "delayMs",
                prop("number", "Delay (ms)", "Wait this long, then complete."),
            )],
            &[],
        )
    }

    fn idempotent(&self) -> bool {
        true
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(async move {
            if let Some(ms) = ctx.number("delayMs")? {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs_f64(ms / 1000.0)) => {}
                    _ = ctx.cancelled() => return Err(NodeError::Cancelled),
                }
            }
            Ok(Outputs::new())
        })
    }
}
