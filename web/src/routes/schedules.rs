//! Schedules: the preview of a schedule being edited (the next fire times
//! with its window and holiday calendar applied), and stored schedules.
//! A schedule's `calendar` is a calendar's JSON or the id or name of a
//! stored one (`/api/v1/holidays`): the schedule keeps a copy, which
//! replacing that calendar updates (see `holidays.rs`).

use axum::Json;
use baton_schedule::calendar::HolidayCalendar;
use baton_schedule::{Dialect, Error, HolidayPolicy, MisfirePolicy, ScheduleSpec, parse_tz};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use axum::extract::State;
use baton_runtime::store::{Overlap, ScheduleRow};
use baton_runtime::tenancy::{bare, company_of, qualify};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Body, ListParams, Page, Path, Query};
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
    /// A holiday calendar (the JSON of `templates/holidays/`), or the id or
    /// name of a stored one (`/api/v1/holidays`).
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

/// When a schedule fires: the fields the preview and a saved schedule share.
struct When {
    cron: String,
    dialect: Option<String>,
    tz: Option<String>,
    valid_from: Option<DateTime<Utc>>,
    valid_until: Option<DateTime<Utc>>,
    calendar: Option<serde_json::Value>,
    holiday_policy: Option<String>,
    misfire: Option<String>,
}

