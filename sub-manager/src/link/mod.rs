//! The link to the server: one outgoing WebSocket over TLS, kept up
//! forever. A lost or refused connection is retried with exponential
//! backoff and jitter (250 ms doubling to 30 s); a revocation (`revoked`,
//! or HTTP 401/403 at the upgrade) is logged loudly and retried only every
//! `revoked_retry_secs` (default 5 min), so a token the server re-enables
//! works again without a restart and a disabled one does not hammer it.
//!
//! While the link is down, log lines wait in memory (the last 10,000);
//! results and acceptances wait in the journal and are re-sent (or listed in
//! `hello.resumed`) on the next connection.

mod backoff;
mod session;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use baton_relay_protocol::ToServer;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use backoff::Backoff;
use session::{End, Failure};

use crate::Agent;
use crate::status::LinkState;

/// Log lines kept while the link is down.
const BACKLOG: usize = 10_000;

/// What waits for the next connection.
#[derive(Default)]
pub struct Backlog {
    logs: VecDeque<ToServer>,
    dropped: usize,
}

impl Backlog {
    /// Keeps log lines (bounded); drops what the journal will re-send
    /// (results, acceptances) or what has no meaning later (heartbeats,
    /// sign-in checks, errors).
    fn absorb(&mut self, m: ToServer) {
        if let ToServer::Log { .. } = m {
            if self.logs.len() == BACKLOG {
                self.logs.pop_front();
                self.dropped += 1;
            }
            self.logs.push_back(m);
        }
    }

    fn drain_from(&mut self, rx: &mut mpsc::UnboundedReceiver<ToServer>) {
        while let Ok(m) = rx.try_recv() {
            self.absorb(m);
        }
    }

    fn take(&mut self) -> (Vec<ToServer>, usize) {
        let dropped = std::mem::take(&mut self.dropped);
        (self.logs.drain(..).collect(), dropped)
    }
}

/// Keeps the link up until `shutdown`.
pub async fn run(
    agent: Arc<Agent>,
    mut rx: mpsc::UnboundedReceiver<ToServer>,
    shutdown: CancellationToken,
) {
    let cfg = &agent.config;
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(30));
    let mut backlog = Backlog::default();
    let mut buf = Vec::new();
    loop {
        backlog.drain_from(&mut rx);
        let result = session::run(&agent, &mut rx, &mut backlog, &shutdown, &mut backoff).await;
        agent.logins.fail_all();
        let wait = match result {
            Ok(End::Shutdown) => return,
            Ok(End::Revoked(reason)) => revoked(
                &agent,
                format!("the server revoked this Sub-Manager's token: {reason}"),
            ),
            Err(Failure::Refused { status, body }) => revoked(
                &agent,
                format!(
                    "the server refused this Sub-Manager's token (HTTP {status} at the WebSocket upgrade){}",
                    if body.is_empty() {
                        String::new()
                    } else {
                        format!(": {body}")
                    }
                ),
            ),
            Ok(End::Lost(error)) | Err(Failure::Other(error)) => {
                let d = backoff.next_delay();
                // The page shows the state before the log says so.
                agent.status.set_link(LinkState::Reconnecting {
                    error: error.clone(),
                });
                tracing::warn!(
                    "link to {}:{}: {error}; reconnecting in {} ms",
                    cfg.cloud_host,
                    cfg.cloud_port,
                    d.as_millis()
                );
                d
            }
        };
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                _ = shutdown.cancelled() => return,
                n = rx.recv_many(&mut buf, 1024) => {
                    if n == 0 {
                        return;
                    }
                    for m in buf.drain(..) {
                        backlog.absorb(m);
                    }
                }
            }
        }
    }
}

fn revoked(agent: &Agent, reason: String) -> Duration {
    let wait = agent.config.revoked_retry;
    tracing::error!(
        "REVOKED: {reason}. This Sub-Manager takes no work until the token is re-enabled on the server; \
         trying again every {} s (revoked_retry_secs).",
        wait.as_secs_f64()
    );
    agent.status.set_link(LinkState::Revoked { reason });
    wait
}
