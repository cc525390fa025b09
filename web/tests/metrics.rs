//! `/metrics`: OpenMetrics text with requests counted by route template
//! (never the raw path), method and status, and their latency.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use baton_nodes::MasterKey;
use baton_runtime::store::Store;
use baton_web::AppState;
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(state: &AppState, uri: &str) -> (StatusCode, String) {
    let res = baton_web::router(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn requests_are_counted_by_route_template() {
    let dir = std::env::temp_dir().join(format!("baton-web-metrics-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("b.db").display()))
        .await
        .unwrap();
    let key = MasterKey::from_base64(&MasterKey::generate()).unwrap();
    let state = AppState::new(store, key, dir.join("data"));
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
    let _ = std::fs::remove_dir_all(&dir);
}
