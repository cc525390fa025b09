//! `baton schedule preview|add|list|rm`: previews from the command line, and
//! schedules saved in a store (validated on save, the next fire computed).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use baton_runtime::store::{Overlap, ScheduleRow, Store};
use baton_schedule::calendar::HolidayCalendar;
use baton_schedule::{Dialect, HolidayPolicy, MisfirePolicy, ScheduleSpec, parse_tz};
use chrono::{DateTime, Utc};
use serde_json::json;

#[derive(clap::Subcommand)]
pub enum Cmd {
    /// The next fire times of a cron expression (Quartz or Unix), with a holiday calendar applied.
    Preview {
        expr: String,
        #[arg(long, default_value = "UTC")]
        tz: String,
        /// A holiday calendar (JSON; see templates/holidays/).
        #[arg(long)]
        calendar: Option<PathBuf>,
        #[arg(short, default_value_t = 10)]
        n: usize,
    },
    /// Save a schedule in a store (a new one, or replace `--id`); prints it as JSON.
    Add(Box<AddArgs>),
    /// The store's schedules, one JSON object per line.
    List {
        #[arg(long, env = "BATON_STORE", default_value = super::DEFAULT_STORE)]
        store: String,
    },
    /// Delete a schedule and its fire records.
    Rm {
        id: String,
        #[arg(long, env = "BATON_STORE", default_value = super::DEFAULT_STORE)]
        store: String,
    },
}

#[derive(clap::Args)]
pub struct AddArgs {
    /// The process key to start at each tick.
    #[arg(long)]
    process: String,
    /// The process version; default: the latest at each tick.
    #[arg(long)]
    version: Option<i32>,
    /// Quartz (6–7 fields) or Unix (5 fields) cron.
    #[arg(long)]
    cron: String,
    /// `quartz`, `unix` or `auto` (by the number of fields).
    #[arg(long, default_value = "auto")]
    dialect: String,
    /// IANA time zone of the expression.
    #[arg(long, default_value = "UTC")]
    tz: String,
    /// Replace the schedule with this id (default: a new id).
    #[arg(long)]
    id: Option<String>,
    #[arg(long)]
    name: Option<String>,
    /// A holiday calendar file (JSON) to exclude.
    #[arg(long)]
    calendar: Option<PathBuf>,
    /// `skip` fires in a holiday, or `shift` them to the next working time.
    #[arg(long, default_value = "skip")]
    holiday_policy: String,
    /// RFC 3339; fires from this instant on.
    #[arg(long)]
    valid_from: Option<String>,
    /// RFC 3339; fires before this instant only.
    #[arg(long)]
    valid_until: Option<String>,
    /// After downtime: `fire-once-now`, `skip`, or `catch-up:SECONDS` (each missed fire in that window).
    #[arg(long, default_value = "fire-once-now")]
    misfire: String,
    /// While the last run goes on: `allow`, `skip` or `queue`.
    #[arg(long, default_value = "allow")]
    overlap: String,
    /// Start variables, `key=value` (value read as JSON when it parses).
    #[arg(long = "var")]
    vars: Vec<String>,
    /// Save it disabled.
    #[arg(long)]
    disabled: bool,
    #[arg(long, env = "BATON_STORE", default_value = super::DEFAULT_STORE)]
    store: String,
}

