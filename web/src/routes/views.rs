//! What the API shows of stored rows: never a password hash or a secret.

use baton_runtime::store::{CompanyRow, UserRow};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub id: String,
    pub company_id: String,
    pub username: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub admin: bool,
    pub submanager_login: bool,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Whether a WeChat account is bound to the user (in the users list
    /// and a user's page only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wechat_bound: Option<bool>,
}

impl UserView {
    /// The same with whether a WeChat account is bound.
    pub fn with_wechat(mut self, bound: bool) -> UserView {
        self.wechat_bound = Some(bound);
        self
    }

    pub fn of(u: &UserRow) -> UserView {
        UserView {
            id: u.id.clone(),
            company_id: u.company_id.clone(),
            username: u.username.clone(),
            name: u.name.clone(),
            email: u.email.clone(),
            phone: u.phone.clone(),
            admin: u.admin,
            submanager_login: u.submanager_login,
            must_change_password: u.must_change_password,
            disabled: u.disabled,
            created_at: u.created_at,
            updated_at: u.updated_at,
            wechat_bound: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompanyView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub wechat_appid: String,
    /// Whether a WeChat app secret is stored (it is never shown).
    pub wechat_appsecret_set: bool,
    /// The mobile page's entry URL for this company.
    pub mobile_entry: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl CompanyView {
    pub fn of(c: &CompanyRow) -> CompanyView {
        CompanyView {
            id: c.id.clone(),
            code: c.code.clone(),
            name: c.name.clone(),
            wechat_appid: c.wechat_appid.clone(),
            wechat_appsecret_set: c.wechat_secret_enc.is_some(),
            mobile_entry: format!("/?appid={}&companyCode={}", c.wechat_appid, c.code),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}
