//! The configuration file layer: defaults < `baton.toml` < `BATON_*`
//! environment < command-line flags.
//!
//! The file's keys are the long flags of the commands that run against a
//! store (`serve`, `start`, `status`), written `relay-listen` or
//! `relay_listen`; values are strings, numbers or booleans. It is read from
//! `--config FILE` (or `BATON_CONFIG`), else `./baton.toml` when it exists.
//! Each key becomes that flag's default, so the environment and the command
//! line still win. A key no command knows is an error naming the key and the
//! file, never silently ignored.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Command;

/// The commands the file configures.
const CONFIGURED: &[&str] = &["serve", "start", "status"];

/// The file named by `--config` / `BATON_CONFIG`, else `./baton.toml` if
/// present.
fn file_of(args: &[OsString]) -> Option<(PathBuf, bool)> {
    let mut it = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(|p| (PathBuf::from(p), true));
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some((PathBuf::from(p), true));
        }
    }
    if let Some(p) = std::env::var_os("BATON_CONFIG") {
        return Some((PathBuf::from(p), true));
    }
    let default = PathBuf::from("baton.toml");
    default.is_file().then_some((default, false))
}

/// `cmd` with the file's values as the defaults of the flags they name.
pub fn layered(cmd: Command, args: &[OsString]) -> Result<Command> {
    let Some((path, named)) = file_of(args) else {
        return Ok(cmd);
    };
    if !path.is_file() && named {
        bail!("the configuration file {} does not exist", path.display());
    }
    let values = read(&path)?;
    apply(cmd, &path, values)
}

fn read(path: &Path) -> Result<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("the configuration file {}", path.display()))?;
    table
        .into_iter()
        .map(|(k, v)| {
            let value = match v {
                toml::Value::String(s) => s,
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => bail!(
                    "{}: `{k}` must be a string, a number or a boolean, not {}",
                    path.display(),
                    other.type_str()
                ),
            };
            Ok((k.replace('_', "-"), value))
        })
        .collect()
}

fn apply(mut cmd: Command, path: &Path, values: Vec<(String, String)>) -> Result<Command> {
    for (key, value) in values {
        if key == "config" {
            bail!("{}: `config` cannot name another file", path.display());
        }
        let mut known = false;
        for name in CONFIGURED {
            let has = cmd.find_subcommand(name).is_some_and(|sc| {
                sc.get_arguments()
                    .any(|a| a.get_long() == Some(key.as_str()))
            });
            if has {
                known = true;
                let value = value.clone();
                let key = key.clone();
                cmd = cmd.mut_subcommand(name, move |sc| {
                    let id = sc
                        .get_arguments()
                        .find(|a| a.get_long() == Some(key.as_str()))
                        .map(|a| a.get_id().clone())
                        .expect("found above");
                    sc.mut_arg(id, move |a| a.default_value(value))
                });
            }
        }
        if !known {
            let mut keys: Vec<String> = CONFIGURED
                .iter()
                .filter_map(|n| cmd.find_subcommand(n))
                .flat_map(|sc| sc.get_arguments().filter_map(|a| a.get_long()))
                .filter(|k| *k != "config" && *k != "help")
                .map(str::to_owned)
                .collect();
            keys.sort();
            keys.dedup();
            bail!(
                "{}: unknown key `{key}` (known: {})",
                path.display(),
                keys.join(", ")
            );
        }
    }
    Ok(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction};

    fn cmd() -> Command {
        Command::new("baton")
            .subcommand(
                Command::new("serve")
                    .arg(
                        Arg::new("listen")
                            .long("listen")
                            .default_value("127.0.0.1:8080"),
                    )
                    .arg(
                        Arg::new("poll_ms")
                            .long("poll-ms")
                            .env("BATON_TEST_POLL_MS_X"),
                    )
                    .arg(Arg::new("config").long("config")),
            )
            .subcommand(Command::new("status").arg(Arg::new("listen").long("listen")))
            .subcommand(Command::new("other").arg(Arg::new("x").long("x").action(ArgAction::Set)))
    }

    fn file(text: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!(
            "baton-config-{}-{}.toml",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn the_file_sets_defaults_that_flags_override() {
        let p = file("listen = \"0.0.0.0:9000\"\npoll_ms = 250\n");
        let c = apply(cmd(), &p, read(&p).unwrap()).unwrap();
        let m = c.clone().get_matches_from(["baton", "serve"]);
        let (_, s) = m.subcommand().unwrap();
        assert_eq!(s.get_one::<String>("listen").unwrap(), "0.0.0.0:9000");
        assert_eq!(s.get_one::<String>("poll_ms").unwrap(), "250");
        let m = c.get_matches_from(["baton", "serve", "--listen", "127.0.0.1:1"]);
        let (_, s) = m.subcommand().unwrap();
        assert_eq!(s.get_one::<String>("listen").unwrap(), "127.0.0.1:1");
    }

    #[test]
    fn unknown_keys_and_tables_are_errors_that_name_them() {
        let p = file("listne = \"x\"\n");
        let e = apply(cmd(), &p, read(&p).unwrap()).unwrap_err().to_string();
        assert!(e.contains("unknown key `listne`"), "{e}");
        assert!(e.contains("listen"), "{e}");
        assert!(
            !e.contains("`x`"),
            "keys of other commands are not offered: {e}"
        );
        let p = file("[relay]\nlisten = 1\n");
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.contains("`relay` must be a string, a number or a boolean"),
            "{e}"
        );
        let p = file("listen = \n");
        let e = format!("{:#}", read(&p).unwrap_err());
        assert!(e.contains("configuration file"), "{e}");
    }
}
