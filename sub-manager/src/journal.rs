//! The durable job queue: an append-only journal (`data_dir/journal.log`)
//! with group commit, replayed into memory at start.
//!
//! Why a journal and not SQLite: the queue is a handful of state changes per
//! job (accepted, started, finished, acknowledged), read back only at start,
//! and the set it holds is small (what is in flight or unacknowledged). An
//! append-only file gives exactly that with one sequential write and one
//! `fdatasync` per batch of changes — the writer thread takes everything
//! appended since its last sync, so 1,000 jobs accepted from one frame cost
//! one sync — and no schema, pool or second copy of the state. SQLite in
//! WAL mode would do the same work with more machinery in the way.
//!
//! Format: one record per line, `CRC32(json) json\n`, the JSON a
//! [`Record`]. Replay stops at the first damaged record (a torn last write
//! after a crash): the rest is moved to `journal.tail-<ms>` for inspection
//! and the journal is rewritten from what was read. The journal is also
//! rewritten (compacted: only the live entries) at every start and whenever
//! more than `compact_after` bytes were appended since the last rewrite.
//!
//! Durability: [`Journal::accept`], [`Journal::start`] and
//! [`Journal::finish`] update the in-memory index at once and return a
//! [`Durable`] that resolves when the record is on disk. Acknowledgements
//! ride along with the next sync (losing one only means a result is sent
//! again).

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};

use baton_relay_protocol::{JobRef, Outcome, RelayJob};
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// The journal could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
#[error("job journal {path}: {message}")]
pub struct Error {
    pub path: String,
    pub message: String,
}

/// One state change, as written.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
enum Record {
    Accept {
        job: RelayJob,
    },
    /// A non-idempotent job is about to run.
    Start {
        job_id: String,
        attempt: u32,
    },
    Finish {
        job_id: String,
        attempt: u32,
        kind: String,
        outcome: Outcome,
    },
    Ack {
        job_id: String,
        attempt: u32,
    },
}

/// What the journal holds of one job.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The job, until it finishes.
    pub job: Option<RelayJob>,
    pub kind: String,
    /// A `Start` was written (non-idempotent kinds only).
    pub started: bool,
    pub outcome: Option<Outcome>,
    seq: u64,
}

struct State {
    index: HashMap<JobRef, Entry>,
    seq: u64,
    buf: Vec<u8>,
    waiters: Vec<oneshot::Sender<Result<(), String>>>,
    appended: u64,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    path: PathBuf,
    compact_after: u64,
}

/// The queue. Cheap to clone.
#[derive(Clone)]
pub struct Journal {
    shared: Arc<Shared>,
    _writer: Arc<WriterGuard>,
}

/// Stops the writer thread when the last handle goes (after a final sync).
struct WriterGuard(Arc<Shared>);

impl Drop for WriterGuard {
    fn drop(&mut self) {
        lock(&self.0.state).closed = true;
        self.0.wake.notify_all();
    }
}

/// Resolves when a record is on disk.
pub struct Durable(Option<oneshot::Receiver<Result<(), String>>>, Arc<Shared>);

