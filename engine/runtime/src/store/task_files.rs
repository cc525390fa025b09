//! Files uploaded for a user task's `file` form fields. The bytes live under
//! the server's data directory (`path` relative to it, written before the
//! row); the row ties the file to its task, instance and company and says
//! who sent it. Completing the task with a reference to one of its rows
//! makes that reference a process variable; the files of the task that no
//! submitted value names are removed then ([`Store::delete_task_file`]), and
//! those of a task cancelled before its completion by a later sweep
//! ([`Store::files_of_cancelled_tasks`]).

use sea_orm::{QueryResult, Value};
use serde::{Deserialize, Serialize};

use super::Store;
use super::error::{Context, Result};
use super::sql::Sql;

/// One uploaded file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFileRow {
    pub id: String,
    pub company_id: String,
    /// The user task (`instance:exec`) it was uploaded for.
    pub task_id: String,
    pub instance_id: String,
    /// The file's name as it was sent (no directories).
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    /// Relative to the data directory.
    pub path: String,
    /// The user who uploaded it (an id).
    pub created_by: String,
    pub created_at: i64,
}

const COLS: &str = "id, company_id, task_id, instance_id, name, size, content_type, sha256, \
     path, created_by, created_at";

fn decode(r: &QueryResult) -> Result<TaskFileRow> {
    let op = "read task file";
    Ok(TaskFileRow {
        id: r.try_get_by_index(0).during(op)?,
        company_id: r.try_get_by_index(1).during(op)?,
        task_id: r.try_get_by_index(2).during(op)?,
        instance_id: r.try_get_by_index(3).during(op)?,
        name: r.try_get_by_index(4).during(op)?,
        size: r.try_get_by_index(5).during(op)?,
        content_type: r.try_get_by_index(6).during(op)?,
        sha256: r.try_get_by_index(7).during(op)?,
        path: r.try_get_by_index(8).during(op)?,
        created_by: r.try_get_by_index(9).during(op)?,
        created_at: r.try_get_by_index(10).during(op)?,
    })
}

impl Store {
    pub async fn insert_task_file(&self, f: &TaskFileRow) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("INSERT INTO task_files ({COLS}) VALUES "))
            .bind_list(vec![
                Value::from(f.id.clone()),
                f.company_id.clone().into(),
                f.task_id.clone().into(),
                f.instance_id.clone().into(),
                f.name.clone().into(),
                f.size.into(),
                f.content_type.clone().into(),
                f.sha256.clone().into(),
                f.path.clone().into(),
                f.created_by.clone().into(),
                f.created_at.into(),
            ]);
        self.write(sql, "save task file").await.map(|_| ())
    }

    /// A company's file by id.
    pub async fn task_file(&self, company: &str, id: &str) -> Result<Option<TaskFileRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {COLS} FROM task_files WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" AND id = ")
        .bind(id.to_owned());
        self.rows(sql, "read task file")
            .await?
            .first()
            .map(decode)
            .transpose()
    }

    /// The files uploaded for a task, oldest first.
    pub async fn task_files(&self, task_id: &str) -> Result<Vec<TaskFileRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("SELECT {COLS} FROM task_files WHERE task_id = "))
            .bind(task_id.to_owned())
            .push(" ORDER BY created_at, id");
        self.rows(sql, "list task files")
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Files of tasks that ended without a completion (the instance was
    /// terminated, a boundary event interrupted the task): nothing can
    /// name them any more. At most `limit`, oldest first.
    pub async fn files_of_cancelled_tasks(&self, limit: u32) -> Result<Vec<TaskFileRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {COLS} FROM task_files WHERE task_id IN \
             (SELECT id FROM tasks WHERE state = 'cancelled') ORDER BY created_at, id LIMIT "
        ))
        .bind(i64::from(limit));
        self.rows(sql, "list files of cancelled tasks")
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    /// Remove a file's row; `false` if it was not there. The caller removes
    /// the file itself.
    pub async fn delete_task_file(&self, company: &str, id: &str) -> Result<bool> {
        self.delete_where("task_files", company, id).await
    }
}
