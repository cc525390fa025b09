//! Sign-in to the local page is decided by the server: a `loginCheck` over
//! the link, answered by a `loginResult` with the same request id. Without
//! the link nobody signs in.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use baton_relay_protocol::{LoginUser, Secret, ToServer};
use tokio::sync::oneshot;

use crate::runner::Outbox;
use crate::status::{LinkState, Status};

/// How long the server gets to answer a sign-in.
const ANSWER: Duration = Duration::from_secs(10);

/// The server's answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub ok: bool,
    pub user: Option<LoginUser>,
    pub reason: Option<String>,
}

/// Why a sign-in did not succeed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The server said no.
    #[error("{0}")]
    Denied(String),
    /// No server to ask.
    #[error("{0}")]
    Unavailable(String),
}

/// Sign-ins waiting for the server's answer.
#[derive(Default)]
pub struct Logins {
    pending: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
}

impl Logins {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Answer>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Delivers an answer; false when nobody waits for it (late or unknown).
    pub fn resolve(&self, req_id: &str, answer: Answer) -> bool {
        match self.lock().remove(req_id) {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    /// The link went down: every waiting sign-in fails.
    pub fn fail_all(&self) {
        self.lock().clear();
    }

    /// Asks the server whether `username` may sign in to this Sub-Manager.
    pub async fn check(
        &self,
        status: &Status,
        outbox: &Outbox,
        username: &str,
        password: &str,
    ) -> Result<LoginUser, Error> {
        let link = status.link();
        if !matches!(link.state, LinkState::Connected { .. }) {
            return Err(Error::Unavailable(format!(
                "The link to the cloud is down ({} since {}): signing in needs the cloud, which checks your account. Try again when the link is back.",
                match link.state {
                    LinkState::Revoked { .. } => "revoked",
                    LinkState::Starting => "not connected yet",
                    _ => "reconnecting",
                },
                link.since.format("%Y-%m-%d %H:%M:%S")
            )));
        }
        let req_id = format!("{:032x}", rand::random::<u128>());
        let (tx, rx) = oneshot::channel();
        self.lock().insert(req_id.clone(), tx);
        let _ = outbox.send(ToServer::LoginCheck {
            req_id: req_id.clone(),
            username: username.to_owned(),
            password: Secret::new(password),
        });
        let answer = match tokio::time::timeout(ANSWER, rx).await {
            Ok(Ok(a)) => a,
            Ok(Err(_)) => {
                return Err(Error::Unavailable(
                    "The link to the cloud went down while checking your account: try again when it is back.".into(),
                ));
            }
            Err(_) => {
                self.lock().remove(&req_id);
                return Err(Error::Unavailable(format!(
                    "The cloud did not answer within {} s: try again.",
                    ANSWER.as_secs()
                )));
            }
        };
        match (answer.ok, answer.user) {
            (true, Some(user)) => Ok(user),
            (true, None) => Err(Error::Denied(
                "the cloud accepted the sign-in but sent no user".into(),
            )),
            (false, _) => Err(Error::Denied(answer.reason.unwrap_or_else(|| {
                "wrong user name or password, or this user may not log in to Sub-Manager".into()
            }))),
        }
    }
}
