//! Capturing a command's stdout / stderr: streamed to the log line by line
//! as it arrives, kept (up to a cap) for the node's outputs.

use crate::ctx::{Ctx, Stream};

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
