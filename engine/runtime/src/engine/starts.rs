//! Triggered starts of top-level processes: timer start events (a `start:`
//! timer row per start event, re-armed for cycles) and conditional start
//! events (evaluated against variables on request).

use std::collections::VecDeque;

use baton_model::{Kind, Timer, Trigger};
use serde_json::{Map, Value};

use super::cycle::{Cycle, Work};
use crate::deploy::Deployment;
use crate::store::TimerRow;

/// The timer row id of a start event: one per key and element, whatever the version.
fn timer_id(key: &str, element: &str) -> String {
    format!("start:{key}:{element}")
}

/// When a timer start event first fires after `now`, and how many more
/// times (`-1`: without end).
fn first_due(t: &Timer, now: i64) -> Result<(i64, i64), String> {
    let scope = Map::new();
    let text = |tpl: &baton_expr::Template| tpl.render(&scope).map_err(|e| e.to_string());
    match t {
        Timer::Date(x) => Ok((baton_core::parse_date(text(x)?.trim())?, 0)),
        Timer::Duration(x) => Ok((baton_core::add_duration(now, text(x)?.trim())?, 0)),
        Timer::Cycle(x) => {
            let (due, cycle) = baton_core::parse_cycle(now, text(x)?.trim())?;
            Ok((due, cycle.and_then(|c| c.left).map_or(-1, i64::from)))
        }
    }
}

/// The timer rows a deployment's timer start events need, as of `now`.
pub fn timer_rows(dep: &Deployment, now: i64) -> Vec<TimerRow> {
    let mut rows = Vec::new();
    for (_, el, t) in dep.starts_where(|t| matches!(t, Trigger::Timer(_))) {
        let Trigger::Timer(timer) = t else { continue };
        let id = &dep.model.element(el).id;
        match first_due(timer, now) {
            Ok((due, left)) => rows.push(TimerRow {
                id: timer_id(&dep.key, id),
                instance_id: String::new(),
                sub: left,
                element_id: id.clone(),
                due_at: due,
                lease_until: None,
            }),
            Err(e) => tracing::error!(definition = dep.id, element = id, "timer start event: {e}"),
        }
    }
    rows
}

/// Top-level conditional start events whose condition holds for `vars`.
pub fn conditional_starts(
    dep: &std::sync::Arc<Deployment>,
    vars: &Map<String, Value>,
) -> Vec<super::StartAt> {
    dep.starts_where(|t| matches!(t, Trigger::Conditional(c) if c.eval_bool(vars).unwrap_or(false)))
        .into_iter()
        .map(|(p, s, _)| (dep.clone(), p, s))
        .collect()
}

impl Cycle<'_> {
    /// A timer start event is due: start an instance at it and re-arm a cycle.
    pub(super) fn timer_start(&mut self, t: TimerRow, more: &mut VecDeque<Work>) {
        let key =
            t.id.strip_prefix("start:")
                .and_then(|r| r.rsplit_once(':'))
                .map(|(k, _)| k.to_owned());
        let Some(key) = key else { return };
        let dep = {
            let d = self
                .inner
                .deployments
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            d.latest.get(&key).and_then(|id| d.by_id.get(id)).cloned()
        };
        let Some(dep) = dep else { return };
        let Some(el) = dep.model.by_id(&t.element_id) else {
            return;
        };
        let Some(process) = dep.model.element(el).parent else {
            return;
        };
        let timer = match &dep.model.element(el).kind {
            Kind::StartEvent { triggers, .. } => triggers.iter().find_map(|x| match x {
                Trigger::Timer(tm) => Some(tm.clone()),
                _ => None,
            }),
            _ => None,
        };
        more.push_back(Work::Start {
            key: key.clone(),
            vars: Map::new(),
            way: "timer",
            start: Some((dep.clone(), process, el)),
            parent: None,
            reply: None,
        });
        if let (Some(Timer::Cycle(x)), true) = (&timer, t.sub != 0) {
            let every = x
                .render(&Map::new())
                .ok()
                .and_then(|text| baton_core::parse_cycle(t.due_at, text.trim()).ok())
                .and_then(|(_, c)| c.map(|c| c.every_ms));
            if let Some(every) = every {
                self.batch.timers_new.push(TimerRow {
                    due_at: t.due_at + every,
                    sub: if t.sub < 0 { -1 } else { t.sub - 1 },
                    lease_until: None,
                    ..t
                });
            }
        }
    }
}
