//! `file-operation`: read, write, rename (move) or delete one file, confined
//! to the configured file roots ([`crate::Resources::file_roots`]).
//!
//! Confinement: a relative name resolves against the first root; the longest
//! existing ancestor is canonicalized (symlinks and `..` resolved by the OS),
//! the rest (which does not exist, so holds no symlink) is applied lexically,
//! and the result must lie inside a canonicalized root. A dangling symlink
//! cannot be resolved and is refused. The check and the operation are not
//! atomic: someone able to write symlinks into a root between the two can
//! still race it.

use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::schema::{self, choice, prop};
use crate::{BoxFuture, Node, Outputs};

/// A file larger than this is not read into an output.
pub const READ_CAP: u64 = 16 << 20;
const TOOLS: &[&str] = &["read", "write", "rename", "move", "delete"];

pub struct FileOperation;

impl Node for FileOperation {
    fn kind(&self) -> &'static str {
        "file-operation"
    }

    fn schema(&self) -> Value {
        schema::object(
            "File operation",
            vec![
                ("tool", choice("Operation", TOOLS, "read")),
                (
                    "filename",
                    prop(
                        "string",
                        "File",
                        "Inside a configured file root; a relative name is in the first root.",
                    ),
                ),
                (
                    "newFilename",
                    prop(
                        "string",
                        "New name",
                        "rename / move: where the file goes (inside a root; replaced if it exists).",
                    ),
                ),
                (
                    "content",
                    prop("string", "Content", "write: the text to write."),
                ),
                (
                    "append",
                    prop(
                        "boolean",
                        "Append",
                        "write: add to the end instead of replacing.",
                    ),
                ),
            ],
            &["tool", "filename"],
        )
    }

    /// `read` is harmless to repeat, `write` with `append` and `rename` are
    /// not; idempotence is declared per kind, so `false`.
    fn idempotent(&self) -> bool {
        false
    }

    fn validate(&self, props: &Outputs) -> Result<(), NodeError> {
        schema::check_required(&self.schema(), props)?;
        schema::check_templates(props)?;
        schema::check_choice(props, "tool", TOOLS)?;
        let tool = props.get("tool").and_then(Value::as_str).map(str::trim);
        let literal_rename = tool
            .is_some_and(|t| t.eq_ignore_ascii_case("rename") || t.eq_ignore_ascii_case("move"));
        let has_new = props
            .get("newFilename")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        if literal_rename && !has_new {
            return Err(NodeError::property("newFilename", "is required to rename"));
        }
        Ok(())
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(run(ctx))
    }
}

async fn run(ctx: &Ctx) -> Result<Outputs, NodeError> {
    let tool = ctx.required("tool")?.trim().to_ascii_lowercase();
    if !TOOLS.contains(&tool.as_str()) {
        return Err(NodeError::property(
            "tool",
            format!("`{tool}` is not one of {}", TOOLS.join(", ")),
        ));
    }
    let roots = ctx.resources().file_roots();
    let name = ctx.required("filename")?;
    let path = confine(&roots, &name).map_err(|e| NodeError::property("filename", e))?;
    let shown = path.display().to_string();
    let mut o = Outputs::new();
    match tool.as_str() {
        "read" => {
            let meta = existing(&path, &name).await?;
            if meta.is_dir() {
                return Err(NodeError::failed(format!("`{shown}` is a directory")));
            }
            if meta.len() > READ_CAP {
                return Err(NodeError::failed(format!(
                    "`{shown}` is {} bytes, more than the {} MiB a read returns",
                    meta.len(),
                    READ_CAP >> 20
                )));
            }
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| io_failed("read", &shown, e))?;
            ctx.log(
                Stream::Info,
                &format!("read {} bytes from {shown}", bytes.len()),
            );
            o.insert("size".into(), json!(bytes.len()));
            match String::from_utf8(bytes) {
                Ok(text) if !text.contains('\0') => {
                    o.insert("content".into(), json!(text));
                    o.insert("encoding".into(), json!("utf-8"));
                }
                Ok(text) => {
                    o.insert("content".into(), json!(B64.encode(text.as_bytes())));
                    o.insert("encoding".into(), json!("base64"));
                }
                Err(e) => {
                    o.insert("content".into(), json!(B64.encode(e.as_bytes())));
                    o.insert("encoding".into(), json!("base64"));
                }
            }
        }
        "write" => {
            let content = match ctx.value("content")? {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s,
                Some(v) => v.to_string(),
            };
            let append = ctx.bool("append", false)?;
            if path.is_dir() {
                return Err(NodeError::failed(format!("`{shown}` is a directory")));
            }
            if let Some(dir) = path.parent() {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| io_failed("create the directory of", &shown, e))?;
            }
            let mut f = tokio::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .append(append)
                .truncate(!append)
                .open(&path)
                .await
                .map_err(|e| io_failed("open", &shown, e))?;
            f.write_all(content.as_bytes())
                .await
                .map_err(|e| io_failed("write", &shown, e))?;
            f.flush().await.map_err(|e| io_failed("write", &shown, e))?;
            drop(f);
            let size = tokio::fs::metadata(&path)
                .await
                .map_err(|e| io_failed("read the size of", &shown, e))?
                .len();
            ctx.log(
                Stream::Info,
                &format!(
                    "{} {} bytes to {shown}",
                    if append { "appended" } else { "wrote" },
                    content.len()
                ),
            );
            o.insert("size".into(), json!(size));
        }
        "rename" | "move" => {
            let new_name = ctx
                .text("newFilename")?
                .ok_or_else(|| NodeError::property("newFilename", "is required to rename"))?;
            let to =
                confine(&roots, &new_name).map_err(|e| NodeError::property("newFilename", e))?;
            existing(&path, &name).await?;
            if is_root(&roots, &path) {
                return Err(NodeError::failed(format!("`{shown}` is a file root")));
            }
            if let Some(dir) = to.parent() {
                tokio::fs::create_dir_all(dir).await.map_err(|e| {
                    io_failed("create the directory of", &to.display().to_string(), e)
                })?;
            }
            move_file(&path, &to).await.map_err(|e| {
                NodeError::failed(format!("cannot move `{shown}` to `{}`: {e}", to.display()))
            })?;
            ctx.log(Stream::Info, &format!("moved {shown} to {}", to.display()));
            o.insert("newPath".into(), json!(to.display().to_string()));
        }
        _ => {
            let meta = existing(&path, &name).await?;
            if meta.is_dir() {
                return Err(NodeError::failed(format!(
                    "`{shown}` is a directory (delete removes files only)"
                )));
            }
            tokio::fs::remove_file(&path)
                .await
                .map_err(|e| io_failed("delete", &shown, e))?;
            ctx.log(Stream::Info, &format!("deleted {shown}"));
            o.insert("deleted".into(), json!(true));
        }
    }
    o.insert("path".into(), json!(shown));
    Ok(o)
}

