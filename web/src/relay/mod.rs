//! The server side of the Sub-Manager link (protocol: `baton_relay_protocol`).
//!
//! - `listen.rs`: the TLS listener relays dial into (`serve --relay-listen`),
//!   its certificate (given, or self-signed once and kept), and the upgrade
//!   that checks the host's token, company and protocol version before a
//!   WebSocket exists.
//! - `link.rs`: one relay's connection: hello → welcome, terminals and
//!   pending secrets, jobs claimed from the store for the host (and for the
//!   lost host it covers), results applied once through the engine, log
//!   lines, heartbeats, sign-in checks for the relay's local page.
//! - `failover.rs`: the sweep that finds lost hosts and moves their jobs to
//!   the first available backup (seed 001).
//! - `token.rs`: enrolment tokens (random; SHA-256 for the lookup,
//!   ciphertext so the download package can carry it again).
//!
//! Jobs reach a relay through the store, never by a direct call: the engine
//! writes a node's job with `jobs.host` set, and whichever server holds that
//! host's link claims it. So a relay may be connected to any of several
//! servers, and a server that dies leaves leases that run out.

mod failover;
mod link;
mod listen;
mod token;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_nodes::MasterKey;
use baton_relay_protocol::{Thresholds, ToRelay};
use baton_runtime::engine::Engine;
use baton_runtime::store::Store;
use tokio::sync::{Notify, mpsc};

pub use listen::{RelayTls, serve};
pub use token::{issue_token, token_of};

/// How the relay side of a server behaves.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The name of this server in job leases (`{server}/relay/{host}`).
    pub server: String,
    /// What relays are told to send heartbeats at.
    pub heartbeat: Duration,
    /// A host unseen this long is lost: its work goes to a backup.
    pub lost_after: Duration,
    /// When a relay reports itself not available (seed 001).
    pub thresholds: Thresholds,
    /// The lease on jobs sent to a relay (renewed while the link holds them).
    pub lease: Duration,
    /// How often a link looks for jobs other servers routed to its host.
    pub poll: Duration,
    /// Jobs sent to one relay and not yet finished, at most.
    pub window: usize,
    /// The address relays are given in the download package.
    pub public_host: String,
    pub public_port: u16,
    /// The `sub-manager` binaries offered for download, by OS (`linux`,
    /// `windows`).
    pub binaries: HashMap<String, PathBuf>,
}

/// What a download package needs to know about this server.
#[derive(Debug, Clone)]
pub struct PackageInfo {
    pub cloud_host: String,
    pub cloud_port: u16,
    /// SHA-256 of the relay certificate (DER), hex.
    pub cert_sha256: String,
    /// The `sub-manager` binaries, by OS.
    pub binaries: HashMap<String, PathBuf>,
}

/// A live link on this server.
struct LinkHandle {
    /// Distinguishes a reconnect from the link it replaces.
    conn: u64,
    tx: mpsc::UnboundedSender<link::Control>,
    wake: Arc<Notify>,
}

/// The relays connected to this server, and what links share.
pub struct RelayHub {
    pub(crate) store: Store,
    pub(crate) key: MasterKey,
    pub(crate) engine: Engine,
    pub(crate) cfg: RelayConfig,
    pub(crate) cert_sha256: String,
    links: Mutex<HashMap<String, LinkHandle>>,
    next_conn: std::sync::atomic::AtomicU64,
}

impl RelayHub {
    pub fn new(
        store: Store,
        key: MasterKey,
        engine: Engine,
        cfg: RelayConfig,
        cert_sha256: String,
    ) -> Arc<RelayHub> {
        let hub = Arc::new(RelayHub {
            store,
            key,
            engine,
            cfg,
            cert_sha256,
            links: Mutex::new(HashMap::new()),
            next_conn: Default::default(),
        });
        // Jobs this server's engine routes to a host wake that host's link;
        // jobs it cancels are stopped on the relays.
        hub.engine.listen(Arc::new(Listener(Arc::downgrade(&hub))));
        tokio::spawn(failover::sweep(hub.clone()));
        hub
    }

    /// What the download package of a host needs.
    pub fn package_info(&self) -> PackageInfo {
        PackageInfo {
            cloud_host: self.cfg.public_host.clone(),
            cloud_port: self.cfg.public_port,
            cert_sha256: self.cert_sha256.clone(),
            binaries: self.cfg.binaries.clone(),
        }
    }

    /// The host's token was revoked (or the host deleted): its link, if on
    /// this server, is told so and closed at once. Other servers refuse its
    /// next upgrade and close their link at its next message.
    pub fn revoke(&self, host_id: &str, reason: &str) {
        self.control(
            host_id,
            link::Control::Send(ToRelay::Revoked {
                reason: reason.to_owned(),
            }),
        );
        self.control(host_id, link::Control::Close(reason.to_owned()));
    }

    /// The host's terminals, accounts or queued secrets changed: its link
    /// (and the links of the hosts that back it up) send them again.
    pub fn refresh(&self, host_id: &str) {
        self.control(host_id, link::Control::Refresh);
    }

    /// Whether the host's relay is connected to this server.
    pub fn is_linked(&self, host_id: &str) -> bool {
        self.links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(host_id)
    }

    fn control(&self, host_id: &str, c: link::Control) {
        if let Some(l) = self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(host_id)
        {
            let _ = l.tx.send(c);
        }
    }

    /// Tells the live feed a host's state.
    pub(crate) fn publish_host(&self, host: &baton_runtime::store::HostRow, linked: bool) {
        self.engine
            .feed()
            .publish(vec![baton_runtime::feed::Change::Host {
                company: host.company_id.clone(),
                id: host.id.clone(),
                state: host.state.clone(),
                linked,
            }]);
    }

    /// Wakes every link (a failover moved work somewhere).
    pub(crate) fn wake_all(&self) {
        for l in self
            .links
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            l.wake.notify_one();
        }
    }
}

/// The engine's news for the links.
struct Listener(std::sync::Weak<RelayHub>);

impl baton_runtime::engine::WorkListener for Listener {
    fn routed(&self, hosts: &[String]) {
        if let Some(hub) = self.0.upgrade() {
            let links = hub.links.lock().unwrap_or_else(|e| e.into_inner());
            for h in hosts {
                match links.get(h) {
                    Some(l) => l.wake.notify_one(),
                    // A lost host's jobs go to the link covering it.
                    None => links.values().for_each(|l| l.wake.notify_one()),
                }
            }
        }
    }

    fn cancelled(&self, job_ids: &[String]) {
        if let Some(hub) = self.0.upgrade() {
            for l in hub.links.lock().unwrap_or_else(|e| e.into_inner()).values() {
                let _ = l.tx.send(link::Control::Cancelled(job_ids.to_vec()));
            }
        }
    }
}
