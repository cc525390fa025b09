//! `local-command`: a command on the machine that runs the node (the
//! server, or the Sub-Manager). Flowable's `shell` task is read as this.

use std::process::Stdio;
use std::time::Instant;

use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::process::Command;

use crate::capture::{Capture, Finished, check_command, command_outputs};
use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::schema::{self, prop};
use crate::{BoxFuture, Node, Outputs};

pub struct LocalCommand;

impl Node for LocalCommand {
    fn kind(&self) -> &'static str {
        "local-command"
    }

    fn schema(&self) -> Value {
        schema::object(
            "Local command",
            vec![
                (
                    "command",
                    prop(
                        "string",
                        "Command",
                        "Run by `sh -c` (`cmd /C` on Windows). `${}` is rendered first.",
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
                        "Empty: the directory Baton (or the Sub-Manager) runs in.",
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
            &[],
        )
    }

    fn idempotent(&self) -> bool {
        false
    }

    fn validate(&self, props: &Outputs) -> Result<(), NodeError> {
        schema::check_templates(props)?;
        check_command(props)
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(run(ctx))
    }
}

async fn run(ctx: &Ctx) -> Result<Outputs, NodeError> {
    let command = ctx.command().await?;
    let work_dir = ctx.text("workDir")?;
    let allow = ctx.bool("allowNonZeroExit", false)?;
    let mut cmd = if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(&command);
        c
    } else if let Some(setpriv) = setpriv() {
        // The shell dies with the process that runs the node: a killed
        // server or Sub-Manager leaves no command behind to finish work
        // that another will be given again.
        let mut c = Command::new(setpriv);
        c.args(["--pdeathsig", "KILL", "--", "sh", "-c"])
            .arg(&command);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(&command);
        c
    };
    if let Some(d) = &work_dir {
        cmd.current_dir(d);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    cmd.process_group(0);
    ctx.log(Stream::Info, &format!("$ {command}"));
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| match &work_dir {
        Some(d) if !std::path::Path::new(d).is_dir() => {
            NodeError::property("workDir", format!("`{d}` is not a directory"))
        }
        _ => NodeError::failed(format!("cannot start `sh`: {e}")),
    })?;
    let pid = child.id();
    let (mut out, mut err) = (
        child.stdout.take().expect("piped"),
        child.stderr.take().expect("piped"),
    );
    let (mut so, mut se) = (Capture::new(Stream::Stdout), Capture::new(Stream::Stderr));
    let (mut bo, mut be) = ([0u8; 8192], [0u8; 8192]);
    let (mut o_open, mut e_open) = (true, true);
    let status = loop {
        tokio::select! {
            n = out.read(&mut bo), if o_open => match n {
                Ok(0) | Err(_) => o_open = false,
                Ok(n) => so.push(ctx, &bo[..n]),
            },
            n = err.read(&mut be), if e_open => match n {
                Ok(0) | Err(_) => e_open = false,
                Ok(n) => se.push(ctx, &be[..n]),
            },
            s = child.wait(), if !o_open && !e_open => {
                break s.map_err(|e| NodeError::failed(format!("waiting for the command: {e}")))?;
            }
            _ = ctx.cancelled() => {
                kill_group(pid);
                let _ = child.kill().await;
                return Err(NodeError::Cancelled);
            }
        }
    };
    let finished = Finished {
        stdout: so,
        stderr: se,
        code: status.code().map(|c| c as u32),
        signal: signal_of(&status),
        duration: started.elapsed(),
    };
    command_outputs(ctx, finished, allow)
}

fn signal_of(status: &std::process::ExitStatus) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal().map(|s| s.to_string())
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

/// Kills the command's whole process group (the shell and what it started).
/// util-linux's `setpriv` (Linux), which sets the parent-death signal
/// without unsafe code in this process.
fn setpriv() -> Option<&'static std::path::Path> {
    static SETPRIV: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    SETPRIV
        .get_or_init(|| {
            if !cfg!(target_os = "linux") {
                return None;
            }
            ["/usr/bin/setpriv", "/bin/setpriv"]
                .into_iter()
                .map(std::path::PathBuf::from)
                .find(|p| p.is_file())
        })
        .as_deref()
}

fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Flowable's `shell` task: `command` with `arg1`…`argN`, `directory`,
/// `outputVariable` (stdout), `errorCodeVariable` (exit code).
pub fn from_flowable(props: &mut Outputs) {
    let mut args = Vec::new();
    for i in 1.. {
        match props.remove(&format!("arg{i}")) {
            Some(Value::String(a)) => args.push(a),
            _ => break,
        }
    }
    if let Some(Value::String(c)) = props.get("command") {
        let mut line = quote(c);
        for a in &args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        props.insert("command".into(), Value::String(line));
    }
    if let Some(d) = props.remove("directory") {
        props.insert("workDir".into(), d);
    }
    // Flowable's shell task never fails on the exit code: it reports it.
    props
        .entry("allowNonZeroExit")
        .or_insert(Value::String("true".into()));
}

/// Quotes a word for `sh` unless it is plainly safe (so `${}` stays readable).
fn quote(w: &str) -> String {
    let safe = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%${}".contains(c));
    if safe {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}
