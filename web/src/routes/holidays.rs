//! Holiday calendars: list, create, read, replace, delete. The body is the
//! calendar itself, in the JSON form `baton_schedule::calendar` reads (that
//! of `templates/holidays/`), validated by that parser; a fault names its
//! place (`body.ranges[2]`, `body.workdays[0]`, `body.holidays`).
//!
//! A schedule names a stored calendar by id or name in its `calendar`
//! field; the schedule keeps a copy of it (the scheduler reads only the
//! schedule), and replacing the calendar updates every schedule of the
//! company that holds a calendar of its (old) name. A calendar that
//! schedules use cannot be deleted.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use baton_runtime::store::{HolidayCalendarRow, ScheduleRow};
use baton_runtime::tenancy::company_of;
use baton_schedule::calendar::{HolidayCalendar, HolidayRange};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Caller, now_ms};
use crate::error::{ApiError, ApiResult, no_content};
use crate::extract::{Body, ListParams, Page, Path, Query};
use crate::perm::{Function, Level};

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HolidayView {
    pub id: String,
    /// The calendar's `name`; unique in the company.
    pub name: String,
    /// The calendar: `{"name", "note", "ranges": [{"name", "start", "end"}], "workdays"}`.
    #[schema(value_type = Object)]
    pub calendar: Value,
    pub updated_at: i64,
}

fn view(row: &HolidayCalendarRow) -> HolidayView {
    HolidayView {
        id: row.id.clone(),
        name: row.calendar.name.clone(),
        calendar: serde_json::to_value(&row.calendar).unwrap_or_default(),
        updated_at: row.updated_at,
    }
}

fn bad(field: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::invalid(field, e.to_string(), format!("节假日模版无效：{e}"))
}

/// The calendar JSON read and validated, a fault on its place in `at`
/// (`body` for a request body, `body.calendar` for a schedule's).
pub fn parse_calendar(at: &str, v: &Value) -> ApiResult<HolidayCalendar> {
    let Value::Object(m) = v else {
        return Err(bad(at, "a holiday calendar is a JSON object"));
    };
    // Each range and workday alone first, so that a fault names its index.
    if let Some(Value::Array(ranges)) = m.get("ranges") {
        for (i, r) in ranges.iter().enumerate() {
            serde_json::from_value::<HolidayRange>(r.clone())
                .map_err(|e| bad(&format!("{at}.ranges[{i}]"), format!("range {i}: {e}")))?;
        }
    }
    if let Some(Value::Array(days)) = m.get("workdays") {
        for (i, d) in days.iter().enumerate() {
            serde_json::from_value::<chrono::NaiveDate>(d.clone()).map_err(|e| {
                bad(
                    &format!("{at}.workdays[{i}]"),
                    format!("workday {i}: {e} (YYYY-MM-DD)"),
                )
            })?;
        }
    }
    let calendar = HolidayCalendar::from_json(&v.to_string()).map_err(|e| match &e {
        baton_schedule::Error::Calendar(c) => bad(&format!("{at}.ranges[{}]", c.range), &e),
        baton_schedule::Error::CalendarJson(text) => {
            let named = text.starts_with("unknown field") || text.starts_with("missing field");
            match text.split('`').nth(1) {
                Some(name) if named => bad(&format!("{at}.{name}"), &e),
                _ => bad(at, &e),
            }
        }
        _ => bad(at, &e),
    })?;
    if calendar.name.trim().is_empty() {
        return Err(bad(
            &format!("{at}.name"),
            "a holiday calendar needs a name",
        ));
    }
    Ok(calendar)
}

async fn holiday_of(state: &AppState, caller: &Caller, id: &str) -> ApiResult<HolidayCalendarRow> {
    state
        .store
        .holiday_calendar(caller.company_id(), id)
        .await?
        .filter(|c| c.id == id)
        .ok_or_else(|| ApiError::not_found("holiday calendar"))
}

/// The company's schedules that hold a calendar named `name`.
async fn schedules_using(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> ApiResult<Vec<ScheduleRow>> {
    Ok(state
        .store
        .list_schedules()
        .await?
        .into_iter()
        .filter(|s| {
            company_of(&s.process_key) == caller.company_id()
                && s.spec.calendar.as_ref().is_some_and(|c| c.name == name)
        })
        .collect())
}

async fn save(
    state: &AppState,
    caller: &Caller,
    id: String,
    v: &Value,
) -> ApiResult<HolidayCalendarRow> {
    let row = HolidayCalendarRow {
        id,
        company_id: caller.company_id().to_owned(),
        calendar: parse_calendar("body", v)?,
        updated_at: 0,
    };
    state
        .store
        .put_holiday_calendar(&row)
        .await
        .map_err(|e| ApiError::from(e).field("body.name"))?;
    holiday_of(state, caller, &row.id).await
}

#[utoipa::path(get, path = "/api/v1/holidays", tag = "system", params(ListParams),
    responses((status = 200, body = Page<HolidayView>)))]
