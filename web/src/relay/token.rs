//! Enrolment tokens: one per host, random, shown when issued and carried in
//! the host's download package. The store keeps its SHA-256 (the lookup at
//! the upgrade) and its ciphertext under the master key (the package is
//! built again on every download); revoking clears both.

use baton_nodes::MasterKey;
use baton_runtime::store::Store;

use crate::auth::{random_secret, sha256_hex};

/// Issues a new token for the host, replacing (and so revoking) the one it
/// had. Returns the token in clear: shown once, or written into a package.
pub async fn issue_token(
    store: &Store,
    key: &MasterKey,
    host_id: &str,
) -> baton_runtime::store::Result<Option<String>> {
    let token = format!("bt_{}", random_secret());
    let stored = store
        .set_host_token(host_id, Some((&sha256_hex(&token), &key.encrypt(&token))))
        .await?;
    Ok(stored.then_some(token))
}

/// The host's current token in clear (`None`: none issued, or revoked).
pub async fn token_of(
    store: &Store,
    key: &MasterKey,
    host_id: &str,
) -> baton_runtime::store::Result<Option<String>> {
    let Some(enc) = store.host_token_enc(host_id).await? else {
        return Ok(None);
    };
    match key.decrypt(&enc) {
        Ok(t) => Ok(Some(t.expose().to_owned())),
        Err(e) => {
            tracing::error!(host = host_id, "the host's token cannot be decrypted: {e}");
            Ok(None)
        }
    }
}
