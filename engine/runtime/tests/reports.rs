//! Report templates and report data in the store, on SQLite and PostgreSQL:
//! the template's bytes come back exactly, names are unique per company,
//! companies do not see each other's, data rows list newest first and expire.

mod common;

use baton_runtime::store::*;
use common::{TestDb, on_both};
use serde_json::json;

on_both!(
    templates_round_trip_by_id_or_name,
    report_data_lists_and_expires
);

fn template(id: &str, company: &str, name: &str) -> ReportTemplateRow {
    ReportTemplateRow {
        id: id.into(),
        company_id: company.into(),
        name: name.into(),
        file_name: format!("{name}.xlsx"),
        placeholders: json!([{"sheet": "S", "cell": "A1", "expression": "x.y", "optional": false}]),
        comments: "c".into(),
        updated_at: 0,
    }
}

async fn templates_round_trip_by_id_or_name(db: TestDb) {
    let s = &db.store;
    // Every byte value, a NUL among them: a BLOB/BYTEA round trip, not text.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    s.put_report_template(&template("t1", "acme", "daily"), &bytes)
        .await
        .unwrap();
    s.put_report_template(&template("t2", "other", "daily"), b"PK other")
        .await
        .unwrap();
    let (row, content) = s.report_template("acme", "daily").await.unwrap().unwrap();
    assert_eq!(row.id, "t1");
    assert_eq!(content, bytes);
    assert_eq!(row.placeholders[0]["cell"], "A1");
    let (_, by_id) = s.report_template("acme", "t1").await.unwrap().unwrap();
    assert_eq!(by_id, bytes);
    assert!(
        s.report_template("acme", "t2").await.unwrap().is_none(),
        "another company's"
    );
    let err = s
        .put_report_template(&template("t3", "acme", "daily"), b"x")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already taken"), "{err}");
    assert!(
        s.put_report_template(&template("t4", "acme", " "), b"x")
            .await
            .is_err()
    );
    let list = s.list_report_templates("acme").await.unwrap();
    assert_eq!(
        list.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        ["t1"]
    );
    assert!(s.delete_report_template("acme", "t1").await.unwrap());
    assert!(!s.delete_report_template("acme", "t1").await.unwrap());
    assert!(s.report_template("acme", "daily").await.unwrap().is_none());
}

fn data(id: &str, instance: &str, created_at: i64) -> ReportDataRow {
    ReportDataRow {
        id: id.into(),
        company_id: "acme".into(),
        template_id: "t1".into(),
        name: format!("report {id}"),
        comments: String::new(),
        instance_id: instance.into(),
        definition_key: "daily".into(),
        element_id: "report".into(),
        path: format!("reports/acme/{id}.xlsx"),
        size: 10,
        sha256: "00".into(),
        created_at,
    }
}

async fn report_data_lists_and_expires(db: TestDb) {
    let s = &db.store;
    s.insert_report_data(&data("r1", "i1", 1_000))
        .await
        .unwrap();
    s.insert_report_data(&data("r2", "i1", 3_000))
        .await
        .unwrap();
    s.insert_report_data(&data("r3", "i2", 2_000))
        .await
        .unwrap();
    let all = s.list_report_data("acme", None, None).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r2", "r3", "r1"]
    );
    let one = s.list_report_data("acme", Some("i1"), None).await.unwrap();
    assert_eq!(one.len(), 2);
    assert_eq!(
        s.list_report_data("acme", None, Some("daily"))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        s.list_report_data("acme", None, Some("weekly"))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.list_report_data("other", None, None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.report_data("acme", "r3").await.unwrap(),
        Some(data("r3", "i2", 2_000))
    );
    assert_eq!(s.report_data("other", "r3").await.unwrap(), None);
    let gone = s.expire_report_data(2_500).await.unwrap();
    let mut ids: Vec<_> = gone.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["r1", "r3"]);
    let left = s.list_report_data("acme", None, None).await.unwrap();
    assert_eq!(
        left.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r2"]
    );
}
