//! The server's accounts: companies, users, groups (with their permission
//! grants), group members, sessions, API tokens and the audit log.
//!
//! The store never sees a password, a session id or a token in clear: it
//! keeps argon2id hashes and SHA-256 hashes made by the caller.

use sea_orm::{QueryResult, Value};
use serde::{Deserialize, Serialize};

use super::Store;
use super::error::{Context, Error, Result};
use super::resources::{now_ms, upsert};
use super::sql::Sql;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyRow {
    pub id: String,
    /// What users type (the mobile entry URL's `companyCode`).
    pub code: String,
    pub name: String,
    pub wechat_appid: String,
    /// Ciphertext under the master key.
    pub wechat_secret_enc: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub company_id: String,
    pub username: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Manages everything in its company (and, in the root company, the companies).
    pub admin: bool,
    /// May sign in to a Sub-Manager's local page (LWAMS's flag).
    pub submanager_login: bool,
    pub must_change_password: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    pub id: String,
    pub company_id: String,
    pub name: String,
    /// `{"function": "view" | "manage"}`; a function not named is `none`.
    pub permissions: serde_json::Map<String, serde_json::Value>,
    pub comments: String,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: String,
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub hash: String,
    pub user_id: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub company_id: String,
    pub user_id: String,
    /// `create`, `update`, `delete`, `login`, ...
    pub action: String,
    /// `user:ID`, `group:ID`, ...
    pub object: String,
    /// What changed (never a secret).
    pub detail: String,
}

/// Which audit lines a read keeps; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this user's actions.
    pub user_id: Option<String>,
    /// Only this action (`create`, `update`, `login`, ...).
    pub action: Option<String>,
    /// Only objects of this kind: `host` keeps `host:ID`.
    pub kind: Option<String>,
    /// Text in the object or the detail, whatever its case.
    pub text: Option<String>,
    /// From this instant on (Unix ms).
    pub from: Option<i64>,
    /// Before this instant (Unix ms).
    pub until: Option<i64>,
}

const COMPANY: &str = "id, code, name, wechat_appid, wechat_secret_enc, created_at, updated_at";
const USER: &str = "id, company_id, username, name, email, phone, password_hash, admin, \
     submanager_login, must_change_password, disabled, created_at, updated_at";
const GROUP: &str = "id, company_id, name, permissions, comments, updated_at";
const SESSION: &str = "id_hash, user_id, csrf, created_at, expires_at";
const TOKEN: &str = "id, hash, user_id, name, created_at, expires_at, last_used_at";
const AUDIT: &str = "id, at, company_id, user_id, action, object, detail";

fn cols(list: &str) -> Vec<&str> {
    list.split(", ").map(str::trim).collect()
}

fn company(r: &QueryResult) -> Result<CompanyRow> {
    let op = "read company";
    Ok(CompanyRow {
        id: r.try_get_by_index(0).during(op)?,
        code: r.try_get_by_index(1).during(op)?,
        name: r.try_get_by_index(2).during(op)?,
        wechat_appid: r.try_get_by_index(3).during(op)?,
        wechat_secret_enc: r.try_get_by_index(4).during(op)?,
        created_at: r.try_get_by_index(5).during(op)?,
        updated_at: r.try_get_by_index(6).during(op)?,
    })
}

fn user(r: &QueryResult) -> Result<UserRow> {
    let op = "read user";
    Ok(UserRow {
        id: r.try_get_by_index(0).during(op)?,
        company_id: r.try_get_by_index(1).during(op)?,
        username: r.try_get_by_index(2).during(op)?,
        name: r.try_get_by_index(3).during(op)?,
        email: r.try_get_by_index(4).during(op)?,
        phone: r.try_get_by_index(5).during(op)?,
        password_hash: r.try_get_by_index(6).during(op)?,
        admin: r.try_get_by_index(7).during(op)?,
        submanager_login: r.try_get_by_index(8).during(op)?,
        must_change_password: r.try_get_by_index(9).during(op)?,
        disabled: r.try_get_by_index(10).during(op)?,
        created_at: r.try_get_by_index(11).during(op)?,
        updated_at: r.try_get_by_index(12).during(op)?,
    })
}

fn group(r: &QueryResult) -> Result<GroupRow> {
    let op = "read group";
    let permissions: String = r.try_get_by_index(3).during(op)?;
    Ok(GroupRow {
        id: r.try_get_by_index(0).during(op)?,
        company_id: r.try_get_by_index(1).during(op)?,
        name: r.try_get_by_index(2).during(op)?,
        permissions: serde_json::from_str(&permissions).unwrap_or_default(),
        comments: r.try_get_by_index(4).during(op)?,
        updated_at: r.try_get_by_index(5).during(op)?,
    })
}

