//! Row builders for the store tests.

use baton_runtime::store::*;

pub fn definition(key: &str, version: i32) -> DefinitionRow {
    DefinitionRow {
        id: format!("{key}:{version}"),
        key: key.into(),
        version,
        name: Some(format!("{key} v{version}")),
        xml: format!("<definitions id=\"{key}\" v=\"{version}\"/>"),
        hash: format!("hash-{key}-{version}"),
        deployed_at: 1_000 + i64::from(version),
    }
}

pub fn instance(id: &str, definition_id: &str, started_at: i64) -> InstanceRow {
    InstanceRow {
        id: id.into(),
        definition_id: definition_id.into(),
        process_id: "proc".into(),
        status: "running".into(),
        state: vec![0, 1, 2, 255, 0, 42],
        business_key: Some(format!("bk-{id}")),
        start_way: "api".into(),
        parent_instance: None,
        parent_exec: None,
        started_at,
        ended_at: None,
        version: 1,
    }
}

pub fn insert(row: InstanceRow) -> InstanceWrite {
    InstanceWrite {
        row,
        expected_version: None,
    }
}

pub fn history(instance_id: &str, seq: i64) -> HistoryRow {
    HistoryRow {
        instance_id: instance_id.into(),
        seq,
        exec: seq % 3,
        element_id: format!("el{seq}"),
        kind: "passed".into(),
        data: (seq % 2 == 0).then(|| format!("{{\"n\":{seq}}}")),
        at: 10_000 + seq,
    }
}

pub fn job(id: &str, instance_id: &str, run_at: i64, host: Option<&str>) -> JobRow {
    JobRow {
        id: id.into(),
        instance_id: instance_id.into(),
        exec: 3,
        element_id: "task".into(),
        kind: "script:javascript".into(),
        attempt: 1,
        payload: "{\"x\":1}".into(),
        run_at,
        lease_until: None,
        worker: None,
        host: host.map(str::to_owned),
        claims: 0,
    }
}

pub fn timer(id: &str, instance_id: &str, due_at: i64) -> TimerRow {
    TimerRow {
        id: id.into(),
        instance_id: instance_id.into(),
        sub: 7,
        element_id: "wait".into(),
        due_at,
        lease_until: None,
    }
}

pub fn subscription(id: &str, instance_id: &str, name: &str) -> SubscriptionRow {
    SubscriptionRow {
        id: id.into(),
        instance_id: instance_id.into(),
        sub: 2,
        kind: "message".into(),
        name: name.into(),
        correlation_key: Some("order-1".into()),
        created_at: 5,
    }
}

pub fn task(id: &str, instance_id: &str, assignee: Option<&str>) -> TaskRow {
    TaskRow {
        id: id.into(),
        instance_id: instance_id.into(),
        exec: 4,
        element_id: "approve".into(),
        name: Some("Approve".into()),
        assignee: assignee.map(str::to_owned),
        candidate_groups: Some("ops,admins".into()),
        form_key: None,
        state: "open".into(),
        created_at: 6,
        ended_at: None,
        due_at: None,
    }
}

pub fn incident(id: &str, instance_id: &str) -> IncidentRow {
    IncidentRow {
        id: id.into(),
        instance_id: instance_id.into(),
        exec: 4,
        element_id: "task".into(),
        message: "exit code 1: 'quoted' \"text\" ünïcode".into(),
        created_at: 7,
        resolved_at: None,
    }
}

pub fn conflict(result: Result<(), Error>) -> String {
    match result {
        Err(Error::Conflict { what }) => what,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// One instance with `n` due jobs, committed.
pub async fn seed_jobs(store: &Store, n: usize, host: Option<&str>) -> Vec<String> {
    let ids: Vec<String> = (0..n).map(|i| format!("i1:{i}:1")).collect();
    let batch = Batch {
        instances: vec![insert(instance("i1", "d:1", 1))],
        jobs_new: ids
            .iter()
            .enumerate()
            .map(|(i, id)| job(id, "i1", 100 + i as i64, host))
            .collect(),
        ..Batch::default()
    };
    store.commit(&batch).await.unwrap();
    ids
}
