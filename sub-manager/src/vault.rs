//! The vault: terminals and their accounts as the server describes them,
//! the accounts' secrets encrypted at rest, and the SSH host keys pinned on
//! first use. Files in `data_dir`:
//!
//! - `vault.key` — the AES-256-GCM key (base64, created 0600 on first start)
//! - `secrets.json` (0600) — `accountId → {secret, passphrase}`, each
//!   `v1:` + base64(nonce ‖ ciphertext ‖ tag) under that key
//!   (`baton_nodes::MasterKey`, the server's own format)
//! - `terminals.json` — terminals and accounts, no secrets
//! - `known_hosts.json` — pinned SSH host keys by `host:port`
//!
//! Each file is replaced atomically (written beside, fsynced, renamed). The
//! key and the secrets are in the same directory: the encryption keeps
//! secrets out of backups, copies of `secrets.json` and casual reads, not
//! from someone who can read the whole data directory as the relay's user.
//!
//! Decrypted secrets stay in memory while the relay runs: nodes need them,
//! and every log line and result the relay sends is masked with them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use baton_nodes::MasterKey;
use baton_nodes::resources::{Auth, HostKeyCheck};
use baton_relay_protocol::{AuthKind, Secret, TerminalSpec};
use serde::{Deserialize, Serialize};

/// A vault file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("vault: {path}: {message}")]
    File { path: String, message: String },
    #[error("vault: {0}")]
    Key(#[from] baton_nodes::secret::KeyError),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredSecret {
    secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    passphrase: Option<String>,
}

#[derive(Default)]
struct Inner {
    terminals: Vec<TerminalSpec>,
    secrets: BTreeMap<String, StoredSecret>,
    host_keys: BTreeMap<String, String>,
    /// Every decrypted secret, for masking.
    plain: BTreeMap<String, Vec<String>>,
    masks: Arc<Vec<String>>,
}

impl Inner {
    fn rebuild_masks(&mut self) {
        self.masks = Arc::new(self.plain.values().flatten().cloned().collect());
    }
}

/// Terminals, accounts, secrets and host keys of one relay.
pub struct Vault {
    dir: PathBuf,
    key: MasterKey,
    inner: RwLock<Inner>,
}

const SECRETS: &str = "secrets.json";
const TERMINALS: &str = "terminals.json";
const HOST_KEYS: &str = "known_hosts.json";