fn session(r: &QueryResult) -> Result<SessionRow> {
    let op = "read session";
    Ok(SessionRow {
        id_hash: r.try_get_by_index(0).during(op)?,
        user_id: r.try_get_by_index(1).during(op)?,
        csrf: r.try_get_by_index(2).during(op)?,
        created_at: r.try_get_by_index(3).during(op)?,
        expires_at: r.try_get_by_index(4).during(op)?,
    })
}

fn token(r: &QueryResult) -> Result<TokenRow> {
    let op = "read api token";
    Ok(TokenRow {
        id: r.try_get_by_index(0).during(op)?,
        hash: r.try_get_by_index(1).during(op)?,
        user_id: r.try_get_by_index(2).during(op)?,
        name: r.try_get_by_index(3).during(op)?,
        created_at: r.try_get_by_index(4).during(op)?,
        expires_at: r.try_get_by_index(5).during(op)?,
        last_used_at: r.try_get_by_index(6).during(op)?,
    })
}

fn audit(r: &QueryResult) -> Result<AuditRow> {
    let op = "read audit log";
    Ok(AuditRow {
        id: r.try_get_by_index(0).during(op)?,
        at: r.try_get_by_index(1).during(op)?,
        company_id: r.try_get_by_index(2).during(op)?,
        user_id: r.try_get_by_index(3).during(op)?,
        action: r.try_get_by_index(4).during(op)?,
        object: r.try_get_by_index(5).during(op)?,
        detail: r.try_get_by_index(6).during(op)?,
    })
}

fn need(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::Invalid {
            what: format!("{what} must not be empty"),
        });
    }
    Ok(())
}

