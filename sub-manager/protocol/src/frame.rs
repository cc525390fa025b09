//! Frames: a WebSocket text frame is a JSON array of messages, at most
//! [`MAX_FRAME_BYTES`]. [`decode`] reads one (keeping the good messages of a
//! frame that also holds bad ones); [`FrameWriter`] packs messages into
//! frames under the limit.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::message::{ToRelay, ToServer};
use crate::{MAX_FRAME_BYTES, PROTOCOL_VERSION, codes};

/// One direction's message type.
pub trait WireMessage: Serialize + DeserializeOwned {
    /// Every `type` this direction has.
    const TYPES: &'static [&'static str];
    /// The protocol version a handshake message (`hello`, `welcome`) states.
    fn protocol(&self) -> Option<u32>;
}

impl WireMessage for ToServer {
    const TYPES: &'static [&'static str] = &[
        "hello",
        "heartbeat",
        "accepted",
        "rejected",
        "log",
        "result",
        "loginCheck",
        "error",
        "bye",
    ];
    fn protocol(&self) -> Option<u32> {
        match self {
            ToServer::Hello(h) => Some(h.protocol),
            _ => None,
        }
    }
}

impl WireMessage for ToRelay {
    const TYPES: &'static [&'static str] = &[
        "welcome",
        "jobs",
        "ack",
        "cancel",
        "terminals",
        "setSecret",
        "removeSecret",
        "loginResult",
        "revoked",
        "error",
    ];
    fn protocol(&self) -> Option<u32> {
        match self {
            ToRelay::Welcome(w) => Some(w.protocol),
            _ => None,
        }
    }
}

/// Why a frame, or a message in it, could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {size} bytes is larger than the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("frame is not JSON: {0}")]
    NotJson(String),
    #[error("frame is JSON {0}, not an array of messages")]
    NotABatch(&'static str),
    #[error("message {index}: unknown type `{ty}`")]
    UnknownType { index: usize, ty: String },
    #[error("message {index}{}: {message}", ty.as_ref().map(|t| format!(" (`{t}`)")).unwrap_or_default())]
    Invalid {
        index: usize,
        ty: Option<String>,
        message: String,
    },
    #[error("message {index}: protocol version {theirs}, this side speaks {ours}")]
    VersionMismatch {
        index: usize,
        ours: u32,
        theirs: u32,
    },
}

impl DecodeError {
    /// The stable `code` to answer with in an `error` message.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::TooLarge { .. } => codes::FRAME_TOO_LARGE,
            DecodeError::NotJson(_) => codes::NOT_JSON,
            DecodeError::NotABatch(_) => codes::NOT_A_BATCH,
            DecodeError::UnknownType { .. } => codes::UNKNOWN_TYPE,
            DecodeError::Invalid { .. } => codes::INVALID_MESSAGE,
            DecodeError::VersionMismatch { .. } => codes::PROTOCOL_VERSION,
        }
    }
}

/// The readable messages of a frame, in order, and what was wrong with the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<M> {
    pub messages: Vec<M>,
    pub errors: Vec<DecodeError>,
}

/// Reads one frame. A frame that is too large, not JSON or not an array is
/// an `Err`; within an array, each message that has an unknown type, bad
/// fields or another protocol version goes to [`Decoded::errors`] and the
/// rest are kept.
pub fn decode<M: WireMessage>(frame: &str) -> Result<Decoded<M>, DecodeError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge {
            size: frame.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    // The common case in one pass; the per-message diagnosis only on failure.
    let mut out = match serde_json::from_str::<Vec<M>>(frame) {
        Ok(messages) => Decoded {
            messages,
            errors: Vec::new(),
        },
        Err(_) => diagnose(frame)?,
    };
    if out.messages.iter().any(|m| m.protocol().is_some()) {
        let mut kept = Vec::with_capacity(out.messages.len());
        for (index, m) in out.messages.into_iter().enumerate() {
            match m.protocol() {
                Some(theirs) if theirs != PROTOCOL_VERSION => {
                    out.errors.push(DecodeError::VersionMismatch {
                        index,
                        ours: PROTOCOL_VERSION,
                        theirs,
                    })
                }
                _ => kept.push(m),
            }
        }
        out.messages = kept;
    }
    Ok(out)
}

