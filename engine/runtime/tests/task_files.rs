//! Files uploaded for user tasks' `file` form fields, in the store on SQLite
//! and PostgreSQL: rows round trip, a task's files list oldest first, a
//! company reads and deletes only its own.

mod common;

use baton_runtime::store::*;
use common::{TestDb, on_both};

on_both!(task_files_round_trip_per_company);

fn file(id: &str, company: &str, task: &str, created_at: i64) -> TaskFileRow {
    TaskFileRow {
        id: id.into(),
        company_id: company.into(),
        task_id: task.into(),
        instance_id: task.split(':').next().unwrap().into(),
        name: format!("变更 {id}.pdf"),
        size: 1 << 33,
        content_type: "application/pdf".into(),
        sha256: "ab".repeat(32),
        path: format!("task-files/{id}"),
        created_by: "alice".into(),
        created_at,
    }
}

async fn task_files_round_trip_per_company(db: TestDb) {
    let s = &db.store;
    for f in [
        file("f2", "acme", "i1:3", 2_000),
        file("f1", "acme", "i1:3", 1_000),
        file("f3", "acme", "i2:1", 500),
        file("f4", "other", "i1:3", 100),
    ] {
        s.insert_task_file(&f).await.unwrap();
    }
    assert_eq!(
        s.task_file("acme", "f2").await.unwrap(),
        Some(file("f2", "acme", "i1:3", 2_000))
    );
    assert_eq!(s.task_file("other", "f2").await.unwrap(), None);
    let of_task: Vec<String> = s
        .task_files("i1:3")
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.id)
        .collect();
    assert_eq!(of_task, ["f4", "f1", "f2"]);
    assert!(!s.delete_task_file("other", "f1").await.unwrap());
    assert!(s.delete_task_file("acme", "f1").await.unwrap());
    assert!(!s.delete_task_file("acme", "f1").await.unwrap());
    assert_eq!(s.task_file("acme", "f1").await.unwrap(), None);
    assert_eq!(s.task_files("i2:1").await.unwrap().len(), 1);
    // The same id twice is refused, not a second row.
    assert!(
        s.insert_task_file(&file("f2", "acme", "i1:3", 9))
            .await
            .is_err()
    );
}
