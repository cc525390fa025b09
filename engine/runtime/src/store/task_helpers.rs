//! Helpers and due dates of user tasks. A task's assignee (or an admin)
//! asks colleagues to help: a helper sees the task among its to-dos and may
//! complete it, the assignee keeps it too. A task's due date is set by the
//! engine from its `dueDate` and may be changed while the task is open.

use std::collections::HashMap;

use super::Store;
use super::error::{Context, Result};
use super::sql::Sql;

/// How many task ids one `IN (...)` binds.
const IDS_PER_QUERY: usize = 500;

impl Store {
    /// Each of `tasks`' helpers (user ids), in the order they were added.
    pub async fn helpers_of_tasks(&self, tasks: &[String]) -> Result<HashMap<String, Vec<String>>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::new();
        for ids in tasks.chunks(IDS_PER_QUERY) {
            let mut sql = Sql::new(self.dialect());
            sql.push("SELECT task_id, user_id FROM task_helpers WHERE task_id IN ")
                .bind_list(ids.iter().cloned())
                .push(" ORDER BY added_at, user_id");
            for r in self.rows(sql, "read task helpers").await? {
                let task: String = r.try_get_by_index(0).during("read task helpers")?;
                let user: String = r.try_get_by_index(1).during("read task helpers")?;
                out.entry(task).or_default().push(user);
            }
        }
        Ok(out)
    }

    /// Make `user` a helper of `task` (`by` asked); `false` if it was one already.
    pub async fn add_task_helper(&self, task: &str, user: &str, by: &str, at: i64) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("INSERT INTO task_helpers (task_id, user_id, added_by, added_at) VALUES (")
            .bind(task.to_owned())
            .push(", ")
            .bind(user.to_owned())
            .push(", ")
            .bind(by.to_owned())
            .push(", ")
            .bind(at)
            .push(") ON CONFLICT DO NOTHING");
        Ok(self.write(sql, "add task helper").await? == 1)
    }

    /// `user` no longer helps with `task`; `false` if it did not.
    pub async fn remove_task_helper(&self, task: &str, user: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM task_helpers WHERE task_id = ")
            .bind(task.to_owned())
            .push(" AND user_id = ")
            .bind(user.to_owned());
        Ok(self.write(sql, "remove task helper").await? == 1)
    }

    /// Set an open task's due date (`None`: none); `false` if it is no longer open.
    pub async fn set_task_due(&self, task: &str, due: Option<i64>) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE tasks SET overdue_notice_at = NULL, due_at = ")
            .bind(due)
            .push(" WHERE id = ")
            .bind(task.to_owned())
            .push(" AND state = 'open'");
        Ok(self.write(sql, "set task due date").await? == 1)
    }

    /// Open tasks past their due date (at `now`) whose people were not
    /// reminded yet: their ids, most overdue first, at most `limit`.
    pub async fn overdue_unnoticed(&self, now: i64, limit: u32) -> Result<Vec<String>> {
        let mut sql = Sql::new(self.dialect());
        sql.push("SELECT id FROM tasks WHERE state = 'open' AND due_at <= ")
            .bind(now)
            .push(" AND overdue_notice_at IS NULL ORDER BY due_at, id LIMIT ")
            .bind(i64::from(limit));
        self.rows(sql, "list overdue tasks")
            .await?
            .iter()
            .map(|r| r.try_get_by_index(0).during("tasks.id"))
            .collect()
    }

    /// Takes the right to remind the people of `task` that it is overdue:
    /// `true` once per due date, whichever server asks first.
    pub async fn claim_overdue_notice(&self, task: &str, now: i64) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("UPDATE tasks SET overdue_notice_at = ")
            .bind(now)
            .push(" WHERE id = ")
            .bind(task.to_owned())
            .push(" AND state = 'open' AND overdue_notice_at IS NULL AND due_at <= ")
            .bind(now);
        Ok(self.write(sql, "claim overdue notice").await? == 1)
    }
}
