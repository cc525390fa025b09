//! Row mapping of what instances wait on: jobs, timers, subscriptions,
//! user tasks and incidents.

use sea_orm::{DbErr, QueryResult, Value};

use super::Decode;
use crate::store::rows::{IncidentRow, JobRow, SubscriptionRow, TaskRow, TimerRow};
use crate::store::sql::Insert;

const JOB: &[&str] = &[
    "id",
    "instance_id",
    "exec",
    "element_id",
    "kind",
    "attempt",
    "payload",
    "run_at",
    "lease_until",
    "worker",
    "host",
    "claims",
];

impl Insert for JobRow {
    const TABLE: &'static str = "jobs";
    const COLUMNS: &'static [&'static str] = JOB;
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.extend([
            self.id.clone().into(),
            self.instance_id.clone().into(),
            self.exec.into(),
            self.element_id.clone().into(),
            self.kind.clone().into(),
            self.attempt.into(),
            self.payload.clone().into(),
            self.run_at.into(),
            self.lease_until.into(),
            self.worker.clone().into(),
            self.host.clone().into(),
            self.claims.into(),
        ]);
    }
}

impl Decode for JobRow {
    const COLUMNS: &'static [&'static str] = JOB;
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(JobRow {
            id: r.try_get_by_index(0)?,
            instance_id: r.try_get_by_index(1)?,
            exec: r.try_get_by_index(2)?,
            element_id: r.try_get_by_index(3)?,
            kind: r.try_get_by_index(4)?,
            attempt: r.try_get_by_index(5)?,
            payload: r.try_get_by_index(6)?,
            run_at: r.try_get_by_index(7)?,
            lease_until: r.try_get_by_index(8)?,
            worker: r.try_get_by_index(9)?,
            host: r.try_get_by_index(10)?,
            claims: r.try_get_by_index(11)?,
        })
    }
}

const TIMER: &[&str] = &[
    "id",
    "instance_id",
    "sub",
    "element_id",
    "due_at",
    "lease_until",
];

impl Insert for TimerRow {
    const TABLE: &'static str = "timers";
    const COLUMNS: &'static [&'static str] = TIMER;
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.extend([
            self.id.clone().into(),
            self.instance_id.clone().into(),
            self.sub.into(),
            self.element_id.clone().into(),
            self.due_at.into(),
            self.lease_until.into(),
        ]);
    }
}

impl Decode for TimerRow {
    const COLUMNS: &'static [&'static str] = TIMER;
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(TimerRow {
            id: r.try_get_by_index(0)?,
            instance_id: r.try_get_by_index(1)?,
            sub: r.try_get_by_index(2)?,
            element_id: r.try_get_by_index(3)?,
            due_at: r.try_get_by_index(4)?,
            lease_until: r.try_get_by_index(5)?,
        })
    }
}

const SUBSCRIPTION: &[&str] = &[
    "id",
    "instance_id",
    "sub",
    "kind",
    "name",
    "correlation_key",
    "created_at",
];

impl Insert for SubscriptionRow {
    const TABLE: &'static str = "subscriptions";
    const COLUMNS: &'static [&'static str] = SUBSCRIPTION;
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.extend([
            self.id.clone().into(),
            self.instance_id.clone().into(),
            self.sub.into(),
            self.kind.clone().into(),
            self.name.clone().into(),
            self.correlation_key.clone().into(),
            self.created_at.into(),
        ]);
    }
}

impl Decode for SubscriptionRow {
    const COLUMNS: &'static [&'static str] = SUBSCRIPTION;
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(SubscriptionRow {
            id: r.try_get_by_index(0)?,
            instance_id: r.try_get_by_index(1)?,
            sub: r.try_get_by_index(2)?,
            kind: r.try_get_by_index(3)?,
            name: r.try_get_by_index(4)?,
            correlation_key: r.try_get_by_index(5)?,
            created_at: r.try_get_by_index(6)?,
        })
    }
}

const TASK: &[&str] = &[
    "id",
    "instance_id",
    "exec",
    "element_id",
    "name",
    "assignee",
    "candidate_groups",
    "form_key",
    "state",
    "created_at",
    "ended_at",
    "due_at",
];

impl Insert for TaskRow {
    const TABLE: &'static str = "tasks";
    const COLUMNS: &'static [&'static str] = TASK;
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.extend([
            self.id.clone().into(),
            self.instance_id.clone().into(),
            self.exec.into(),
            self.element_id.clone().into(),
            self.name.clone().into(),
            self.assignee.clone().into(),
            self.candidate_groups.clone().into(),
            self.form_key.clone().into(),
            self.state.clone().into(),
            self.created_at.into(),
            self.ended_at.into(),
            self.due_at.into(),
        ]);
    }
}

impl Decode for TaskRow {
    const COLUMNS: &'static [&'static str] = TASK;
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(TaskRow {
            id: r.try_get_by_index(0)?,
            instance_id: r.try_get_by_index(1)?,
            exec: r.try_get_by_index(2)?,
            element_id: r.try_get_by_index(3)?,
            name: r.try_get_by_index(4)?,
            assignee: r.try_get_by_index(5)?,
            candidate_groups: r.try_get_by_index(6)?,
            form_key: r.try_get_by_index(7)?,
            state: r.try_get_by_index(8)?,
            created_at: r.try_get_by_index(9)?,
            ended_at: r.try_get_by_index(10)?,
            due_at: r.try_get_by_index(11)?,
        })
    }
}

const INCIDENT: &[&str] = &[
    "id",
    "instance_id",
    "exec",
    "element_id",
    "message",
    "created_at",
    "resolved_at",
];

impl Insert for IncidentRow {
    const TABLE: &'static str = "incidents";
    const COLUMNS: &'static [&'static str] = INCIDENT;
    fn bind_values(&self, out: &mut Vec<Value>) {
        out.extend([
            self.id.clone().into(),
            self.instance_id.clone().into(),
            self.exec.into(),
            self.element_id.clone().into(),
            self.message.clone().into(),
            self.created_at.into(),
            self.resolved_at.into(),
        ]);
    }
}

impl Decode for IncidentRow {
    const COLUMNS: &'static [&'static str] = INCIDENT;
    fn decode(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(IncidentRow {
            id: r.try_get_by_index(0)?,
            instance_id: r.try_get_by_index(1)?,
            exec: r.try_get_by_index(2)?,
            element_id: r.try_get_by_index(3)?,
            message: r.try_get_by_index(4)?,
            created_at: r.try_get_by_index(5)?,
            resolved_at: r.try_get_by_index(6)?,
        })
    }
}
