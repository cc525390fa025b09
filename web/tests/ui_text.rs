//! The UI's text from the API: node schemas in the request's language
//! (`Accept-Language`), and the languages a signed-in user's UI offers with
//! the company's message overrides (`GET /ui-languages`).

mod common;

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use common::{Api, TempDir};

/// `default` with `admin`, `editor` (editor: view) and `nobody` (no
/// permission); `acme` with its admin `zed`.
async fn setup(name: &str) -> Api {
    let dir = TempDir::new(&format!("ui-text-{name}"));
    let store = common::sqlite(&dir).await;
    common::default_and_acme(&store, &["editor", "nobody"]).await;
    common::group(
        &store,
        "default",
        "g-edit",
        "g-edit",
        json!({"editor": "view"}),
        &["editor"],
    )
    .await;
    Api::new(store, dir)
}

impl Api {
    /// A GET as `token` (none: anonymous) with `Accept-Language: lang`.
    async fn get(
        &self,
        token: Option<&str>,
        uri: &str,
        lang: Option<&str>,
    ) -> (StatusCode, Value, Option<String>) {
        let lang = lang.map(|l| (header::ACCEPT_LANGUAGE.as_str(), l));
        let a = common::send(&self.state, "GET", uri, token, lang.as_slice(), None).await;
        let vary = a
            .headers
            .get(header::VARY)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (a.status, a.json(), vary)
    }

    async fn node_types(&self, lang: Option<&str>) -> Vec<Value> {
        let (s, v, vary) = self.get(Some("editor"), "/api/v1/node-types", lang).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(vary.as_deref(), Some("Accept-Language"));
        v.as_array().unwrap().clone()
    }

    async fn put(&self, token: &str, method: &str, uri: &str, body: Value) -> Value {
        let (s, v) = common::call(&self.state, token, method, uri, Some(body)).await;
        assert!(s.is_success(), "{method} {uri}: {s} {v}");
        v
    }
}

fn of<'a>(types: &'a [Value], kind: &str) -> &'a Value {
    &types
        .iter()
        .find(|t| t["type"] == kind)
        .unwrap_or_else(|| panic!("no node type {kind}"))["schema"]
}

fn has_han(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[tokio::test]
async fn node_schemas_follow_accept_language() {
    let api = setup("schemas").await;
    let en = api.node_types(None).await;
    let zh = api.node_types(Some("zh-CN,zh;q=0.9,en;q=0.8")).await;
    let en_us = api.node_types(Some("en-US,en;q=0.9,zh-CN;q=0.5")).await;
    assert_eq!(en, en_us);
    let kinds = |v: &[Value]| v.iter().map(|t| t["type"].clone()).collect::<Vec<_>>();
    assert_eq!(kinds(&en), kinds(&zh));
    for k in [
        "remote-command",
        "local-command",
        "sql",
        "http",
        "call-process",
    ] {
        assert!(kinds(&en).contains(&json!(k)), "{k} is listed");
    }

    let (rc_en, rc_zh) = (of(&en, "remote-command"), of(&zh, "remote-command"));
    assert_eq!(rc_en["title"], "Remote command");
    assert_eq!(rc_zh["title"], "远程命令");
    assert_eq!(rc_zh["properties"]["command"]["title"], "命令");
    assert!(
        has_han(
            rc_zh["properties"]["command"]["description"]
                .as_str()
                .unwrap()
        ),
        "{rc_zh}"
    );
    assert_eq!(of(&zh, "call-process")["title"], "调用流程");
    assert_eq!(of(&zh, "sql")["properties"]["query"]["title"], "返回结果集");

    // Only the texts change: names, types, enums, defaults and `required` stay.
    for (e, z) in en.iter().zip(&zh) {
        let (e, z) = (&e["schema"], &z["schema"]);
        assert_eq!(e["required"], z["required"]);
        let (ep, zp) = (
            e["properties"].as_object().unwrap(),
            z["properties"].as_object().unwrap(),
        );
        assert_eq!(ep.keys().collect::<Vec<_>>(), zp.keys().collect::<Vec<_>>());
        for (name, p) in ep {
            for k in ["type", "enum", "default", "x-secret"] {
                assert_eq!(p.get(k), zp[name].get(k), "{name}.{k}");
            }
            // Every title is translated (some read the same: SQL, URL).
            let (te, tz) = (p["title"].as_str().unwrap(), zp[name]["title"].as_str());
            assert!(
                tz.is_some_and(|t| has_han(t) || t == te),
                "{name}: {te} / {tz:?}"
            );
            if let Some(d) = p["description"].as_str().filter(|d| !d.is_empty()) {
                let dz = zp[name]["description"].as_str().unwrap();
                assert!(has_han(dz), "{name}: {d} has no Chinese description: {dz}");
            }
        }
    }
}

#[tokio::test]
async fn ui_languages_carry_the_company_overrides_to_any_signed_in_user() {
    let api = setup("ui-languages").await;
    let (s, v, _) = api.get(None, "/api/v1/ui-languages", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");

    let (s, v, _) = api.get(Some("nobody"), "/api/v1/ui-languages", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        v,
        json!([
            {"code": "en", "name": "English", "builtIn": true, "messages": {}},
            {"code": "zh-CN", "name": "简体中文", "builtIn": true, "messages": {}}
        ])
    );
    // The user without the languages permission cannot read the list itself.
    let (s, _, _) = api.get(Some("nobody"), "/api/v1/languages", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    api.put(
        "admin",
        "PUT",
        "/api/v1/languages/en",
        json!({"messages": {"menu.tasks": "Work queue"}}),
    )
    .await;
    api.put(
        "admin",
        "POST",
        "/api/v1/languages",
        json!({"code": "fr", "name": "Français", "messages": {"menu.tasks": "Tâches"}}),
    )
    .await;
    api.put(
        "admin",
        "POST",
        "/api/v1/languages",
        json!({"code": "de", "name": "Deutsch", "enabled": false, "messages": {"menu.tasks": "Aufgaben"}}),
    )
    .await;
    api.put(
        "admin",
        "PUT",
        "/api/v1/languages/zh-CN",
        json!({"enabled": false, "messages": {"menu.tasks": "待办"}}),
    )
    .await;

    let (s, v, _) = api.get(Some("nobody"), "/api/v1/ui-languages", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // Enabled ones only, by code.
    assert_eq!(
        v,
        json!([
            {"code": "en", "name": "English", "builtIn": true, "messages": {"menu.tasks": "Work queue"}},
            {"code": "fr", "name": "Français", "builtIn": false, "messages": {"menu.tasks": "Tâches"}}
        ])
    );

    // Another company's users see their own company's (none stored).
    let (s, v, _) = api.get(Some("zed"), "/api/v1/ui-languages", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v.as_array().unwrap().len(), 2, "{v}");
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .all(|l| l["messages"] == json!({})),
        "{v}"
    );
}
