//! `file-operation` against a real directory: every tool, and every way out
//! of the roots refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use baton_nodes::resources::MemResources;
use baton_nodes::{Ctx, JobInfo, NodeError, Registry, RunResult};
use serde_json::{Map, Value, json};

/// A fresh directory holding a root (`root/`) and a place outside it (`outside/`).
struct Dirs {
    base: PathBuf,
}

impl Dirs {
    fn new(name: &str) -> Self {
        let base = std::env::temp_dir().join(format!("baton-fileop-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(base.join("root/sub")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        Dirs { base }
    }
    fn root(&self) -> PathBuf {
        self.base.join("root")
    }
    fn outside(&self) -> PathBuf {
        self.base.join("outside")
    }
    fn ctx(&self, p: Value) -> Ctx {
        ctx_with_roots(vec![self.root()], p)
    }
}

impl Drop for Dirs {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn ctx_with_roots(roots: Vec<PathBuf>, p: Value) -> Ctx {
    let res = MemResources {
        roots,
        ..Default::default()
    };
    Ctx::new(
        JobInfo {
            job_id: "i1:2".into(),
            element_id: "file".into(),
            ..Default::default()
        },
        p.as_object().unwrap().clone(),
        Arc::new(res),
    )
    .with_vars(json!({"who": "world"}).as_object().unwrap().clone())
}

async fn ok(c: Ctx) -> Map<String, Value> {
    match Registry::with_defaults().run("file-operation", c).await {
        RunResult::Done { outputs, .. } => outputs,
        RunResult::Failed(e) => panic!("failed: {e}"),
    }
}

async fn err(c: Ctx) -> String {
    match Registry::with_defaults().run("file-operation", c).await {
        RunResult::Failed(e) => e.to_string(),
        RunResult::Done { outputs, .. } => panic!("succeeded: {outputs:?}"),
    }
}

fn canon(p: &Path) -> String {
    std::fs::canonicalize(p).unwrap().display().to_string()
}

#[tokio::test]
async fn write_append_read_rename_delete() {
    let d = Dirs::new("tools");
    let o = ok(
        d.ctx(json!({"tool": "write", "filename": "sub/report.txt", "content": "hello ${who}\n"}))
    )
    .await;
    let path = d.root().join("sub/report.txt");
    assert_eq!(o["size"], 12);
    assert_eq!(o["path"], canon(&path));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello world\n");

    let o = ok(d.ctx(
        json!({"tool": "write", "filename": "sub/report.txt", "content": "more", "append": "true"}),
    ))
    .await;
    assert_eq!(o["size"], 16);
    // Without append the file is replaced; parent directories are created.
    let o = ok(d.ctx(json!({"tool": "write", "filename": "new/dir/x.txt", "content": "x"}))).await;
    assert_eq!(o["size"], 1);

    let abs = path.display().to_string();
    let o = ok(d.ctx(json!({"tool": "read", "filename": abs}))).await;
    assert_eq!(o["content"], "hello world\nmore");
    assert_eq!(o["encoding"], "utf-8");
    assert_eq!(o["size"], 16);

    let o = ok(d.ctx(
        json!({"tool": "rename", "filename": "sub/report.txt", "newFilename": "sub/renamed.txt"}),
    ))
    .await;
    assert!(!path.exists());
    let renamed = d.root().join("sub/renamed.txt");
    assert_eq!(o["newPath"], canon(&renamed));
    ok(d.ctx(
        json!({"tool": "move", "filename": "sub/renamed.txt", "newFilename": "archive/r.txt"}),
    ))
    .await;
    assert_eq!(
        std::fs::read_to_string(d.root().join("archive/r.txt")).unwrap(),
        "hello world\nmore"
    );

    let o = ok(d.ctx(json!({"tool": "delete", "filename": "archive/r.txt"}))).await;
    assert_eq!(o["deleted"], true);
    assert!(!d.root().join("archive/r.txt").exists());
}

#[tokio::test]
async fn binary_files_are_read_as_base64() {
    let d = Dirs::new("binary");
    std::fs::write(d.root().join("b.bin"), [0u8, 159, 146, 150, 1]).unwrap();
    let o = ok(d.ctx(json!({"tool": "read", "filename": "b.bin"}))).await;
    assert_eq!(o["encoding"], "base64");
    assert_eq!(o["content"], "AJ+SlgE=");
    assert_eq!(o["size"], 5);
}

#[tokio::test]
async fn missing_files_are_named() {
    let d = Dirs::new("missing");
    for tool in ["read", "delete"] {
        let e = err(d.ctx(json!({"tool": tool, "filename": "nope.txt"}))).await;
        assert!(
            e.starts_with("file `nope.txt` does not exist ("),
            "{tool}: {e}"
        );
    }
    let e =
        err(d.ctx(json!({"tool": "rename", "filename": "nope.txt", "newFilename": "b.txt"}))).await;
    assert!(e.starts_with("file `nope.txt` does not exist"), "{e}");
    let e = err(d.ctx(json!({"tool": "delete", "filename": "sub"}))).await;
    assert!(e.contains("is a directory"), "{e}");
}

#[tokio::test]
async fn escapes_are_refused() {
    let d = Dirs::new("escape");
    let secret = d.outside().join("secret.txt");
    std::fs::write(&secret, "top secret").unwrap();

    // `..` out of the root, existing and not.
    let e = err(d.ctx(json!({"tool": "read", "filename": "../outside/secret.txt"}))).await;
    assert!(
        e.starts_with("property `filename`: `../outside/secret.txt` resolves to `"),
        "{e}"
    );
    assert!(e.contains("outside the file roots"), "{e}");
    let e = err(d.ctx(
        json!({"tool": "write", "filename": "no/such/../../../outside/new.txt", "content": "x"}),
    ))
    .await;
    assert!(e.contains("outside the file roots"), "{e}");
    assert!(!d.outside().join("new.txt").exists());

    // An absolute path outside every root.
    let e = err(d.ctx(json!({"tool": "read", "filename": secret.display().to_string()}))).await;
    assert!(e.contains("outside the file roots"), "{e}");

    // A symlink inside the root pointing outside: to a file, to a directory.
    std::os::unix::fs::symlink(&secret, d.root().join("link.txt")).unwrap();
    std::os::unix::fs::symlink(d.outside(), d.root().join("linkdir")).unwrap();
    let e = err(d.ctx(json!({"tool": "read", "filename": "link.txt"}))).await;
    assert!(e.contains("outside the file roots"), "{e}");
    let e =
        err(d.ctx(json!({"tool": "write", "filename": "linkdir/new.txt", "content": "x"}))).await;
    assert!(e.contains("outside the file roots"), "{e}");
    assert!(!d.outside().join("new.txt").exists());
    let e = err(d.ctx(json!({"tool": "delete", "filename": "link.txt"}))).await;
    assert!(e.contains("outside the file roots"), "{e}");
    assert!(secret.exists());

    // A dangling link (writing through it would create a file outside).
    std::os::unix::fs::symlink(d.outside().join("later.txt"), d.root().join("dangling")).unwrap();
    let e = err(d.ctx(json!({"tool": "write", "filename": "dangling", "content": "x"}))).await;
    assert!(e.contains("cannot be resolved"), "{e}");
    assert!(!d.outside().join("later.txt").exists());

    // Renaming out of the root.
    std::fs::write(d.root().join("in.txt"), "in").unwrap();
    let e = err(d.ctx(json!({"tool": "rename", "filename": "in.txt", "newFilename": secret.display().to_string()}))).await;
    assert!(e.starts_with("property `newFilename`:"), "{e}");
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), "top secret");

    // A second root is allowed; a symlink that stays inside a root is fine.
    let c = ctx_with_roots(
        vec![d.root(), d.outside()],
        json!({"tool": "read", "filename": "link.txt"}),
    );
    assert_eq!(ok(c).await["content"], "top secret");
}

#[tokio::test]
async fn no_roots_refuses_everything() {
    let c = ctx_with_roots(vec![], json!({"tool": "read", "filename": "/etc/hostname"}));
    let e = err(c).await;
    assert_eq!(
        e,
        "property `filename`: no file roots are configured, so file access is refused"
    );
}

#[tokio::test]
async fn bad_properties_are_named() {
    let d = Dirs::new("props");
    let e = err(d.ctx(json!({"tool": "copy", "filename": "a"}))).await;
    assert_eq!(
        e,
        "property `tool`: `copy` is not one of read, write, rename, move, delete"
    );
    let reg = Registry::with_defaults();
    let p = |v: Value| v.as_object().unwrap().clone();
    assert_eq!(
        reg.validate(
            "file-operation",
            &p(json!({"tool": "rename", "filename": "a"}))
        )
        .unwrap_err(),
        NodeError::property("newFilename", "is required to rename")
    );
    assert_eq!(
        reg.validate("file-operation", &p(json!({"tool": "read"})))
            .unwrap_err(),
        NodeError::property("filename", "is required")
    );
    assert!(!reg.idempotent("file-operation"));
}
