//! A node's log in the monitor: the lines an element of an instance wrote
//! (every run and attempt; secrets were masked by the node library before
//! the lines were stored), paged by a `seq` cursor, and followed live while
//! the node runs.
//!
//! Following is a Server-Sent Events stream per node that reads the store
//! by the cursor every [`FOLLOW_EVERY`], not a `log` kind on the live feed.
//! Lines are written by several writers — this server's nodes, and the
//! relay links of every server on the same PostgreSQL — and the store is
//! the one place that sees all of them: reading it needs no hook in each
//! writer, no `pg_notify` traffic per batch of lines (each would wake every
//! monitor of the company), and cannot miss a line when a notification is
//! lost, since the cursor, not the notice, says what is new. The cost is
//! one indexed range read per open log view every half second, only while
//! the node has a job; the stream then sends what is left and ends.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use baton_runtime::store::{JobLogRow, Store};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::instances::own_instance;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::perm::{Function, Level};

/// How often a followed node's log is read.
const FOLLOW_EVERY: Duration = Duration::from_millis(500);
/// After the node's job is gone, one more read this much later: its last
/// lines may still be on their way to the store.
const FOLLOW_GRACE: Duration = Duration::from_secs(1);
/// Most lines per page (and per streamed event).
const MAX_LIMIT: u64 = 1_000;
const DEFAULT_LIMIT: u64 = 500;

/// One line of a node's log.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogLine {
    /// The run of the node (an activity instance: a loop or multi-instance
    /// node runs several times).
    pub exec: i64,
    /// The attempt of that run (a retried node's lines follow the failed one's).
    pub attempt: i32,
    /// The cursor: increasing in the order the lines were written.
    pub seq: i64,
    /// Unix ms.
    pub at: i64,
    /// `stdout`, `stderr`, or `info` (what the node says itself, such as
    /// the command it runs).
    pub stream: String,
    pub text: String,
}

impl From<JobLogRow> for LogLine {
    fn from(r: JobLogRow) -> Self {
        // A job id is `instance:exec`.
        let exec = r
            .job_id
            .rsplit_once(':')
            .and_then(|(_, e)| e.parse().ok())
            .unwrap_or(0);
        LogLine {
            exec,
            attempt: r.attempt,
            seq: r.seq,
            at: r.at,
            stream: r.stream,
            text: r.line,
        }
    }
}

/// A page of a node's log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogPage {
    /// Oldest first.
    pub items: Vec<LogLine>,
    /// The `after` of the next call: the last line's `seq` (or this call's
    /// `after` when no line came).
    pub next: i64,
    /// A full page: there may be more lines right away.
    pub more: bool,
    /// The node has a job now (waiting, running or held): its log may grow.
    pub running: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Only lines whose `seq` is above this (default 0: from the start).
    pub after: Option<i64>,
    /// 1–1000, default 500.
    pub limit: Option<u64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowQuery {
    /// Only lines whose `seq` is above this (default 0). A reconnecting
    /// `EventSource`'s `Last-Event-ID` header takes precedence.
    pub after: Option<i64>,
}

fn check_after(after: Option<i64>) -> ApiResult<i64> {
    let after = after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid(
            "query.after",
            "after must be 0 or more",
            "after 须不小于 0",
        ));
    }
    Ok(after)
}

/// The instance (the caller's company's, else 404) and the element id checked.
async fn node_of(state: &AppState, caller: &Caller, id: &str, element: &str) -> ApiResult<()> {
    caller.require(Function::Monitor, Level::View)?;
    if element.trim().is_empty() || element.len() > 255 || element.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "path.element",
            "the element id must be 1 to 255 characters, without control characters",
            "节点 id 须为 1 到 255 个字符，且不含控制字符",
        ));
    }
    own_instance(state, caller, id).await?;
    Ok(())
}