/// The file's metadata, or an error naming it when it does not exist.
async fn existing(path: &Path, name: &str) -> Result<std::fs::Metadata, NodeError> {
    tokio::fs::metadata(path).await.map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            NodeError::failed(format!("file `{name}` does not exist ({})", path.display()))
        } else {
            io_failed("read", &path.display().to_string(), e)
        }
    })
}

fn io_failed(what: &str, path: &str, e: std::io::Error) -> NodeError {
    NodeError::failed(format!("cannot {what} `{path}`: {e}"))
}

fn is_root(roots: &[PathBuf], path: &Path) -> bool {
    roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .any(|r| r == path)
}

/// `rename`, or copy and delete across file systems.
async fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    match tokio::fs::rename(from, to).await {
        Err(e) if e.kind() == ErrorKind::CrossesDevices => {
            tokio::fs::copy(from, to).await?;
            tokio::fs::remove_file(from).await
        }
        r => r,
    }
}

/// `name` resolved inside one of `roots` (see the module docs), or why not.
pub fn confine(roots: &[PathBuf], name: &str) -> Result<PathBuf, String> {
    let name = name.trim();
    let Some(first) = roots.first() else {
        return Err("no file roots are configured, so file access is refused".into());
    };
    if name.is_empty() {
        return Err("is empty".into());
    }
    let raw = Path::new(name);
    let joined = if raw.is_absolute() {
        raw.to_path_buf()
    } else {
        first.join(raw)
    };
    // The longest ancestor that exists (as a file, directory or link).
    let mut base = joined.as_path();
    let mut rest: Vec<Component> = Vec::new();
    while std::fs::symlink_metadata(base).is_err() {
        let Some(parent) = base.parent() else { break };
        if let Some(c) = base.components().next_back() {
            rest.push(c);
        }
        base = parent;
    }
    let mut resolved = std::fs::canonicalize(base).map_err(|e| {
        format!(
            "`{name}` cannot be resolved ({}: {e}); a link that points nowhere is refused",
            base.display()
        )
    })?;
    for c in rest.into_iter().rev() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(s) => resolved.push(s),
            Component::RootDir | Component::Prefix(_) => {}
        }
    }
    let canon_roots: Vec<PathBuf> = roots
        .iter()
        .filter_map(|r| std::fs::canonicalize(r).ok())
        .collect();
    if canon_roots.iter().any(|r| resolved.starts_with(r)) {
        Ok(resolved)
    } else {
        let list: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        Err(format!(
            "`{name}` resolves to `{}`, outside the file roots ({})",
            resolved.display(),
            list.join(", ")
        ))
    }
}

/// Like [`confine`], for a file that must exist and be a regular file (mail
/// attachments).
pub fn confine_existing_file(roots: &[PathBuf], name: &str) -> Result<PathBuf, String> {
    let p = confine(roots, name)?;
    match std::fs::metadata(&p) {
        Ok(m) if m.is_file() => Ok(p),
        Ok(_) => Err(format!("`{name}` is not a file ({})", p.display())),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            Err(format!("file `{name}` does not exist ({})", p.display()))
        }
        Err(e) => Err(format!("cannot read `{name}` ({}): {e}", p.display())),
    }
}