pub fn main(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Preview {
            expr,
            tz,
            calendar,
            n,
        } => {
            let cal = calendar.as_deref().map(calendar_file).transpose()?;
            let fires = baton_schedule::preview(&expr, &tz, cal.as_ref(), Utc::now(), n)?;
            for f in fires {
                super::emit(f.to_rfc3339());
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Add(a) => {
            let mut row = row(&a)?;
            row.prepare(super::clock()?.now_ms())?;
            let store = a.store.clone();
            super::block_on(async move {
                let store = open(&store).await?;
                let deployed = store.list_definitions().await?.into_iter().any(|d| {
                    d.key == row.process_key && row.process_version.is_none_or(|v| v == d.version)
                });
                if !deployed {
                    let version = row.process_version.map(|v| format!(" version {v}"));
                    bail!(
                        "--process {}{}: no such process is deployed in this store",
                        row.process_key,
                        version.unwrap_or_default()
                    );
                }
                store.save_schedule(&row).await?;
                let saved = store
                    .schedule(&row.id)
                    .await?
                    .context("the saved schedule")?;
                super::emit(serde_json::to_string(&saved)?);
                Ok(ExitCode::SUCCESS)
            })
        }
        Cmd::List { store } => super::block_on(async move {
            for s in open(&store).await?.list_schedules().await? {
                super::emit(serde_json::to_string(&s)?);
            }
            Ok(ExitCode::SUCCESS)
        }),
        Cmd::Rm { id, store } => super::block_on(async move {
            if open(&store).await?.delete_schedule(&id).await? {
                super::emit(json!({ "deleted": id }));
                Ok(ExitCode::SUCCESS)
            } else {
                bail!("no schedule {id}")
            }
        }),
    }
}

async fn open(url: &str) -> Result<Store> {
    Store::connect(url)
        .await
        .with_context(|| format!("opening the store {url}"))
}

fn calendar_file(p: &std::path::Path) -> Result<HolidayCalendar> {
    HolidayCalendar::from_json(&super::read(p)?)
        .with_context(|| format!("calendar {}", p.display()))
}

fn instant(flag: &str, s: &Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .with_context(|| format!("--{flag} {s:?}: expected an RFC 3339 instant"))
        })
        .transpose()
}

/// The row the flags describe (checked: zone name, policies, window, expression).
fn row(a: &AddArgs) -> Result<ScheduleRow> {
    let dialect = match a.dialect.as_str() {
        "quartz" => Dialect::Quartz,
        "unix" => Dialect::Unix,
        "auto" => Dialect::Auto,
        d => bail!("--dialect {d:?}: expected quartz, unix or auto"),
    };
    let holiday_policy = match a.holiday_policy.as_str() {
        "skip" => HolidayPolicy::Skip,
        "shift" => HolidayPolicy::ShiftToNextWorkingTime,
        p => bail!("--holiday-policy {p:?}: expected skip or shift"),
    };
    let misfire = match a.misfire.split_once(':') {
        None if a.misfire == "fire-once-now" => MisfirePolicy::FireOnceNow,
        None if a.misfire == "skip" => MisfirePolicy::Skip,
        Some(("catch-up", secs)) => MisfirePolicy::CatchUp {
            window: Duration::from_secs(secs.parse().with_context(|| {
                format!("--misfire {:?}: the window is whole seconds", a.misfire)
            })?),
        },
        _ => bail!(
            "--misfire {:?}: expected fire-once-now, skip or catch-up:SECONDS",
            a.misfire
        ),
    };
    let overlap = Overlap::parse(&a.overlap)
        .with_context(|| format!("--overlap {:?}: expected allow, skip or queue", a.overlap))?;
    let spec = ScheduleSpec {
        cron: a.cron.clone(),
        dialect,
        tz: parse_tz(&a.tz)?,
        valid_from: instant("valid-from", &a.valid_from)?,
        valid_until: instant("valid-until", &a.valid_until)?,
        calendar: a.calendar.as_deref().map(calendar_file).transpose()?,
        holiday_policy,
        misfire,
    };
    spec.validate()?;
    Ok(ScheduleRow {
        id: a.id.clone().unwrap_or_default(),
        name: a.name.clone().unwrap_or_else(|| a.process.clone()),
        process_key: a.process.clone(),
        process_version: a.version,
        vars: super::parse_vars(&a.vars)?,
        spec,
        enabled: !a.disabled,
        overlap,
        next_fire_at: None,
        last_fired_at: None,
        last_instance: None,
        created_at: 0,
        updated_at: 0,
    })
}
