//! SSH: connecting to a terminal with an account (password, or an OpenSSH /
//! PEM private key), host keys pinned on first use, and the nodes that work
//! over it: `remote-command` and `file-distribution` (SFTP and SCP).
//!
//! Credentials are only sent after the server's host key has been checked
//! against the pinned one, so a changed key never sees a password.

mod remote;
mod scp;
mod transfer;
mod winrm;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{HashAlg, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use tokio::net::TcpStream;

use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::resources::{Account, Auth, HostKeyCheck, Terminal};

pub use remote::RemoteCommand;
pub use transfer::FileDistribution;

/// How long to wait for a TCP connection and the SSH handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// An authenticated SSH connection to a terminal.
pub struct Session {
    handle: Handle<Client>,
    /// `host:port`, for messages.
    pub target: String,
    /// `user@host:port`, for messages.
    pub login: String,
}

/// The russh client handler: remembers the host key the server proved it
/// holds; the check against the pinned key happens before authentication.
struct Client {
    offered: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            PublicKeyOrCertificate::Certificate(c) => c.public_key().clone().into(),
        };
        *self.offered.lock().unwrap_or_else(|p| p.into_inner()) = Some(key);
        Ok(true)
    }
}

/// A key in the `type base64` form the host-key store keeps.
pub fn openssh_key(key: &PublicKey) -> String {
    let mut s = key.to_openssh().unwrap_or_default();
    // Drop the comment, if any: only `type base64` is pinned.
    if let Some(i) = s.match_indices(' ').nth(1).map(|(i, _)| i) {
        s.truncate(i);
    }
    s
}

/// `ssh-ed25519 SHA256:…` for a key in `type base64` form.
fn describe(key: &str) -> String {
    match PublicKey::from_openssh(key) {
        Ok(k) => format!(
            "{} {}",
            k.algorithm().as_str(),
            k.fingerprint(HashAlg::Sha256)
        ),
        Err(_) => key.split(' ').next().unwrap_or("?").to_owned(),
    }
}

impl Session {
    /// Connects, checks the host key, authenticates. Watches cancellation.
    pub async fn open(
        ctx: &Ctx,
        terminal: &Terminal,
        account: &Account,
    ) -> Result<Self, NodeError> {
        tokio::select! {
            r = Self::open_inner(ctx, terminal, account) => r,
            _ = ctx.cancelled() => Err(NodeError::Cancelled),
        }
    }

    async fn open_inner(
        ctx: &Ctx,
        terminal: &Terminal,
        account: &Account,
    ) -> Result<Self, NodeError> {
        let host = terminal.host_address.trim();
        if host.is_empty() {
            return Err(NodeError::Resource(format!(
                "terminal `{}` has no host address",
                terminal.name
            )));
        }
        let port = if terminal.port == 0 {
            22
        } else {
            terminal.port
        };
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let login = format!("{}@{target}", account.username);
        // Read the key first: a bad key text fails before any connection.
        let key = match &account.auth {
            Auth::Key {
                private_key,
                passphrase,
            } => Some(Arc::new(
                russh::keys::decode_secret_key(
                    private_key.expose(),
                    passphrase.as_ref().map(|p| p.expose()),
                )
                .map_err(|e| key_error(account, passphrase.is_some(), &e))?,
            )),
            Auth::Password(_) => None,
        };
        ctx.log(Stream::Info, &format!("connecting to {login}"));
        let socket = tokio::time::timeout(CONNECT_TIMEOUT, tcp_connect(host, port, &target))
            .await
            .map_err(|_| {
                NodeError::failed(format!(
                    "cannot connect to {target}: no answer within {} s (host down or port filtered?)",
                    CONNECT_TIMEOUT.as_secs()
                ))
            })??;
        let offered = Arc::new(Mutex::new(None));
        let config = Arc::new(client::Config {
            nodelay: true,
            inactivity_timeout: None,
            keepalive_interval: Some(Duration::from_secs(30)),
            ..Default::default()
        });
        let handler = Client {
            offered: offered.clone(),
        };
        let mut handle = tokio::time::timeout(
            CONNECT_TIMEOUT,
            client::connect_stream(config, socket, handler),
        )
        .await
        .map_err(|_| {
            NodeError::failed(format!(
                "no SSH handshake from {target} within {} s: is it an SSH server?",
                CONNECT_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| NodeError::failed(format!("SSH handshake with {target} failed: {e}")))?;

        let Some(server_key) = offered.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return Err(NodeError::failed(format!(
                "{target} did not present a host key"
            )));
        };
        let offered_text = openssh_key(&server_key);
        match ctx
            .resources()
            .check_host_key(host, port, &offered_text)
            .await
            .map_err(NodeError::Resource)?
        {
            HostKeyCheck::Pinned => ctx.log(
                Stream::Info,
                &format!(
                    "pinned the host key of {target}: {}",
                    describe(&offered_text)
                ),
            ),
            HostKeyCheck::Matches => {}
            HostKeyCheck::Changed { pinned } => {
                let _ = handle
                    .disconnect(russh::Disconnect::HostKeyNotVerifiable, "", "")
                    .await;
                return Err(NodeError::failed(format!(
                    "the host key of {target} changed (pinned {}, offered {}): \
                     if the server was reinstalled, remove the pinned key",
                    describe(&pinned),
                    describe(&offered_text)
                )));
            }
        }

        let user = account.username.clone();
        let ok = match (&account.auth, key) {
            (Auth::Key { .. }, Some(key)) => key_auth(&mut handle, &user, key)
                .await
                .map_err(|e| auth_error(&login, &e))?,
            (Auth::Password(p), _) => password_auth(&mut handle, &user, p.expose())
                .await
                .map_err(|e| auth_error(&login, &e))?,
            (Auth::Key { .. }, None) => false,
        };
        if !ok {
            let _ = handle
                .disconnect(russh::Disconnect::ByApplication, "", "")
                .await;
            let how = match account.auth {
                Auth::Password(_) => "password refused",
                Auth::Key { .. } => "key refused",
            };
            return Err(NodeError::failed(format!(
                "authentication failed for {login} ({how})"
            )));
        }
        Ok(Session {
            handle,
            target,
            login,
        })
    }

    /// A new session channel.
    pub async fn channel(&self) -> Result<russh::Channel<client::Msg>, NodeError> {
        self.handle.channel_open_session().await.map_err(|e| {
            NodeError::failed(format!("cannot open a channel on {}: {e}", self.target))
        })
    }

    /// Runs `command` on a new channel to completion (for short helper
    /// commands such as a kill); gives the exit code.
    pub async fn exec_quiet(&self, command: &str) -> Result<Option<u32>, NodeError> {
        let mut ch = self.channel().await?;
        ch.exec(true, command)
            .await
            .map_err(|e| NodeError::failed(format!("exec on {}: {e}", self.target)))?;
        let mut code = None;
        while let Some(msg) = ch.wait().await {
            if let russh::ChannelMsg::ExitStatus { exit_status } = msg {
                code = Some(exit_status);
            }
        }
        Ok(code)
    }

    pub async fn close(self) {
        let _ = self
            .handle
            .disconnect(russh::Disconnect::ByApplication, "", "")
            .await;
    }
}

/// Public-key authentication. An RSA key signs with what the server's
/// `server-sig-algs` names first, then with the other SHA-2 hash (a server may
/// list more than its `PubkeyAcceptedAlgorithms` takes).
async fn key_auth(
    handle: &mut Handle<Client>,
    user: &str,
    key: Arc<russh::keys::PrivateKey>,
) -> Result<bool, russh::Error> {
    let hashes = if key.algorithm().is_rsa() {
        let first = match handle.best_supported_rsa_hash().await {
            Ok(Some(h)) => h,
            _ => Some(HashAlg::Sha512),
        };
        let mut v = vec![first];
        for h in [Some(HashAlg::Sha512), Some(HashAlg::Sha256)] {
            if !v.contains(&h) {
                v.push(h);
            }
        }
        v
    } else {
        vec![None]
    };
    for hash in hashes {
        let r = handle
            .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key.clone(), hash))
            .await?;
        match r {
            AuthResult::Success => return Ok(true),
            AuthResult::Failure {
                remaining_methods, ..
            } if !remaining_methods.contains(&russh::MethodKind::PublicKey) => return Ok(false),
            AuthResult::Failure { .. } => {}
        }
    }
    Ok(false)
}

