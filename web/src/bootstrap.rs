//! First start: the root company and a built-in admin whose password is
//! random, printed once by `baton serve`, and must be changed at first login.

use baton_runtime::store::{CompanyRow, Store, UserRow};

use crate::auth::{ROOT_COMPANY, hash_password, now_ms, random_secret};
use crate::error::ApiError;

/// The admin's name on a fresh store.
pub const ADMIN: &str = "admin";

/// When the store has no user: creates the root company (if missing) and the
/// admin, and returns the admin's one-time password. Otherwise `None`.
pub async fn bootstrap(store: &Store) -> Result<Option<String>, ApiError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let now = now_ms();
    if store.company(ROOT_COMPANY).await?.is_none() {
        store
            .put_company(&CompanyRow {
                id: ROOT_COMPANY.into(),
                code: ROOT_COMPANY.into(),
                name: "Default".into(),
                wechat_appid: String::new(),
                wechat_secret_enc: None,
                created_at: now,
                updated_at: now,
            })
            .await?;
    }
    let password = random_secret()[..20].to_owned();
    let created = store
        .put_user(&UserRow {
            id: uuid::Uuid::now_v7().to_string(),
            company_id: ROOT_COMPANY.into(),
            username: ADMIN.into(),
            name: "Administrator".into(),
            email: String::new(),
            phone: String::new(),
            password_hash: hash_password(&password)?,
            admin: true,
            submanager_login: true,
            must_change_password: true,
            disabled: false,
            created_at: now,
            updated_at: now,
        })
        .await;
    match created {
        Ok(()) => Ok(Some(password)),
        // Another server sharing the store bootstrapped at the same moment.
        Err(baton_runtime::store::Error::Invalid { what }) if what.contains("already taken") => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
