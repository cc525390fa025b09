//! `baton schedule preview EXPR [--tz Z] [--calendar FILE] [-n N]`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use baton_schedule::calendar::HolidayCalendar;

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
}

pub fn main(cmd: Cmd) -> Result<ExitCode> {
    let Cmd::Preview {
        expr,
        tz,
        calendar,
        n,
    } = cmd;
    let cal = match calendar {
        Some(p) => Some(
            HolidayCalendar::from_json(&super::read(&p)?)
                .with_context(|| format!("calendar {}", p.display()))?,
        ),
        None => None,
    };
    let fires = baton_schedule::preview(&expr, &tz, cal.as_ref(), chrono::Utc::now(), n)?;
    for f in fires {
        super::emit(f.to_rfc3339());
    }
    Ok(ExitCode::SUCCESS)
}