impl Future for Durable {
    type Output = Result<(), Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let path = self.1.path.display().to_string();
        let Some(rx) = self.0.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        Pin::new(rx).poll(cx).map(|r| match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(Error { path, message }),
            Err(_) => Err(Error {
                path,
                message: "the journal writer stopped".into(),
            }),
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn line(r: &Record) -> Vec<u8> {
    // Serializing these types cannot fail (string keys, no custom impls).
    let json = serde_json::to_vec(r).unwrap_or_default();
    let mut out = format!("{:08x} ", crc32fast::hash(&json)).into_bytes();
    out.extend_from_slice(&json);
    out.push(b'\n');
    out
}

/// What [`Journal::open`] found.
#[derive(Debug, Default)]
pub struct Replay {
    /// Records read.
    pub records: usize,
    /// Bytes after the first damaged record, moved aside (0: none).
    pub damaged_bytes: usize,
    pub damaged_file: Option<PathBuf>,
}

impl Journal {
    /// Opens `dir/journal.log`, replays it, rewrites it compacted, and
    /// starts the writer thread.
    pub fn open(dir: &Path, compact_after: u64) -> Result<(Journal, Replay), Error> {
        let path = dir.join("journal.log");
        let err = |e: &dyn std::fmt::Display| Error {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(err(&e)),
        };
        let mut state = State {
            index: HashMap::new(),
            seq: 0,
            buf: Vec::new(),
            waiters: Vec::new(),
            appended: 0,
            closed: false,
        };
        let mut replay = Replay::default();
        let mut at = 0;
        while at < bytes.len() {
            let end = bytes[at..].iter().position(|b| *b == b'\n').map(|i| at + i);
            let record = end.and_then(|end| parse_line(&bytes[at..end]));
            let (Some(end), Some(record)) = (end, record) else {
                break;
            };
            apply(&mut state, record);
            replay.records += 1;
            at = end + 1;
        }
        if at < bytes.len() {
            let tail = dir.join(format!(
                "journal.tail-{}",
                chrono::Utc::now().timestamp_millis()
            ));
            std::fs::write(&tail, &bytes[at..]).map_err(|e| err(&e))?;
            replay.damaged_bytes = bytes.len() - at;
            replay.damaged_file = Some(tail);
        }
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            wake: Condvar::new(),
            path: path.clone(),
            compact_after,
        });
        let file = {
            let st = lock(&shared.state);
            rewrite(&path, &snapshot(&st)).map_err(|e| err(&e))?
        };
        let s2 = shared.clone();
        std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || writer(s2, file))
            .map_err(|e| err(&e))?;
        Ok((
            Journal {
                _writer: Arc::new(WriterGuard(shared.clone())),
                shared,
            },
            replay,
        ))
    }

    fn append(&self, lines: Vec<u8>, wait: bool, change: impl FnOnce(&mut State)) -> Durable {
        let rx = {
            let mut st = lock(&self.shared.state);
            change(&mut st);
            st.buf.extend_from_slice(&lines);
            let rx = wait.then(|| {
                let (tx, rx) = oneshot::channel();
                st.waiters.push(tx);
                rx
            });
            self.shared.wake.notify_one();
            rx
        };
        Durable(rx, self.shared.clone())
    }

    /// Whether the journal holds this job (queued, running, or with an
    /// unacknowledged result).
    pub fn holds(&self, r: &JobRef) -> bool {
        lock(&self.shared.state).index.contains_key(r)
    }

    /// Jobs held.
    pub fn len(&self) -> usize {
        lock(&self.shared.state).index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records new jobs.
    pub fn accept(&self, jobs: &[RelayJob]) -> Durable {
        let mut lines = Vec::with_capacity(jobs.len() * 256);
        for j in jobs {
            lines.extend(line(&Record::Accept { job: j.clone() }));
        }
        self.append(lines, true, |st| {
            for j in jobs {
                st.seq += 1;
                let seq = st.seq;
                st.index.entry(j.job_ref()).or_insert_with(|| Entry {
                    job: Some(j.clone()),
                    kind: j.kind.clone(),
                    started: false,
                    outcome: None,
                    seq,
                });
            }
        })
    }

    /// Records that a (non-idempotent) job starts.
    pub fn start(&self, r: &JobRef) -> Durable {
        let l = line(&Record::Start {
            job_id: r.job_id.clone(),
            attempt: r.attempt,
        });
        self.append(l, true, |st| {
            if let Some(e) = st.index.get_mut(r) {
                e.started = true;
            }
        })
    }

    /// Records a job's outcome (kept until acknowledged).
    pub fn finish(&self, r: &JobRef, kind: &str, outcome: &Outcome) -> Durable {
        let l = line(&Record::Finish {
            job_id: r.job_id.clone(),
            attempt: r.attempt,
            kind: kind.to_owned(),
            outcome: outcome.clone(),
        });
        self.append(l, true, |st| {
            st.seq += 1;
            let seq = st.seq;
            let e = st.index.entry(r.clone()).or_insert_with(|| Entry {
                job: None,
                kind: kind.to_owned(),
                started: false,
                outcome: None,
                seq,
            });
            e.job = None;
            e.outcome = Some(outcome.clone());
            e.seq = seq;
        })
    }

    /// Forgets jobs whose results the server has. Refs without a result
    /// (still running, or unknown) are left alone. Returns how many were forgotten.
    pub fn ack(&self, refs: &[JobRef]) -> usize {
        let mut st = lock(&self.shared.state);
        let mut lines = Vec::new();
        let mut n = 0;
        for r in refs {
            if st.index.get(r).is_some_and(|e| e.outcome.is_some()) {
                st.index.remove(r);
                n += 1;
                lines.extend(line(&Record::Ack {
                    job_id: r.job_id.clone(),
                    attempt: r.attempt,
                }));
            }
        }
        if n > 0 {
            st.buf.extend_from_slice(&lines);
            self.shared.wake.notify_one();
        }
        n
    }

    /// Drops jobs whatever their state (jobs whose acceptance could not be written).
    pub fn forget(&self, refs: &[JobRef]) {
        let mut lines = Vec::new();
        for r in refs {
            lines.extend(line(&Record::Ack {
                job_id: r.job_id.clone(),
                attempt: r.attempt,
            }));
        }
        self.append(lines, false, |st| {
            for r in refs {
                st.index.remove(r);
            }
        });
    }

    /// Every job held, in the order they came.
    pub fn refs(&self) -> Vec<JobRef> {
        let st = lock(&self.shared.state);
        let mut v: Vec<_> = st.index.iter().map(|(r, e)| (e.seq, r.clone())).collect();
        v.sort();
        v.into_iter().map(|(_, r)| r).collect()
    }

    /// A held job's outcome, if it has finished.
    pub fn outcome(&self, r: &JobRef) -> Option<Outcome> {
        lock(&self.shared.state)
            .index
            .get(r)
            .and_then(|e| e.outcome.clone())
    }

    /// The unacknowledged results, in the order they finished.
    pub fn results(&self) -> Vec<(JobRef, Outcome)> {
        let st = lock(&self.shared.state);
        let mut v: Vec<_> = st
            .index
            .iter()
            .filter_map(|(r, e)| e.outcome.clone().map(|o| (e.seq, r.clone(), o)))
            .collect();
        v.sort_by_key(|(s, _, _)| *s);
        v.into_iter().map(|(_, r, o)| (r, o)).collect()
    }

    /// The jobs without a result, in the order they came, with whether a
    /// `Start` was written for them.
    pub fn unfinished(&self) -> Vec<(RelayJob, bool)> {
        let st = lock(&self.shared.state);
        let mut v: Vec<_> = st
            .index
            .values()
            .filter(|e| e.outcome.is_none())
            .filter_map(|e| e.job.clone().map(|j| (e.seq, j, e.started)))
            .collect();
        v.sort_by_key(|(s, _, _)| *s);
        v.into_iter().map(|(_, j, s)| (j, s)).collect()
    }

    /// Waits until everything appended so far is on disk.
    pub fn sync(&self) -> Durable {
        self.append(Vec::new(), true, |_| {})
    }
}

