//! The SCP protocol over an exec channel: `scp -t` (sink) for a PUT,
//! `scp -f` (source) for a GET. Every step is acknowledged with a `\0`;
//! `\x01` (warning) or `\x02` (fatal) followed by a line is an error.

use std::path::Path;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use super::transfer::{CHUNK, Copied, copy_hashed};
use super::{Session, sh_quote};
use crate::error::NodeError;

type Stream = russh::ChannelStream<russh::client::Msg>;

/// Opens `scp <mode> -- <path>` on the terminal.
async fn open(session: &Session, mode: &str, path: &str) -> Result<BufReader<Stream>, NodeError> {
    let ch = session.channel().await?;
    ch.exec(true, format!("scp {mode} -- {}", sh_quote(path)))
        .await
        .map_err(|e| NodeError::failed(format!("SCP on {}: {e}", session.target)))?;
    Ok(BufReader::with_capacity(CHUNK, ch.into_stream()))
}

/// Why an SCP step failed, in an operator's words.
fn scp_err(session: &Session, remote: &str, writing: bool, msg: &str) -> NodeError {
    let target = &session.target;
    let msg = msg.trim().trim_start_matches("scp: ");
    if msg.contains("No such file or directory") {
        if writing {
            NodeError::failed(format!(
                "the remote directory of `{remote}` does not exist on {target} ({msg})"
            ))
        } else {
            NodeError::failed(format!(
                "the remote file `{remote}` does not exist on {target}"
            ))
        }
    } else if msg.contains("Permission denied") {
        NodeError::failed(format!(
            "permission denied on {target}: cannot {} `{remote}`",
            if writing { "write" } else { "read" }
        ))
    } else {
        NodeError::failed(format!("SCP on {target}, `{remote}`: {msg}"))
    }
}

fn closed(session: &Session) -> NodeError {
    NodeError::failed(format!(
        "SCP on {} ended early: is `scp` installed there?",
        session.target
    ))
}

/// Reads one acknowledgement: `Ok` on `\0`, the remote's message on `\x01` / `\x02`.
async fn ack(
    io: &mut BufReader<Stream>,
    session: &Session,
    remote: &str,
    writing: bool,
) -> Result<(), NodeError> {
    let mut b = [0u8; 1];
    if io.read(&mut b).await.map_err(|_| closed(session))? == 0 {
        return Err(closed(session));
    }
    match b[0] {
        0 => Ok(()),
        1 | 2 => {
            let line = read_line(io, session).await?;
            Err(scp_err(session, remote, writing, &line))
        }
        other => Err(NodeError::failed(format!(
            "SCP on {}: unexpected reply byte {other:#04x}",
            session.target
        ))),
    }
}

async fn read_line(io: &mut BufReader<Stream>, session: &Session) -> Result<String, NodeError> {
    let mut line = Vec::new();
    io.read_until(b'\n', &mut line)
        .await
        .map_err(|_| closed(session))?;
    Ok(String::from_utf8_lossy(&line).trim_end().to_owned())
}

async fn send(
    io: &mut BufReader<Stream>,
    session: &Session,
    bytes: &[u8],
) -> Result<(), NodeError> {
    io.get_mut()
        .write_all(bytes)
        .await
        .map_err(|e| NodeError::failed(format!("SCP on {}: {e}", session.target)))
}

/// PUT: `file` (`size` bytes, permission bits `mode`) to `remote`.
pub(super) async fn put(
    session: &Session,
    mut file: tokio::fs::File,
    size: u64,
    mode: u32,
    local: &Path,
    remote: &str,
) -> Result<Copied, NodeError> {
    let mut io = open(session, "-t", remote).await?;
    ack(&mut io, session, remote, true).await?;
    let name: String = local
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .chars()
        .map(|c| if c == '\n' || c == '/' { '_' } else { c })
        .collect();
    send(
        &mut io,
        session,
        format!("C{mode:04o} {size} {name}\n").as_bytes(),
    )
    .await?;
    ack(&mut io, session, remote, true).await?;
    let target = session.target.clone();
    let copied = copy_hashed(
        &mut file,
        io.get_mut(),
        Some(size),
        |e| NodeError::failed(format!("reading `{}`: {e}", local.display())),
        |e| NodeError::failed(format!("SCP to {target}: {e}")),
    )
    .await?;
    send(&mut io, session, b"\0").await?;
    ack(&mut io, session, remote, true).await?;
    let _ = io.get_mut().shutdown().await;
    Ok(copied)
}

/// GET: `remote` into `file`.
pub(super) async fn get(
    session: &Session,
    remote: &str,
    mut file: tokio::fs::File,
) -> Result<Copied, NodeError> {
    let mut io = open(session, "-f", remote).await?;
    send(&mut io, session, b"\0").await?;
    let size = loop {
        let mut b = [0u8; 1];
        if io.read(&mut b).await.map_err(|_| closed(session))? == 0 {
            return Err(closed(session));
        }
        let line = read_line(&mut io, session).await?;
        match b[0] {
            // `C0644 1234 name`
            b'C' => {
                let size = line
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| {
                        NodeError::failed(format!(
                            "SCP on {}: bad file header `C{line}`",
                            session.target
                        ))
                    })?;
                break size;
            }
            // Times (only sent with -p): acknowledge and read on.
            b'T' => send(&mut io, session, b"\0").await?,
            b'D' => {
                return Err(NodeError::failed(format!(
                    "the remote file `{remote}` on {} is a directory",
                    session.target
                )));
            }
            1 | 2 => return Err(scp_err(session, remote, false, &line)),
            other => {
                return Err(NodeError::failed(format!(
                    "SCP on {}: unexpected reply byte {other:#04x}",
                    session.target
                )));
            }
        }
    };
    send(&mut io, session, b"\0").await?;
    let target = session.target.clone();
    let copied = copy_hashed(
        &mut io,
        &mut file,
        Some(size),
        |e| NodeError::failed(format!("SCP from {target}: {e}")),
        |e| NodeError::failed(format!("writing the local file: {e}")),
    )
    .await?;
    ack(&mut io, session, remote, false).await?;
    send(&mut io, session, b"\0").await?;
    file.sync_all()
        .await
        .map_err(|e| NodeError::failed(format!("writing the local file: {e}")))?;
    let _ = io.get_mut().shutdown().await;
    Ok(copied)
}
