//! What nodes use and do not own: terminals and their accounts, data
//! sources, the script library, global variables, pinned SSH host keys and
//! the roots file operations are confined to.
//!
//! The server implements [`Resources`] over its store (secrets decrypted with
//! the master key as they are read), a Sub-Manager over its local
//! configuration, tests with [`MemResources`].

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::BoxFuture;
use crate::secret::Secret;

/// A machine reached from a host over SSH, WinRM or rexec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Terminal {
    pub id: String,
    pub name: String,
    pub host_name: String,
    pub host_address: String,
    pub port: u16,
    /// `ssh`, `winrm` or `rexec`.
    pub connection_type: String,
    pub os_name: String,
    pub os_version: String,
    pub comments: String,
    /// The Sub-Manager (host) that reaches it; `None` = reached from the cloud.
    pub host_id: Option<String>,
}

impl Terminal {
    /// `${node.terminal.*}`.
    pub fn to_value(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "hostName": self.host_name,
            "hostAddress": self.host_address, "port": self.port,
            "connectionType": self.connection_type, "osName": self.os_name,
            "osVersion": self.os_version, "comments": self.comments,
        })
    }
}

/// How an account proves itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    Password(Secret),
    /// An OpenSSH private key (PEM / OpenSSH format) and its passphrase.
    Key {
        private_key: Secret,
        passphrase: Option<Secret>,
    },
}

/// An account on a terminal.
#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub id: String,
    pub terminal_id: String,
    pub username: String,
    pub auth: Auth,
    pub comments: String,
}

impl Account {
    /// `${node.terminalUser.*}` (never the secret).
    pub fn to_value(&self) -> Value {
        json!({"id": self.id, "username": self.username, "comments": self.comments})
    }

    /// The secret strings of this account, for masking.
    pub fn secrets(&self) -> Vec<String> {
        match &self.auth {
            Auth::Password(p) => vec![p.expose().to_owned()],
            Auth::Key {
                private_key,
                passphrase,
            } => std::iter::once(private_key)
                .chain(passphrase)
                .map(|s| s.expose().to_owned())
                .collect(),
        }
    }
}

/// A database connection.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSource {
    pub id: String,
    pub name: String,
    /// Native (`postgres://`, `mysql://`, `sqlite:`) or JDBC-style (`jdbc:postgresql://`, ...).
    pub url: String,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub comments: String,
}

impl DataSource {
    /// `${node.dataSource.*}` (never the password).
    pub fn to_value(&self) -> Value {
        json!({"id": self.id, "name": self.name, "url": self.url, "comments": self.comments})
    }
}

/// A script-library entry: a reusable command or script template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Script {
    pub id: String,
    pub name: String,
    /// `sh`, `bat`, `ps1`, `sql`, `python`, `vbs`, ...
    pub language: String,
    /// The text, a `${}` template rendered with the node's variables.
    pub content: String,
    pub comments: String,
}

/// What the host-key store says about a key a server presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyCheck {
    /// Seen for the first time: now pinned.
    Pinned,
    /// The pinned key.
    Matches,
    /// Another key is pinned for this host and port.
    Changed { pinned: String },
}

/// A report template: the xlsx as uploaded.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTemplate {
    pub id: String,
    pub name: String,
    pub content: Vec<u8>,
}

/// A filled report to keep as report data.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReport {
    pub template_id: String,
    pub name: String,
    pub comments: String,
    pub instance_id: String,
    pub element_id: String,
    pub content: Vec<u8>,
}

const REPORTS_IN_CLOUD: &str =
    "report templates and report data are kept by the server: run report nodes in the cloud";

/// A lookup failure (not "absent": absent is `Ok(None)`).
pub type ResResult<T> = Result<T, String>;