pub async fn list_holidays(
    State(state): State<AppState>,
    caller: Caller,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Page<HolidayView>>> {
    caller.require(Function::Holidays, Level::View)?;
    let all: Vec<HolidayView> = state
        .store
        .list_holiday_calendars(caller.company_id())
        .await?
        .iter()
        .map(view)
        .collect();
    Ok(Json(p.apply(
        all,
        |h| format!("{} {}", h.name, h.calendar["note"].as_str().unwrap_or("")),
        &[
            ("name", |h| h.name.clone()),
            ("updatedAt", |h| format!("{:020}", h.updated_at)),
        ],
    )?))
}

/// Store a calendar (the body is the calendar JSON itself).
#[utoipa::path(post, path = "/api/v1/holidays", tag = "system",
    request_body(content = Object, description = "A holiday calendar: {\"name\", \"note\", \"ranges\": [{\"name\", \"start\", \"end\"}], \"workdays\"}"),
    responses((status = 201, body = HolidayView), (status = 400, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_holiday(
    State(state): State<AppState>,
    caller: Caller,
    Body(v): Body<Value>,
) -> ApiResult<(StatusCode, Json<HolidayView>)> {
    caller.require(Function::Holidays, Level::Manage)?;
    let row = save(&state, &caller, uuid::Uuid::now_v7().to_string(), &v).await?;
    state
        .audit(
            &caller,
            "create",
            &format!("holidays:{}", row.id),
            &row.calendar.name,
        )
        .await;
    Ok((StatusCode::CREATED, Json(view(&row))))
}

#[utoipa::path(get, path = "/api/v1/holidays/{id}", tag = "system", params(("id" = String, Path)),
    responses((status = 200, body = HolidayView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_holiday(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<HolidayView>> {
    caller.require(Function::Holidays, Level::View)?;
    Ok(Json(view(&holiday_of(&state, &caller, &id).await?)))
}

/// Replace a calendar; the schedules that hold it (by its old name) get the new one.
#[utoipa::path(put, path = "/api/v1/holidays/{id}", tag = "system", params(("id" = String, Path)),
    request_body(content = Object, description = "A holiday calendar"),
    responses((status = 200, body = HolidayView), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_holiday(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Body(v): Body<Value>,
) -> ApiResult<Json<HolidayView>> {
    caller.require(Function::Holidays, Level::Manage)?;
    let old = holiday_of(&state, &caller, &id).await?;
    let row = save(&state, &caller, id, &v).await?;
    let using = schedules_using(&state, &caller, &old.calendar.name).await?;
    for mut s in using {
        s.spec.calendar = Some(row.calendar.clone());
        let saved = match state.engine.get() {
            Some(engine) => engine.save_schedule(s).await.map_err(|e| match e {
                baton_runtime::engine::Error::Store(s) => ApiError::from(s),
                other => ApiError::internal(other),
            })?,
            None => {
                s.prepare(now_ms())?;
                state.store.save_schedule(&s).await?;
                s
            }
        };
        state
            .audit(
                &caller,
                "save",
                &format!("schedule:{}", saved.id),
                &format!("holiday calendar {} replaced", row.calendar.name),
            )
            .await;
    }
    state
        .audit(
            &caller,
            "update",
            &format!("holidays:{}", row.id),
            &row.calendar.name,
        )
        .await;
    Ok(Json(view(&row)))
}

/// Delete a calendar no schedule uses (409 naming those that do).
#[utoipa::path(delete, path = "/api/v1/holidays/{id}", tag = "system", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_holiday(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    caller.require(Function::Holidays, Level::Manage)?;
    let row = holiday_of(&state, &caller, &id).await?;
    let using = schedules_using(&state, &caller, &row.calendar.name).await?;
    if !using.is_empty() {
        let names: Vec<&str> = using.iter().map(|s| s.name.as_str()).collect();
        return Err(ApiError::conflict(
            format!(
                "schedules use this calendar: {} (change them first)",
                names.join(", ")
            ),
            format!(
                "以下日程正在使用该节假日模版：{}（请先修改）",
                names.join("、")
            ),
        ));
    }
    state
        .store
        .delete_holiday_calendar(caller.company_id(), &id)
        .await?;
    state
        .audit(
            &caller,
            "delete",
            &format!("holidays:{id}"),
            &row.calendar.name,
        )
        .await;
    Ok(no_content())
}