fn spec_of(w: &When) -> ApiResult<ScheduleSpec> {
    let dialect = match w.dialect.as_deref().unwrap_or("auto") {
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
    let holiday_policy = match w.holiday_policy.as_deref().unwrap_or("skip") {
        "skip" => HolidayPolicy::Skip,
        "shift" => HolidayPolicy::ShiftToNextWorkingTime,
        p => {
            return Err(bad(
                "body.holidayPolicy",
                format!("`{p}` is not skip or shift"),
            ));
        }
    };
    let misfire = match w.misfire.as_deref().unwrap_or("fire-once-now") {
        "fire-once-now" => MisfirePolicy::FireOnceNow,
        "skip" => MisfirePolicy::Skip,
        m => match m
            .strip_prefix("catch-up:")
            .and_then(|n| n.parse::<u64>().ok())
        {
            Some(secs) => MisfirePolicy::CatchUp {
                window: std::time::Duration::from_secs(secs),
            },
            None => {
                return Err(bad(
                    "body.misfire",
                    format!("`{m}` is not fire-once-now, skip or catch-up:SECONDS"),
                ));
            }
        },
    };
    let tz = parse_tz(w.tz.as_deref().unwrap_or("UTC")).map_err(|e| bad("body.tz", e))?;
    let calendar = match &w.calendar {
        Some(v) => {
            Some(HolidayCalendar::from_json(&v.to_string()).map_err(|e| bad("body.calendar", e))?)
        }
        None => None,
    };
    let spec = ScheduleSpec {
        cron: w.cron.clone(),
        dialect,
        tz,
        valid_from: w.valid_from,
        valid_until: w.valid_until,
        calendar,
        holiday_policy,
        misfire,
    };
    spec.validate().map_err(spec_error)?;
    Ok(spec)
}

/// A schedule's `calendar`: a string names a stored calendar of the
/// caller's company (by id or name), whose JSON it becomes.
async fn resolve_calendar(
    state: &AppState,
    caller: &Caller,
    calendar: Option<serde_json::Value>,
) -> ApiResult<Option<serde_json::Value>> {
    let Some(serde_json::Value::String(key)) = &calendar else {
        return Ok(calendar);
    };
    let stored = state
        .store
        .holiday_calendar(caller.company_id(), key)
        .await?
        .ok_or_else(|| {
            ApiError::invalid(
                "body.calendar",
                format!("no holiday calendar `{key}` (see /api/v1/holidays)"),
                format!("找不到节假日模版「{key}」"),
            )
        })?;
    Ok(Some(
        serde_json::to_value(&stored.calendar).map_err(ApiError::internal)?,
    ))
}

fn spec_error(e: Error) -> ApiError {
    let field = match &e {
        Error::Cron { .. } => "body.cron",
        Error::UnknownTimeZone(_) => "body.tz",
        Error::EmptyWindow { .. } => "body.validUntil",
        Error::Calendar(_) | Error::CalendarJson(_) => "body.calendar",
    };
    bad(field, e)
}

/// The next fire times of a schedule as edited.
#[utoipa::path(post, path = "/api/v1/schedules/preview", tag = "schedules", request_body = PreviewInput,
    responses((status = 200, body = Preview)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<PreviewInput>,
) -> ApiResult<Json<Preview>> {
    caller.require(Function::Schedules, Level::View)?;
    let calendar = resolve_calendar(&state, &caller, b.calendar).await?;
    let n = b.n.unwrap_or(10);
    if !(1..=100).contains(&n) {
        return Err(bad("body.n", "n must be between 1 and 100"));
    }
    let schedule = spec_of(&When {
        cron: b.cron,
        dialect: b.dialect,
        tz: b.tz,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
        calendar,
        holiday_policy: b.holiday_policy,
        misfire: None,
    })?
    .build()
    .map_err(spec_error)?;
    let tz = schedule.spec().tz;
    let fires = schedule
        .next_fires(b.after.unwrap_or_else(Utc::now), n)
        .into_iter()
        .map(|t| t.with_timezone(&tz).to_rfc3339())
        .collect();
    Ok(Json(Preview { fires }))
}

// ---- stored schedules ---------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleInput {
    pub name: Option<String>,
    /// The process key to start at each tick.
    pub process: String,
    /// A pinned version (default: the latest at each tick).
    pub version: Option<i32>,
    /// Start variables of every instance it starts.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: serde_json::Map<String, serde_json::Value>,
    pub cron: String,
    pub dialect: Option<String>,
    pub tz: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// A holiday calendar's JSON, or the id or name of a stored one.
    #[schema(value_type = Option<Object>)]
    pub calendar: Option<serde_json::Value>,
    pub holiday_policy: Option<String>,
    /// After downtime: `fire-once-now` (default), `skip`, `catch-up:SECONDS`.
    pub misfire: Option<String>,
    /// While the last run goes on: `allow` (default), `skip`, `queue`.
    pub overlap: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleView {
    pub id: String,
    pub name: String,
    pub process: String,
    pub version: Option<i32>,
    #[schema(value_type = Object)]
    pub variables: serde_json::Map<String, serde_json::Value>,
    /// The stored spec: cron, dialect, tz, window, calendar, holiday and misfire policies.
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
    pub overlap: String,
    pub enabled: bool,
    pub next_fire_at: Option<i64>,
    pub last_fired_at: Option<i64>,
    pub last_instance: Option<String>,
}

fn view(r: &ScheduleRow) -> ScheduleView {
    ScheduleView {
        id: r.id.clone(),
        name: r.name.clone(),
        process: bare(&r.process_key).to_owned(),
        version: r.process_version,
        variables: r.vars.clone(),
        spec: serde_json::to_value(&r.spec).unwrap_or_default(),
        overlap: r.overlap.as_str().to_owned(),
        enabled: r.enabled,
        next_fire_at: r.next_fire_at,
        last_fired_at: r.last_fired_at,
        last_instance: r.last_instance.clone(),
    }
}

async fn schedule_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ScheduleRow> {
    state
        .store
        .schedule(id)
        .await?
        .filter(|r| company_of(&r.process_key) == caller.company_id())
        .ok_or_else(|| ApiError::not_found("schedule"))
}

async fn save(
    state: &AppState,
    caller: &Caller,
    id: String,
    b: ScheduleInput,
) -> ApiResult<ScheduleView> {
    let engine = state.engine.get().ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "engine_unavailable",
            "the engine is not running in this server",
            "此服务器未运行流程引擎",
        )
    })?;
    let calendar = resolve_calendar(state, caller, b.calendar).await?;
    let spec = spec_of(&When {
        cron: b.cron,
        dialect: b.dialect,
        tz: b.tz,
        valid_from: b.valid_from,
        valid_until: b.valid_until,
        calendar,
        holiday_policy: b.holiday_policy,
        misfire: b.misfire,
    })?;
    let overlap = Overlap::parse(b.overlap.as_deref().unwrap_or("allow"))
        .ok_or_else(|| bad("body.overlap", "overlap is allow, skip or queue"))?;
    let key = qualify(caller.company_id(), &b.process);
    let deployed = state
        .store
        .list_definitions()
        .await?
        .into_iter()
        .any(|d| d.key == key && b.version.is_none_or(|v| v == d.version));
    if !deployed {
        return Err(bad(
            "body.process",
            format!("no deployed process `{}`", b.process),
        ));
    }
    let row = ScheduleRow {
        id,
        name: b.name.unwrap_or_else(|| b.process.clone()),
        process_key: key,
        process_version: b.version,
        vars: b.variables,
        spec,
        enabled: b.enabled,
        overlap,
        next_fire_at: None,
        last_fired_at: None,
        last_instance: None,
        created_at: 0,
        updated_at: 0,
    };
    let saved = engine.save_schedule(row).await.map_err(|e| match e {
        baton_runtime::engine::Error::Store(s) => ApiError::from(s),
        other => ApiError::internal(other),
    })?;
    state
        .audit(
            caller,
            "save",
            &format!("schedule:{}", saved.id),
            &saved.name,
        )
        .await;
    Ok(view(&saved))
}

