//! `POST /api/v1/schedules/preview`: the fires of a schedule being edited,
//! in its zone, with a holiday calendar and window applied; bad input names
//! the field and, for cron, the position.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use baton_nodes::MasterKey;
use baton_runtime::store::{Store, TokenRow};
use baton_web::AppState;
use baton_web::auth::sha256_hex;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn setup() -> (AppState, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("baton-web-sched-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("b.db").display()))
        .await
        .unwrap();
    baton_web::bootstrap::bootstrap(&store).await.unwrap();
    let admin = store
        .user_by_name("default", "admin")
        .await
        .unwrap()
        .unwrap();
    let mut u = admin.clone();
    u.must_change_password = false;
    store.put_user(&u).await.unwrap();
    store
        .insert_token(&TokenRow {
            id: "t".into(),
            hash: sha256_hex("tok"),
            user_id: admin.id,
            name: "t".into(),
            created_at: 0,
            expires_at: None,
            last_used_at: None,
        })
        .await
        .unwrap();
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    (AppState::new(store, key, dir.join("data")), dir)
}

async fn preview(state: &AppState, body: Value) -> (StatusCode, Value) {
    let req = Request::post("/api/v1/schedules/preview")
        .header("authorization", "Bearer tok")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let res = baton_web::router(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn preview_applies_zone_calendar_and_window() {
    let (state, dir) = setup().await;
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
    let _ = std::fs::remove_dir_all(&dir);
}