/// Where nodes find what they use. Lookups take an id or a name.
pub trait Resources: Send + Sync + 'static {
    fn terminal<'a>(&'a self, id_or_name: &'a str) -> BoxFuture<'a, ResResult<Option<Terminal>>>;
    /// The terminal's account with this id or username; `None` for the
    /// terminal's only (or first) account.
    fn account<'a>(
        &'a self,
        terminal: &'a Terminal,
        id_or_username: Option<&'a str>,
    ) -> BoxFuture<'a, ResResult<Option<Account>>>;
    fn data_source<'a>(
        &'a self,
        id_or_name: &'a str,
    ) -> BoxFuture<'a, ResResult<Option<DataSource>>>;
    fn script<'a>(&'a self, id_or_name: &'a str) -> BoxFuture<'a, ResResult<Option<Script>>>;
    /// Every global variable (they are few; a job reads them once).
    fn globals(&self) -> BoxFuture<'_, ResResult<Map<String, Value>>>;
    /// Trust-on-first-use check of an SSH host key (`key` in OpenSSH
    /// `type base64` form).
    fn check_host_key<'a>(
        &'a self,
        host: &'a str,
        port: u16,
        key: &'a str,
    ) -> BoxFuture<'a, ResResult<HostKeyCheck>>;
    /// Directories file operations are confined to.
    fn file_roots(&self) -> Vec<PathBuf>;
    /// A report template by id or name.
    fn report_template<'a>(
        &'a self,
        id_or_name: &'a str,
    ) -> BoxFuture<'a, ResResult<Option<ReportTemplate>>> {
        let _ = id_or_name;
        ready(Err(REPORTS_IN_CLOUD.into()))
    }
    /// Keep a filled report; its id.
    fn save_report(&self, report: NewReport) -> BoxFuture<'_, ResResult<String>> {
        let _ = report;
        ready(Err(REPORTS_IN_CLOUD.into()))
    }
}

/// Resources held in memory: for tests, and for a Sub-Manager's configuration.
#[derive(Default)]
pub struct MemResources {
    pub terminals: Vec<Terminal>,
    pub accounts: Vec<Account>,
    pub data_sources: Vec<DataSource>,
    pub scripts: Vec<Script>,
    pub globals: Map<String, Value>,
    pub roots: Vec<PathBuf>,
    pub host_keys: Mutex<HashMap<(String, u16), String>>,
    pub report_templates: Vec<ReportTemplate>,
    /// Reports saved, with the ids given them (`report-1`, ...).
    pub reports: Mutex<Vec<(String, NewReport)>>,
}

fn ready<'a, T: Send + 'a>(v: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(v))
}

impl Resources for MemResources {
    fn terminal<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ResResult<Option<Terminal>>> {
        ready(Ok(self
            .terminals
            .iter()
            .find(|t| t.id == key || t.name == key)
            .cloned()))
    }

    fn account<'a>(
        &'a self,
        terminal: &'a Terminal,
        key: Option<&'a str>,
    ) -> BoxFuture<'a, ResResult<Option<Account>>> {
        ready(Ok(self
            .accounts
            .iter()
            .filter(|a| a.terminal_id == terminal.id)
            .find(|a| key.is_none_or(|k| a.id == k || a.username == k))
            .cloned()))
    }

    fn data_source<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ResResult<Option<DataSource>>> {
        ready(Ok(self
            .data_sources
            .iter()
            .find(|d| d.id == key || d.name == key)
            .cloned()))
    }

    fn script<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ResResult<Option<Script>>> {
        ready(Ok(self
            .scripts
            .iter()
            .find(|s| s.id == key || s.name == key)
            .cloned()))
    }

    fn globals(&self) -> BoxFuture<'_, ResResult<Map<String, Value>>> {
        ready(Ok(self.globals.clone()))
    }

    fn check_host_key<'a>(
        &'a self,
        host: &'a str,
        port: u16,
        key: &'a str,
    ) -> BoxFuture<'a, ResResult<HostKeyCheck>> {
        let mut keys = self.host_keys.lock().unwrap_or_else(|p| p.into_inner());
        let r = match keys.get(&(host.to_owned(), port)) {
            None => {
                keys.insert((host.to_owned(), port), key.to_owned());
                HostKeyCheck::Pinned
            }
            Some(k) if k == key => HostKeyCheck::Matches,
            Some(k) => HostKeyCheck::Changed { pinned: k.clone() },
        };
        ready(Ok(r))
    }

    fn file_roots(&self) -> Vec<PathBuf> {
        self.roots.clone()
    }

    fn report_template<'a>(
        &'a self,
        key: &'a str,
    ) -> BoxFuture<'a, ResResult<Option<ReportTemplate>>> {
        ready(Ok(self
            .report_templates
            .iter()
            .find(|t| t.id == key || t.name == key)
            .cloned()))
    }

    fn save_report(&self, report: NewReport) -> BoxFuture<'_, ResResult<String>> {
        let mut all = self.reports.lock().unwrap_or_else(|p| p.into_inner());
        let id = format!("report-{}", all.len() + 1);
        all.push((id.clone(), report));
        ready(Ok(id))
    }
}
