//! Holiday calendars and the schedules that name them.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::setup::{keys, setup};

const CN_2026: &str = include_str!("../../../templates/holidays/cn-2026.json");
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holiday_calendars_and_the_schedules_that_name_them() {
    let api = setup("holidays").await;
    let cn: Value = serde_json::from_str(CN_2026).unwrap();
    let created = api
        .ok(
            "admin",
            "POST",
            "/api/v1/holidays",
            Some(cn.clone()),
            StatusCode::CREATED,
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["name"], "cn-2026");
    assert_eq!(created["calendar"]["ranges"].as_array().unwrap().len(), 7);
    assert_eq!(created["calendar"]["workdays"][0], "2026-01-04");
    let page = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/holidays?q=cn",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(keys(&page, "id"), vec![id.clone()]);
    let got = api
        .ok(
            "viewer",
            "GET",
            &format!("/api/v1/holidays/{id}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["calendar"], created["calendar"]);

    // The parser's faults, by place.
    for (body, field, says) in [
        (
            json!({"name": "x", "ranges": [{"start": "2026-01-01", "end": "2026-01-01"}, {"start": "2026-01-05", "end": "2026-01-04"}]}),
            "body.ranges[1]",
            "range 1",
        ),
        (
            json!({"name": "x", "ranges": [{"start": "2026-01-01", "end": "2026-01-01"}, {"start": "Jan 5"}]}),
            "body.ranges[1]",
            "range 1",
        ),
        (
            json!({"name": "x", "holidays": []}),
            "body.holidays",
            "unknown field `holidays`",
        ),
        (
            json!({"name": "x", "workdays": ["2026-02-30"]}),
            "body.workdays[0]",
            "workday 0",
        ),
        (json!({"ranges": []}), "body.name", "name"),
        (json!({"name": " "}), "body.name", "name"),
        (json!([1]), "body", "object"),
    ] {
        let v = api
            .refused(
                "admin",
                "POST",
                "/api/v1/holidays",
                body.clone(),
                StatusCode::BAD_REQUEST,
                Some(field),
            )
            .await;
        assert!(v["message"].as_str().unwrap().contains(says), "{body}: {v}");
    }
    api.refused(
        "admin",
        "POST",
        "/api/v1/holidays",
        cn.clone(),
        StatusCode::CONFLICT,
        Some("body.name"),
    )
    .await;

    // Another company sees none of it, and cannot name it in a schedule.
    let page = api
        .ok("zed", "GET", "/api/v1/holidays", None, StatusCode::OK)
        .await;
    assert_eq!(page["total"], 0);
    for method in ["GET", "PUT", "DELETE"] {
        let body = (method == "PUT").then(|| cn.clone());
        let (s, _) = api
            .call("zed", method, &format!("/api/v1/holidays/{id}"), body)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method}");
    }
    api.refused(
        "zed",
        "POST",
        "/api/v1/schedules/preview",
        json!({"cron": "0 0 9 * * ?", "calendar": "cn-2026"}),
        StatusCode::BAD_REQUEST,
        Some("body.calendar"),
    )
    .await;

    // A schedule names it; the preview too (National Day week skipped).
    let preview = api
        .ok(
            "admin",
            "POST",
            "/api/v1/schedules/preview",
            Some(
                json!({"cron": "0 0 9 * * ?", "tz": "Asia/Shanghai", "calendar": "cn-2026",
                        "after": "2026-09-30T00:00:00Z", "n": 2}),
            ),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        preview["fires"],
        json!(["2026-09-30T09:00:00+08:00", "2026-10-08T09:00:00+08:00"])
    );
    let schedule = api
        .ok(
            "admin",
            "POST",
            "/api/v1/schedules",
            Some(
                json!({"name": "daily", "process": "approval", "cron": "0 0 9 * * ?",
                        "tz": "Asia/Shanghai", "calendar": "cn-2026", "enabled": false}),
            ),
            StatusCode::CREATED,
        )
        .await;
    let sid = schedule["id"].as_str().unwrap().to_owned();
    assert_eq!(schedule["spec"]["calendar"]["name"], "cn-2026");
    assert_eq!(
        schedule["spec"]["calendar"]["ranges"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    // By id works as well; an unknown name is refused on `body.calendar`.
    api.ok(
        "admin",
        "POST",
        "/api/v1/schedules/preview",
        Some(json!({"cron": "0 0 9 * * ?", "calendar": id})),
        StatusCode::OK,
    )
    .await;
    api.refused(
        "admin",
        "POST",
        "/api/v1/schedules",
        json!({"process": "approval", "cron": "0 0 9 * * ?", "calendar": "nope"}),
        StatusCode::BAD_REQUEST,
        Some("body.calendar"),
    )
    .await;

    // Replacing the calendar updates the schedule that holds it.
    let mut v2 = cn.clone();
    v2["ranges"] = json!([{"name": "freeze", "start": "2026-12-24", "end": "2026-12-31"}]);
    v2["workdays"] = json!([]);
    let replaced = api
        .ok(
            "admin",
            "PUT",
            &format!("/api/v1/holidays/{id}"),
            Some(v2),
            StatusCode::OK,
        )
        .await;
    assert_eq!(replaced["calendar"]["ranges"][0]["name"], "freeze");
    let schedule = api
        .ok(
            "admin",
            "GET",
            &format!("/api/v1/schedules/{sid}"),
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        schedule["spec"]["calendar"]["ranges"],
        json!([{"name": "freeze", "start": "2026-12-24", "end": "2026-12-31"}]),
        "{schedule}"
    );

    // In use: not deleted. Unused: deleted.
    let v = api
        .call("admin", "DELETE", &format!("/api/v1/holidays/{id}"), None)
        .await;
    assert_eq!(v.0, StatusCode::CONFLICT, "{}", v.1);
    assert!(
        v.1["message"].as_str().unwrap().contains("daily"),
        "{}",
        v.1
    );
    api.ok(
        "admin",
        "DELETE",
        &format!("/api/v1/schedules/{sid}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    api.ok(
        "admin",
        "DELETE",
        &format!("/api/v1/holidays/{id}"),
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let page = api
        .ok("admin", "GET", "/api/v1/holidays", None, StatusCode::OK)
        .await;
    assert_eq!(page["total"], 0);
}
