//! `remote-command`: a command on a terminal over SSH; WinRM through
//! [`super::winrm`]; rexec is refused.
//!
//! The command runs in the login shell that sshd starts for an exec request
//! (a POSIX shell: `cd --`, `echo $$`).
//! OpenSSH makes that shell a session and process-group leader, so the shell
//! first prints its pid (= the group id) on stdout; on timeout or cancel a
//! second channel kills the whole group (TERM, then KILL). Closing the
//! channel alone would leave the remote command running.

use std::time::{Duration, Instant};

use russh::ChannelMsg;
use serde_json::Value;

use super::{Session, connection_type, sh_quote};
use crate::capture::{Capture, Finished, check_command, command_outputs, last_line};
use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::schema::{self, prop};
use crate::{BoxFuture, Node, Outputs};

pub struct RemoteCommand;

const CONNECTION_TYPES: &[&str] = &["SSH", "WinRM", "rexec"];

/// How long the kill of a timed-out command may take.
const KILL_WAIT: Duration = Duration::from_secs(4);

impl Node for RemoteCommand {
    fn kind(&self) -> &'static str {
        "remote-command"
    }

    fn schema(&self) -> Value {
        schema::object(
            "Remote command",
            vec![
                (
                    "terminal",
                    schema::reference("terminal", "Terminal", "The machine to run the command on."),
                ),
                (
                    "terminalAccount",
                    schema::reference(
                        "account",
                        "Account",
                        "The terminal's account (id or user name); empty: its first account.",
                    ),
                ),
                (
                    "connectionType",
                    schema::choice("Connection", CONNECTION_TYPES, "SSH"),
                ),
                (
                    "command",
                    prop(
                        "string",
                        "Command",
                        "Run by the account's login shell. `${}` is rendered first.",
                    ),
                ),
                (
                    "script",
                    schema::reference(
                        "script",
                        "Script",
                        "A script-library entry to run instead of `command`.",
                    ),
                ),
                (
                    "workDir",
                    prop(
                        "string",
                        "Working directory",
                        "On the terminal; empty: the account's home directory.",
                    ),
                ),
                (
                    "allowNonZeroExit",
                    prop(
                        "boolean",
                        "Allow a non-zero exit",
                        "Complete the node whatever the exit code.",
                    ),
                ),
            ],
            &["terminal"],
        )
    }

    fn idempotent(&self) -> bool {
        false
    }

    fn validate(&self, props: &Outputs) -> Result<(), NodeError> {
        schema::check_required(&self.schema(), props)?;
        schema::check_templates(props)?;
        schema::check_choice(props, "connectionType", CONNECTION_TYPES)?;
        check_command(props)
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(run(ctx))
    }
}

async fn run(ctx: &Ctx) -> Result<Outputs, NodeError> {
    let kind = connection_type(ctx, "SSH")?;
    let (terminal, account) = ctx.terminal_and_account().await?;
    let command = ctx.command().await?;
    let work_dir = ctx.text("workDir")?;
    let allow = ctx.bool("allowNonZeroExit", false)?;
    let finished = match kind.as_str() {
        "SSH" => {
            let session = Session::open(ctx, &terminal, &account).await?;
            let r = run_ssh(ctx, &session, &command, work_dir.as_deref()).await;
            session.close().await;
            r?
        }
        "WINRM" => {
            super::winrm::run(ctx, &terminal, &account, &command, work_dir.as_deref()).await?
        }
        "REXEC" => {
            return Err(NodeError::property(
                "connectionType",
                "rexec is not supported by this build: it sends the password in clear text \
                 and no maintained Rust client exists; use SSH",
            ));
        }
        other => {
            return Err(NodeError::property(
                "connectionType",
                format!("`{other}` is not one of {}", CONNECTION_TYPES.join(", ")),
            ));
        }
    };
    command_outputs(ctx, finished, allow)
}

