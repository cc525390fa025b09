//! WeChat account bindings: a company's official account knows a visitor by
//! an openid; a binding says which user of that company the openid signs in
//! as. At most one binding per openid and one per user within a company
//! (the table's primary key and unique index); binding a user again
//! replaces its earlier binding in the same transaction.

use sea_orm::{ConnectionTrait, QueryResult};

use super::Store;
use super::error::{Context, Error, Result};
use super::sql::Sql;

/// One binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeChatBindingRow {
    pub company_id: String,
    /// The visitor's id at the company's official account (per appid).
    pub openid: String,
    pub user_id: String,
    pub bound_at: i64,
}

const COLUMNS: &str = "company_id, openid, user_id, bound_at";

fn decode(r: &QueryResult) -> Result<WeChatBindingRow> {
    let op = "read wechat binding";
    Ok(WeChatBindingRow {
        company_id: r.try_get_by_index(0).during(op)?,
        openid: r.try_get_by_index(1).during(op)?,
        user_id: r.try_get_by_index(2).during(op)?,
        bound_at: r.try_get_by_index(3).during(op)?,
    })
}

impl Store {
    async fn bindings_where(&self, sql: Sql) -> Result<Vec<WeChatBindingRow>> {
        self.rows(sql, "read wechat bindings")
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// The binding of `openid` in `company`.
    pub async fn wechat_binding(
        &self,
        company: &str,
        openid: &str,
    ) -> Result<Option<WeChatBindingRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {COLUMNS} FROM wechat_bindings WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" AND openid = ")
        .bind(openid.to_owned());
        Ok(self.bindings_where(sql).await?.into_iter().next())
    }

    /// The binding of `user_id` in `company`.
    pub async fn wechat_binding_of_user(
        &self,
        company: &str,
        user_id: &str,
    ) -> Result<Option<WeChatBindingRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {COLUMNS} FROM wechat_bindings WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" AND user_id = ")
        .bind(user_id.to_owned());
        Ok(self.bindings_where(sql).await?.into_iter().next())
    }

    /// Every binding of `company`, by user.
    pub async fn wechat_bindings(&self, company: &str) -> Result<Vec<WeChatBindingRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {COLUMNS} FROM wechat_bindings WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" ORDER BY user_id");
        self.bindings_where(sql).await
    }

    /// Binds `b.openid` to `b.user_id`, replacing the user's earlier
    /// binding (returned). An openid bound to another user of the company is
    /// a [`Error::Conflict`]: it must be unbound first.
    pub async fn bind_wechat(&self, b: &WeChatBindingRow) -> Result<Option<WeChatBindingRow>> {
        if let Some(other) = self.wechat_binding(&b.company_id, &b.openid).await?
            && other.user_id != b.user_id
        {
            return Err(Error::Conflict {
                what: "this WeChat account is bound to another user".into(),
            });
        }
        let earlier = self
            .wechat_binding_of_user(&b.company_id, &b.user_id)
            .await?;
        let op = "bind wechat";
        let txn = self.begin_write().await.during(op)?;
        let mut del = Sql::new(self.dialect());
        del.push("DELETE FROM wechat_bindings WHERE company_id = ")
            .bind(b.company_id.clone())
            .push(" AND (user_id = ")
            .bind(b.user_id.clone())
            .push(" OR openid = ")
            .bind(b.openid.clone())
            .push(")");
        txn.execute_raw(del.statement()).await.during(op)?;
        let mut ins = Sql::new(self.dialect());
        ins.push(&format!("INSERT INTO wechat_bindings ({COLUMNS}) VALUES "))
            .bind_list([
                sea_orm::Value::from(b.company_id.clone()),
                b.openid.clone().into(),
                b.user_id.clone().into(),
                b.bound_at.into(),
            ]);
        if let Err(e) = txn.execute_raw(ins.statement()).await {
            let _ = txn.rollback().await;
            return Err(if e.to_string().to_ascii_lowercase().contains("unique") {
                Error::Conflict {
                    what: "this WeChat account or user was bound meanwhile".into(),
                }
            } else {
                Error::Db { op, source: e }
            });
        }
        txn.commit().await.during(op)?;
        Ok(earlier.filter(|e| e.openid != b.openid))
    }

    /// Removes the binding of `user_id` in `company`; whether there was one.
    pub async fn unbind_wechat_user(&self, company: &str, user_id: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM wechat_bindings WHERE company_id = ")
            .bind(company.to_owned())
            .push(" AND user_id = ")
            .bind(user_id.to_owned());
        Ok(self.write(sql, "unbind wechat").await? > 0)
    }

    /// Removes the binding of `openid` in `company`; whether there was one.
    pub async fn unbind_wechat_openid(&self, company: &str, openid: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM wechat_bindings WHERE company_id = ")
            .bind(company.to_owned())
            .push(" AND openid = ")
            .bind(openid.to_owned());
        Ok(self.write(sql, "unbind wechat").await? > 0)
    }
}
