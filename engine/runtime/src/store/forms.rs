//! Form templates, holiday calendars and the UI's languages, per company.
//!
//! A form's fields are stored as the JSON the API validated (see
//! `baton_web::forms`); a calendar as the JSON form of
//! [`baton_schedule::calendar::HolidayCalendar`], validated again here; a
//! language's message overrides as a JSON object of strings. The built-in
//! languages (`zh-CN`, `en`) are the API's business: this table holds only
//! what a company stored.

use std::collections::BTreeMap;

use baton_schedule::calendar::HolidayCalendar;
use sea_orm::{DbErr, QueryResult};
use serde::{Deserialize, Serialize};

use super::Store;
use super::error::{Context, Error, Result};
use super::resources::{now_ms, upsert};
use super::sql::Sql;

/// A form template: a key unique in its company, a name and its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormRow {
    pub id: String,
    pub company_id: String,
    /// What a user task's `formKey` names.
    pub key: String,
    pub name: String,
    /// The fields, as a JSON array.
    pub fields: serde_json::Value,
    pub comments: String,
    pub updated_at: i64,
}

/// A stored holiday calendar; its name is the calendar's own `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HolidayCalendarRow {
    pub id: String,
    pub company_id: String,
    pub calendar: HolidayCalendar,
    pub updated_at: i64,
}

/// A language a company stored (a built-in one it changed, or its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageRow {
    pub company_id: String,
    /// `zh-CN`, `en`, ...
    pub code: String,
    pub name: String,
    pub enabled: bool,
    /// Message overrides: key → text.
    pub messages: BTreeMap<String, String>,
    pub updated_at: i64,
}

const FORM_COLS: &str = "id, company_id, key, name, fields, comments, updated_at";
const CALENDAR_COLS: &str = "id, company_id, name, calendar, updated_at";
const LANGUAGE_COLS: &str = "company_id, code, name, enabled, messages, updated_at";

fn form_row(r: &QueryResult) -> Result<FormRow> {
    let fields: String = r.try_get_by_index(4).during("forms.fields")?;
    Ok(FormRow {
        id: r.try_get_by_index(0).during("forms")?,
        company_id: r.try_get_by_index(1).during("forms")?,
        key: r.try_get_by_index(2).during("forms")?,
        name: r.try_get_by_index(3).during("forms")?,
        fields: serde_json::from_str(&fields)
            .map_err(|e| corrupt("forms.fields", e))
            .during("forms")?,
        comments: r.try_get_by_index(5).during("forms")?,
        updated_at: r.try_get_by_index(6).during("forms")?,
    })
}

fn calendar_row(r: &QueryResult) -> Result<HolidayCalendarRow> {
    let text: String = r.try_get_by_index(3).during("holiday_calendars.calendar")?;
    Ok(HolidayCalendarRow {
        id: r.try_get_by_index(0).during("holiday_calendars")?,
        company_id: r.try_get_by_index(1).during("holiday_calendars")?,
        calendar: serde_json::from_str(&text)
            .map_err(|e| corrupt("holiday_calendars.calendar", e))
            .during("holiday_calendars")?,
        updated_at: r.try_get_by_index(4).during("holiday_calendars")?,
    })
}

fn language_row(r: &QueryResult) -> Result<LanguageRow> {
    let messages: String = r.try_get_by_index(4).during("languages.messages")?;
    Ok(LanguageRow {
        company_id: r.try_get_by_index(0).during("languages")?,
        code: r.try_get_by_index(1).during("languages")?,
        name: r.try_get_by_index(2).during("languages")?,
        enabled: r.try_get_by_index(3).during("languages")?,
        messages: serde_json::from_str(&messages)
            .map_err(|e| corrupt("languages.messages", e))
            .during("languages")?,
        updated_at: r.try_get_by_index(5).during("languages")?,
    })
}

/// Stored JSON that no longer reads.
fn corrupt(col: &str, e: serde_json::Error) -> DbErr {
    DbErr::Custom(format!("{col}: {e}"))
}

/// A unique-index clash reworded: `what` is already taken.
fn taken(e: Error, what: String) -> Error {
    match e {
        Error::Invalid { what: w } if w.contains("already taken") => Error::Invalid {
            what: format!("{what} is already taken"),
        },
        other => other,
    }
}

impl Store {
    // ---- form templates -------------------------------------------------

