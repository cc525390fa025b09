//! The rows the runtime reads and writes, and the [`Batch`] that one
//! transaction applies. Times are milliseconds since the Unix epoch (UTC).

use serde::{Deserialize, Serialize};

/// A deployed BPMN document (one version of one key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefinitionRow {
    /// `key:version`, e.g. `orders:3`.
    pub id: String,
    /// The deployment key (the main process id unless given).
    pub key: String,
    pub version: i32,
    pub name: Option<String>,
    pub xml: String,
    /// SHA-256 of `xml`, hex; redeploying the same text makes no new version.
    pub hash: String,
    pub deployed_at: i64,
}

/// One process instance. `state` is the serialised `baton_core::InstanceState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceRow {
    /// A UUID v7 in text form.
    pub id: String,
    pub definition_id: String,
    pub process_id: String,
    /// `running`, `completed`, `terminated`, `failed`, `cancelled`.
    pub status: String,
    pub state: Vec<u8>,
    pub business_key: Option<String>,
    /// `manual`, `schedule`, `api`, `queue`, `call`, `message`, `signal`, `timer`.
    pub start_way: String,
    /// The caller, for instances started by a call activity: (instance id, exec id).
    pub parent_instance: Option<String>,
    pub parent_exec: Option<i64>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// Optimistic concurrency: bumped by every write.
    pub version: i64,
}

/// Insert (`expected_version: None`) or update an instance row only if its
/// stored version is still `expected_version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceWrite {
    pub row: InstanceRow,
    pub expected_version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub instance_id: String,
    /// Per-instance sequence number, 1-based, gap-free.
    pub seq: i64,
    pub exec: i64,
    pub element_id: String,
    /// `passed`, `started`, `completed`, `terminated`, `failed`, `retried`, `skipped`, `thrown`.
    pub kind: String,
    /// JSON with details (error message, thrown code), if any.
    pub data: Option<String>,
    pub at: i64,
}

/// Work for a worker: one attempt of one activity instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRow {
    /// `instance:exec:attempt`.
    pub id: String,
    pub instance_id: String,
    pub exec: i64,
    pub element_id: String,
    /// The job kind (`script:javascript`, `remote-command`, `service`, ...).
    pub kind: String,
    pub attempt: i32,
    /// JSON: the job's inputs.
    pub payload: String,
    pub run_at: i64,
    /// A claimed job is invisible to other claimers until its lease runs out.
    pub lease_until: Option<i64>,
    pub worker: Option<String>,
    /// The Sub-Manager host to route to; `None` = the server's own workers.
    pub host: Option<String>,
    /// How often the job was leased (created with a lease counts as one). A
    /// job claimed with `claims >= 2` had a holder whose lease ran out: its
    /// work may have been interrupted midway.
    pub claims: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimerRow {
    /// `instance:sub` (or `start:definition:element` for timer start events).
    pub id: String,
    pub instance_id: String,
    pub sub: i64,
    pub element_id: String,
    pub due_at: i64,
    pub lease_until: Option<i64>,
}

/// A message or signal an instance waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRow {
    /// `instance:sub`.
    pub id: String,
    pub instance_id: String,
    pub sub: i64,
    /// `message` or `signal`.
    pub kind: String,
    pub name: String,
    pub correlation_key: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRow {
    /// `instance:exec`.
    pub id: String,
    pub instance_id: String,
    pub exec: i64,
    pub element_id: String,
    pub name: Option<String>,
    pub assignee: Option<String>,
    pub candidate_groups: Option<String>,
    pub form_key: Option<String>,
    /// `open`, `completed`, `cancelled`.
    pub state: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    /// When it is due (its `dueDate`, evaluated at creation).
    #[serde(default)]
    pub due_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentRow {
    /// `instance:exec`.
    pub id: String,
    pub instance_id: String,
    pub exec: i64,
    pub element_id: String,
    pub message: String,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
}

/// Everything one group commit writes, atomically: all or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    pub definitions: Vec<DefinitionRow>,
    pub instances: Vec<InstanceWrite>,
    pub history: Vec<HistoryRow>,
    pub jobs_new: Vec<JobRow>,
    /// Job ids finished by this batch: each must still exist, or the batch is a conflict.
    pub jobs_done: Vec<String>,
    /// Job ids cancelled by this batch (missing ones are fine).
    pub jobs_cancelled: Vec<String>,
    pub timers_new: Vec<TimerRow>,
    /// Timer ids fired by this batch: each must still exist, or the batch is a conflict.
    pub timers_done: Vec<String>,
    /// Timer ids cancelled (missing ones are fine).
    pub timers_cancelled: Vec<String>,
    pub subs_new: Vec<SubscriptionRow>,
    pub subs_done: Vec<String>,
    pub tasks_new: Vec<TaskRow>,
    /// (task id, new state, ended_at).
    pub tasks_ended: Vec<(String, String, i64)>,
    pub incidents_new: Vec<IncidentRow>,
    /// (incident id, resolved_at).
    pub incidents_resolved: Vec<(String, i64)>,
    /// Schedule ticks performed: a tick already in the store is a conflict.
    pub schedule_fires: Vec<ScheduleFireRow>,
    /// Schedules moved on to their next fire (their claim lease released).
    pub schedule_next: Vec<ScheduleAdvance>,
}

/// One performed tick of a schedule; `(schedule_id, fire_at)` is unique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleFireRow {
    pub schedule_id: String,
    /// The tick's scheduled instant (not when it was performed).
    pub fire_at: i64,
    /// The instance it started, if one started.
    pub instance_id: Option<String>,
    pub created_at: i64,
}

/// A schedule's new `next_fire_at` after its due ticks were handled. Applies only if
/// the schedule still exists with `next_fire_at = expected_next` (what the claim
/// saw), else the batch is a conflict: a deleted, re-saved or already advanced
/// schedule starts nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleAdvance {
    pub id: String,
    pub expected_next: i64,
    pub next_fire_at: Option<i64>,
    /// The last tick performed (unchanged when `None`).
    pub last_fired_at: Option<i64>,
    /// The instance the last tick started (unchanged when `None`).
    pub last_instance: Option<String>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        *self == Batch::default()
    }
}