impl Vault {
    /// Opens (or starts) the vault in `dir`.
    pub fn open(dir: &Path) -> Result<Vault, Error> {
        create_private_dir(dir)?;
        let key = MasterKey::load_or_create(&dir.join("vault.key"))?;
        let mut inner = Inner {
            terminals: read_json(&dir.join(TERMINALS))?.unwrap_or_default(),
            secrets: read_json(&dir.join(SECRETS))?.unwrap_or_default(),
            host_keys: read_json(&dir.join(HOST_KEYS))?.unwrap_or_default(),
            ..Default::default()
        };
        for (id, s) in &inner.secrets {
            let mut plain = Vec::new();
            for enc in std::iter::once(&s.secret).chain(&s.passphrase) {
                let p = key.decrypt(enc).map_err(|e| Error::File {
                    path: dir.join(SECRETS).display().to_string(),
                    message: format!("the secret of account `{id}`: {e}"),
                })?;
                plain.push(p.expose().to_owned());
            }
            inner.plain.insert(id.clone(), plain);
        }
        inner.rebuild_masks();
        Ok(Vault {
            dir: dir.to_owned(),
            key,
            inner: RwLock::new(inner),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn terminals(&self) -> Vec<TerminalSpec> {
        self.read().terminals.clone()
    }

    /// The terminal with this id or name.
    pub fn terminal(&self, id_or_name: &str) -> Option<TerminalSpec> {
        let inner = self.read();
        inner
            .terminals
            .iter()
            .find(|t| t.id == id_or_name)
            .or_else(|| inner.terminals.iter().find(|t| t.name == id_or_name))
            .cloned()
    }

    /// Replaces the terminal list; secrets of accounts no longer listed are deleted.
    pub fn set_terminals(&self, terminals: Vec<TerminalSpec>) -> Result<usize, Error> {
        let mut inner = self.write();
        let listed: std::collections::HashSet<&str> = terminals
            .iter()
            .flat_map(|t| t.accounts.iter().map(|a| a.id.as_str()))
            .collect();
        let gone: Vec<String> = inner
            .secrets
            .keys()
            .filter(|id| !listed.contains(id.as_str()))
            .cloned()
            .collect();
        write_json(&self.dir.join(TERMINALS), &terminals, false)?;
        inner.terminals = terminals;
        if !gone.is_empty() {
            let mut secrets = inner.secrets.clone();
            for id in &gone {
                secrets.remove(id);
            }
            write_json(&self.dir.join(SECRETS), &secrets, true)?;
            inner.secrets = secrets;
            for id in &gone {
                inner.plain.remove(id);
            }
            inner.rebuild_masks();
        }
        Ok(gone.len())
    }

    /// Stores (replaces) an account's secret, encrypted.
    pub fn set_secret(
        &self,
        account_id: &str,
        secret: &Secret,
        passphrase: Option<&Secret>,
    ) -> Result<(), Error> {
        let mut inner = self.write();
        let stored = StoredSecret {
            secret: self.key.encrypt(secret.expose()),
            passphrase: passphrase.map(|p| self.key.encrypt(p.expose())),
        };
        let mut secrets = inner.secrets.clone();
        secrets.insert(account_id.to_owned(), stored);
        write_json(&self.dir.join(SECRETS), &secrets, true)?;
        inner.secrets = secrets;
        let plain = std::iter::once(secret)
            .chain(passphrase)
            .map(|s| s.expose().to_owned())
            .collect();
        inner.plain.insert(account_id.to_owned(), plain);
        inner.rebuild_masks();
        Ok(())
    }

    /// Deletes an account's secret; whether there was one.
    pub fn remove_secret(&self, account_id: &str) -> Result<bool, Error> {
        let mut inner = self.write();
        if !inner.secrets.contains_key(account_id) {
            return Ok(false);
        }
        let mut secrets = inner.secrets.clone();
        secrets.remove(account_id);
        write_json(&self.dir.join(SECRETS), &secrets, true)?;
        inner.secrets = secrets;
        inner.plain.remove(account_id);
        inner.rebuild_masks();
        Ok(true)
    }

    pub fn has_secret(&self, account_id: &str) -> bool {
        self.read().secrets.contains_key(account_id)
    }

    /// How the account logs in; `None` when no secret was sent for it.
    pub fn auth(&self, account_id: &str, kind: AuthKind) -> Option<Auth> {
        let inner = self.read();
        let plain = inner.plain.get(account_id)?;
        let secret = baton_nodes::Secret::new(plain.first()?.clone());
        Some(match kind {
            AuthKind::Password => Auth::Password(secret),
            AuthKind::Key => Auth::Key {
                private_key: secret,
                passphrase: plain.get(1).cloned().map(baton_nodes::Secret::new),
            },
        })
    }

    /// Every secret the vault holds, to mask in what leaves the relay.
    pub fn masks(&self) -> Arc<Vec<String>> {
        self.read().masks.clone()
    }

    /// Trust on first use of an SSH host key (`type base64`).
    pub fn check_host_key(&self, host: &str, port: u16, key: &str) -> Result<HostKeyCheck, Error> {
        let mut inner = self.write();
        let at = format!("{host}:{port}");
        match inner.host_keys.get(&at) {
            Some(k) if k == key => Ok(HostKeyCheck::Matches),
            Some(k) => Ok(HostKeyCheck::Changed { pinned: k.clone() }),
            None => {
                let mut keys = inner.host_keys.clone();
                keys.insert(at, key.to_owned());
                write_json(&self.dir.join(HOST_KEYS), &keys, false)?;
                inner.host_keys = keys;
                Ok(HostKeyCheck::Pinned)
            }
        }
    }
}

fn file_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::File {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, Error> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| file_err(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(file_err(path, e)),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T, private: bool) -> Result<(), Error> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| file_err(path, e))?;
    atomic_write(path, &bytes, private).map_err(|e| file_err(path, e))
}

/// Replaces `path` with `bytes`: written beside, fsynced, renamed, the
/// directory fsynced. `private`: mode 0600.
pub fn atomic_write(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(if private { 0o600 } else { 0o644 });
    }
    let _ = private;
    let mut f = o.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")))
}

/// Makes a rename in `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    let _ = dir;
    Ok(())
}

