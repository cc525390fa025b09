//! Approval links as issued: the server signs a link over a row of this
//! table (the link's nonce is the row's id), so it can check a link is its
//! own, still valid, and not used yet. Using one is a conditional update:
//! of two completions through the same link exactly one wins.

use sea_orm::QueryResult;

use super::Store;
use super::error::{Context, Result};
use super::sql::Sql;

/// One issued approval link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalLinkRow {
    /// The link's nonce.
    pub id: String,
    pub company_id: String,
    pub task_id: String,
    /// Who acts through it (the task's assignee when it was issued).
    pub user_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const COLUMNS: &str = "id, company_id, task_id, user_id, created_at, expires_at, used_at";

fn decode(r: &QueryResult) -> Result<ApprovalLinkRow> {
    let op = "read approval link";
    Ok(ApprovalLinkRow {
        id: r.try_get_by_index(0).during(op)?,
        company_id: r.try_get_by_index(1).during(op)?,
        task_id: r.try_get_by_index(2).during(op)?,
        user_id: r.try_get_by_index(3).during(op)?,
        created_at: r.try_get_by_index(4).during(op)?,
        expires_at: r.try_get_by_index(5).during(op)?,
        used_at: r.try_get_by_index(6).during(op)?,
    })
}

impl Store {
    pub async fn insert_approval_link(&self, l: &ApprovalLinkRow) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("INSERT INTO approval_links ({COLUMNS}) VALUES ("))
            .bind(l.id.clone())
            .push(", ")
            .bind(l.company_id.clone())
            .push(", ")
            .bind(l.task_id.clone())
            .push(", ")
            .bind(l.user_id.clone())
            .push(", ")
            .bind(l.created_at)
            .push(", ")
            .bind(l.expires_at)
            .push(", ")
            .bind(l.used_at)
            .push(")");
        self.write(sql, "insert approval link").await.map(|_| ())
    }

    pub async fn approval_link(&self, id: &str) -> Result<Option<ApprovalLinkRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("SELECT {COLUMNS} FROM approval_links WHERE id = "))
            .bind(id.to_owned());
        self.rows(sql, "read approval link")
            .await?
            .first()
            .map(decode)
            .transpose()
    }

    /// Marks the link used at `now`; `false` if it was used already.
    pub async fn use_approval_link(&self, id: &str, now: i64) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE approval_links SET used_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(id.to_owned())
            .push(" AND used_at IS NULL");
        Ok(self.write(sql, "use approval link").await? == 1)
    }

    /// Gives a link back (the completion it was used for did not happen).
    pub async fn unuse_approval_link(&self, id: &str) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE approval_links SET used_at = NULL WHERE id = ")
            .bind(id.to_owned());
        self.write(sql, "give back approval link").await.map(|_| ())
    }

    /// Takes the right to tell `user_id` of `task_id`: `true` once per
    /// pair, whichever server asks first.
    pub async fn claim_task_notice(&self, task_id: &str, user_id: &str, now: i64) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("INSERT INTO task_notices (task_id, user_id, sent_at) VALUES (")
            .bind(task_id.to_owned())
            .push(", ")
            .bind(user_id.to_owned())
            .push(", ")
            .bind(now)
            .push(") ON CONFLICT DO NOTHING");
        Ok(self.write(sql, "claim task notice").await? == 1)
    }
}
