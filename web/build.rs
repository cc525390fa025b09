//! Builds the browser front end (`ui/`, Vite) into `ui/dist`, which
//! `src/ui.rs` embeds: `npm ci` when `node_modules` is missing or older than
//! the lock file, `npm run build` when `dist` is missing or older than the
//! sources. Cargo reruns this only when a source of the UI changed.
//!
//! `BATON_UI_SKIP=1` skips npm (a Rust-only build on a machine without
//! Node): `dist` must then exist, or a page saying the UI is not built is
//! embedded instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// What the build reads: a change to any of these rebuilds the UI.
const SOURCES: &[&str] = &[
    "src",
    "public",
    "index.html",
    "package.json",
    "package-lock.json",
    "vite.config.js",
];

fn main() {
    let ui = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("ui");
    for s in SOURCES {
        println!("cargo:rerun-if-changed=ui/{s}");
    }
    // A deleted dist must be built again.
    println!("cargo:rerun-if-changed=ui/dist/index.html");
    println!("cargo:rerun-if-env-changed=BATON_UI_SKIP");

    let dist = ui.join("dist");
    let index = dist.join("index.html");
    if std::env::var("BATON_UI_SKIP").is_ok_and(|v| v == "1") {
        if !index.exists() {
            std::fs::create_dir_all(&dist).expect("creating ui/dist");
            std::fs::write(
                &index,
                "<!doctype html><title>Baton</title><p>The web UI was not built \
                 (BATON_UI_SKIP=1). The API is under /api/v1, its documentation at /api/docs.</p>\n<div id=\"app\"></div>",
            )
            .expect("writing ui/dist/index.html");
        }
        return;
    }

    let sources = newest(SOURCES.iter().map(|s| ui.join(s)));
    if modified(&index).is_some_and(|built| sources.is_none_or(|src| built >= src)) {
        return;
    }
    let npm = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let deps = ui.join("node_modules").join(".package-lock.json");
    let lock = modified(&ui.join("package-lock.json"));
    if modified(&deps).is_none_or(|d| lock.is_some_and(|l| d < l)) {
        run(&ui, npm, &["ci", "--no-audit", "--no-fund"]);
    }
    // Built aside and swapped in: another cargo (another target directory)
    // may be embedding the current dist meanwhile.
    let fresh = ui.join(format!("dist.tmp-{}", std::process::id()));
    let out = fresh.to_str().expect("a UTF-8 path");
    run(
        &ui,
        npm,
        &["run", "build", "--", "--outDir", out, "--emptyOutDir"],
    );
    let old = ui.join(format!("dist.old-{}", std::process::id()));
    let had = std::fs::rename(&dist, &old).is_ok();
    std::fs::rename(&fresh, &dist).expect("moving the built UI to ui/dist");
    if had {
        let _ = std::fs::remove_dir_all(&old);
    }
}

fn run(dir: &Path, npm: &str, args: &[&str]) {
    let status = Command::new(npm)
        .args(args)
        .current_dir(dir)
        // Cargo reads the build script's stdout for directives: npm talks on stderr.
        .stdout(std::io::stderr())
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "\n\nBuilding the web UI needs Node.js 20.19+ and npm (`{npm} {}` in {}): {e}.\n\
                 Install them (Debian: `apt-get install nodejs npm`, or run scripts/setup.sh),\n\
                 or set BATON_UI_SKIP=1 to build without the UI.\n",
                args.join(" "),
                dir.display()
            )
        });
    if !status.success() {
        panic!(
            "`{npm} {}` in {} failed ({status}); see its output above",
            args.join(" "),
            dir.display()
        );
    }
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// The newest modification time of these files and everything under these directories.
fn newest(paths: impl Iterator<Item = PathBuf>) -> Option<SystemTime> {
    let mut best: Option<SystemTime> = None;
    let mut stack: Vec<PathBuf> = paths.collect();
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        } else if let Ok(m) = meta.modified() {
            best = Some(best.map_or(m, |b| b.max(m)));
        }
    }
    best
}
