//! `baton bench schedules`: fire lateness when many schedules are due in the
//! same second among many more that are not (issue 5's benchmark).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use baton_runtime::store::{InstanceFilter, Overlap, Page, ScheduleRow};
use baton_schedule::ScheduleSpec;
use chrono::{Timelike, Utc};
use serde_json::{Map, json};

const MODEL: &str = r#"<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:baton="http://baton.dev/schema/bpmn" id="bench-tick-d" targetNamespace="t">
  <process id="tick" isExecutable="true" baton:owner="bench">
    <startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="e"/><endEvent id="e"/>
  </process></definitions>"#;

fn row(id: String, spec: ScheduleSpec) -> ScheduleRow {
    ScheduleRow {
        id,
        name: "bench".into(),
        process_key: "tick".into(),
        process_version: None,
        vars: Map::new(),
        spec,
        enabled: true,
        overlap: Overlap::Allow,
        next_fire_at: None,
        last_fired_at: None,
        last_instance: None,
        created_at: 0,
        updated_at: 0,
    }
}

/// Save `total - due` schedules that fire yearly (not now) and `due` that fire
/// hourly at the same minute and second, a few seconds from now; measure
/// each due instance's start time against that second.
pub fn run(url: &str, total: usize, due: usize) -> Result<serde_json::Value> {
    if due > total {
        bail!("--due ({due}) cannot exceed --schedules ({total})");
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let args = super::serve::EngineArgs { poll_ms: 50, ..Default::default() };
        let engine = super::serve::engine(url, args, true).await?;
        engine.deploy(MODEL, None).await?;
        let far = ScheduleSpec::new("0 0 0 1 1 ?", "UTC")?;
        let t = Instant::now();
        let mut last = Instant::now();
        for i in 0..total - due {
            engine.save_schedule(row(format!("far-{i}"), far.clone())).await?;
            if last.elapsed() >= Duration::from_secs(2) {
                eprintln!("… {i} of {} idle schedules saved", total - due);
                last = Instant::now();
            }
        }
        let per_save = t.elapsed().as_secs_f64() / (total - due).max(1) as f64;
        // The due second: far enough ahead to save the due schedules first.
        let margin = Duration::from_secs_f64((per_save * due as f64 * 2.0).max(2.0) + 1.0);
        let at = (Utc::now() + margin).with_nanosecond(0).context("time")?;
        let expr = format!("{} {} * * * ?", at.second(), at.minute());
        let spec = ScheduleSpec::new(&expr, "UTC")?;
        for i in 0..due {
            engine.save_schedule(row(format!("due-{i}"), spec.clone())).await?;
        }
        if Utc::now() >= at {
            bail!("saving the due schedules took past their second; raise the margin");
        }
        let filter = InstanceFilter { start_way: Some("schedule".into()), ..Default::default() };
        let deadline = Instant::now() + margin + Duration::from_secs(60);
        while (engine.store().count_instances(&filter).await? as usize) < due {
            if Instant::now() > deadline {
                bail!("the due schedules did not all fire within a minute");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let started = engine.store().list_instances(&filter, Page { offset: 0, limit: due as u64 * 2 }).await?;
        let fire = at.timestamp_millis();
        let mut late: Vec<i64> = started.iter().map(|i| i.started_at - fire).collect();
        late.sort_unstable();
        let pct = |p: f64| late[((late.len() - 1) as f64 * p).round() as usize];
        Ok(json!({
            "schedules": total,
            "due_in_one_second": due,
            "fired": late.len(),
            "lateness_ms": { "min": late[0], "p50": pct(0.50), "p99": pct(0.99), "max": late[late.len() - 1] },
            "save_us_per_schedule": (per_save * 1e6).round(),
        }))
    })
}