impl Store {
    fn select_where(&self, cols: &str, table: &str) -> Sql {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("SELECT {cols} FROM {table} WHERE "));
        sql
    }

    async fn one<T>(
        &self,
        sql: Sql,
        op: &'static str,
        decode: fn(&QueryResult) -> Result<T>,
    ) -> Result<Option<T>> {
        self.rows(sql, op).await?.first().map(decode).transpose()
    }

    async fn all<T>(
        &self,
        sql: Sql,
        op: &'static str,
        decode: fn(&QueryResult) -> Result<T>,
    ) -> Result<Vec<T>> {
        self.rows(sql, op).await?.iter().map(decode).collect()
    }

    // ---- companies ------------------------------------------------------

    pub async fn put_company(&self, c: &CompanyRow) -> Result<()> {
        need("a company's code", &c.code)?;
        need("a company's name", &c.name)?;
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "companies",
            &cols(COMPANY),
            &["id"],
            vec![
                c.id.clone().into(),
                c.code.clone().into(),
                c.name.clone().into(),
                c.wechat_appid.clone().into(),
                c.wechat_secret_enc.clone().into(),
                c.created_at.into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save company").await.map(|_| ())
    }

    pub async fn company(&self, id: &str) -> Result<Option<CompanyRow>> {
        let mut sql = self.select_where(COMPANY, "companies");
        sql.push("id = ").bind(id.to_owned());
        self.one(sql, "read company", company).await
    }

    pub async fn company_by_code(&self, code: &str) -> Result<Option<CompanyRow>> {
        let mut sql = self.select_where(COMPANY, "companies");
        sql.push("code = ").bind(code.to_owned());
        self.one(sql, "read company", company).await
    }

    pub async fn list_companies(&self) -> Result<Vec<CompanyRow>> {
        let mut sql = self.select_where(COMPANY, "companies");
        sql.push("1 = 1 ORDER BY code");
        self.all(sql, "list companies", company).await
    }

    /// Deletes a company that owns no users; whether it existed.
    pub async fn delete_company(&self, id: &str) -> Result<bool> {
        if !self.list_users(id).await?.is_empty() {
            return Err(Error::Invalid {
                what: "the company still has users".into(),
            });
        }
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM companies WHERE id = ")
            .bind(id.to_owned());
        Ok(self.write(sql, "delete company").await? > 0)
    }

    // ---- users ----------------------------------------------------------

    pub async fn put_user(&self, u: &UserRow) -> Result<()> {
        need("a username", &u.username)?;
        need("a password hash", &u.password_hash)?;
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "users",
            &cols(USER),
            &["id"],
            vec![
                Value::from(u.id.clone()),
                u.company_id.clone().into(),
                u.username.clone().into(),
                u.name.clone().into(),
                u.email.clone().into(),
                u.phone.clone().into(),
                u.password_hash.clone().into(),
                u.admin.into(),
                u.submanager_login.into(),
                u.must_change_password.into(),
                u.disabled.into(),
                u.created_at.into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save user").await.map(|_| ())
    }

    pub async fn user(&self, id: &str) -> Result<Option<UserRow>> {
        let mut sql = self.select_where(USER, "users");
        sql.push("id = ").bind(id.to_owned());
        self.one(sql, "read user", user).await
    }

    pub async fn user_by_name(&self, company: &str, username: &str) -> Result<Option<UserRow>> {
        let mut sql = self.select_where(USER, "users");
        sql.push("company_id = ")
            .bind(company.to_owned())
            .push(" AND username = ")
            .bind(username.to_owned());
        self.one(sql, "read user", user).await
    }

    pub async fn list_users(&self, company: &str) -> Result<Vec<UserRow>> {
        let mut sql = self.select_where(USER, "users");
        sql.push("company_id = ")
            .bind(company.to_owned())
            .push(" ORDER BY username");
        self.all(sql, "list users", user).await
    }

    pub async fn count_users(&self) -> Result<i64> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT COUNT(*) FROM users");
        self.scalar(sql, "count users").await
    }

    /// Deletes a user, its sessions, tokens, memberships and WeChat
    /// binding; whether it existed.
    pub async fn delete_user(&self, company: &str, id: &str) -> Result<bool> {
        for table in ["sessions", "api_tokens", "group_members", "wechat_bindings"] {
            let mut sql = Sql::new(self.dialect());
            sql.push(&format!("DELETE FROM {table} WHERE user_id = "))
                .bind(id.to_owned());
            self.write(sql, "delete user").await?;
        }
        self.delete_where("users", company, id).await
    }

    // ---- groups ---------------------------------------------------------

    pub async fn put_group(&self, g: &GroupRow) -> Result<()> {
        need("a group's name", &g.name)?;
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "user_groups",
            &cols(GROUP),
            &["id"],
            vec![
                g.id.clone().into(),
                g.company_id.clone().into(),
                g.name.clone().into(),
                serde_json::Value::Object(g.permissions.clone())
                    .to_string()
                    .into(),
                g.comments.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save group").await.map(|_| ())
    }

    pub async fn group(&self, company: &str, id: &str) -> Result<Option<GroupRow>> {
        let mut sql = self.select_where(GROUP, "user_groups");
        sql.push("company_id = ")
            .bind(company.to_owned())
            .push(" AND id = ")
            .bind(id.to_owned());
        self.one(sql, "read group", group).await
    }

    pub async fn list_groups(&self, company: &str) -> Result<Vec<GroupRow>> {
        let mut sql = self.select_where(GROUP, "user_groups");
        sql.push("company_id = ")
            .bind(company.to_owned())
            .push(" ORDER BY name");
        self.all(sql, "list groups", group).await
    }

    pub async fn delete_group(&self, company: &str, id: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM group_members WHERE group_id = ")
            .bind(id.to_owned());
        self.write(sql, "delete group").await?;
        self.delete_where("user_groups", company, id).await
    }

    /// The groups a user belongs to.
    pub async fn groups_of(&self, user_id: &str) -> Result<Vec<GroupRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {} FROM user_groups g JOIN group_members m ON m.group_id = g.id \
             WHERE m.user_id = ",
            GROUP
                .split(", ")
                .map(|c| format!("g.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(user_id.to_owned())
        .push(" ORDER BY g.name");
        self.all(sql, "read a user's groups", group).await
    }

    /// The user ids of a group.
    pub async fn members(&self, group_id: &str) -> Result<Vec<String>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT user_id FROM group_members WHERE group_id = ")
            .bind(group_id.to_owned())
            .push(" ORDER BY user_id");
        self.rows(sql, "read group members")
            .await?
            .iter()
            .map(|r| r.try_get_by_index(0).during("read group members"))
            .collect()
    }

    /// Replace a group's members.
    pub async fn set_members(&self, group_id: &str, users: &[String]) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM group_members WHERE group_id = ")
            .bind(group_id.to_owned());
        self.write(sql, "set group members").await?;
        for u in users {
            let mut sql = Sql::new(self.dialect());
            sql.push("INSERT INTO group_members (group_id, user_id) VALUES ")
                .bind_list(vec![Value::from(group_id.to_owned()), u.clone().into()]);
            self.write(sql, "set group members").await?;
        }
        Ok(())
    }

    // ---- sessions -------------------------------------------------------

    pub async fn insert_session(&self, s: &SessionRow) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("INSERT INTO sessions ({SESSION}) VALUES "))
            .bind_list(vec![
                Value::from(s.id_hash.clone()),
                s.user_id.clone().into(),
                s.csrf.clone().into(),
                s.created_at.into(),
                s.expires_at.into(),
            ]);
        self.write(sql, "save session").await.map(|_| ())
    }

    /// A live session (expired ones are not returned).
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>> {
        let mut sql = self.select_where(SESSION, "sessions");
        sql.push("id_hash = ")
            .bind(id_hash.to_owned())
            .push(" AND expires_at > ")
            .bind(now);
        self.one(sql, "read session", session).await
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM sessions WHERE id_hash = ")
            .bind(id_hash.to_owned());
        Ok(self.write(sql, "delete session").await? > 0)
    }

    /// Every session of a user (password changed, user disabled).
    pub async fn delete_sessions_of(&self, user_id: &str) -> Result<u64> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM sessions WHERE user_id = ")
            .bind(user_id.to_owned());
        self.write(sql, "delete sessions").await
    }

    // ---- API tokens -----------------------------------------------------

    pub async fn insert_token(&self, t: &TokenRow) -> Result<()> {
        need("a token's name", &t.name)?;
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("INSERT INTO api_tokens ({TOKEN}) VALUES "))
            .bind_list(vec![
                Value::from(t.id.clone()),
                t.hash.clone().into(),
                t.user_id.clone().into(),
                t.name.clone().into(),
                t.created_at.into(),
                t.expires_at.into(),
                t.last_used_at.into(),
            ]);
        self.write(sql, "save api token").await.map(|_| ())
    }

    /// A token by its hash, unless expired; its `last_used_at` is set to `now`.
    pub async fn use_token(&self, hash: &str, now: i64) -> Result<Option<TokenRow>> {
        let mut sql = self.select_where(TOKEN, "api_tokens");
        sql.push("hash = ").bind(hash.to_owned());
        let Some(t) = self.one(sql, "read api token", token).await? else {
            return Ok(None);
        };
        if t.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        let mut touch = Sql::new(self.dialect());
        touch
            .push("UPDATE api_tokens SET last_used_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(t.id.clone());
        self.write(touch, "touch api token").await?;
        Ok(Some(t))
    }

    pub async fn list_tokens(&self, user_id: &str) -> Result<Vec<TokenRow>> {
        let mut sql = self.select_where(TOKEN, "api_tokens");
        sql.push("user_id = ")
            .bind(user_id.to_owned())
            .push(" ORDER BY created_at, id");
        self.all(sql, "list api tokens", token).await
    }

    pub async fn delete_token(&self, user_id: &str, id: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM api_tokens WHERE user_id = ")
            .bind(user_id.to_owned())
            .push(" AND id = ")
            .bind(id.to_owned());
        Ok(self.write(sql, "delete api token").await? > 0)
    }

    // ---- audit log ------------------------------------------------------

    pub async fn append_audit(&self, a: &AuditRow) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("INSERT INTO audit_log ({AUDIT}) VALUES "))
            .bind_list(vec![
                Value::from(a.id.clone()),
                a.at.into(),
                a.company_id.clone().into(),
                a.user_id.clone().into(),
                a.action.clone().into(),
                a.object.clone().into(),
                a.detail.clone().into(),
            ]);
        self.write(sql, "append audit log").await.map(|_| ())
    }

    /// The company's audit log, newest first.
    pub async fn list_audit(
        &self,
        company: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AuditRow>> {
        self.find_audit(company, &AuditFilter::default(), offset, limit)
            .await
    }

    /// The company's audit lines that `filter` keeps, newest first.
    pub async fn find_audit(
        &self,
        company: &str,
        filter: &AuditFilter,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<AuditRow>> {
        let mut sql = self.select_where(AUDIT, "audit_log");
        sql.push("company_id = ").bind(company.to_owned());
        if let Some(u) = &filter.user_id {
            sql.push(" AND user_id = ").bind(u.clone());
        }
        if let Some(a) = &filter.action {
            sql.push(" AND action = ").bind(a.clone());
        }
        if let Some(k) = &filter.kind {
            sql.push(" AND object LIKE ")
                .bind(format!("{}:%", like_escape(k)))
                .push(" ESCAPE '\\'");
        }
        if let Some(text) = &filter.text {
            let pattern = format!("%{}%", like_escape(&text.to_lowercase()));
            sql.push(" AND (LOWER(object) LIKE ")
                .bind(pattern.clone())
                .push(" ESCAPE '\\' OR LOWER(detail) LIKE ")
                .bind(pattern)
                .push(" ESCAPE '\\')");
        }
        if let Some(from) = filter.from {
            sql.push(" AND at >= ").bind(from);
        }
        if let Some(until) = filter.until {
            sql.push(" AND at < ").bind(until);
        }
        sql.push(" ORDER BY at DESC, id DESC LIMIT ")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .push(" OFFSET ")
            .bind(i64::try_from(offset).unwrap_or(i64::MAX));
        self.all(sql, "read audit log", audit).await
    }
}

/// `text` as a literal inside a LIKE pattern (escape character `\`).
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
