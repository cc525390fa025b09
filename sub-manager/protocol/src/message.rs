//! The messages: [`ToServer`] (relay → server) and [`ToRelay`] (server →
//! relay), and the types they carry.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::availability::{Load, Thresholds};
use crate::facts::HostFacts;
use crate::secret::Secret;

/// A JSON object (properties, variables, outputs).
pub type Map = serde_json::Map<String, Value>;

/// One attempt of one job: the key of everything the relay holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRef {
    /// The engine's job id (`instance:exec`).
    pub job_id: String,
    /// The engine's attempt number; a retry is a new attempt.
    pub attempt: u32,
}

impl JobRef {
    pub fn new(job_id: impl Into<String>, attempt: u32) -> Self {
        JobRef {
            job_id: job_id.into(),
            attempt,
        }
    }
}

impl std::fmt::Display for JobRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}#{}", self.job_id, self.attempt)
    }
}

/// Relay → server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ToServer {
    /// First message of every connection (boxed: it is much larger than the others).
    Hello(Box<Hello>),
    /// Every `welcome.heartbeatMs`.
    Heartbeat(Heartbeat),
    /// These jobs are on the relay's disk and will run (or have run).
    Accepted { jobs: Vec<JobRef> },
    /// These jobs were not taken (the relay's queue is full): route them
    /// elsewhere or send them again later.
    Rejected { jobs: Vec<JobRef>, reason: String },
    /// One line a running node wrote (secrets masked).
    Log {
        job_id: String,
        attempt: u32,
        stream: LogStream,
        text: String,
    },
    /// A job ended. Sent again after each reconnect until acknowledged.
    Result {
        job_id: String,
        attempt: u32,
        outcome: Outcome,
    },
    /// May this cloud account sign in to the relay's local page?
    /// Answered by [`ToRelay::LoginResult`] with the same `req_id`.
    LoginCheck {
        req_id: String,
        username: String,
        password: Secret,
    },
    /// A frame or message from the server the relay could not read.
    Error { code: String, message: String },
    /// The relay is closing the link on purpose (shutdown).
    Bye { reason: String },
}

/// Server → relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum ToRelay {
    /// The answer to `hello`: the link is up.
    Welcome(Welcome),
    /// Work to do.
    Jobs { jobs: Vec<RelayJob> },
    /// The server has these results: the relay may forget them.
    Ack { results: Vec<JobRef> },
    /// Stop a job (every attempt of `job_id` the relay holds). It ends with
    /// a `failed` result ("cancelled").
    Cancel { job_id: String },
    /// The full list of terminals this relay reaches (replaces the previous
    /// one; the secrets of accounts no longer listed are deleted). No secrets.
    Terminals { terminals: Vec<TerminalSpec> },
    /// Stores an account's secret (password or private key) in the vault.
    /// Write-only: never echoed or sent back.
    SetSecret {
        account_id: String,
        secret: Secret,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        passphrase: Option<Secret>,
    },
    /// Deletes an account's secret.
    RemoveSecret { account_id: String },
    /// The answer to a `loginCheck`.
    LoginResult {
        req_id: String,
        ok: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<LoginUser>,
        /// Why not (shown to the person signing in).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// The token was revoked: the relay stops and retries only slowly.
    Revoked { reason: String },
    /// Something the relay sent could not be read or was refused.
    Error { code: String, message: String },
}

/// The first message: who the relay is and what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    /// [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The Sub-Manager's version (its crate version).
    pub agent_version: String,
    pub company_code: String,
    /// The machine the relay runs on (`${node.host.*}`).
    pub facts: HostFacts,
    /// Every job the relay holds from before this connection: queued,
    /// running, or finished with the result not yet acknowledged.
    #[serde(default)]
    pub resumed: Vec<JobRef>,
}

/// The server's answer to `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Welcome {
    /// [`crate::PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The server's id of this relay (host).
    pub host_id: String,
    /// How often the relay sends a heartbeat.
    pub heartbeat_ms: u64,
    /// When the relay reports itself not available (seed 001).
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// The relay's load, and whether it takes work (its [`Thresholds`] decide).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Heartbeat {
    /// Unix time, milliseconds.
    pub at_ms: i64,
    /// One-minute load average.
    pub load1: f64,
    /// CPU use over all cores since the last heartbeat, 0–100.
    pub cpu_pct: f64,
    /// Memory available to new work, bytes.
    pub mem_free: u64,
    pub mem_total: u64,
    /// Disk reads + writes since the last heartbeat, bytes per second.
    pub io_bytes_per_s: u64,
    /// [`crate::available`] of this sample under the welcome's thresholds.
    pub available: bool,
    /// Why not available (every threshold crossed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Jobs running now.
    pub running: u32,
    /// Jobs accepted and waiting for a slot.
    pub queued: u32,
}

impl Heartbeat {
    /// The sample the availability rules read.
    pub fn load(&self) -> Load {
        Load {
            load1: self.load1,
            cpu_pct: self.cpu_pct,
            mem_free: self.mem_free,
            mem_total: self.mem_total,
            io_bytes_per_s: self.io_bytes_per_s,
        }
    }
}

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogStream {
    Stdout,
    Stderr,
    /// The node's own account of what it does ("connecting to ...").
    Info,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Outcome {
    /// `outputs` become `${elementId.…}`; `vars` are set as process variables.
    Done { outputs: Map, vars: Map },
    /// The node failed (or was cancelled, timed out, or interrupted).
    Failed {
        message: String,
        /// A BPMN error code the process may catch with an error boundary
        /// event; `None` for a technical failure (an incident).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bpmn_code: Option<String>,
    },
}

impl Outcome {
    pub fn failed(message: impl Into<String>) -> Self {
        Outcome::Failed {
            message: message.into(),
            bpmn_code: None,
        }
    }
}

/// One job for the relay: a node to run, with what `${}` resolves against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayJob {
    pub job_id: String,
    pub attempt: u32,
    /// The node kind (`remote-command`, `local-command`, Flowable `shell`, ...).
    pub kind: String,
    /// The BPMN element id (`${elementId.…}` in later nodes).
    pub element_id: String,
    #[serde(default)]
    pub element_name: String,
    pub instance_id: String,
    /// The node's properties as written (`${}` unrendered).
    #[serde(default)]
    pub props: Map,
    /// Process variables (built-ins `LWAMS_*` among them).
    #[serde(default)]
    pub vars: Map,
    /// Earlier nodes' outputs, by element id.
    #[serde(default)]
    pub outputs: Map,
    /// The company's global variables.
    #[serde(default)]
    pub globals: Map,
    /// The server's limit on the whole run (besides the node's own `timeout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl RelayJob {
    pub fn job_ref(&self) -> JobRef {
        JobRef::new(self.job_id.clone(), self.attempt)
    }
}

/// A terminal the relay reaches, with its accounts. No secrets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TerminalSpec {
    pub id: String,
    pub name: String,
    pub host_name: String,
    pub host_address: String,
    pub port: u16,
    /// `ssh`, `winrm` or `rexec`.
    pub connection_type: String,
    pub os_name: String,
    pub os_version: String,
    pub comments: String,
    pub accounts: Vec<AccountSpec>,
}

/// An account on a terminal; its secret arrives separately (`setSecret`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSpec {
    pub id: String,
    pub username: String,
    pub auth_kind: AuthKind,
    #[serde(default)]
    pub comments: String,
}

/// How an account proves itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AuthKind {
    /// The secret is a password.
    Password,
    /// The secret is an OpenSSH private key; the passphrase is optional.
    Key,
}

/// The cloud account a `loginResult` lets in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginUser {
    pub id: String,
    pub name: String,
}
