//! The live feed: what changed, told after each commit, for the monitor, the
//! task lists and the host screens (served as Server-Sent Events by the API).
//!
//! Each engine publishes the changes of its own commits into a broadcast
//! channel. On PostgreSQL it also sends them with `pg_notify` on
//! [`CHANNEL`], and listens there for the changes of every other engine on
//! the same database, so each server's feed sees the whole system. A
//! notification carries its origin, so an engine never hears itself twice.
//! On SQLite one server owns the database and its feed is complete alone.
//!
//! The feed is a convenience, not a record: a subscriber that lags loses the
//! oldest changes (and is told so), and reads the store to catch up.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::store::{Batch, Store};
use crate::tenancy::company_of;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "baton_feed";
/// A notification's payload must stay under PostgreSQL's 8,000 bytes.
const MAX_PAYLOAD: usize = 7_000;
/// Batches of changes a slow subscriber may fall behind by.
const CAPACITY: usize = 1_024;

/// One change. `company` is the owning company's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Change {
    /// An instance was written (its status may be unchanged).
    Instance {
        company: String,
        id: String,
        definition_id: String,
        status: String,
        at: i64,
    },
    /// A node of an instance: `started`, `completed`, `failed`, `passed`, …
    Node {
        company: String,
        instance_id: String,
        element_id: String,
        kind: String,
        at: i64,
    },
    /// A user task was created, claimed, delegated or ended.
    Task {
        company: String,
        id: String,
        instance_id: String,
        /// `open`, `completed`, `cancelled`.
        state: String,
        assignee: Option<String>,
        candidate_groups: Vec<String>,
        /// The users (ids) asked to help with it (changed through the API).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        helpers: Vec<String>,
    },
    /// A Sub-Manager host's state (`not-initialised`, `connected`, `lost`)
    /// and whether its relay is linked to a server now.
    Host {
        company: String,
        id: String,
        state: String,
        linked: bool,
    },
}

impl Change {
    pub fn company(&self) -> &str {
        match self {
            Change::Instance { company, .. }
            | Change::Node { company, .. }
            | Change::Task { company, .. }
            | Change::Host { company, .. } => company,
        }
    }
}

/// What a commit changed, as the feed tells it: nodes and tasks first, then
/// the instances they belong to (so an instance's end follows its last node).
pub fn changes_of(batch: &Batch) -> Vec<Change> {
    let company: HashMap<&str, &str> = batch
        .instances
        .iter()
        .map(|w| (w.row.id.as_str(), company_of(&w.row.definition_id)))
        .collect();
    let of = |instance: &str| company.get(instance).map(|c| (*c).to_owned());
    let mut out = Vec::new();
    for h in &batch.history {
        if let Some(c) = of(&h.instance_id) {
            out.push(Change::Node {
                company: c,
                instance_id: h.instance_id.clone(),
                element_id: h.element_id.clone(),
                kind: h.kind.clone(),
                at: h.at,
            });
        }
    }
    for t in &batch.tasks_new {
        if let Some(c) = of(&t.instance_id) {
            out.push(Change::Task {
                company: c,
                id: t.id.clone(),
                instance_id: t.instance_id.clone(),
                state: t.state.clone(),
                assignee: t.assignee.clone(),
                candidate_groups: crate::store::split_groups(t.candidate_groups.as_deref()),
                helpers: Vec::new(),
            });
        }
    }
    for (id, state, _) in &batch.tasks_ended {
        // A task id is `instance:exec`.
        let instance = id.rsplit_once(':').map_or(id.as_str(), |(i, _)| i);
        if let Some(c) = of(instance) {
            out.push(Change::Task {
                company: c,
                id: id.clone(),
                instance_id: instance.to_owned(),
                state: state.clone(),
                assignee: None,
                candidate_groups: Vec::new(),
                helpers: Vec::new(),
            });
        }
    }
    for w in &batch.instances {
        let r = &w.row;
        out.push(Change::Instance {
            company: company_of(&r.definition_id).to_owned(),
            id: r.id.clone(),
            definition_id: r.definition_id.clone(),
            status: r.status.clone(),
            at: r.ended_at.unwrap_or(r.started_at),
        });
    }
    out
}

/// Changes on the wire between engines.
#[derive(Serialize, Deserialize)]
struct Note {
    /// The publishing engine.
    o: String,
    c: Vec<Change>,
}

/// The feed of one engine. Cheap to clone.
#[derive(Clone)]
pub struct Feed {
    tx: broadcast::Sender<Arc<Vec<Change>>>,
    /// To the PostgreSQL notifier, in commit order.
    notify: Option<mpsc::UnboundedSender<Vec<Change>>>,
    origin: Arc<str>,
}

