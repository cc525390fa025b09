//! `file-distribution`: copies a file between the machine running the node
//! and a terminal, over SFTP (default) or SCP. Streamed in chunks with the
//! SHA-256 computed on the way; a download lands in a temporary file next to
//! its target and is renamed into place only when complete.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{Session, connection_type};
use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::schema::{self, prop};
use crate::{BoxFuture, Node, Outputs};

pub struct FileDistribution;

const DIRECTIONS: &[&str] = &["GET", "PUT"];
const CONNECTION_TYPES: &[&str] = &["SFTP", "SCP"];

/// Bytes read or written at a time.
pub(super) const CHUNK: usize = 256 * 1024;

impl Node for FileDistribution {
    fn kind(&self) -> &'static str {
        "file-distribution"
    }

    fn schema(&self) -> Value {
        schema::object(
            "File distribution",
            vec![
                (
                    "terminal",
                    schema::reference("terminal", "Terminal", "The machine to copy from or to."),
                ),
                (
                    "terminalAccount",
                    schema::reference(
                        "account",
                        "Account",
                        "The terminal's account (id or user name); empty: its first account.",
                    ),
                ),
                ("command", schema::choice("Direction", DIRECTIONS, "PUT")),
                (
                    "connectionType",
                    schema::choice("Protocol", CONNECTION_TYPES, "SFTP"),
                ),
                (
                    "localFile",
                    prop(
                        "string",
                        "Local file",
                        "On the machine running the node: the source of a PUT, the target of a GET.",
                    ),
                ),
                (
                    "remoteFile",
                    prop(
                        "string",
                        "Remote file",
                        "On the terminal: the target of a PUT (a directory keeps the local name), the source of a GET.",
                    ),
                ),
            ],
            &["terminal", "command", "localFile", "remoteFile"],
        )
    }

    fn idempotent(&self) -> bool {
        // The same bytes copied again give the same result.
        true
    }

    fn validate(&self, props: &Outputs) -> Result<(), NodeError> {
        schema::check_required(&self.schema(), props)?;
        schema::check_templates(props)?;
        schema::check_choice(props, "command", DIRECTIONS)?;
        schema::check_choice(props, "connectionType", CONNECTION_TYPES)
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(run(ctx))
    }
}

/// What a copy moved.
pub(super) struct Copied {
    pub size: u64,
    pub sha256: [u8; 32],
}

async fn run(ctx: &Ctx) -> Result<Outputs, NodeError> {
    let direction = ctx.required("command")?.trim().to_ascii_uppercase();
    if !DIRECTIONS.contains(&direction.as_str()) {
        return Err(NodeError::property(
            "command",
            format!("`{direction}` is not one of GET, PUT"),
        ));
    }
    let protocol = connection_type(ctx, "SFTP")?;
    if !CONNECTION_TYPES.contains(&protocol.as_str()) {
        return Err(NodeError::property(
            "connectionType",
            format!("`{protocol}` is not one of SFTP, SCP"),
        ));
    }
    let local = PathBuf::from(ctx.required("localFile")?);
    let remote = ctx.required("remoteFile")?;
    check_roots(ctx, &local)?;
    // Local problems are found before connecting.
    let source = if direction == "PUT" {
        Some(open_local(&local).await?)
    } else {
        check_local_target(&local)?;
        None
    };
    let (terminal, account) = ctx.terminal_and_account().await?;
    let session = Session::open(ctx, &terminal, &account).await?;
    let started = Instant::now();
    let arrow = match direction.as_str() {
        "PUT" => format!("{} → {}:{remote}", local.display(), session.login),
        _ => format!("{}:{remote} → {}", session.login, local.display()),
    };
    ctx.log(Stream::Info, &format!("{protocol} {arrow}"));
    let work = async {
        match source {
            Some((file, size, mode)) => match protocol.as_str() {
                "SCP" => super::scp::put(&session, file, size, mode, &local, &remote).await,
                _ => sftp_put(&session, file, &local, &remote).await,
            },
            None => {
                let part = Partial::new(&local);
                let file = tokio::fs::File::create(&part.path).await.map_err(|e| {
                    NodeError::property(
                        "localFile",
                        format!("cannot write `{}`: {e}", part.path.display()),
                    )
                })?;
                let copied = match protocol.as_str() {
                    "SCP" => super::scp::get(&session, &remote, file).await?,
                    _ => sftp_get(&session, &remote, file).await?,
                };
                part.commit(&local).await?;
                Ok(copied)
            }
        }
    };
    let result = tokio::select! {
        r = work => r,
        _ = ctx.cancelled() => Err(NodeError::Cancelled),
    };
    session.close().await;
    let copied = result?;
    let duration = started.elapsed();
    let hex: String = copied.sha256.iter().map(|b| format!("{b:02x}")).collect();
    ctx.log(
        Stream::Info,
        &format!(
            "{} bytes in {} ms, sha256 {hex}",
            copied.size,
            duration.as_millis()
        ),
    );
    let mut o = Outputs::new();
    o.insert("size".into(), json!(copied.size));
    o.insert("sha256".into(), json!(hex));
    o.insert("durationMs".into(), json!(duration.as_millis() as u64));
    Ok(o)
}

