//! Durable schedules: a loop claims due schedules (a lease, like timers),
//! works out which ticks to perform now, and hands them to the engine loop,
//! which starts one instance per tick (`LWAMS_PROCESS_START_WAY` = `schedule`)
//! and commits, in the same transaction, a fire row per tick (unique on
//! `(schedule, fire_at)`: another engine performing the same tick conflicts
//! and starts nothing) and the schedule's next fire (releasing the lease; only
//! if `next_fire_at` is still what the claim saw, so a schedule deleted or
//! re-saved meanwhile starts nothing).
//!
//! **Which ticks.** The claimed row's `next_fire_at` is the first tick not yet
//! performed. If it is the only tick due and at most [`MISFIRE_GRACE_MS`] late,
//! it is performed. Otherwise (more than one tick due, or one long overdue:
//! the engine was down or behind) the schedule's misfire policy decides through
//! [`Schedule::due_after_downtime`]. The next fire is then the first effective
//! fire after now (holiday calendar and validity window applied).
//!
//! **Overlap.** `allow` starts every tick; `skip` performs no tick while the
//! instance the previous tick started still runs (and at most one per claim);
//! `queue` holds the due tick while the previous run goes on (the schedule
//! stays due, its claim released, looked at again each poll) and performs the
//! held ticks in order, one at a time, each once the run before it has ended.
//! A held tick is late by design, so the misfire policy does not apply to
//! `queue` schedules: no tick is dropped.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use baton_model::Kind;
use baton_schedule::Schedule;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use super::cycle::{Cycle, Work};
use super::{Inner, Input, StartAt};
use crate::deploy::Deployment;
use crate::store::{Overlap, ScheduleAdvance, ScheduleFireRow, ScheduleRow};

/// How late the one due tick may be and still count as on time.
pub const MISFIRE_GRACE_MS: i64 = 60_000;
/// Most schedules claimed per poll.
const CLAIM_LIMIT: u32 = 1000;

/// Ticks of one schedule to perform in one commit.
#[derive(Debug, Clone)]
pub(crate) struct ScheduleTick {
    pub id: String,
    pub key: String,
    pub version: Option<i32>,
    pub vars: Map<String, Value>,
    /// Scheduled instants (ms) of the ticks to start, increasing; may be empty.
    pub fires: Vec<i64>,
    /// The `next_fire_at` the claim saw.
    pub claimed_next: i64,
    pub next_fire_at: Option<i64>,
}

