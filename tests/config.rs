//! The configuration file layer through the real binary: `baton.toml` (or
//! `--config`) sets defaults, `BATON_*` overrides the file, flags override
//! both; an unknown key stops the command naming it.

use std::path::Path;
use std::process::Command;

fn baton(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_baton"));
    c.current_dir(dir)
        .env_remove("BATON_STORE")
        .env_remove("BATON_CONFIG");
    c
}

#[test]
fn file_then_environment_then_flags() {
    let dir = std::env::temp_dir().join(format!("baton-config-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = |name: &str| format!("sqlite://{}?mode=rwc", dir.join(name).display());
    // ./baton.toml is read when present.
    std::fs::write(
        dir.join("baton.toml"),
        format!("store = \"{}\"\n", db("file.db")),
    )
    .unwrap();
    let out = baton(&dir).arg("status").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.join("file.db").exists(), "the file's store was used");
    // The environment wins over the file.
    let out = baton(&dir)
        .arg("status")
        .env("BATON_STORE", db("env.db"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.join("env.db").exists());
    // A flag wins over both.
    let out = baton(&dir)
        .args(["status", "--store", &db("flag.db")])
        .env("BATON_STORE", db("env2.db"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(dir.join("flag.db").exists());
    assert!(!dir.join("env2.db").exists());
    // --config names another file; an unknown key stops with its name.
    std::fs::write(dir.join("other.toml"), "stroe = \"x\"\n").unwrap();
    let out = baton(&dir)
        .args(["status", "--config", "other.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("other.toml: unknown key `stroe`"), "{err}");
    assert!(err.contains("store"), "the known keys are listed: {err}");
    let out = baton(&dir)
        .args(["status", "--config", "missing.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml does not exist"));
    let _ = std::fs::remove_dir_all(&dir);
}