/// Runs `command` on `session`, streaming its output; on cancel kills it.
async fn run_ssh(
    ctx: &Ctx,
    session: &Session,
    command: &str,
    work_dir: Option<&str>,
) -> Result<Finished, NodeError> {
    // One statement per line: each runs before the next is parsed, so a
    // syntax error in `command` still lets the pid line out first.
    let mut line = String::new();
    if let Some(d) = work_dir {
        line.push_str(&format!("cd -- {} || exit 1\n", sh_quote(d)));
    }
    line.push_str("echo $$\n");
    line.push_str(command);
    ctx.log(Stream::Info, &format!("{}$ {command}", session.login));
    let mut ch = session.channel().await?;
    let started = Instant::now();
    ch.exec(true, line)
        .await
        .map_err(|e| NodeError::failed(format!("exec on {}: {e}", session.target)))?;
    // No stdin: the command reads end-of-file at once.
    let _ = ch.eof().await;
    let (mut so, mut se) = (Capture::new(Stream::Stdout), Capture::new(Stream::Stderr));
    let mut head: Vec<u8> = Vec::new();
    let mut pid: Option<u32> = None;
    let (mut code, mut signal) = (None, None);
    loop {
        tokio::select! {
            msg = ch.wait() => match msg {
                None | Some(ChannelMsg::Close) => break,
                Some(ChannelMsg::Data { data }) => {
                    if pid.is_some() {
                        so.push(ctx, &data);
                    } else {
                        head.extend_from_slice(&data);
                        if let Some(i) = head.iter().position(|&b| b == b'\n') {
                            let first = String::from_utf8_lossy(&head[..i]).trim().to_owned();
                            match first.parse::<u32>() {
                                Ok(p) => {
                                    pid = Some(p);
                                    so.push(ctx, &head[i + 1..]);
                                }
                                // Not our line (a shell that printed first): keep it all.
                                Err(_) => {
                                    pid = Some(0);
                                    so.push(ctx, &head);
                                }
                            }
                            head.clear();
                        }
                    }
                }
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => se.push(ctx, &data),
                Some(ChannelMsg::ExitStatus { exit_status }) => code = Some(exit_status),
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                    signal = Some(format!("{signal_name:?}"));
                }
                Some(_) => {}
            },
            _ = ctx.cancelled() => {
                match pid.filter(|p| *p > 1) {
                    Some(p) => {
                        ctx.log(Stream::Info, &format!("stopping the remote command (process group {p})"));
                        if tokio::time::timeout(KILL_WAIT, kill_group(session, p)).await.is_err() {
                            ctx.log(Stream::Info, "the remote kill did not finish in time");
                        }
                    }
                    None => ctx.log(Stream::Info, "the remote process group is not known: closing the channel"),
                }
                let _ = ch.close().await;
                return Err(NodeError::Cancelled);
            }
        }
    }
    let duration = started.elapsed();
    if pid.is_none() {
        if !head.is_empty() {
            so.push(ctx, &head);
        }
        let (stderr_text, _) = se.finish(ctx);
        let tail = last_line(&stderr_text).unwrap_or("no output");
        return Err(match work_dir {
            Some(d) => NodeError::property(
                "workDir",
                format!("cannot change to `{d}` on {}: {tail}", session.target),
            ),
            None => NodeError::failed(format!(
                "the command did not start on {}: {tail}",
                session.target
            )),
        });
    }
    Ok(Finished {
        stdout: so,
        stderr: se,
        code,
        signal,
        duration,
    })
}

/// Kills the process group `pgid` on the terminal: TERM, up to 2 s for it
/// to end, then KILL. Falls back to the process and its children when the
/// shell is not a group leader (a server other than OpenSSH).
async fn kill_group(session: &Session, pgid: u32) {
    let script = format!(
        "P={pgid}\n\
         kill -TERM -$P 2>/dev/null || {{ pkill -TERM -P $P; kill -TERM $P; }} 2>/dev/null\n\
         i=0\n\
         while [ $i -lt 20 ] && kill -0 -$P 2>/dev/null; do sleep 0.1; i=$((i+1)); done\n\
         kill -KILL -$P 2>/dev/null\n\
         exit 0"
    );
    let _ = session.exec_quiet(&script).await;
}