pub(crate) fn to_dt(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Which ticks of `row` (claimed, so due) to perform at `now`, and its next fire.
pub(crate) fn plan(schedule: &Schedule, row: &ScheduleRow, now: i64) -> (Vec<i64>, Option<i64>) {
    let now_dt = to_dt(now);
    let first = row.next_fire_at.unwrap_or(now);
    let before_first = to_dt(first) - TimeDelta::milliseconds(1);
    let mut due = Vec::new();
    let mut at = schedule.next_fire(before_first);
    while let Some(t) = at
        && t <= now_dt
        && due.len() < 2
    {
        due.push(t);
        at = schedule.next_fire(t);
    }
    let fires = match due.as_slice() {
        [] => Vec::new(),
        [one] if now - one.timestamp_millis() <= MISFIRE_GRACE_MS => vec![*one],
        _ => schedule.due_after_downtime(before_first, now_dt),
    };
    let next = schedule.next_fire(now_dt).map(|t| t.timestamp_millis());
    (
        fires.into_iter().map(|t| t.timestamp_millis()).collect(),
        next,
    )
}

/// Ticks are claimed and planned this long before they are due, then held
/// (under their lease) and released at the due instant: the claim's write
/// and the planning stay off the firing path.
const LOOKAHEAD_MS: i64 = 500;

/// Claim due and soon-due schedules and feed their ticks to the engine loop.
pub(super) async fn scheduler_loop(inner: Arc<Inner>) {
    loop {
        if inner.tx.is_closed() {
            return;
        }
        if inner.stopping.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(inner.opts.poll).await;
            continue;
        }
        let now = inner.clock.now_ms();
        let horizon = now + LOOKAHEAD_MS.min(inner.opts.lease_ms / 2);
        match inner
            .store
            .claim_due_schedules(
                &inner.opts.worker,
                horizon,
                CLAIM_LIMIT,
                inner.opts.lease_ms,
            )
            .await
        {
            Ok(rows) => {
                // Group by due instant: each group is released when its time comes.
                let mut groups: std::collections::BTreeMap<i64, Vec<ScheduleTick>> =
                    Default::default();
                for row in rows {
                    let at = row.next_fire_at.unwrap_or(now).max(now);
                    if let Some(tick) = tick_of(&inner, &row, at).await {
                        groups.entry(at).or_default().push(tick);
                    }
                }
                for (at, ticks) in groups {
                    if at <= inner.clock.now_ms() {
                        release(&inner, ticks);
                    } else {
                        let inner = inner.clone();
                        tokio::spawn(async move {
                            // The clock decides (a test clock may not follow real time).
                            loop {
                                let left = at - inner.clock.now_ms();
                                if left <= 0 {
                                    break;
                                }
                                tokio::time::sleep(
                                    inner.clock.real(left).min(Duration::from_millis(50)),
                                )
                                .await;
                            }
                            release(&inner, ticks);
                        });
                    }
                }
            }
            Err(e) => tracing::warn!("claiming schedules: {e}"),
        }
        // Sleep until the earliest tick, at most one poll interval (a tick
        // saved meanwhile, or by another engine, is seen on the next poll).
        let poll = inner.opts.poll;
        // A tick already due but leased (being started, here or elsewhere)
        // is looked at again after 10 ms, not in a busy loop.
        let wait = match inner.store.next_schedule_due().await {
            Ok(Some(due)) => inner
                .clock
                .real(due - LOOKAHEAD_MS - inner.clock.now_ms())
                .clamp(Duration::from_millis(10).min(poll), poll),
            _ => poll,
        };
        tokio::time::sleep(wait).await;
    }
}

fn release(inner: &Inner, ticks: Vec<ScheduleTick>) {
    for tick in ticks {
        let _ = inner.tx.send(Input::Schedule(tick));
    }
}

async fn tick_of(inner: &Inner, row: &ScheduleRow, now: i64) -> Option<ScheduleTick> {
    let schedule = match row.schedule() {
        Ok(s) => s,
        Err(e) => {
            // Left leased: looked at again when the lease runs out.
            tracing::error!(schedule = row.id, "{e}");
            return None;
        }
    };
    if row.overlap == Overlap::Queue {
        return queued_tick(inner, &schedule, row).await;
    }
    let (mut fires, next_fire_at) = plan(&schedule, row, now);
    if row.overlap == Overlap::Skip && !fires.is_empty() {
        fires.drain(..fires.len() - 1);
        match last_run_going(inner, row).await {
            Ok(true) => {
                tracing::info!(schedule = row.id, "previous run still going: tick skipped");
                fires.clear();
            }
            Ok(false) => {}
            Err(()) => return None,
        }
    }
    Some(ScheduleTick {
        id: row.id.clone(),
        key: row.process_key.clone(),
        version: row.process_version,
        vars: row.vars.clone(),
        fires,
        claimed_next: row.next_fire_at?,
        next_fire_at,
    })
}

/// Whether the instance the schedule's last tick started still runs.
async fn last_run_going(inner: &Inner, row: &ScheduleRow) -> Result<bool, ()> {
    let Some(last) = &row.last_instance else {
        return Ok(false);
    };
    match inner.store.load_instance(last).await {
        Ok(Some(i)) => Ok(i.status == "running"),
        Ok(None) => Ok(false),
        Err(e) => {
            tracing::warn!(schedule = row.id, "overlap check: {e}");
            Err(())
        }
    }
}