/// Password, then keyboard-interactive answered with the password (servers
/// that authenticate through PAM often offer only the latter).
async fn password_auth(
    handle: &mut Handle<Client>,
    user: &str,
    password: &str,
) -> Result<bool, russh::Error> {
    let remaining = match handle.authenticate_password(user, password).await? {
        AuthResult::Success => return Ok(true),
        AuthResult::Failure {
            remaining_methods, ..
        } => remaining_methods,
    };
    if !remaining.contains(&russh::MethodKind::KeyboardInteractive) {
        return Ok(false);
    }
    let mut reply = handle
        .authenticate_keyboard_interactive_start(user, None)
        .await?;
    // A server may ask several rounds (some empty); a few are enough.
    for _ in 0..5 {
        match reply {
            KeyboardInteractiveAuthResponse::Success => return Ok(true),
            KeyboardInteractiveAuthResponse::Failure { .. } => return Ok(false),
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts.iter().map(|_| password.to_owned()).collect();
                reply = handle
                    .authenticate_keyboard_interactive_respond(answers)
                    .await?;
            }
        }
    }
    Ok(false)
}

fn auth_error(login: &str, e: &russh::Error) -> NodeError {
    NodeError::failed(format!("authentication failed for {login}: {e}"))
}

fn key_error(account: &Account, has_passphrase: bool, e: &russh::keys::Error) -> NodeError {
    use russh::keys::Error as E;
    let why = match e {
        E::KeyIsEncrypted => "it is encrypted and the account has no passphrase".to_owned(),
        _ if has_passphrase => {
            format!("wrong passphrase, or not an OpenSSH / PEM private key ({e})")
        }
        _ => format!("not an OpenSSH / PEM private key ({e})"),
    };
    NodeError::Resource(format!(
        "the private key of account `{}` cannot be read: {why}",
        account.username
    ))
}

/// Resolves `host` and connects to the first address that answers.
async fn tcp_connect(host: &str, port: u16, target: &str) -> Result<TcpStream, NodeError> {
    let addrs: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| NodeError::failed(format!("cannot resolve host `{host}`: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(NodeError::failed(format!(
            "cannot resolve host `{host}`: no address"
        )));
    }
    let mut last = None;
    for a in addrs {
        match TcpStream::connect(a).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some(e),
        }
    }
    let e = last.map(|e| e.to_string()).unwrap_or_default();
    Err(NodeError::failed(format!(
        "cannot connect to {target}: {e}"
    )))
}

/// Quotes `s` for a POSIX shell.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The property `connectionType`, upper-cased; `default` when absent.
fn connection_type(ctx: &Ctx, default: &str) -> Result<String, NodeError> {
    Ok(ctx
        .text("connectionType")?
        .map(|s| s.trim().to_ascii_uppercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| default.to_owned()))
}