/// A node's log lines (every run and attempt) after the `after` cursor,
/// oldest first. A node that has not run has none. Page with `next` while
/// `more`; poll or follow while `running`.
#[utoipa::path(get, path = "/api/v1/instances/{id}/nodes/{element}/logs", tag = "instances",
    params(("id" = String, Path, description = "The instance"),
        ("element" = String, Path, description = "The node's element id"), LogQuery),
    responses((status = 200, body = LogPage), (status = 400, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn node_logs(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, element)): Path<(String, String)>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<LogPage>> {
    node_of(&state, &caller, &id, &element).await?;
    let after = check_after(q.after)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "query.limit",
            "limit must be between 1 and 1000",
            "limit 须在 1 到 1000 之间",
        ));
    }
    // The job first: a line written after this read is still `running`.
    let running = state.store.node_has_job(&id, &element).await?;
    let rows = state.store.node_logs(&id, &element, after, limit).await?;
    let more = rows.len() as u64 == limit;
    let next = rows.last().map_or(after, |r| r.seq);
    Ok(Json(LogPage {
        items: rows.into_iter().map(LogLine::from).collect(),
        next,
        more,
        running,
    }))
}

/// Follow a node's log (`text/event-stream`): `lines` events, each a JSON
/// array of lines (oldest first) whose event id is the last line's `seq`,
/// as they are written; then, once the node has no job and its last lines
/// are read, an `end` event (data: `{"next": seq}`) and the stream closes.
/// A node that is not running gets what it has, and `end` a second later.
#[utoipa::path(get, path = "/api/v1/instances/{id}/nodes/{element}/logs/stream", tag = "instances",
    params(("id" = String, Path, description = "The instance"),
        ("element" = String, Path, description = "The node's element id"), FollowQuery),
    responses((status = 200, description = "Server-Sent Events: `lines`, then `end`", content_type = "text/event-stream", body = String),
        (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn follow_node_logs(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, element)): Path<(String, String)>,
    Query(q): Query<FollowQuery>,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    node_of(&state, &caller, &id, &element).await?;
    let mut after = check_after(q.after)?;
    if let Some(last) = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|v| *v >= 0)
    {
        after = last;
    }
    let follow = Follow {
        store: state.store.clone(),
        instance: id,
        element,
        after,
        first: true,
        ending: false,
        done: false,
    };
    let stream = futures_util::stream::unfold(follow, |mut f| async move {
        let event = f.next().await?;
        Some((Ok(event), f))
    });
    // Ends when the server stops (a graceful shutdown waits for no stream).
    let stream = futures_util::StreamExt::take_until(stream, state.stopped());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One follower's place in a node's log.
struct Follow {
    store: Store,
    instance: String,
    element: String,
    after: i64,
    /// Nothing read yet: read at once, without waiting.
    first: bool,
    /// The node's job is gone: one more read after [`FOLLOW_GRACE`], then `end`.
    ending: bool,
    done: bool,
}

impl Follow {
    /// The next event: new lines, or `end`; `None` after `end`.
    async fn next(&mut self) -> Option<Event> {
        if self.done {
            return None;
        }
        loop {
            if !std::mem::take(&mut self.first) {
                tokio::time::sleep(if self.ending {
                    FOLLOW_GRACE
                } else {
                    FOLLOW_EVERY
                })
                .await;
            }
            // Whether the job is there is read before the lines: a line
            // written after the job ended is then still read once more.
            let running = match self.store.node_has_job(&self.instance, &self.element).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("following a node's log: {e}");
                    continue;
                }
            };
            let rows = match self
                .store
                .node_logs(&self.instance, &self.element, self.after, MAX_LIMIT)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!("following a node's log: {e}");
                    continue;
                }
            };
            if let Some(last) = rows.last() {
                self.after = last.seq;
                // A full batch: read on at once.
                self.first = rows.len() as u64 == MAX_LIMIT;
                let lines: Vec<LogLine> = rows.into_iter().map(LogLine::from).collect();
                if let Ok(e) = Event::default()
                    .event("lines")
                    .id(self.after.to_string())
                    .json_data(&lines)
                {
                    return Some(e);
                }
                continue;
            }
            if running {
                self.ending = false;
            } else if self.ending {
                self.done = true;
                return Event::default()
                    .event("end")
                    .json_data(serde_json::json!({"next": self.after}))
                    .ok();
            } else {
                self.ending = true;
            }
        }
    }
}
