//! What a relay keeps for its terminals: their specs, the accounts'
//! secrets (sent once per change), and the sign-in of users at a terminal.

use baton_relay_protocol::{AccountSpec, AuthKind, LoginUser, Secret, TerminalSpec, ToRelay};

use super::{Link, encode_one};

impl Link {
    /// The terminals this relay reaches: its host's, and those of the hosts
    /// it backs up (it runs their work after a failover).
    pub(super) async fn terminals(&self) -> baton_runtime::store::Result<Vec<ToRelay>> {
        let store = &self.hub.store;
        let mut hosts = vec![self.host.id.clone()];
        for h in store.list_hosts(&self.host.company_id).await? {
            if h.backups.contains(&self.host.id) {
                hosts.push(h.id);
            }
        }
        let terminals = store.terminals_of_hosts(&hosts).await?;
        let ids: Vec<String> = terminals.iter().map(|t| t.id.clone()).collect();
        let accounts = store.accounts_of(&ids).await?;
        let specs = terminals
            .into_iter()
            .map(|t| TerminalSpec {
                accounts: accounts
                    .iter()
                    .filter(|a| a.terminal_id == t.id)
                    .map(|a| AccountSpec {
                        id: a.id.clone(),
                        username: a.username.clone(),
                        auth_kind: if a.auth_kind == "key" {
                            AuthKind::Key
                        } else {
                            AuthKind::Password
                        },
                        comments: a.comments.clone(),
                    })
                    .collect(),
                id: t.id,
                name: t.name,
                host_name: t.host_name,
                host_address: t.host_address,
                port: t.port,
                connection_type: t.connection_type,
                os_name: t.os_name,
                os_version: t.os_version,
                comments: t.comments,
            })
            .collect();
        Ok(vec![ToRelay::Terminals { terminals: specs }])
    }

    /// Secrets queued for this relay, as frames (deleted once sent).
    pub(super) async fn secrets(&self) -> baton_runtime::store::Result<Vec<String>> {
        let rows = self.hub.store.relay_secrets(&self.host.id).await?;
        let mut out = Vec::new();
        for r in &rows {
            let secret = match self.hub.key.decrypt(&r.secret_enc) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(
                        account = r.account_id,
                        "a queued secret cannot be decrypted: {e}"
                    );
                    continue;
                }
            };
            let passphrase = match &r.passphrase_enc {
                Some(p) => self.hub.key.decrypt(p).ok(),
                None => None,
            };
            out.push(encode_one(&ToRelay::SetSecret {
                account_id: r.account_id.clone(),
                secret: Secret::new(secret.expose()),
                passphrase: passphrase.map(|p| Secret::new(p.expose())),
            }));
        }
        Ok(out)
    }

    /// After the secret frames were written: forget them here.
    pub(super) async fn secrets_sent(&self) {
        if let Ok(rows) = self.hub.store.relay_secrets(&self.host.id).await {
            for r in rows {
                if let Err(e) = self.hub.store.delete_relay_secret(&r).await {
                    tracing::warn!("forgetting a delivered secret: {e}");
                }
            }
        }
    }

    /// May this cloud account sign in to the relay's local page?
    pub(super) async fn login(&self, req_id: String, username: &str, password: &Secret) -> ToRelay {
        let refuse = |reason: &str| ToRelay::LoginResult {
            req_id: req_id.clone(),
            ok: false,
            user: None,
            reason: Some(reason.to_owned()),
        };
        let user = match self
            .hub
            .store
            .user_by_name(&self.host.company_id, username)
            .await
        {
            Ok(Some(u)) => u,
            Ok(None) => return refuse("wrong user name or password"),
            Err(e) => {
                tracing::warn!("relay sign-in check: {e}");
                return refuse("the server cannot check sign-ins now");
            }
        };
        let hash = user.password_hash.clone();
        let pw = password.expose().to_owned();
        let ok = tokio::task::spawn_blocking(move || crate::auth::verify_password(&pw, &hash))
            .await
            .unwrap_or(false);
        if !ok {
            return refuse("wrong user name or password");
        }
        if user.disabled {
            return refuse("this account is disabled");
        }
        if !user.submanager_login && !user.admin {
            return refuse("this account may not sign in to Sub-Manager");
        }
        ToRelay::LoginResult {
            req_id,
            ok: true,
            user: Some(LoginUser {
                id: user.id,
                name: user.name,
            }),
            reason: None,
        }
    }
}
