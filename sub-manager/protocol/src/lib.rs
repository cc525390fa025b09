//! Baton's relay protocol: what a Sub-Manager (the relay agent inside a
//! customer LAN) and the Baton server say to each other. Types only: no
//! I/O, no runtime; both ends build on this crate.
//!
//! # Transport
//!
//! The relay dials **out** to `wss://{cloud_host}:{cloud_port}` + [`PATH`]
//! (TLS always; the relay pins the server certificate's SHA-256). The
//! upgrade request carries `Authorization: Bearer <token>` (the host's
//! enrolment token), [`HEADER_COMPANY`] (the company code) and
//! [`HEADER_PROTOCOL`] (= [`PROTOCOL_VERSION`]). The server answers a bad or
//! disabled token with HTTP 401 or 403 at the upgrade: the relay then stops
//! retrying quickly. Frames are small and latency matters: both ends set
//! `TCP_NODELAY` (with Nagle's algorithm and delayed ACKs, a job's round
//! trip regularly takes 40 ms more).
//!
//! # Frames
//!
//! Every WebSocket **text** frame is a JSON array of messages (a batch; one
//! message is a one-element array), at most [`MAX_FRAME_BYTES`]. Each
//! message is an object with a `"type"` (camelCase) and camelCase fields:
//! [`ToServer`] from the relay, [`ToRelay`] from the server. Binary frames
//! are not part of the protocol. [`decode`] reads a frame (whole-frame
//! faults are an `Err`; a bad message inside a good frame is reported in
//! [`Decoded::errors`] while the others are kept); [`FrameWriter`] packs
//! messages into frames under the size limit. A receiver answers what it
//! cannot read with an `error` message ([`DecodeError::code`]) and carries
//! on: a bad frame never ends the link.
//!
//! A server reads a relay's frame and answers what it cannot read:
//!
//! ```
//! use baton_relay_protocol::{decode, encode, JobRef, ToRelay, ToServer};
//!
//! let frame = r#"[{"type":"accepted","jobs":[{"jobId":"i1:3","attempt":1}]},{"type":"shout"}]"#;
//! let d = decode::<ToServer>(frame).expect("a frame");
//! assert_eq!(d.messages, [ToServer::Accepted { jobs: vec![JobRef::new("i1:3", 1)] }]);
//! let replies: Vec<ToRelay> = d
//!     .errors
//!     .iter()
//!     .map(|e| ToRelay::Error { code: e.code().into(), message: e.to_string() })
//!     .collect();
//! assert_eq!(
//!     encode(&replies).unwrap(),
//!     r#"[{"type":"error","code":"unknown_type","message":"message 1: unknown type `shout`"}]"#
//! );
//! ```
//!
//! # Conversation
//!
//! ```text
//! relay                                   server
//!   hello {protocol, facts, resumed} ───►
//!                                    ◄─── welcome {hostId, heartbeatMs, thresholds}
//!                                    ◄─── terminals / setSecret / removeSecret (any time)
//!   result (every unacknowledged one) ──►
//!   heartbeat (every heartbeatMs)     ──►
//!                                    ◄─── jobs [RelayJob...]
//!   accepted [JobRef...] (on disk)    ──►
//!   log ... (as the node writes)      ──►
//!   result {outcome}  (on disk)       ──►
//!                                    ◄─── ack [JobRef...]   (the relay forgets them)
//!                                    ◄─── cancel {jobId}
//!   loginCheck {reqId, user, pw}      ──►
//!                                    ◄─── loginResult {reqId, ok, user | reason}
//!                                    ◄─── revoked {reason}  (the relay stops)
//! ```
//!
//! Delivery is at least once in both directions, keyed by [`JobRef`]
//! (`jobId` + `attempt`):
//! - `accepted` means the jobs are on the relay's disk (fsynced): they
//!   survive a relay restart. A job the relay already holds is not run again
//!   when the server re-sends it; it is acknowledged again.
//! - `result` is on the relay's disk before it is sent, and is sent again
//!   after every reconnect until the server's `ack`. The server must apply a
//!   `(jobId, attempt)` result once and ignore repeats.
//! - `hello.resumed` lists every job the relay holds (queued, running, or
//!   finished and not yet acknowledged). A job the server sent that got
//!   neither `accepted` nor `rejected` and is not in the next
//!   `hello.resumed` was not taken: send it again, or to another relay. After a relay restart, a job of a
//!   kind that is not idempotent and was already running is not re-run: it
//!   comes back as `failed` with [`INTERRUPTED`].
//! - `rejected` jobs were not taken (the relay's queue is full): route them
//!   elsewhere or later.
//! - `heartbeat.available` is the relay's own verdict under the welcome's
//!   thresholds (seed 001: low memory, high load, CPU or I/O make a backup
//!   *Not available*); [`available`] lets the server re-check a heartbeat.
//!   Choosing backups and moving a lost relay's work is the server's.
//! - `log` lines are best effort: kept in memory (bounded) while the link is
//!   down, not on disk.
//! - Secrets travel one way only: `setSecret` writes an account's password
//!   or key into the relay's vault; nothing ever sends one back, and
//!   [`Secret`]'s `Debug` prints `******`.
//!
//! # Versioning
//!
//! [`PROTOCOL_VERSION`] is in the upgrade header, in `hello` and in
//! `welcome`; a peer with another version is refused
//! ([`DecodeError::VersionMismatch`], code `protocol_version`). Within a
//! version, changes are additive only: a new optional field (receivers
//! ignore fields they do not know, and new fields have defaults) or a new
//! message type (an older receiver answers `unknown_type` and carries on).
//! Anything else — a field removed, renamed or given another meaning —
//! is a new version.

mod availability;
mod facts;
mod frame;
mod message;
mod secret;

pub use availability::{Load, Thresholds, available};
pub use facts::HostFacts;
pub use frame::{DecodeError, Decoded, EncodeError, FrameWriter, WireMessage, decode, encode};
pub use message::{
    AccountSpec, AuthKind, Heartbeat, Hello, JobRef, LogStream, LoginUser, Map, Outcome, RelayJob,
    TerminalSpec, ToRelay, ToServer, Welcome,
};
pub use secret::Secret;

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The WebSocket endpoint on the server.
pub const PATH: &str = "/api/v1/relay";

/// Upgrade header: the relay's company code.
pub const HEADER_COMPANY: &str = "X-Baton-Company";

/// Upgrade header: the protocol version the relay speaks.
pub const HEADER_PROTOCOL: &str = "X-Baton-Protocol";

/// The largest frame either side sends or reads (8 MiB).
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;

/// The message of a non-idempotent job a relay restart interrupted.
pub const INTERRUPTED: &str = "interrupted by a relay restart: retry or skip";

/// Stable `code`s of `error` messages.
pub mod codes {
    /// The frame is larger than [`crate::MAX_FRAME_BYTES`].
    pub const FRAME_TOO_LARGE: &str = "frame_too_large";
    /// The frame is not JSON.
    pub const NOT_JSON: &str = "not_json";
    /// The frame is JSON but not an array of messages.
    pub const NOT_A_BATCH: &str = "not_a_batch";
    /// A message's `type` is not one this side knows.
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    /// A known message with missing or ill-typed fields.
    pub const INVALID_MESSAGE: &str = "invalid_message";
    /// The peer speaks another protocol version.
    pub const PROTOCOL_VERSION: &str = "protocol_version";
    /// A binary WebSocket frame.
    pub const BINARY_FRAME: &str = "binary_frame";
}
