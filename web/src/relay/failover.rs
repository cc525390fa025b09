//! Adaptive failover (seed 001): each host has a priority list of backups;
//! a backup is available when its relay's heartbeats say so under the
//! host's thresholds. When a host's heartbeats stop, its jobs — queued,
//! sent, running — move to its first available backup, which then counts as
//! taken, so a second lost host goes to another backup. The lost host's
//! work is re-run there (the operations log of seed 001). Every server runs
//! the sweep; a conditional UPDATE makes exactly one act on each loss.

use std::sync::Arc;
use std::time::Duration;

use baton_runtime::store::{FailoverRow, HostRow, LOST, RelayEventRow, Result};

use super::RelayHub;

/// Looks for lost hosts every quarter of `lost_after`.
pub(crate) async fn sweep(hub: Arc<RelayHub>) {
    let every = (hub.cfg.lost_after / 4).max(Duration::from_millis(100));
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = sweep_once(&hub).await {
            tracing::warn!("relay failover sweep: {e}");
        }
    }
}

async fn sweep_once(hub: &Arc<RelayHub>) -> Result<()> {
    let store = &hub.store;
    let now = hub.engine.now_ms();
    let before = now - hub.cfg.lost_after.as_millis() as i64;
    for h in store.stale_hosts(before).await? {
        if store.mark_host_lost(&h.id, before).await? {
            let mut lost = h.clone();
            lost.state = LOST.to_owned();
            hub.publish_host(&lost, false);
            let silent = h.last_seen.map(|t| (now - t) / 1000).unwrap_or(0);
            tracing::warn!(host = h.name, "relay lost: no heartbeat for {silent} s");
            fail_over(hub, h, &format!("no heartbeat for {silent} s")).await?;
        }
    }
    // Lost hosts nobody could take earlier: a backup may be free now.
    for h in store.uncovered_lost_hosts().await? {
        if !store.jobs_of_host(&h.id).await?.is_empty() {
            fail_over(hub, h, "waiting for a backup").await?;
        }
    }
    Ok(())
}

/// Moves the lost host's jobs to its first available backup. A lost host
/// that itself covered another hands that one on too.
async fn fail_over(hub: &Arc<RelayHub>, lost: HostRow, reason: &str) -> Result<()> {
    let store = &hub.store;
    let mut queue = vec![(lost, reason.to_owned())];
    while let Some((host, reason)) = queue.pop() {
        if let Some(covered) = &host.covering {
            store.stop_covering(&host.id).await?;
            if let Some(c) = store.host_by_id(covered).await?
                && c.state == LOST
            {
                let why = format!("its backup `{}` was lost too", host.name);
                queue.push((c, why));
            }
        }
        let jobs = store.jobs_of_host(&host.id).await?;
        let mut taken = None;
        for b in &host.backups {
            if store.take_backup(b, &host.id).await? {
                taken = Some(b.clone());
                break;
            }
        }
        let now = hub.engine.now_ms();
        let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
        let moved = match &taken {
            Some(b) => store.move_jobs(&host.id, b, &ids).await?,
            None => 0,
        };
        if taken.is_none() && jobs.is_empty() && reason == "waiting for a backup" {
            continue;
        }
        let backup_name = match &taken {
            Some(b) => store
                .host_by_id(b)
                .await?
                .map(|h| h.name)
                .unwrap_or_else(|| b.clone()),
            None => String::new(),
        };
        let detail = match &taken {
            Some(_) => format!(
                "host `{}` lost ({reason}): re-run on backup `{backup_name}`",
                host.name
            ),
            None => format!(
                "host `{}` lost ({reason}): no backup available, the jobs wait",
                host.name
            ),
        };
        tracing::warn!("{detail} ({} jobs)", jobs.len());
        store
            .add_failover(&FailoverRow {
                id: uuid::Uuid::now_v7().to_string(),
                company_id: host.company_id.clone(),
                host_id: host.id.clone(),
                backup_id: taken.clone(),
                at: now,
                jobs: moved as i64,
                reason: detail.clone(),
            })
            .await?;
        if taken.is_some() {
            let events: Vec<RelayEventRow> = jobs
                .iter()
                .map(|j| RelayEventRow {
                    instance_id: j.instance_id.clone(),
                    job_id: j.id.clone(),
                    attempt: i64::from(j.attempt),
                    at: now,
                    host_id: taken.clone().unwrap_or_default(),
                    event: "failover".into(),
                    detail: detail.clone(),
                })
                .collect();
            store.add_relay_events(&events).await?;
            hub.wake_all();
        }
    }
    Ok(())
}
