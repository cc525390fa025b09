//! Capturing a command's stdout / stderr: streamed to the log line by line
//! as it arrives, kept (up to a cap) for the node's outputs.

use std::time::Duration;

use serde_json::json;

use crate::Outputs;
use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;

/// At most this many bytes of each stream are kept as an output; the log
/// receives everything.
pub const KEEP_BYTES: usize = 1 << 20;

/// One stream being captured.
pub struct Capture {
    stream: Stream,
    kept: Vec<u8>,
    pending: Vec<u8>,
    truncated: bool,
}

impl Capture {
    pub fn new(stream: Stream) -> Self {
        Capture {
            stream,
            kept: Vec::new(),
            pending: Vec::new(),
            truncated: false,
        }
    }

    /// Takes a chunk: complete lines go to the log now.
    pub fn push(&mut self, ctx: &Ctx, chunk: &[u8]) {
        let room = KEEP_BYTES.saturating_sub(self.kept.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        self.pending.extend_from_slice(chunk);
        while let Some(i) = self.pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=i).collect();
            let text = String::from_utf8_lossy(&line[..line.len() - 1]);
            ctx.log(self.stream, text.trim_end_matches('\r'));
        }
        // A line longer than the cap is logged in pieces.
        if self.pending.len() > KEEP_BYTES {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            ctx.log(self.stream, &text);
            self.pending.clear();
        }
    }

    /// Flushes the last partial line; returns the kept text (masked) and
    /// whether it was cut at [`KEEP_BYTES`].
    pub fn finish(mut self, ctx: &Ctx) -> (String, bool) {
        if !self.pending.is_empty() {
            let text = String::from_utf8_lossy(&self.pending).into_owned();
            ctx.log(self.stream, text.trim_end_matches('\r'));
            self.pending.clear();
        }
        let text = String::from_utf8_lossy(&self.kept).into_owned();
        (ctx.mask(&text), self.truncated)
    }
}

/// A command node's properties name a command: `command` or `script` (a
/// script-library entry).
pub fn check_command(props: &Outputs) -> Result<(), NodeError> {
    let given = ["command", "script"].iter().any(|k| {
        props
            .get(*k)
            .and_then(serde_json::Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    });
    if given {
        Ok(())
    } else {
        Err(NodeError::property(
            "command",
            "is required (or `script`, a script-library entry)",
        ))
    }
}

/// What a finished command gave.
pub struct Finished {
    pub stdout: Capture,
    pub stderr: Capture,
    pub code: Option<u32>,
    pub signal: Option<String>,
    pub duration: Duration,
}

/// A command node's outputs (`stdout`, `stderr`, `exitCode`, `durationMs`,
/// `truncated`), or its failure on a non-zero exit unless `allow`.
pub fn command_outputs(ctx: &Ctx, f: Finished, allow: bool) -> Result<Outputs, NodeError> {
    let (stdout, stdout_cut) = f.stdout.finish(ctx);
    let (stderr, stderr_cut) = f.stderr.finish(ctx);
    let mut o = Outputs::new();
    o.insert("stdout".into(), json!(stdout));
    o.insert("stderr".into(), json!(stderr));
    o.insert("exitCode".into(), json!(f.code));
    o.insert("durationMs".into(), json!(f.duration.as_millis() as u64));
    if stdout_cut || stderr_cut {
        o.insert("truncated".into(), json!(true));
    }
    if f.code != Some(0) && !allow {
        let why = match (f.code, &f.signal) {
            (Some(c), _) => format!("exit code {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            (None, None) => "no exit status".to_owned(),
        };
        let tail = last_line(&stderr).or_else(|| last_line(&stdout));
        return Err(NodeError::failed(match tail {
            Some(t) => format!("the command failed ({why}): {t}"),
            None => format!("the command failed ({why})"),
        }));
    }
    Ok(o)
}

pub(crate) fn last_line(s: &str) -> Option<&str> {
    s.lines().rev().map(str::trim).find(|l| !l.is_empty())
}