fn diagnose<M: WireMessage>(frame: &str) -> Result<Decoded<M>, DecodeError> {
    let value: Value =
        serde_json::from_str(frame).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let items = match value {
        Value::Array(items) => items,
        Value::Object(_) => return Err(DecodeError::NotABatch("an object")),
        Value::String(_) => return Err(DecodeError::NotABatch("a string")),
        Value::Number(_) => return Err(DecodeError::NotABatch("a number")),
        Value::Bool(_) => return Err(DecodeError::NotABatch("a boolean")),
        Value::Null => return Err(DecodeError::NotABatch("null")),
    };
    let mut out = Decoded {
        messages: Vec::with_capacity(items.len()),
        errors: Vec::new(),
    };
    for (index, item) in items.into_iter().enumerate() {
        let ty = item.get("type").and_then(Value::as_str).map(str::to_owned);
        let Some(ty) = ty else {
            out.errors.push(DecodeError::Invalid {
                index,
                ty: None,
                message: "a message is an object with a string `type`".into(),
            });
            continue;
        };
        if !M::TYPES.contains(&ty.as_str()) {
            out.errors.push(DecodeError::UnknownType { index, ty });
            continue;
        }
        match serde_json::from_value::<M>(item) {
            Ok(m) => out.messages.push(m),
            Err(e) => out.errors.push(DecodeError::Invalid {
                index,
                ty: Some(ty),
                message: e.to_string(),
            }),
        }
    }
    Ok(out)
}

/// Why messages could not be written as a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("a frame of {size} bytes would be larger than the limit of {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("cannot write the message as JSON: {0}")]
    Json(String),
}

/// `messages` as one frame (an error when it would pass [`MAX_FRAME_BYTES`]).
pub fn encode<M: Serialize>(messages: &[M]) -> Result<String, EncodeError> {
    let text = serde_json::to_string(messages).map_err(|e| EncodeError::Json(e.to_string()))?;
    if text.len() > MAX_FRAME_BYTES {
        return Err(EncodeError::TooLarge {
            size: text.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    Ok(text)
}

/// Packs messages into frames of at most `max` bytes, in order.
#[derive(Debug)]
pub struct FrameWriter {
    buf: String,
    count: usize,
    max: usize,
}

impl Default for FrameWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameWriter {
    /// Frames of at most [`MAX_FRAME_BYTES`].
    pub fn new() -> Self {
        Self::with_max(MAX_FRAME_BYTES)
    }

    pub fn with_max(max: usize) -> Self {
        FrameWriter {
            buf: String::new(),
            count: 0,
            max,
        }
    }

    /// Adds `m`. When it does not fit beside the pending messages, the
    /// pending frame is returned finished and `m` starts the next one. A
    /// message that cannot fit in any frame is an error (and not added).
    pub fn push<M: Serialize>(&mut self, m: &M) -> Result<Option<String>, EncodeError> {
        let text = serde_json::to_string(m).map_err(|e| EncodeError::Json(e.to_string()))?;
        if text.len() + 2 > self.max {
            return Err(EncodeError::TooLarge {
                size: text.len() + 2,
                max: self.max,
            });
        }
        let done = if self.count > 0 && self.buf.len() + 1 + text.len() + 1 > self.max {
            self.finish()
        } else {
            None
        };
        self.buf.push(if self.count == 0 { '[' } else { ',' });
        self.buf.push_str(&text);
        self.count += 1;
        Ok(done)
    }

    /// The pending frame, if any message is pending.
    pub fn finish(&mut self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        self.buf.push(']');
        self.count = 0;
        Some(std::mem::take(&mut self.buf))
    }

    /// Messages pending.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes the pending frame would have.
    pub fn bytes(&self) -> usize {
        if self.count == 0 {
            0
        } else {
            self.buf.len() + 1
        }
    }
}