#[utoipa::path(get, path = "/api/v1/schedules", tag = "schedules", params(ListParams),
    responses((status = 200, body = Page<ScheduleView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<ScheduleView>>> {
    caller.require(Function::Schedules, Level::View)?;
    let all: Vec<ScheduleView> = state
        .store
        .list_schedules()
        .await?
        .iter()
        .filter(|r| company_of(&r.process_key) == caller.company_id())
        .map(view)
        .collect();
    Ok(Json(p.apply(
        all,
        |s| format!("{} {}", s.name, s.process),
        &[
            ("name", |s| s.name.clone()),
            ("process", |s| s.process.clone()),
        ],
    )?))
}

#[utoipa::path(post, path = "/api/v1/schedules", tag = "schedules", request_body = ScheduleInput,
    responses((status = 201, body = ScheduleView)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Body(b): Body<ScheduleInput>,
) -> ApiResult<(axum::http::StatusCode, Json<ScheduleView>)> {
    caller.require(Function::Schedules, Level::Manage)?;
    let v = save(&state, &caller, String::new(), b).await?;
    Ok((axum::http::StatusCode::CREATED, Json(v)))
}

#[utoipa::path(get, path = "/api/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    responses((status = 200, body = ScheduleView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ScheduleView>> {
    caller.require(Function::Schedules, Level::View)?;
    Ok(Json(view(&schedule_of(&state, &caller, &id).await?)))
}

#[utoipa::path(put, path = "/api/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    request_body = ScheduleInput, responses((status = 200, body = ScheduleView)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(b): Body<ScheduleInput>,
) -> ApiResult<Json<ScheduleView>> {
    caller.require(Function::Schedules, Level::Manage)?;
    schedule_of(&state, &caller, &id).await?;
    Ok(Json(save(&state, &caller, id, b).await?))
}

#[utoipa::path(delete, path = "/api/v1/schedules/{id}", tag = "schedules", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    caller.require(Function::Schedules, Level::Manage)?;
    let row = schedule_of(&state, &caller, &id).await?;
    state.store.delete_schedule(&row.id).await?;
    state
        .audit(&caller, "delete", &format!("schedule:{id}"), &row.name)
        .await;
    Ok(crate::error::no_content())
}
