//! Languages, built in and added.

use axum::http::StatusCode;
use serde_json::json;

use crate::setup::{keys, setup};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn languages_built_in_and_added() {
    let api = setup("languages").await;
    let page = api
        .ok("viewer", "GET", "/api/v1/languages", None, StatusCode::OK)
        .await;
    assert_eq!(keys(&page, "code"), ["en", "zh-CN"]);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["builtIn"] == true && l["enabled"] == true)
    );

    let fr = api
        .ok(
            "admin",
            "POST",
            "/api/v1/languages",
            Some(json!({"code": "FR", "name": "Français", "messages": {"menu.tasks": "Tâches"}})),
            StatusCode::CREATED,
        )
        .await;
    assert_eq!((&fr["code"], &fr["builtIn"]), (&json!("fr"), &json!(false)));
    for (body, status, field) in [
        (
            json!({"code": "fr", "name": "Again"}),
            StatusCode::CONFLICT,
            "body.code",
        ),
        (
            json!({"code": "zh-cn", "name": "Again"}),
            StatusCode::CONFLICT,
            "body.code",
        ),
        (
            json!({"code": "not a code", "name": "X"}),
            StatusCode::BAD_REQUEST,
            "body.code",
        ),
        (
            json!({"code": "es", "name": ""}),
            StatusCode::BAD_REQUEST,
            "body.name",
        ),
        (
            json!({"code": "es", "name": "E", "messages": {"": "x"}}),
            StatusCode::BAD_REQUEST,
            "body.messages",
        ),
        (
            json!({"code": "es", "name": "E", "flag": "x"}),
            StatusCode::BAD_REQUEST,
            "body.flag",
        ),
    ] {
        api.refused(
            "admin",
            "POST",
            "/api/v1/languages",
            body,
            status,
            Some(field),
        )
        .await;
    }

    // Built-ins take overrides and may be disabled while another stays enabled.
    let zh = api
        .ok(
            "admin",
            "PUT",
            "/api/v1/languages/zh-cn",
            Some(json!({"enabled": false, "messages": {"menu.tasks": "待办"}})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        (
            &zh["code"],
            &zh["name"],
            &zh["enabled"],
            &zh["messages"]["menu.tasks"]
        ),
        (
            &json!("zh-CN"),
            &json!("简体中文"),
            &json!(false),
            &json!("待办")
        )
    );
    api.ok(
        "admin",
        "PUT",
        "/api/v1/languages/en",
        Some(json!({"enabled": false})),
        StatusCode::OK,
    )
    .await;
    // fr is the last one enabled.
    api.refused(
        "admin",
        "PUT",
        "/api/v1/languages/fr",
        json!({"enabled": false}),
        StatusCode::BAD_REQUEST,
        Some("body.enabled"),
    )
    .await;
    let (s, v) = api
        .call("admin", "DELETE", "/api/v1/languages/fr", None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = api
        .call("admin", "DELETE", "/api/v1/languages/en", None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["message"].as_str().unwrap().contains("built in"), "{v}");
    api.ok(
        "admin",
        "PUT",
        "/api/v1/languages/en",
        Some(json!({"name": "English (UK)"})),
        StatusCode::OK,
    )
    .await;
    api.ok(
        "admin",
        "DELETE",
        "/api/v1/languages/fr",
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    let page = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/languages?sort=name",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(keys(&page, "name"), ["English (UK)", "简体中文"]);
    let got = api
        .ok(
            "viewer",
            "GET",
            "/api/v1/languages/zh-CN",
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(got["enabled"], false);
    api.ok(
        "viewer",
        "GET",
        "/api/v1/languages/fr",
        None,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Another company: its own built-ins, untouched; not our additions.
    api.ok(
        "admin",
        "POST",
        "/api/v1/languages",
        Some(json!({"code": "ja", "name": "日本語"})),
        StatusCode::CREATED,
    )
    .await;
    let page = api
        .ok("zed", "GET", "/api/v1/languages", None, StatusCode::OK)
        .await;
    assert_eq!(keys(&page, "code"), ["en", "zh-CN"]);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l["enabled"] == true),
        "{page}"
    );
    for method in ["GET", "PUT", "DELETE"] {
        let body = (method == "PUT").then(|| json!({"enabled": true}));
        let (s, _) = api.call("zed", method, "/api/v1/languages/ja", body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{method}");
    }
}
