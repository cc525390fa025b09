//! The live feed as Server-Sent Events: instance and node state changes, new
//! and changed tasks, host link states — what the monitor and the task list
//! need without polling. Each server's feed holds the changes of every server
//! on the same PostgreSQL (`baton_runtime::feed`).
//!
//! A caller sees only its company's changes, and of those only the kinds its
//! permissions allow: instances and nodes with monitor view, tasks offered
//! or assigned to it (every task to an admin; a task's end to anyone with
//! tasks view), hosts with hosts view. A subscriber that falls behind gets a
//! `lagged` event with how many batches it missed, and should reload.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use baton_runtime::feed::Change;
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::IntoParams;

use super::tasks::Me;
use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiResult;
use crate::extract::Query;
use crate::perm::{Function, Level};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// Only the changes of this instance (its detail screen).
    pub instance: Option<String>,
}

/// Who may see what, fixed when the stream opens.
struct Viewer {
    company: String,
    monitor: bool,
    tasks: bool,
    hosts: bool,
    me: Me,
    instance: Option<String>,
}

impl Viewer {
    fn sees(&self, c: &Change) -> bool {
        if c.company() != self.company {
            return false;
        }
        let instance_ok = |id: &str| self.instance.as_deref().is_none_or(|i| i == id);
        match c {
            Change::Instance { id, .. } => self.monitor && instance_ok(id),
            Change::Node { instance_id, .. } => self.monitor && instance_ok(instance_id),
            Change::Task {
                instance_id,
                state,
                assignee,
                candidate_groups,
                helpers,
                ..
            } => {
                self.tasks
                    && instance_ok(instance_id)
                    && (self.me.admin
                        || state != "open"
                        || assignee.as_ref().is_some_and(|a| self.me.ids.contains(a))
                        || helpers.iter().any(|h| self.me.ids.contains(h))
                        || (assignee.is_none()
                            && candidate_groups.iter().any(|g| self.me.groups.contains(g))))
            }
            Change::Host { .. } => self.hosts && self.instance.is_none(),
        }
    }
}

/// The live feed (`text/event-stream`): one `change` event per change, its
/// data the change as JSON (`type`: `instance`, `node`, `task` or `host`).
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventFilter),
    responses((status = 200, description = "Server-Sent Events, one `change` event per change", content_type = "text/event-stream", body = String),
        (status = 401, body = crate::error::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    caller: Caller,
    Query(f): Query<EventFilter>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let allowed = |func| caller.require(func, Level::View).is_ok();
    let viewer = Viewer {
        company: caller.company_id().to_owned(),
        monitor: allowed(Function::Monitor),
        tasks: allowed(Function::Tasks),
        hosts: allowed(Function::Hosts),
        me: Me::of(&state, &caller).await?,
        instance: f.instance,
    };
    if !(viewer.monitor || viewer.tasks || viewer.hosts) {
        caller.require(Function::Monitor, Level::View)?;
    }
    let engine = super::processes::engine(&state)?;
    let rx = engine.feed().subscribe();
    // Changes come in batches (one per commit): flatten them into events.
    let stream = futures_util::stream::unfold(
        (rx, viewer, std::collections::VecDeque::<Event>::new()),
        |(mut rx, viewer, mut ready)| async move {
            loop {
                if let Some(e) = ready.pop_front() {
                    return Some((Ok(e), (rx, viewer, ready)));
                }
                match rx.recv().await {
                    Ok(batch) => ready.extend(events_of(&viewer, &batch)),
                    Err(RecvError::Lagged(n)) => {
                        ready.push_back(Event::default().event("lagged").data(n.to_string()))
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    // Ends when the server stops (a graceful shutdown waits for no stream).
    let stream = futures_util::StreamExt::take_until(stream, state.stopped());
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

fn events_of(viewer: &Viewer, batch: &Arc<Vec<Change>>) -> Vec<Event> {
    batch
        .iter()
        .filter(|c| viewer.sees(c))
        .filter_map(|c| Event::default().event("change").json_data(c).ok())
        .collect()
}
