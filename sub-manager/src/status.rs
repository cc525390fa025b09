//! What the local page shows: the link's state, the last heartbeat, the
//! jobs running and recently finished, and their logs (masked, bounded, in
//! memory only).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use baton_relay_protocol::{Heartbeat, JobRef, LogStream, Outcome, RelayJob};
use chrono::{DateTime, Local};

/// Finished jobs kept for the page.
const RECENT: usize = 200;
/// Log lines kept per job (the last ones).
const LOG_LINES: usize = 2000;

/// The link to the server.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkState {
    /// Not connected yet since the relay started.
    Starting,
    Connected {
        host_id: String,
    },
    /// Lost or refused; retrying with backoff.
    Reconnecting {
        error: String,
    },
    /// The server revoked the token (or refused it at the upgrade): retrying only slowly.
    Revoked {
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct LinkView {
    pub state: LinkState,
    pub since: DateTime<Local>,
    pub last_heartbeat: Option<(DateTime<Local>, Heartbeat)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct JobView {
    pub job: JobRef,
    pub kind: String,
    pub element_id: String,
    pub element_name: String,
    pub instance_id: String,
    pub state: JobState,
    pub accepted: DateTime<Local>,
    pub started: Option<DateTime<Local>>,
    pub finished: Option<DateTime<Local>>,
}

#[derive(Debug, Clone)]
pub struct LogView {
    pub at: DateTime<Local>,
    pub stream: LogStream,
    pub text: String,
}

#[derive(Debug, Default)]
struct Logs {
    lines: VecDeque<LogView>,
    dropped: usize,
}

struct Inner {
    link: LinkView,
    active: HashMap<JobRef, (JobView, Logs)>,
    recent: VecDeque<(JobView, Logs)>,
}

/// The page's view of the relay. Shared; every method is short.
pub struct Status {
    inner: Mutex<Inner>,
}

impl Default for Status {
    fn default() -> Self {
        Self::new()
    }
}

impl Status {
    pub fn new() -> Self {
        Status {
            inner: Mutex::new(Inner {
                link: LinkView {
                    state: LinkState::Starting,
                    since: Local::now(),
                    last_heartbeat: None,
                },
                active: HashMap::new(),
                recent: VecDeque::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets the link state (its `since` changes only when the kind of state does).
    pub fn set_link(&self, state: LinkState) {
        let mut i = self.lock();
        if std::mem::discriminant(&i.link.state) != std::mem::discriminant(&state) {
            i.link.since = Local::now();
        }
        i.link.state = state;
    }

    pub fn heartbeat(&self, hb: &Heartbeat) {
        self.lock().link.last_heartbeat = Some((Local::now(), hb.clone()));
    }

    pub fn link(&self) -> LinkView {
        self.lock().link.clone()
    }

    pub fn connected(&self) -> bool {
        matches!(self.lock().link.state, LinkState::Connected { .. })
    }

    pub fn job_queued(&self, j: &RelayJob) {
        let view = JobView {
            job: j.job_ref(),
            kind: j.kind.clone(),
            element_id: j.element_id.clone(),
            element_name: j.element_name.clone(),
            instance_id: j.instance_id.clone(),
            state: JobState::Queued,
            accepted: Local::now(),
            started: None,
            finished: None,
        };
        self.lock()
            .active
            .insert(view.job.clone(), (view, Logs::default()));
    }

    pub fn job_started(&self, r: &JobRef) {
        if let Some((v, _)) = self.lock().active.get_mut(r) {
            v.state = JobState::Running;
            v.started = Some(Local::now());
        }
    }

    /// A log line (already masked).
    pub fn job_log(&self, r: &JobRef, stream: LogStream, text: &str) {
        let mut i = self.lock();
        if let Some((_, logs)) = i.active.get_mut(r) {
            if logs.lines.len() == LOG_LINES {
                logs.lines.pop_front();
                logs.dropped += 1;
            }
            logs.lines.push_back(LogView {
                at: Local::now(),
                stream,
                text: text.to_owned(),
            });
        }
    }

    pub fn job_finished(&self, r: &JobRef, outcome: &Outcome) {
        let mut i = self.lock();
        let Some((mut v, logs)) = i.active.remove(r) else {
            return;
        };
        v.state = match outcome {
            Outcome::Done { .. } => JobState::Done,
            Outcome::Failed { message, .. } => JobState::Failed(message.clone()),
        };
        v.finished = Some(Local::now());
        if i.recent.len() == RECENT {
            i.recent.pop_back();
        }
        i.recent.push_front((v, logs));
    }

    /// Jobs queued or running (oldest first), and the recent finished ones (newest first).
    pub fn jobs(&self) -> (Vec<JobView>, Vec<JobView>) {
        let i = self.lock();
        let mut active: Vec<JobView> = i.active.values().map(|(v, _)| v.clone()).collect();
        active.sort_by_key(|v| v.accepted);
        let recent = i.recent.iter().map(|(v, _)| v.clone()).collect();
        (active, recent)
    }

    /// One job and its log (with how many earlier lines were dropped).
    pub fn job(&self, r: &JobRef) -> Option<(JobView, Vec<LogView>, usize)> {
        let i = self.lock();
        i.active
            .get(r)
            .or_else(|| i.recent.iter().find(|(v, _)| &v.job == r))
            .map(|(v, l)| (v.clone(), l.lines.iter().cloned().collect(), l.dropped))
    }
}