/// `queue`: the first due tick, once the previous run has ended; the next
/// fire is the tick after it (already due if more are held).
async fn queued_tick(
    inner: &Inner,
    schedule: &Schedule,
    row: &ScheduleRow,
) -> Option<ScheduleTick> {
    let first = row.next_fire_at?;
    match last_run_going(inner, row).await {
        Ok(false) => {}
        Ok(true) => {
            // Held: release the claim so the next poll looks again.
            if let Err(e) = inner.store.release_schedule(&row.id).await {
                tracing::warn!(schedule = row.id, "releasing a held tick: {e}");
            }
            return None;
        }
        Err(()) => return None,
    }
    Some(ScheduleTick {
        id: row.id.clone(),
        key: row.process_key.clone(),
        version: row.process_version,
        vars: row.vars.clone(),
        fires: vec![first],
        claimed_next: first,
        next_fire_at: schedule
            .next_fire(to_dt(first))
            .map(|t| t.timestamp_millis()),
    })
}

/// The none start event of `key`'s process in `dep` (a pinned version).
fn pinned_start(dep: &Arc<Deployment>, key: &str) -> Option<StartAt> {
    let m = &dep.model;
    let p = m.process(key).or(m.main_process())?;
    let s = m.element(p).children.iter().copied().find(
        |&c| matches!(&m.element(c).kind, Kind::StartEvent { triggers, .. } if triggers.is_empty()),
    )?;
    Some((dep.clone(), p, s))
}

impl Cycle<'_> {
    /// Queue one start per tick, then [`Work::ScheduleDone`] to record them.
    pub(super) async fn schedule_tick(&mut self, t: ScheduleTick, more: &mut VecDeque<Work>) {
        let mut slots = Vec::with_capacity(t.fires.len());
        let start = match t.version {
            None => Ok(None),
            Some(v) => {
                let id = format!("{}:{v}", t.key);
                match self.inner.deployment(&id).await {
                    Some(dep) => pinned_start(&dep, &t.key)
                        .map(Some)
                        .ok_or_else(|| format!("{id} has no none start event")),
                    None => Err(format!("no deployed definition {id}")),
                }
            }
        };
        match start {
            Ok(start) => {
                for _ in &t.fires {
                    self.ids.push(None);
                    self.errors.push(None);
                    let slot = self.ids.len() - 1;
                    slots.push(Some(slot));
                    more.push_back(Work::Start {
                        key: t.key.clone(),
                        vars: t.vars.clone(),
                        way: "schedule",
                        start: start.clone(),
                        parent: None,
                        reply: Some(slot),
                    });
                }
            }
            Err(e) => {
                tracing::warn!(schedule = t.id, "cannot start: {e}");
                slots.resize(t.fires.len(), None);
            }
        }
        more.push_back(Work::ScheduleDone(t, slots));
    }

    /// The ticks' starts have run: add the fire rows and the advance to the batch.
    pub(super) fn schedule_done(&mut self, t: ScheduleTick, slots: Vec<Option<usize>>) {
        let now = self.inner.clock.now_ms();
        let mut last_instance = None;
        for (fire_at, slot) in t.fires.iter().zip(slots) {
            let instance = slot.and_then(|s| self.ids.get(s).cloned().flatten());
            if let Some(e) = slot.and_then(|s| self.errors.get(s).cloned().flatten()) {
                tracing::warn!(schedule = t.id, fire_at, "scheduled start failed: {e}");
            }
            if instance.is_some() {
                last_instance.clone_from(&instance);
            }
            self.batch.schedule_fires.push(ScheduleFireRow {
                schedule_id: t.id.clone(),
                fire_at: *fire_at,
                instance_id: instance,
                created_at: now,
            });
        }
        self.batch.schedule_next.push(ScheduleAdvance {
            id: t.id,
            expected_next: t.claimed_next,
            next_fire_at: t.next_fire_at,
            last_fired_at: t.fires.last().copied(),
            last_instance,
        });
    }
}
