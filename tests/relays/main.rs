//! Sub-Manager relays against the server side: the real relay hub (TLS
//! listener, links, failover sweep) and engine in this process on a SQLite
//! store, real `sub-manager` processes dialling in over TLS, a real sshd.
//!
//! - a process whose node runs on a relay against sshd: the secret reaches
//!   the relay and leaves the server; `${node.host.*}` are the relay's facts;
//! - kill -9 of two relays holding jobs: each one's jobs finish on a
//!   different backup, the backup over its memory threshold is skipped,
//!   none lost, none applied twice; the lost relay's late results ignored;
//! - a relay restarted at once keeps the jobs it accepted;
//! - revoking a token closes the link at once and the relay stays out;
//! - wrong token and wrong company are refused at the upgrade.

#[path = "../../nodes/tests/common/sshd.rs"]
#[allow(dead_code)]
mod sshd;

mod cloud;
mod raw;
mod refusals;
mod relay;
mod running;

const HEARTBEAT_MS: u64 = 200;
const LOST_AFTER_MS: u64 = 1_500;
