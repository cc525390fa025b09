//! `/metrics`: OpenMetrics text with requests counted by route template
//! (never the raw path), method and status, and their latency.

mod common;

use axum::http::StatusCode;
use baton_web::AppState;

use common::TempDir;

async fn get(state: &AppState, uri: &str) -> (StatusCode, String) {
    let a = common::send(state, "GET", uri, None, &[], None).await;
    (a.status, String::from_utf8_lossy(&a.bytes).into_owned())
}

#[tokio::test]
async fn requests_are_counted_by_route_template() {
    let dir = TempDir::new("metrics");
    let state = AppState::new(common::sqlite(&dir).await, common::key(), dir.join("data"));
    for _ in 0..3 {
        assert_eq!(
            get(&state, "/api/v1/users/abc-123").await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(get(&state, "/api/v1/health").await.0, StatusCode::OK);
    let (status, text) = get(&state, "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text.contains(
            r#"baton_http_requests_total{method="GET",route="/api/v1/users/{id}",status="401"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/health",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains("baton_http_request_seconds_bucket"), "{text}");
    assert!(!text.contains("abc-123"), "raw paths are not labels");
    assert!(text.ends_with("# EOF\n"));
}
