//! Form templates, holiday calendars and languages in the store, on SQLite
//! and PostgreSQL: round trips, company scoping, unique keys and names
//! (a clash is `Invalid` "already taken"), replace, delete.

mod common;

use std::collections::BTreeMap;

use baton_runtime::store::{Error, FormRow, HolidayCalendarRow, LanguageRow};
use baton_schedule::calendar::HolidayCalendar;
use common::{TestDb, on_both};
use serde_json::json;

on_both!(forms_calendars_and_languages);

fn form(id: &str, company: &str, key: &str) -> FormRow {
    FormRow {
        id: id.into(),
        company_id: company.into(),
        key: key.into(),
        name: format!("name of {key}"),
        fields: json!([{"id": "ok", "label": "OK", "type": "switch"}]),
        comments: "c".into(),
        updated_at: 0,
    }
}

fn calendar(id: &str, company: &str, name: &str) -> HolidayCalendarRow {
    let json = format!(
        r#"{{"name": "{name}", "note": "n", "ranges": [{{"name": "x", "start": "2026-10-01", "end": "2026-10-07"}},
            {{"start": "2026-03-14T09:00", "end": "2026-03-14T12:00"}}], "workdays": ["2026-10-10"]}}"#
    );
    HolidayCalendarRow {
        id: id.into(),
        company_id: company.into(),
        calendar: HolidayCalendar::from_json(&json).unwrap(),
        updated_at: 0,
    }
}

fn taken(e: Error) -> bool {
    matches!(e, Error::Invalid { what } if what.contains("already taken"))
}

async fn forms_calendars_and_languages(db: TestDb) {
    let s = &db.store;

    // Forms: by id, by key, per company; keys unique per company.
    s.put_form(&form("f1", "a", "approval")).await.unwrap();
    s.put_form(&form("f2", "b", "approval")).await.unwrap();
    let got = s.form("a", "f1").await.unwrap().unwrap();
    assert_eq!(got.key, "approval");
    assert_eq!(
        got.fields,
        json!([{"id": "ok", "label": "OK", "type": "switch"}])
    );
    assert!(got.updated_at > 0);
    assert_eq!(
        s.form_by_key("b", "approval").await.unwrap().unwrap().id,
        "f2"
    );
    assert!(s.form("b", "f1").await.unwrap().is_none());
    assert!(taken(
        s.put_form(&form("f3", "a", "approval")).await.unwrap_err()
    ));
    let mut renamed = form("f1", "a", "approval-2");
    renamed.fields = json!([]);
    s.put_form(&renamed).await.unwrap();
    let list = s.list_forms("a").await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].key.as_str(), &list[0].fields),
        ("approval-2", &json!([]))
    );
    assert!(!s.delete_form("b", "f1").await.unwrap());
    assert!(s.delete_form("a", "f1").await.unwrap());
    assert!(s.list_forms("a").await.unwrap().is_empty());

    // Holiday calendars: by id or name, per company; names unique per company.
    let c = calendar("h1", "a", "cn");
    s.put_holiday_calendar(&c).await.unwrap();
    s.put_holiday_calendar(&calendar("h2", "b", "cn"))
        .await
        .unwrap();
    let got = s.holiday_calendar("a", "cn").await.unwrap().unwrap();
    assert_eq!((got.id.as_str(), &got.calendar), ("h1", &c.calendar));
    assert_eq!(
        s.holiday_calendar("a", "h1").await.unwrap().unwrap().id,
        "h1"
    );
    assert!(s.holiday_calendar("b", "h1").await.unwrap().is_none());
    assert!(taken(
        s.put_holiday_calendar(&calendar("h3", "a", "cn"))
            .await
            .unwrap_err()
    ));
    let mut bad = calendar("h4", "a", "bad");
    bad.calendar.ranges.reverse();
    bad.calendar.ranges[1] = baton_schedule::calendar::HolidayRange::Dates {
        name: None,
        start: "2026-01-02".parse().unwrap(),
        end: "2026-01-01".parse().unwrap(),
    };
    assert!(matches!(
        s.put_holiday_calendar(&bad).await.unwrap_err(),
        Error::Invalid { what } if what.contains("range 1")
    ));
    assert_eq!(s.list_holiday_calendars("a").await.unwrap().len(), 1);
    assert!(s.delete_holiday_calendar("a", "h1").await.unwrap());
    assert!(s.list_holiday_calendars("a").await.unwrap().is_empty());

    // Languages: upsert by (company, code).
    let mut fr = LanguageRow {
        company_id: "a".into(),
        code: "fr".into(),
        name: "Français".into(),
        enabled: true,
        messages: BTreeMap::from([("menu.tasks".to_owned(), "Tâches".to_owned())]),
        updated_at: 0,
    };
    s.put_language(&fr).await.unwrap();
    fr.enabled = false;
    fr.messages.clear();
    s.put_language(&fr).await.unwrap();
    let got = s.languages("a").await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].code.as_str(), got[0].enabled, got[0].messages.len()),
        ("fr", false, 0)
    );
    assert!(s.languages("b").await.unwrap().is_empty());
    assert!(!s.delete_language("b", "fr").await.unwrap());
    assert!(s.delete_language("a", "fr").await.unwrap());
}
