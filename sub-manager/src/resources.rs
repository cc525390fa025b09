//! [`Resources`] on the relay: terminals, accounts and their secrets from
//! the vault, pinned host keys in the vault, file roots from the config.
//! The script library, data sources and report templates stay on the
//! server: nodes that need them are answered with an error that says so.

use std::path::PathBuf;
use std::sync::Arc;

use baton_nodes::BoxFuture;
use baton_nodes::resources::{
    Account, DataSource, HostKeyCheck, ResResult, Resources, Script, Terminal,
};
use serde_json::{Map, Value};

use crate::vault::Vault;

pub const SCRIPTS_IN_CLOUD: &str = "the script library is kept by the server, not on this Sub-Manager: \
     put the command in the node's `command` property";
pub const DATA_SOURCES_IN_CLOUD: &str = "data sources are kept by the server, not on this Sub-Manager: \
     run SQL nodes in the cloud (inCloud=true)";

pub struct RelayResources {
    pub vault: Arc<Vault>,
    pub roots: Vec<PathBuf>,
}

fn ready<'a, T: Send + 'a>(v: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(v))
}

impl Resources for RelayResources {
    fn terminal<'a>(&'a self, key: &'a str) -> BoxFuture<'a, ResResult<Option<Terminal>>> {
        ready(Ok(self.vault.terminal(key).map(|t| Terminal {
            id: t.id,
            name: t.name,
            host_name: t.host_name,
            host_address: t.host_address,
            port: t.port,
            connection_type: t.connection_type,
            os_name: t.os_name,
            os_version: t.os_version,
            comments: t.comments,
            host_id: None,
        })))
    }

    fn account<'a>(
        &'a self,
        terminal: &'a Terminal,
        key: Option<&'a str>,
    ) -> BoxFuture<'a, ResResult<Option<Account>>> {
        let found = (|| {
            let spec = self.vault.terminal(&terminal.id)?;
            let account = match key {
                None => spec.accounts.first(),
                Some(k) => spec
                    .accounts
                    .iter()
                    .find(|a| a.id == k)
                    .or_else(|| spec.accounts.iter().find(|a| a.username == k)),
            }?;
            Some(account.clone())
        })();
        let Some(a) = found else {
            return ready(Ok(None));
        };
        let Some(auth) = self.vault.auth(&a.id, a.auth_kind) else {
            return ready(Err(format!(
                "account `{}` on terminal `{}` has no secret on this Sub-Manager (the server has not sent it)",
                a.username, terminal.name
            )));
        };
        ready(Ok(Some(Account {
            id: a.id,
            terminal_id: terminal.id.clone(),
            username: a.username,
            auth,
            comments: a.comments,
        })))
    }

    fn data_source<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, ResResult<Option<DataSource>>> {
        ready(Err(DATA_SOURCES_IN_CLOUD.into()))
    }

    fn script<'a>(&'a self, _key: &'a str) -> BoxFuture<'a, ResResult<Option<Script>>> {
        ready(Err(SCRIPTS_IN_CLOUD.into()))
    }

    /// Global variables come with each job.
    fn globals(&self) -> BoxFuture<'_, ResResult<Map<String, Value>>> {
        ready(Ok(Map::new()))
    }

    fn check_host_key<'a>(
        &'a self,
        host: &'a str,
        port: u16,
        key: &'a str,
    ) -> BoxFuture<'a, ResResult<HostKeyCheck>> {
        ready(
            self.vault
                .check_host_key(host, port, key)
                .map_err(|e| e.to_string()),
        )
    }

    fn file_roots(&self) -> Vec<PathBuf> {
        self.roots.clone()
    }
}
