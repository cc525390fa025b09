//! `POST /api/v1/schedules/preview`: the fires of a schedule being edited,
//! in its zone, with a holiday calendar and window applied; bad input names
//! the field and, for cron, the position.

mod common;

use axum::http::StatusCode;
use baton_web::AppState;
use serde_json::{Value, json};

use common::TempDir;

async fn setup() -> (AppState, TempDir) {
    let dir = TempDir::new("sched");
    let store = common::sqlite(&dir).await;
    baton_web::bootstrap::bootstrap(&store).await.unwrap();
    let admin = store
        .user_by_name("default", "admin")
        .await
        .unwrap()
        .unwrap();
    let mut u = admin.clone();
    u.must_change_password = false;
    store.put_user(&u).await.unwrap();
    common::api_token(&store, &admin.id, "tok").await;
    (AppState::new(store, common::key(), dir.join("data")), dir)
}

async fn preview(state: &AppState, body: Value) -> (StatusCode, Value) {
    let (status, bytes) = common::raw(
        state,
        "tok",
        "POST",
        "/api/v1/schedules/preview",
        Some(body),
    )
    .await;
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn preview_applies_zone_calendar_and_window() {
    let (state, _dir) = setup().await;
    // Weekdays 09:00 Shanghai; the Friday is a holiday; from Monday 2026-11-16.
    let calendar = json!({"name": "t", "ranges": [{"start": "2026-11-20", "end": "2026-11-20"}]});
    let (status, body) = preview(
        &state,
        json!({"cron": "0 0 9 ? * MON-FRI", "tz": "Asia/Shanghai", "calendar": calendar,
               "after": "2026-11-16T00:00:00Z", "validUntil": "2026-11-25T00:00:00Z", "n": 10}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fires: Vec<&str> = body["fires"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        fires,
        [
            "2026-11-16T09:00:00+08:00",
            "2026-11-17T09:00:00+08:00",
            "2026-11-18T09:00:00+08:00",
            "2026-11-19T09:00:00+08:00",
            "2026-11-23T09:00:00+08:00",
            "2026-11-24T09:00:00+08:00",
        ]
    );
    for (input, field, says) in [
        (json!({"cron": "0 61 * * * ?"}), "body.cron", "character 3"),
        (
            json!({"cron": "0 * * * * ?", "tz": "Mars/Base"}),
            "body.tz",
            "Mars/Base",
        ),
        (
            json!({"cron": "0 * * * * ?", "validFrom": "2026-01-02T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"}),
            "body.validUntil",
            "empty validity window",
        ),
        (
            json!({"cron": "0 * * * * ?", "n": 0}),
            "body.n",
            "between 1 and 100",
        ),
        (
            json!({"cron": "0 * * * * ?", "calendar": {"name": "c", "ranges": [{"start": "2026-01-02", "end": "2026-01-01"}]}}),
            "body.calendar",
            "range 0",
        ),
        (
            json!({"cron": "0 * * * * ?", "calendar": {"name": "c", "holidays": []}}),
            "body.calendar",
            "unknown field `holidays`",
        ),
    ] {
        let (status, body) = preview(&state, input.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{input}: {body}");
        assert_eq!(body["field"], field, "{input}: {body}");
        assert!(
            body["message"].as_str().unwrap().contains(says),
            "{input}: {body}"
        );
    }
}