/// When the resources confine file operations, `path` must lie in a root.
fn check_roots(ctx: &Ctx, path: &Path) -> Result<(), NodeError> {
    let roots = ctx.resources().file_roots();
    if roots.is_empty() {
        return Ok(());
    }
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Err(NodeError::property(
            "localFile",
            format!("`{}` must be an absolute path", path.display()),
        ));
    };
    let dir = std::fs::canonicalize(parent).map_err(|e| {
        NodeError::property(
            "localFile",
            format!("directory `{}`: {e}", parent.display()),
        )
    })?;
    let inside = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .any(|r| dir.starts_with(&r));
    if inside {
        Ok(())
    } else {
        Err(NodeError::property(
            "localFile",
            format!(
                "`{}` is outside the directories file operations may use",
                path.display()
            ),
        ))
    }
}

/// The source of a PUT: the open file, its size and permission bits.
async fn open_local(path: &Path) -> Result<(tokio::fs::File, u64, u32), NodeError> {
    let bad = |m: String| NodeError::property("localFile", m);
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => bad(format!("`{}` does not exist", path.display())),
            _ => bad(format!("`{}`: {e}", path.display())),
        })?;
    if !meta.is_file() {
        return Err(bad(format!("`{}` is not a regular file", path.display())));
    }
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| bad(format!("cannot read `{}`: {e}", path.display())))?;
    #[cfg(unix)]
    let mode = std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o777;
    #[cfg(not(unix))]
    let mode = 0o644;
    Ok((file, meta.len(), mode))
}

/// The target of a GET must be a file in an existing directory.
fn check_local_target(path: &Path) -> Result<(), NodeError> {
    if path.is_dir() {
        return Err(NodeError::property(
            "localFile",
            format!("`{}` is a directory: name the file", path.display()),
        ));
    }
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(NodeError::property(
            "localFile",
            format!("directory `{}` does not exist", dir.display()),
        )),
        _ => Ok(()),
    }
}

/// A download's temporary file: removed unless committed.
struct Partial {
    path: PathBuf,
    done: bool,
}

impl Partial {
    fn new(target: &Path) -> Self {
        let mut name = target.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".baton-part-{}", std::process::id()));
        Partial {
            path: target.with_file_name(name),
            done: false,
        }
    }

    async fn commit(mut self, target: &Path) -> Result<(), NodeError> {
        tokio::fs::rename(&self.path, target).await.map_err(|e| {
            NodeError::property(
                "localFile",
                format!("cannot write `{}`: {e}", target.display()),
            )
        })?;
        self.done = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Copies `from` to `to` in chunks, hashing; `limit` bytes at most when given.
pub(super) async fn copy_hashed<R, W>(
    from: &mut R,
    to: &mut W,
    limit: Option<u64>,
    read_err: impl Fn(std::io::Error) -> NodeError,
    write_err: impl Fn(std::io::Error) -> NodeError,
) -> Result<Copied, NodeError>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; CHUNK];
    let mut hash = Sha256::new();
    let mut size = 0u64;
    loop {
        let want = match limit {
            Some(l) => (l - size).min(CHUNK as u64) as usize,
            None => CHUNK,
        };
        if want == 0 {
            break;
        }
        let n = from.read(&mut buf[..want]).await.map_err(&read_err)?;
        if n == 0 {
            if let Some(l) = limit {
                return Err(read_err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("ended after {size} of {l} bytes"),
                )));
            }
            break;
        }
        hash.update(&buf[..n]);
        to.write_all(&buf[..n]).await.map_err(&write_err)?;
        size += n as u64;
    }
    to.flush().await.map_err(&write_err)?;
    Ok(Copied {
        size,
        sha256: hash.finalize().into(),
    })
}

