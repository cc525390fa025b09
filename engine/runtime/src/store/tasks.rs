//! User tasks (approvals, to-dos) as people work them: the engine inserts a
//! row when a user task becomes active and marks it `cancelled` when its
//! activity is interrupted; people claim, delegate and complete it here.
//!
//! Every change is one conditional `UPDATE` that names the state it expects
//! (`open`, and the assignee the caller saw), so of two concurrent claims,
//! delegations or completions exactly one changes the row and the other
//! finds nothing to update. Tasks belong to the company of their instance's
//! definition ([`crate::tenancy`]). Helpers and due dates: `task_helpers.rs`.

use sea_orm::QueryResult;
use serde::{Deserialize, Serialize};

use super::Store;
use super::error::{Context, Result};
use super::sql::Sql;

/// A user task with what the to-do lists show of its instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserTaskRow {
    /// `instance:exec`.
    pub id: String,
    pub instance_id: String,
    pub exec: i64,
    pub element_id: String,
    pub name: Option<String>,
    /// A user id (claimed or delegated through the API) or, as the process
    /// was written, a user id or username.
    pub assignee: Option<String>,
    /// The groups (names or ids) whose members may claim it while unassigned.
    pub candidate_groups: Vec<String>,
    pub form_key: Option<String>,
    /// `open`, `completed`, `cancelled`.
    pub state: String,
    pub created_at: i64,
    /// When it was completed or cancelled.
    pub ended_at: Option<i64>,
    /// Who handed it to its assignee (a user id).
    pub delegated_by: Option<String>,
    /// Who completed it (a user id).
    pub completed_by: Option<String>,
    /// The form values submitted with the completion.
    pub values: Option<serde_json::Value>,
    /// The instance's definition (`key:version`, the key company-qualified).
    pub definition_id: String,
    pub instance_status: String,
    /// The process's name, if it has one.
    pub process_name: Option<String>,
    /// When it is due (ms since the epoch).
    pub due_at: Option<i64>,
    /// The users (ids) asked to help: each may complete it.
    pub helpers: Vec<String>,
}

impl UserTaskRow {
    /// Whether one of `groups` (names or ids) is among the candidate groups.
    pub fn offered_to(&self, groups: &[String]) -> bool {
        self.candidate_groups.iter().any(|c| groups.contains(c))
    }

    /// Whether the assignee is one of `me` (a user's id and username).
    pub fn held_by(&self, me: &[String]) -> bool {
        self.assignee.as_ref().is_some_and(|a| me.contains(a))
    }

    /// Whether one of `me` (a user's id and username) is among the helpers.
    pub fn helped_by(&self, me: &[String]) -> bool {
        self.helpers.iter().any(|h| me.contains(h))
    }

    /// Open and past its due date at `now`.
    pub fn overdue(&self, now: i64) -> bool {
        self.state == "open" && self.due_at.is_some_and(|d| d < now)
    }
}

/// Which of a company's tasks [`Store::list_tasks`] returns. `me` is the
/// user's id and username (a process may name either); `groups` the names
/// and ids of the user's groups.
#[derive(Debug, Clone, Copy)]
pub enum TaskScope<'a> {
    /// Open tasks the user holds, or may claim: unassigned, with one of
    /// `groups` among the candidate groups.
    Todo {
        me: &'a [String],
        groups: &'a [String],
    },
    /// Tasks the user completed.
    Done { me: &'a [String] },
    /// The to-dos, the done tasks and the tasks the user delegated.
    Mine {
        me: &'a [String],
        groups: &'a [String],
    },
    /// Every task of the company.
    All,
}

const COLUMNS: &str = "t.id, t.instance_id, t.exec, t.element_id, t.name, t.assignee, \
     t.candidate_groups, t.form_key, t.state, t.created_at, t.ended_at, t.delegated_by, \
     t.completed_by, t.form_values, i.definition_id, i.status, d.name, t.due_at";