    /// Insert or replace a form (by id). Its key is unique in the company.
    pub async fn put_form(&self, f: &FormRow) -> Result<()> {
        if f.key.trim().is_empty() {
            return Err(Error::Invalid {
                what: "a form needs a key".into(),
            });
        }
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "forms",
            &[
                "id",
                "company_id",
                "key",
                "name",
                "fields",
                "comments",
                "updated_at",
            ],
            &["id"],
            vec![
                f.id.clone().into(),
                f.company_id.clone().into(),
                f.key.clone().into(),
                f.name.clone().into(),
                f.fields.to_string().into(),
                f.comments.clone().into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save form")
            .await
            .map(|_| ())
            .map_err(|e| taken(e, format!("the form key `{}`", f.key)))
    }

    /// The company's form with this id.
    pub async fn form(&self, company: &str, id: &str) -> Result<Option<FormRow>> {
        self.one_form(company, "id", id).await
    }

    /// The company's form with this key (what a user task's `formKey` names).
    pub async fn form_by_key(&self, company: &str, key: &str) -> Result<Option<FormRow>> {
        self.one_form(company, "key", key).await
    }

    async fn one_form(&self, company: &str, col: &str, value: &str) -> Result<Option<FormRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {FORM_COLS} FROM forms WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(&format!(" AND {col} = "))
        .bind(value.to_owned());
        let rows = self.rows(sql, "read form").await?;
        rows.first().map(form_row).transpose()
    }

    /// The company's forms, by key.
    pub async fn list_forms(&self, company: &str) -> Result<Vec<FormRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {FORM_COLS} FROM forms WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" ORDER BY key");
        self.rows(sql, "list forms")
            .await?
            .iter()
            .map(form_row)
            .collect()
    }

    pub async fn delete_form(&self, company: &str, id: &str) -> Result<bool> {
        self.delete_where("forms", company, id).await
    }

    // ---- holiday calendars ----------------------------------------------

    /// Insert or replace a calendar (by id), validated first. Its name is
    /// unique in the company.
    pub async fn put_holiday_calendar(&self, c: &HolidayCalendarRow) -> Result<()> {
        if c.calendar.name.trim().is_empty() {
            return Err(Error::Invalid {
                what: "a holiday calendar needs a name".into(),
            });
        }
        c.calendar.validate().map_err(|e| Error::Invalid {
            what: e.to_string(),
        })?;
        let text = serde_json::to_string(&c.calendar).map_err(|e| Error::Invalid {
            what: e.to_string(),
        })?;
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "holiday_calendars",
            &["id", "company_id", "name", "calendar", "updated_at"],
            &["id"],
            vec![
                c.id.clone().into(),
                c.company_id.clone().into(),
                c.calendar.name.clone().into(),
                text.into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save holiday calendar")
            .await
            .map(|_| ())
            .map_err(|e| taken(e, format!("the calendar name `{}`", c.calendar.name)))
    }

    /// The company's calendar with this id or name (the id first).
    pub async fn holiday_calendar(
        &self,
        company: &str,
        key: &str,
    ) -> Result<Option<HolidayCalendarRow>> {
        let sql = self.by_key("holiday_calendars", CALENDAR_COLS, company, key);
        let rows = self.rows(sql, "read holiday calendar").await?;
        rows.first().map(calendar_row).transpose()
    }

    /// The company's calendars, by name.
    pub async fn list_holiday_calendars(&self, company: &str) -> Result<Vec<HolidayCalendarRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {CALENDAR_COLS} FROM holiday_calendars WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" ORDER BY name");
        self.rows(sql, "list holiday calendars")
            .await?
            .iter()
            .map(calendar_row)
            .collect()
    }

    pub async fn delete_holiday_calendar(&self, company: &str, id: &str) -> Result<bool> {
        self.delete_where("holiday_calendars", company, id).await
    }

    // ---- languages --------------------------------------------------------

    /// Insert or replace the company's language with this code.
    pub async fn put_language(&self, l: &LanguageRow) -> Result<()> {
        if l.code.trim().is_empty() {
            return Err(Error::Invalid {
                what: "a language needs a code".into(),
            });
        }
        let messages = serde_json::to_string(&l.messages).map_err(|e| Error::Invalid {
            what: e.to_string(),
        })?;
        let mut sql = Sql::new(self.dialect());
        upsert(
            &mut sql,
            "languages",
            &[
                "company_id",
                "code",
                "name",
                "enabled",
                "messages",
                "updated_at",
            ],
            &["company_id", "code"],
            vec![
                l.company_id.clone().into(),
                l.code.clone().into(),
                l.name.clone().into(),
                l.enabled.into(),
                messages.into(),
                now_ms().into(),
            ],
        );
        self.write(sql, "save language").await.map(|_| ())
    }

    /// The languages the company stored, by code.
    pub async fn languages(&self, company: &str) -> Result<Vec<LanguageRow>> {
        let mut sql = Sql::new(self.dialect());
        sql.push(&format!(
            "SELECT {LANGUAGE_COLS} FROM languages WHERE company_id = "
        ))
        .bind(company.to_owned())
        .push(" ORDER BY code");
        self.rows(sql, "list languages")
            .await?
            .iter()
            .map(language_row)
            .collect()
    }

    /// Forget the company's stored language; whether there was one.
    pub async fn delete_language(&self, company: &str, code: &str) -> Result<bool> {
        let mut sql = Sql::new(self.dialect());
        sql.push("DELETE FROM languages WHERE company_id = ")
            .bind(company.to_owned())
            .push(" AND code = ")
            .bind(code.to_owned());
        Ok(self.write(sql, "delete language").await? > 0)
    }
}
