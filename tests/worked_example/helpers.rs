//! Reading the shipped example, the `sub-manager` binary, unpacking the
//! host package, and searching what the server and relay left behind.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::EXAMPLE;

pub(crate) fn example(name: &str) -> String {
    std::fs::read_to_string(Path::new(EXAMPLE).join(name))
        .unwrap_or_else(|e| panic!("{EXAMPLE}/{name}: {e}"))
}

pub(crate) fn example_json(name: &str) -> Value {
    serde_json::from_str(&example(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The `sub-manager` binary the server offers in host packages.
pub(crate) fn sub_manager_bin() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_baton")).parent().unwrap();
    let bin = dir.join("sub-manager");
    if !bin.exists() {
        let ok = Command::new(env!("CARGO"))
            .args(["build", "-p", "sub-manager", "--bin", "sub-manager"])
            .status()
            .unwrap();
        assert!(ok.success(), "building sub-manager");
    }
    bin
}

/// Unpacks a zip into `dir`, keeping the Unix modes; the names it held.
pub(crate) fn unzip(bytes: &[u8], dir: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().expect("a UTF-8 name").into_owned();
        assert!(
            !name.contains("..") && !name.starts_with('/'),
            "unsafe name {name}"
        );
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        let path = dir.join(&name);
        std::fs::write(&path, &data).unwrap();
        if let Some(mode) = f.unix_mode() {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777))
                .unwrap();
        }
        names.push(name);
    }
    names.sort();
    names
}

/// Every file under `dir`, recursively.
pub(crate) fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

pub(crate) fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The token of the approval link in a notice.
pub(crate) fn link_token(text: &str) -> String {
    let at = text.find("/m/approve#").expect("a link") + "/m/approve#".len();
    text[at..]
        .split(|c: char| c.is_whitespace() || c == ')' || c == '（')
        .next()
        .unwrap()
        .to_owned()
}