fn decode(r: &QueryResult) -> Result<UserTaskRow> {
    let op = "read task";
    let groups: Option<String> = r.try_get_by_index(6).during(op)?;
    let values: Option<String> = r.try_get_by_index(13).during(op)?;
    Ok(UserTaskRow {
        id: r.try_get_by_index(0).during(op)?,
        instance_id: r.try_get_by_index(1).during(op)?,
        exec: r.try_get_by_index(2).during(op)?,
        element_id: r.try_get_by_index(3).during(op)?,
        name: r.try_get_by_index(4).during(op)?,
        assignee: r.try_get_by_index(5).during(op)?,
        candidate_groups: split_groups(groups.as_deref()),
        form_key: r.try_get_by_index(7).during(op)?,
        state: r.try_get_by_index(8).during(op)?,
        created_at: r.try_get_by_index(9).during(op)?,
        ended_at: r.try_get_by_index(10).during(op)?,
        delegated_by: r.try_get_by_index(11).during(op)?,
        completed_by: r.try_get_by_index(12).during(op)?,
        values: values.and_then(|v| serde_json::from_str(&v).ok()),
        definition_id: r.try_get_by_index(14).during(op)?,
        instance_status: r.try_get_by_index(15).during(op)?,
        process_name: r.try_get_by_index(16).during(op)?,
        due_at: r.try_get_by_index(17).during(op)?,
        helpers: Vec::new(),
    })
}