/// `dir` and its parents, the last one 0700.
pub fn create_private_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| file_err(dir, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| file_err(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_relay_protocol::AccountSpec;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("relay-vault-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn terminal(accounts: &[&str]) -> TerminalSpec {
        TerminalSpec {
            id: "t1".into(),
            name: "box".into(),
            accounts: accounts
                .iter()
                .map(|a| AccountSpec {
                    id: (*a).into(),
                    username: format!("user-{a}"),
                    auth_kind: AuthKind::Password,
                    comments: String::new(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn secrets_are_encrypted_at_rest_and_survive_a_reopen() {
        let d = dir("rest");
        let v = Vault::open(&d).unwrap();
        v.set_terminals(vec![terminal(&["a1", "a2"])]).unwrap();
        v.set_secret("a1", &Secret::new("Pa55-word-one"), None)
            .unwrap();
        v.set_secret(
            "a2",
            &Secret::new("KEYTEXT"),
            Some(&Secret::new("phrase-2")),
        )
        .unwrap();
        for f in ["secrets.json", "terminals.json", "vault.key"] {
            let text = std::fs::read_to_string(d.join(f)).unwrap();
            for s in ["Pa55-word-one", "KEYTEXT", "phrase-2"] {
                assert!(!text.contains(s), "{s} in clear in {f}");
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in ["secrets.json", "vault.key"] {
                let mode = std::fs::metadata(d.join(f)).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{f}");
            }
        }
        drop(v);
        let v = Vault::open(&d).unwrap();
        assert_eq!(
            v.auth("a1", AuthKind::Password),
            Some(Auth::Password(baton_nodes::Secret::new("Pa55-word-one")))
        );
        let Some(Auth::Key {
            private_key,
            passphrase,
        }) = v.auth("a2", AuthKind::Key)
        else {
            panic!()
        };
        assert_eq!(private_key.expose(), "KEYTEXT");
        assert_eq!(passphrase.unwrap().expose(), "phrase-2");
        let mut masks = (*v.masks()).clone();
        masks.sort();
        assert_eq!(masks, ["KEYTEXT", "Pa55-word-one", "phrase-2"]);

        // Dropping an account from the terminal list deletes its secret.
        assert_eq!(v.set_terminals(vec![terminal(&["a1"])]).unwrap(), 1);
        assert!(v.auth("a2", AuthKind::Key).is_none());
        assert!(v.remove_secret("a1").unwrap());
        assert!(!v.remove_secret("a1").unwrap());
        assert!(v.masks().is_empty());
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn another_key_cannot_open_the_secrets() {
        let d = dir("key");
        let v = Vault::open(&d).unwrap();
        v.set_secret("a1", &Secret::new("s3cret"), None).unwrap();
        drop(v);
        std::fs::remove_file(d.join("vault.key")).unwrap();
        let e = Vault::open(&d).err().unwrap().to_string();
        assert!(
            e.contains("account `a1`") && e.contains("another master key"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn host_keys_are_pinned_on_first_use() {
        let d = dir("hk");
        let v = Vault::open(&d).unwrap();
        assert_eq!(
            v.check_host_key("h", 22, "ssh-ed25519 A").unwrap(),
            HostKeyCheck::Pinned
        );
        drop(v);
        let v = Vault::open(&d).unwrap();
        assert_eq!(
            v.check_host_key("h", 22, "ssh-ed25519 A").unwrap(),
            HostKeyCheck::Matches
        );
        assert_eq!(
            v.check_host_key("h", 22, "ssh-ed25519 B").unwrap(),
            HostKeyCheck::Changed {
                pinned: "ssh-ed25519 A".into()
            }
        );
        assert_eq!(
            v.check_host_key("h", 2222, "ssh-ed25519 B").unwrap(),
            HostKeyCheck::Pinned
        );
        let _ = std::fs::remove_dir_all(d);
    }
}