fn local_read_err(local: &Path) -> impl Fn(std::io::Error) -> NodeError + '_ {
    move |e| NodeError::failed(format!("reading `{}`: {e}", local.display()))
}

fn local_write_err(e: std::io::Error) -> NodeError {
    NodeError::failed(format!("writing the local file: {e}"))
}

async fn sftp(session: &Session) -> Result<russh_sftp::client::SftpSession, NodeError> {
    let ch = session.channel().await?;
    ch.request_subsystem(true, "sftp").await.map_err(|e| {
        NodeError::failed(format!("SFTP is not available on {}: {e}", session.target))
    })?;
    russh_sftp::client::SftpSession::new(ch.into_stream())
        .await
        .map_err(|e| NodeError::failed(format!("SFTP is not available on {}: {e}", session.target)))
}

/// An SFTP error on `remote`, in an operator's words.
fn sftp_err(
    session: &Session,
    remote: &str,
    writing: bool,
    e: russh_sftp::client::error::Error,
) -> NodeError {
    use russh_sftp::protocol::StatusCode;
    let target = &session.target;
    match &e {
        russh_sftp::client::error::Error::Status(s) => match s.status_code {
            StatusCode::NoSuchFile if writing => NodeError::failed(format!(
                "the remote directory of `{remote}` does not exist on {target}"
            )),
            StatusCode::NoSuchFile => NodeError::failed(format!(
                "the remote file `{remote}` does not exist on {target}"
            )),
            StatusCode::PermissionDenied => NodeError::failed(format!(
                "permission denied on {target}: cannot {} `{remote}`",
                if writing { "write" } else { "read" }
            )),
            _ => NodeError::failed(format!("SFTP on {target}, `{remote}`: {e}")),
        },
        _ => NodeError::failed(format!("SFTP on {target}, `{remote}`: {e}")),
    }
}

async fn sftp_put(
    session: &Session,
    mut file: tokio::fs::File,
    local: &Path,
    remote: &str,
) -> Result<Copied, NodeError> {
    let sftp = sftp(session).await?;
    // A directory keeps the local file's name, as `scp` and `cp` do.
    let target = match sftp.metadata(remote).await {
        Ok(m) if m.is_dir() => {
            let name = local.file_name().unwrap_or_default().to_string_lossy();
            format!("{}/{name}", remote.trim_end_matches('/'))
        }
        _ => remote.to_owned(),
    };
    let mut out = sftp
        .create(target.clone())
        .await
        .map_err(|e| sftp_err(session, &target, true, e))?;
    let write_err = |e: std::io::Error| {
        NodeError::failed(format!("writing `{target}` on {}: {e}", session.target))
    };
    let copied = copy_hashed(&mut file, &mut out, None, local_read_err(local), write_err).await?;
    out.shutdown().await.map_err(write_err)?;
    let _ = sftp.close().await;
    Ok(copied)
}

async fn sftp_get(
    session: &Session,
    remote: &str,
    mut file: tokio::fs::File,
) -> Result<Copied, NodeError> {
    let sftp = sftp(session).await?;
    let meta = sftp
        .metadata(remote)
        .await
        .map_err(|e| sftp_err(session, remote, false, e))?;
    if meta.is_dir() {
        return Err(NodeError::failed(format!(
            "the remote file `{remote}` on {} is a directory",
            session.target
        )));
    }
    let mut input = sftp
        .open(remote)
        .await
        .map_err(|e| sftp_err(session, remote, false, e))?;
    let read_err = |e: std::io::Error| {
        NodeError::failed(format!("reading `{remote}` on {}: {e}", session.target))
    };
    let copied = copy_hashed(&mut input, &mut file, None, read_err, local_write_err).await?;
    file.sync_all().await.map_err(local_write_err)?;
    let _ = sftp.close().await;
    Ok(copied)
}