fn parse_line(l: &[u8]) -> Option<Record> {
    let (crc, json) = (l.get(..8)?, l.get(9..)?);
    let crc = u32::from_str_radix(std::str::from_utf8(crc).ok()?, 16).ok()?;
    if l.get(8) != Some(&b' ') || crc32fast::hash(json) != crc {
        return None;
    }
    serde_json::from_slice(json).ok()
}

fn apply(st: &mut State, r: Record) {
    st.seq += 1;
    let seq = st.seq;
    match r {
        Record::Accept { job } => {
            st.index.entry(job.job_ref()).or_insert_with(|| Entry {
                kind: job.kind.clone(),
                job: Some(job),
                started: false,
                outcome: None,
                seq,
            });
        }
        Record::Start { job_id, attempt } => {
            if let Some(e) = st.index.get_mut(&JobRef::new(job_id, attempt)) {
                e.started = true;
            }
        }
        Record::Finish {
            job_id,
            attempt,
            kind,
            outcome,
        } => {
            let e = st
                .index
                .entry(JobRef::new(job_id, attempt))
                .or_insert_with(|| Entry {
                    job: None,
                    kind,
                    started: false,
                    outcome: None,
                    seq,
                });
            e.job = None;
            e.outcome = Some(outcome);
            e.seq = seq;
        }
        Record::Ack { job_id, attempt } => {
            st.index.remove(&JobRef::new(job_id, attempt));
        }
    }
}

/// The live entries as records, in order.
fn snapshot(st: &State) -> Vec<u8> {
    let mut entries: Vec<(&JobRef, &Entry)> = st.index.iter().collect();
    entries.sort_by_key(|(_, e)| e.seq);
    let mut out = Vec::new();
    for (r, e) in entries {
        if let Some(job) = &e.job {
            out.extend(line(&Record::Accept { job: job.clone() }));
        }
        if e.started {
            out.extend(line(&Record::Start {
                job_id: r.job_id.clone(),
                attempt: r.attempt,
            }));
        }
        if let Some(o) = &e.outcome {
            out.extend(line(&Record::Finish {
                job_id: r.job_id.clone(),
                attempt: r.attempt,
                kind: e.kind.clone(),
                outcome: o.clone(),
            }));
        }
    }
    out
}

/// Replaces the journal with `bytes` (atomically) and opens it for appending.
fn rewrite(path: &Path, bytes: &[u8]) -> std::io::Result<File> {
    crate::vault::atomic_write(path, bytes, true)?;
    std::fs::OpenOptions::new().append(true).open(path)
}

