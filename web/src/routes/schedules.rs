//! Schedules: the preview of a schedule being edited (the next fire times
//! with its window and holiday calendar applied). Stored schedules' routes
//! come with companies in the engine (see the README).

use axum::Json;
use baton_schedule::calendar::HolidayCalendar;
use baton_schedule::{Dialect, Error, HolidayPolicy, ScheduleSpec, parse_tz};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::Body;
use crate::perm::{Function, Level};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewInput {
    /// Quartz (6–7 fields) or Unix (5 fields) cron.
    pub cron: String,
    /// `quartz`, `unix` or `auto` (default: by the number of fields).
    pub dialect: Option<String>,
    /// IANA zone (default UTC).
    pub tz: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// A holiday calendar (the JSON of `templates/holidays/`).
    #[schema(value_type = Option<Object>)]
    pub calendar: Option<serde_json::Value>,
    /// Fires inside a holiday: `skip` (default) or `shift` to the next working time.
    pub holiday_policy: Option<String>,
    /// From this instant (default: now).
    pub after: Option<DateTime<Utc>>,
    /// How many (1–100, default 10).
    pub n: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Preview {
    /// RFC 3339 in the schedule's zone.
    pub fires: Vec<String>,
}

fn bad(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(field, e.to_string(), format!("无效：{e}"))
}

/// The next fire times of a schedule as edited.
#[utoipa::path(post, path = "/api/v1/schedules/preview", tag = "schedules", request_body = PreviewInput,
    responses((status = 200, body = Preview)))]
pub async fn preview(caller: Caller, Body(b): Body<PreviewInput>) -> ApiResult<Json<Preview>> {
    caller.require(Function::Schedules, Level::View)?;
    let n = b.n.unwrap_or(10);
    if !(1..=100).contains(&n) {
        return Err(bad("body.n", "n must be between 1 and 100"));
    }
    let dialect = match b.dialect.as_deref().unwrap_or("auto") {
        "quartz" => Dialect::Quartz,
        "unix" => Dialect::Unix,
        "auto" => Dialect::Auto,
        d => {
            return Err(bad(
                "body.dialect",
                format!("`{d}` is not quartz, unix or auto"),
            ));
        }
    };
    let holiday_policy = match b.holiday_policy.as_deref().unwrap_or("skip") {
        "skip" => HolidayPolicy::Skip,
        "shift" => HolidayPolicy::ShiftToNextWorkingTime,
        p => {
            return Err(bad(
                "body.holidayPolicy",
                format!("`{p}` is not skip or shift"),
            ));
        }
    };
    let tz = parse_tz(b.tz.as_deref().unwrap_or("UTC")).map_err(|e| bad("body.tz", e))?;
    let calendar = match b.calendar {
        Some(v) => {
            Some(HolidayCalendar::from_json(&v.to_string()).map_err(|e| bad("body.calendar", e))?)
        }
        None => None,
    };
    let spec = ScheduleSpec {
        cron: b.cron,
        dialect,
        tz,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
        calendar,
        holiday_policy,
        misfire: Default::default(),
    };
    let schedule = spec.build().map_err(|e| {
        let field = match &e {
            Error::Cron { .. } => "body.cron",
            Error::UnknownTimeZone(_) => "body.tz",
            Error::EmptyWindow { .. } => "body.validUntil",
            Error::Calendar(_) | Error::CalendarJson(_) => "body.calendar",
        };
        bad(field, e)
    })?;
    let fires = schedule
        .next_fires(b.after.unwrap_or_else(Utc::now), n)
        .into_iter()
        .map(|t| t.with_timezone(&tz).to_rfc3339())
        .collect();
    Ok(Json(Preview { fires }))
}
