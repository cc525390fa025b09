//! Report templates (the xlsx as uploaded, with its placeholders) and report
//! data rows (one per filled workbook; the file itself lives under the
//! server's data directory, `path` relative to it).

use sea_orm::{QueryResult, Value};
use serde::{Deserialize, Serialize};

use super::Store;
use super::error::{Context, Error, Result};
use super::resources::{now_ms, upsert};
use super::sql::Sql;

/// A report template without its bytes (listings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportTemplateRow {
    pub id: String,
    pub company_id: String,
    pub name: String,
    /// The uploaded file's name.
    pub file_name: String,
    /// The placeholders found at upload: `[{sheet, cell, expression, optional}]`.
    pub placeholders: serde_json::Value,
    pub comments: String,
    pub updated_at: i64,
}

/// One filled workbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportDataRow {
    pub id: String,
    pub company_id: String,
    pub template_id: String,
    pub name: String,
    pub comments: String,
    pub instance_id: String,
    pub definition_key: String,
    pub element_id: String,
    /// Relative to the data directory.
    pub path: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: i64,
}

const TEMPLATE_COLS: &str = "id, company_id, name, file_name, placeholders, comments, updated_at";
const DATA_COLS: &str = "id, company_id, template_id, name, comments, instance_id, \
     definition_key, element_id, path, size, sha256, created_at";

fn template_row(r: &QueryResult) -> Result<ReportTemplateRow> {
    let placeholders: String = r
        .try_get_by_index(4)
        .during("report_templates.placeholders")?;
    Ok(ReportTemplateRow {
        id: r.try_get_by_index(0).during("report_templates.id")?,
        company_id: r
            .try_get_by_index(1)
            .during("report_templates.company_id")?,
        name: r.try_get_by_index(2).during("report_templates.name")?,
        file_name: r.try_get_by_index(3).during("report_templates.file_name")?,
        placeholders: serde_json::from_str(&placeholders).unwrap_or_default(),
        comments: r.try_get_by_index(5).during("report_templates.comments")?,
        updated_at: r
            .try_get_by_index(6)
            .during("report_templates.updated_at")?,
    })
}

fn data_row(r: &QueryResult) -> Result<ReportDataRow> {
    Ok(ReportDataRow {
        id: r.try_get_by_index(0).during("report_data.id")?,
        company_id: r.try_get_by_index(1).during("report_data.company_id")?,
        template_id: r.try_get_by_index(2).during("report_data.template_id")?,
        name: r.try_get_by_index(3).during("report_data.name")?,
        comments: r.try_get_by_index(4).during("report_data.comments")?,
        instance_id: r.try_get_by_index(5).during("report_data.instance_id")?,
        definition_key: r.try_get_by_index(6).during("report_data.definition_key")?,
        element_id: r.try_get_by_index(7).during("report_data.element_id")?,
        path: r.try_get_by_index(8).during("report_data.path")?,
        size: r.try_get_by_index(9).during("report_data.size")?,
        sha256: r.try_get_by_index(10).during("report_data.sha256")?,
        created_at: r.try_get_by_index(11).during("report_data.created_at")?,
    })
}

impl Store {
    /// Insert or replace (same id) a report template; its name is unique in
    /// the company. An empty id gets a new one. Returns the id.
    pub async fn put_report_template(
        &self,
        t: &ReportTemplateRow,
        content: &[u8],
    ) -> Result<String> {
        let id = if t.id.is_empty() {
            uuid::Uuid::now_v7().to_string()
        } else {
            t.id.clone()
        };
        if t.name.trim().is_empty() {
            return Err(Error::Invalid {
                what: "a report template needs a name".into(),
            });
        }
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "report_templates",
            &[
                "id",
                "company_id",
                "name",
                "file_name",
                "content",
                "placeholders",
                "comments",
                "updated_at",
            ],
            &["id"],
            vec![
                id.clone().into(),
                t.company_id.clone().into(),
                t.name.clone().into(),
                t.file_name.clone().into(),
                Value::Bytes(Some(content.to_vec())),
                t.placeholders.to_string().into(),
                t.comments.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save report template").await?;
        Ok(id)
    }

    /// A template and its bytes, by id or name.
    pub async fn report_template(
        &self,
        company: &str,
        id_or_name: &str,
    ) -> Result<Option<(ReportTemplateRow, Vec<u8>)>> {
        let sql = self.by_key(
            "report_templates",
            &format!("{TEMPLATE_COLS}, content"),
            company,
            id_or_name,
        );
        match self.rows(sql, "read report template").await?.first() {
            Some(r) => {
                let content: Vec<u8> = r.try_get_by_index(7).during("report_templates.content")?;
                Ok(Some((template_row(r)?, content)))
            }
            None => Ok(None),
        }
    }

    /// The company's templates, by name.
    pub async fn list_report_templates(&self, company: &str) -> Result<Vec<ReportTemplateRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {TEMPLATE_COLS} FROM report_templates WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" ORDER BY name");
        self.rows(sql, "list report templates")
            .await?
            .iter()
            .map(template_row)
            .collect()
    }

    pub async fn delete_report_template(&self, company: &str, id: &str) -> Result<bool> {
        self.delete_where("report_templates", company, id).await
    }

    pub async fn insert_report_data(&self, r: &ReportDataRow) -> Result<()> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!("INSERT INTO report_data ({DATA_COLS}) VALUES "))
            .bind_list(vec![
                Value::from(r.id.clone()),
                r.company_id.clone().into(),
                r.template_id.clone().into(),
                r.name.clone().into(),
                r.comments.clone().into(),
                r.instance_id.clone().into(),
                r.definition_key.clone().into(),
                r.element_id.clone().into(),
                r.path.clone().into(),
                r.size.into(),
                r.sha256.clone().into(),
                r.created_at.into(),
            ]);
        self.write(sql, "save report data").await.map(|_| ())
    }

    /// Filled workbooks of the company, newest first; `instance` narrows to
    /// one instance, `process` to one process key.
    pub async fn list_report_data(
        &self,
        company: &str,
        instance: Option<&str>,
        process: Option<&str>,
    ) -> Result<Vec<ReportDataRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {DATA_COLS} FROM report_data WHERE company_id = "
        ))
        .bind(company.to_owned());
        if let Some(i) = instance {
            sql.push(" AND instance_id = ").bind(i.to_owned());
        }
        if let Some(k) = process {
            sql.push(" AND definition_key = ").bind(k.to_owned());
        }
        sql.push(" ORDER BY created_at DESC, id");
        self.rows(sql, "list report data")
            .await?
            .iter()
            .map(data_row)
            .collect()
    }

    pub async fn report_data(&self, company: &str, id: &str) -> Result<Option<ReportDataRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {DATA_COLS} FROM report_data WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" AND id = ")
        .bind(id.to_owned());
        self.rows(sql, "read report data")
            .await?
            .first()
            .map(data_row)
            .transpose()
    }

    /// Delete the rows of workbooks created before `before` (retention);
    /// returns them, so their files can be removed.
    pub async fn expire_report_data(&self, before: i64) -> Result<Vec<ReportDataRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {DATA_COLS} FROM report_data WHERE created_at < "
        ))
        .bind(before);
        let old: Vec<ReportDataRow> = self
            .rows(sql, "find expired report data")
            .await?
            .iter()
            .map(data_row)
            .collect::<Result<_>>()?;
        for r in &old {
            self.delete_where("report_data", &r.company_id, &r.id)
                .await?;
        }
        Ok(old)
    }
}