fn writer(shared: Arc<Shared>, mut file: File) {
    loop {
        let (buf, waiters, compacted) = {
            let mut st = lock(&shared.state);
            while st.buf.is_empty() && st.waiters.is_empty() && !st.closed {
                st = shared.wake.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            if st.buf.is_empty() && st.waiters.is_empty() {
                return; // closed, everything written
            }
            let buf = std::mem::take(&mut st.buf);
            let waiters = std::mem::take(&mut st.waiters);
            st.appended += buf.len() as u64;
            let compacted = (st.appended > shared.compact_after).then(|| {
                st.appended = 0;
                snapshot(&st)
            });
            (buf, waiters, compacted)
        };
        let result = match compacted {
            // The snapshot already holds everything in `buf`.
            Some(all) => rewrite(&shared.path, &all).map(|f| file = f),
            None => file.write_all(&buf).and_then(|()| file.sync_data()),
        };
        let result = result.map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!("job journal {}: {e}", shared.path.display());
        }
        for w in waiters {
            let _ = w.send(result.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("relay-journal-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn job(id: &str, kind: &str) -> RelayJob {
        RelayJob {
            job_id: id.into(),
            attempt: 1,
            kind: kind.into(),
            element_id: "e".into(),
            element_name: String::new(),
            instance_id: "i".into(),
            props: Map::new(),
            vars: Map::new(),
            outputs: Map::new(),
            globals: Map::new(),
            timeout_ms: None,
        }
    }

    fn r(id: &str) -> JobRef {
        JobRef::new(id, 1)
    }

    #[tokio::test]
    async fn state_survives_a_reopen() {
        let d = dir("reopen");
        {
            let (j, _) = Journal::open(&d, u64::MAX).unwrap();
            j.accept(&[
                job("a", "noop"),
                job("b", "local-command"),
                job("c", "noop"),
            ])
            .await
            .unwrap();
            j.start(&r("b")).await.unwrap();
            j.finish(&r("a"), "noop", &Outcome::failed("x"))
                .await
                .unwrap();
            j.finish(&r("c"), "noop", &Outcome::failed("y"))
                .await
                .unwrap();
            assert_eq!(j.ack(&[r("c"), r("b"), r("zz")]), 1, "only finished ones");
            j.accept(&[job("d", "noop")]).await.unwrap();
            j.sync().await.unwrap();
        }
        let (j, replay) = Journal::open(&d, u64::MAX).unwrap();
        assert_eq!(replay.damaged_bytes, 0);
        // Ordered by the last change: b accepted, a finished, d accepted.
        assert_eq!(j.refs(), [r("b"), r("a"), r("d")]);
        assert_eq!(j.results(), [(r("a"), Outcome::failed("x"))]);
        let un: Vec<_> = j
            .unfinished()
            .into_iter()
            .map(|(j, s)| (j.job_id, s))
            .collect();
        assert_eq!(un, [("b".to_owned(), true), ("d".to_owned(), false)]);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn a_torn_tail_is_moved_aside() {
        let d = dir("torn");
        {
            let (j, _) = Journal::open(&d, u64::MAX).unwrap();
            j.accept(&[job("a", "noop"), job("b", "noop")])
                .await
                .unwrap();
        }
        let path = d.join("journal.log");
        let mut bytes = std::fs::read(&path).unwrap();
        let full = bytes.len();
        bytes.truncate(full - 10); // the second record torn
        std::fs::write(&path, &bytes).unwrap();
        let (j, replay) = Journal::open(&d, u64::MAX).unwrap();
        assert_eq!(j.refs(), [r("a")]);
        assert!(replay.damaged_bytes > 0);
        assert!(replay.damaged_file.unwrap().exists());
        drop(j);
        // A flipped byte inside a record is caught by its CRC.
        let mut bytes = std::fs::read(&path).unwrap();
        let i = bytes.len() - 5;
        bytes[i] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
        let (j, replay) = Journal::open(&d, u64::MAX).unwrap();
        assert!(j.refs().is_empty());
        assert!(replay.damaged_bytes > 0);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn compaction_keeps_only_live_entries() {
        let d = dir("compact");
        let (j, _) = Journal::open(&d, 4096).unwrap();
        for i in 0..200 {
            let id = format!("j{i}");
            j.accept(&[job(&id, "noop")]).await.unwrap();
            j.finish(&r(&id), "noop", &Outcome::failed("done"))
                .await
                .unwrap();
            if i < 199 {
                j.ack(&[r(&id)]);
            }
        }
        j.sync().await.unwrap();
        let size = std::fs::metadata(d.join("journal.log")).unwrap().len();
        assert!(size < 8192, "compacted to {size} bytes");
        drop(j);
        let (j, _) = Journal::open(&d, 4096).unwrap();
        assert_eq!(j.refs(), [r("j199")]);
        let _ = std::fs::remove_dir_all(d);
    }

    #[tokio::test]
    async fn many_appends_share_syncs() {
        let d = dir("group");
        let (j, _) = Journal::open(&d, u64::MAX).unwrap();
        let waits: Vec<_> = (0..2000)
            .map(|i| j.accept(&[job(&format!("g{i}"), "noop")]))
            .collect();
        let t = std::time::Instant::now();
        for w in waits {
            w.await.unwrap();
        }
        // 2,000 separate syncs would take seconds on a real disk.
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(j.len(), 2000);
        let _ = std::fs::remove_dir_all(d);
    }
}