impl Feed {
    /// A feed; on PostgreSQL it also tells and hears the other engines.
    pub fn new(store: &Store, origin: &str) -> Feed {
        let (tx, _) = broadcast::channel(CAPACITY);
        let origin: Arc<str> = Arc::from(format!("{origin}-{}", uuid::Uuid::now_v7()));
        let notify = store.is_postgres().then(|| {
            let (ntx, nrx) = mpsc::unbounded_channel();
            tokio::spawn(notifier(store.clone(), origin.clone(), nrx));
            tokio::spawn(listener(store.clone(), origin.clone(), tx.downgrade()));
            ntx
        });
        Feed { tx, notify, origin }
    }

    /// Receives every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Vec<Change>>> {
        self.tx.subscribe()
    }

    /// Whether anything would hear a change (skip building them if not).
    pub fn wanted(&self) -> bool {
        self.notify.is_some() || self.tx.receiver_count() > 0
    }

    /// Tells this engine's subscribers and, on PostgreSQL, the others.
    pub fn publish(&self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        if let Some(n) = &self.notify {
            let _ = n.send(changes.clone());
        }
        let _ = self.tx.send(Arc::new(changes));
    }

    /// This engine's name on the wire.
    pub fn origin(&self) -> &str {
        &self.origin
    }
}

/// Sends this engine's changes with `pg_notify`, in order, in payloads
/// under PostgreSQL's limit.
async fn notifier(store: Store, origin: Arc<str>, mut rx: mpsc::UnboundedReceiver<Vec<Change>>) {
    while let Some(mut changes) = rx.recv().await {
        // Fold what queued up meanwhile into the same notifications.
        while let Ok(more) = rx.try_recv() {
            changes.extend(more);
        }
        for payload in payloads(&origin, changes) {
            if let Err(e) = store.notify(CHANNEL, &payload).await {
                tracing::warn!("live feed: notifying the other servers: {e}");
            }
        }
    }
}

/// Splits changes into JSON payloads of at most [`MAX_PAYLOAD`] bytes (a
/// single larger change goes alone; PostgreSQL refuses it and it is logged).
fn payloads(origin: &str, changes: Vec<Change>) -> Vec<String> {
    let encode = |c: Vec<Change>| {
        serde_json::to_string(&Note {
            o: origin.to_owned(),
            c,
        })
        .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut part: Vec<Change> = Vec::new();
    let mut size = 0;
    for c in changes {
        let n = serde_json::to_string(&c).map_or(0, |s| s.len() + 1);
        if !part.is_empty() && size + n > MAX_PAYLOAD - origin.len() - 16 {
            out.push(encode(std::mem::take(&mut part)));
            size = 0;
        }
        size += n;
        part.push(c);
    }
    if !part.is_empty() {
        out.push(encode(part));
    }
    out
}

/// Hears the other engines' changes and tells this engine's subscribers,
/// for as long as the feed exists. Reconnects after a lost connection
/// (changes sent meanwhile are missed: subscribers read the store).
async fn listener(store: Store, origin: Arc<str>, tx: broadcast::WeakSender<Arc<Vec<Change>>>) {
    while tx.strong_count() > 0 {
        match store.listen(CHANNEL).await {
            Ok(mut l) => loop {
                match l.recv().await {
                    Ok(n) => match serde_json::from_str::<Note>(n.payload()) {
                        Ok(note) if *note.o != *origin => match tx.upgrade() {
                            Some(tx) => {
                                let _ = tx.send(Arc::new(note.c));
                            }
                            None => return,
                        },
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!("live feed: a notification that does not parse: {e}")
                        }
                    },
                    Err(e) => {
                        tracing::warn!("live feed: listening: {e}");
                        break;
                    }
                }
            },
            Err(e) => tracing::warn!("live feed: cannot listen: {e}"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_stay_under_the_limit_and_keep_every_change_in_order() {
        let changes: Vec<Change> = (0..500)
            .map(|i| Change::Node {
                company: "default".into(),
                instance_id: format!("instance-{i}"),
                element_id: "work".into(),
                kind: "completed".into(),
                at: i,
            })
            .collect();
        let parts = payloads("o", changes.clone());
        assert!(parts.len() > 1);
        let mut back = Vec::new();
        for p in &parts {
            assert!(p.len() <= MAX_PAYLOAD, "{}", p.len());
            let n: Note = serde_json::from_str(p).unwrap();
            assert_eq!(n.o, "o");
            back.extend(n.c);
        }
        assert_eq!(back, changes);
    }
}
