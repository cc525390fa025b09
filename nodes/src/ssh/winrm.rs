//! `remote-command` over WinRM (WS-Management over HTTP(S)), through the
//! `winrm-rs` crate when the crate is built with the `winrm` feature.
//!
//! The feature is off by default: `winrm-rs` turns on reqwest's `rustls`
//! feature, which brings rustls's aws-lc-rs provider next to the ring one the
//! other nodes use, and rustls then has no single default provider.

use crate::capture::Finished;
use crate::ctx::Ctx;
use crate::error::NodeError;
use crate::resources::{Account, Terminal};

#[cfg(not(feature = "winrm"))]
pub(super) async fn run(
    _ctx: &Ctx,
    _terminal: &Terminal,
    _account: &Account,
    _command: &str,
    _work_dir: Option<&str>,
) -> Result<Finished, NodeError> {
    Err(NodeError::property(
        "connectionType",
        "WinRM is not supported by this build: it was built without the `winrm` feature \
         (or use SSH: OpenSSH ships with Windows Server 2019 and later)",
    ))
}

#[cfg(feature = "winrm")]
pub(super) use with_winrm::run;

#[cfg(feature = "winrm")]
mod with_winrm {
    use std::time::Instant;

    use winrm_rs::{AuthMethod, WinrmClient, WinrmConfig, WinrmCredentials, WinrmError};

    use super::*;
    use crate::capture::Capture;
    use crate::ctx::Stream;
    use crate::resources::Auth;

    /// WinRM's HTTP and HTTPS ports; a terminal on 0 or 22 (SSH's) gets 5985.
    const HTTP: u16 = 5985;
    const HTTPS: u16 = 5986;

    pub(in crate::ssh) async fn run(
        ctx: &Ctx,
        terminal: &Terminal,
        account: &Account,
        command: &str,
        work_dir: Option<&str>,
    ) -> Result<Finished, NodeError> {
        let Auth::Password(password) = &account.auth else {
            return Err(NodeError::Resource(format!(
                "account `{}`: WinRM needs a password, not a private key",
                account.username
            )));
        };
        let host = terminal.host_address.trim();
        let port = match terminal.port {
            0 | 22 => HTTP,
            p => p,
        };
        let target = format!("{host}:{port}");
        // `DOMAIN\user` or `user@domain` are NTLM's; a bare name is local.
        let (domain, user) = match account.username.split_once('\\') {
            Some((d, u)) => (d.to_owned(), u.to_owned()),
            None => (String::new(), account.username.clone()),
        };
        let config = WinrmConfig {
            port,
            use_tls: port == HTTPS,
            connect_timeout_secs: super::super::CONNECT_TIMEOUT.as_secs(),
            auth_method: AuthMethod::Ntlm,
            ..WinrmConfig::default()
        };
        let client = WinrmClient::new(
            config,
            WinrmCredentials::new(user, password.expose(), domain),
        )
        .map_err(|e| NodeError::failed(format!("WinRM client for {target}: {e}")))?;
        let line = match work_dir {
            Some(d) => format!("cd /d \"{d}\" && {command}"),
            None => command.to_owned(),
        };
        ctx.log(
            Stream::Info,
            &format!("{}@{target} (WinRM)> {command}", account.username),
        );
        let err = |e: WinrmError| match e {
            WinrmError::AuthFailed(_) => NodeError::failed(format!(
                "authentication failed for {}@{target} (WinRM)",
                account.username
            )),
            e => NodeError::failed(format!("WinRM on {target}: {e}")),
        };
        let shell = tokio::select! {
            r = client.create_shell(host) => r.map_err(err)?,
            _ = ctx.cancelled() => return Err(NodeError::Cancelled),
        };
        let started = Instant::now();
        let result = async {
            let id = client
                .execute_command(host, &shell, "cmd.exe", &["/c", &line])
                .await
                .map_err(err)?;
            let (mut so, mut se) = (Capture::new(Stream::Stdout), Capture::new(Stream::Stderr));
            let mut code = None;
            loop {
                let out = tokio::select! {
                    r = client.receive_output(host, &shell, &id) => r.map_err(err)?,
                    _ = ctx.cancelled() => {
                        // Stop the command itself, not only our polling.
                        let _ = client.signal_terminate(host, &shell, &id).await;
                        return Err(NodeError::Cancelled);
                    }
                };
                so.push(ctx, &out.stdout);
                se.push(ctx, &out.stderr);
                if out.exit_code.is_some() {
                    code = out.exit_code;
                }
                if out.done {
                    break;
                }
            }
            let _ = client.signal_terminate(host, &shell, &id).await;
            Ok(Finished {
                stdout: so,
                stderr: se,
                code: code.map(|c| c as u32),
                signal: None,
                duration: started.elapsed(),
            })
        }
        .await;
        let _ = client.delete_shell(host, &shell).await;
        result
    }
}