/// `candidateGroups="ops, admins"` as `["ops", "admins"]`.
pub fn split_groups(s: Option<&str>) -> Vec<String> {
    s.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Only `company`'s tasks: by the instance's definition key.
fn in_company(sql: &mut Sql, company: &str) {
    if company == crate::tenancy::DEFAULT_COMPANY {
        sql.push("i.definition_id NOT LIKE '%/%'");
    } else {
        let escaped = company
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        sql.push("i.definition_id LIKE ")
            .bind(format!("{escaped}/%"))
            .push(" ESCAPE '\\'");
    }
}

/// `AND (assignee = ? …)` — `IS NULL` when `expected` is `None`.
fn assignee_is(sql: &mut Sql, expected: Option<&str>) {
    match expected {
        Some(a) => sql.push(" AND assignee = ").bind(a.to_owned()),
        None => sql.push(" AND assignee IS NULL"),
    };
}

impl Store {
    fn select_tasks(&self) -> Sql {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {COLUMNS} FROM tasks t JOIN instances i ON i.id = t.instance_id \
             LEFT JOIN definitions d ON d.id = i.definition_id WHERE "
        ));
        sql
    }

    /// One task with its instance's definition and status (any company: the
    /// caller checks [`UserTaskRow::definition_id`]).
    pub async fn user_task(&self, id: &str) -> Result<Option<UserTaskRow>> {
        let mut sql = self.select_tasks();
        sql.push("t.id = ").bind(id.to_owned());
        let Some(mut task) = self
            .rows(sql, "read task")
            .await?
            .first()
            .map(decode)
            .transpose()?
        else {
            return Ok(None);
        };
        self.fill_helpers(std::slice::from_mut(&mut task)).await?;
        Ok(Some(task))
    }

    async fn fill_helpers(&self, tasks: &mut [UserTaskRow]) -> Result<()> {
        let ids: Vec<String> = tasks.iter().map(|t| t.id.clone()).collect();
        let mut helpers = self.helpers_of_tasks(&ids).await?;
        for t in tasks {
            t.helpers = helpers.remove(&t.id).unwrap_or_default();
        }
        Ok(())
    }

    /// A company's tasks in `scope`, newest first.
    pub async fn list_tasks(
        &self,
        company: &str,
        scope: TaskScope<'_>,
    ) -> Result<Vec<UserTaskRow>> {
        let mut sql = self.select_tasks();
        in_company(&mut sql, company);
        let (me, groups): (&[String], &[String]) = match scope {
            TaskScope::All => (&[], &[]),
            TaskScope::Todo { me, groups } | TaskScope::Mine { me, groups } => (me, groups),
            TaskScope::Done { me } => (me, &[]),
        };
        if !matches!(scope, TaskScope::All) && me.is_empty() {
            return Ok(Vec::new());
        }
        let todo = |sql: &mut Sql| {
            sql.push("(t.state = 'open' AND (t.assignee IN ")
                .bind_list(me.iter().cloned())
                .push(" OR t.assignee IS NULL OR EXISTS (SELECT 1 FROM task_helpers h ")
                .push("WHERE h.task_id = t.id AND h.user_id IN ")
                .bind_list(me.iter().cloned())
                .push(")))");
        };
        let done = |sql: &mut Sql| {
            sql.push("(t.state = 'completed' AND t.completed_by IN ")
                .bind_list(me.iter().cloned())
                .push(")");
        };
        match scope {
            TaskScope::All => {}
            TaskScope::Todo { .. } => {
                sql.push(" AND ");
                todo(&mut sql);
            }
            TaskScope::Done { .. } => {
                sql.push(" AND ");
                done(&mut sql);
            }
            TaskScope::Mine { .. } => {
                sql.push(" AND (");
                todo(&mut sql);
                sql.push(" OR ");
                done(&mut sql);
                sql.push(" OR t.delegated_by IN ")
                    .bind_list(me.iter().cloned())
                    .push(")");
            }
        }
        sql.push(" ORDER BY t.created_at DESC, t.id DESC");
        let rows = self.rows(sql, "list tasks").await?;
        let mut tasks = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
        self.fill_helpers(&mut tasks).await?;
        if !matches!(scope, TaskScope::All) {
            // Unassigned open tasks: only those offered to one of the user's
            // groups, or that the user was asked to help with.
            tasks.retain(|t| {
                t.state != "open" || t.assignee.is_some() || t.offered_to(groups) || t.helped_by(me)
            });
        }
        Ok(tasks)
    }

    /// Take an open, unassigned task; `false` if it is no longer both.
    pub async fn claim_task(&self, id: &str, user: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE tasks SET assignee = ")
            .bind(user.to_owned())
            .push(" WHERE id = ")
            .bind(id.to_owned())
            .push(" AND state = 'open' AND assignee IS NULL");
        Ok(self.write(sql, "claim task").await? == 1)
    }

    /// Hand an open task held by `expected` (`None`: unassigned) to `to`,
    /// recording `by`; `false` if the task changed meanwhile.
    pub async fn delegate_task(
        &self,
        id: &str,
        expected: Option<&str>,
        to: &str,
        by: &str,
    ) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE tasks SET assignee = ")
            .bind(to.to_owned())
            .push(", delegated_by = ")
            .bind(by.to_owned())
            .push(" WHERE id = ")
            .bind(id.to_owned())
            .push(" AND state = 'open'");
        assignee_is(&mut sql, expected);
        Ok(self.write(sql, "delegate task").await? == 1)
    }

    /// Mark an open task held by `expected` completed by `by` with the form
    /// `values`; `false` if it was completed, cancelled or reassigned
    /// meanwhile (nothing changed).
    pub async fn complete_task(
        &self,
        id: &str,
        expected: Option<&str>,
        by: &str,
        values: &serde_json::Value,
        at: i64,
    ) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE tasks SET state = 'completed', completed_by = ")
            .bind(by.to_owned())
            .push(", form_values = ")
            .bind(values.to_string())
            .push(", ended_at = ")
            .bind(at)
            .push(" WHERE id = ")
            .bind(id.to_owned())
            .push(" AND state = 'open'");
        assignee_is(&mut sql, expected);
        Ok(self.write(sql, "complete task").await? == 1)
    }

    /// Undo [`Store::complete_task`] by `by` when the engine could not be
    /// told (it stopped): the task is open again.
    pub async fn reopen_task(&self, id: &str, by: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push(
            "UPDATE tasks SET state = 'open', completed_by = NULL, form_values = NULL, \
             ended_at = NULL WHERE id = ",
        )
        .bind(id.to_owned())
        .push(" AND state = 'completed' AND completed_by = ")
        .bind(by.to_owned());
        Ok(self.write(sql, "reopen task").await? == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidate_groups_are_a_comma_list() {
        assert_eq!(split_groups(Some(" ops, admins ,,")), ["ops", "admins"]);
        assert!(split_groups(None).is_empty());
    }
}
