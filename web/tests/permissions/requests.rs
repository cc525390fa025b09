//! A route made concrete: its path with company A's objects, a plausible
//! body, and the call ([`call`]).

use axum::http::StatusCode;
use http_body_util::BodyExt;
use serde_json::json;

use crate::common;
use crate::seed::Seeded;
use crate::{PASSWORD, PROCESS, TEMPLATE};

/// The path with company A's object for its parameter.
fn concrete(path: &str, instance: &str, task: &str) -> String {
    if path.starts_with("/api/v1/processes/") {
        let p = path.replace("{key}", "p").replace("{version}", "1");
        return if p.ends_with("/diff") {
            format!("{p}?from=1&to=1")
        } else {
            p
        };
    }
    let id = if path.starts_with("/api/v1/instances/") {
        instance
    } else if path.starts_with("/api/v1/tasks/") {
        task
    } else if path.starts_with("/api/v1/schedules/") {
        "sched-a"
    } else if path.starts_with("/api/v1/companies/") {
        "default"
    } else if path.starts_with("/api/v1/users/") {
        "target"
    } else if path.starts_with("/api/v1/groups/") {
        "g-view"
    } else if path.starts_with("/api/v1/scripts/") {
        "script-a"
    } else if path.starts_with("/api/v1/data-sources/") {
        "ds-a"
    } else if path.starts_with("/api/v1/globals/") {
        "global_a"
    } else if path.starts_with("/api/v1/forms/") {
        "form-a"
    } else if path.starts_with("/api/v1/holidays/") {
        "hol-a"
    } else if path.starts_with("/api/v1/languages/") {
        "fr"
    } else if path.starts_with("/api/v1/report-templates/") {
        "rt-a"
    } else if path.starts_with("/api/v1/reports/") {
        "rd-a"
    } else if path.starts_with("/api/v1/auth/tokens/") {
        "tok-target"
    } else if path.starts_with("/api/v1/host-groups/") {
        "hg-a"
    } else if path.starts_with("/api/v1/hosts/") {
        "host-a"
    } else if path.starts_with("/api/v1/terminals/") {
        "term-a"
    } else {
        ""
    };
    let query = if path.ends_with("/package") {
        "?os=linux"
    } else {
        ""
    };
    path.replace("{id}", id)
        .replace("{name}", id)
        .replace("{code}", id)
        .replace("{accountId}", "acct-a")
        .replace(
            "{fileId}",
            if path.starts_with("/api/v1/instances/") {
                "tfi-a"
            } else {
                "tf-a"
            },
        )
        .replace("{user}", "target")
        .replace("{element}", "w")
        + query
}

fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    let b = "baton-matrix-boundary";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nuploaded\r\n--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

/// A plausible body for the route, so that a caller through the gate does real work.
fn body_for(method: &str, path: &str) -> Option<(String, Vec<u8>)> {
    let j =
        |v: serde_json::Value| Some(("application/json".to_owned(), v.to_string().into_bytes()));
    match (method, path) {
        ("POST", "/api/v1/auth/login") => j(json!({"username": "admin", "password": PASSWORD})),
        ("POST", "/api/v1/auth/password") => {
            j(json!({"current": PASSWORD, "password": "Another-pass-123"}))
        }
        ("POST", "/api/v1/auth/tokens") => j(json!({"name": "t2"})),
        ("POST", "/api/v1/companies") | ("PUT", "/api/v1/companies/{id}") => {
            j(json!({"code": "c-new", "name": "New"}))
        }
        ("POST", "/api/v1/users") => j(json!({"username": "u-new", "password": "Password-123"})),
        ("PUT", "/api/v1/users/{id}") => j(json!({"username": "target", "name": "T"})),
        ("POST", "/api/v1/groups") | ("PUT", "/api/v1/groups/{id}") => {
            j(json!({"name": "g-new", "permissions": {"editor": "view"}}))
        }
        ("PUT", "/api/v1/globals/{name}") => j(json!({"value": 2})),
        ("POST", "/api/v1/processes") => j(json!({"xml": PROCESS, "key": "p2"})),
        ("POST", "/api/v1/instances") => j(json!({"process": "p", "variables": {"n": 1}})),
        ("POST", "/api/v1/schedules") | ("PUT", "/api/v1/schedules/{id}") => {
            j(json!({"process": "p", "cron": "0 0/10 * * * ?", "tz": "Asia/Shanghai"}))
        }
        ("POST", "/api/v1/instances/{id}/retry") | ("POST", "/api/v1/instances/{id}/skip") => {
            j(json!({}))
        }
        ("POST", "/api/v1/tasks/{id}/delegate") => j(json!({"userId": "target"})),
        ("POST", "/api/v1/tasks/{id}/complete") => j(json!({"values": {"ok": true}})),
        ("POST", "/api/v1/tasks/{id}/link") => j(json!({"hours": 1})),
        ("POST", "/api/v1/tasks/{id}/files") | ("POST", "/api/v1/approvals/{token}/files") => {
            let b = "baton-matrix-file";
            Some((
                format!("multipart/form-data; boundary={b}"),
                format!(
                    "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhello\r\n--{b}--\r\n"
                )
                .into_bytes(),
            ))
        }
        ("POST", "/api/v1/tasks/{id}/helpers") => j(json!({"user": "target"})),
        ("PUT", "/api/v1/tasks/{id}/due") => j(json!({"due": "P2D"})),
        ("POST", "/api/v1/conditions") => j(json!({"variables": {"x": 1}})),
        ("POST", "/api/v1/approvals/{token}/complete") => j(json!({"values": {}})),
        ("POST", "/api/v1/schedules/preview") => {
            j(json!({"cron": "0 0 9 ? * MON-FRI", "tz": "Asia/Shanghai", "n": 3}))
        }
        ("POST", "/api/v1/scripts") | ("PUT", "/api/v1/scripts/{id}") => {
            j(json!({"name": "s-new", "language": "sh", "content": "echo ${x}"}))
        }
        ("POST", "/api/v1/data-sources") | ("PUT", "/api/v1/data-sources/{id}") => {
            j(json!({"name": "d-new", "url": "postgres://x@127.0.0.1:1/x", "password": "pw-new"}))
        }
        ("POST", "/api/v1/forms") | ("PUT", "/api/v1/forms/{id}") => j(json!({
            "key": "f-new", "name": "F",
            "fields": [{"id": "ok", "label": "OK", "type": "select",
                        "options": [{"value": "y", "label": "Yes"}]}]
        })),
        ("POST", "/api/v1/holidays") | ("PUT", "/api/v1/holidays/{id}") => j(json!({
            "name": "h-new", "ranges": [{"start": "2026-05-01", "end": "2026-05-05"}]
        })),
        ("POST", "/api/v1/languages") => j(json!({"code": "es", "name": "Español"})),
        ("PUT", "/api/v1/languages/{code}") => j(json!({"enabled": true, "messages": {"k": "v"}})),
        ("POST", "/api/v1/report-templates") | ("PUT", "/api/v1/report-templates/{id}") => {
            Some(multipart(TEMPLATE))
        }
        ("POST", "/api/v1/host-groups") | ("PUT", "/api/v1/host-groups/{id}") => {
            j(json!({"name": "hg-new"}))
        }
        ("POST", "/api/v1/hosts") | ("PUT", "/api/v1/hosts/{id}") => j(json!({"name": "host-new"})),
        ("PUT", "/api/v1/hosts/{id}/backups") => j(json!({"backups": []})),
        ("POST", "/api/v1/terminals") | ("PUT", "/api/v1/terminals/{id}") => {
            j(json!({"name": "term-new", "hostAddress": "10.0.0.9"}))
        }
        ("POST", "/api/v1/terminals/{id}/accounts")
        | ("PUT", "/api/v1/terminals/{id}/accounts/{accountId}") => {
            j(json!({"username": "u-new", "password": "pw-new"}))
        }
        _ => None,
    }
}

pub(crate) async fn call(
    s: &Seeded,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, String) {
    let uri = concrete(path, &s.instance, &s.task);
    let res = common::respond(&s.state, method, &uri, token, &[], body_for(method, path)).await;
    let status = res.status();
    let stream = res
        .headers()
        .get("content-type")
        .is_some_and(|c| c == "text/event-stream");
    let mut body = res.into_body();
    let bytes = if stream {
        // A live stream never ends: what it sent in its first moments.
        let mut got = Vec::new();
        while let Ok(Some(Ok(f))) =
            tokio::time::timeout(std::time::Duration::from_millis(50), body.frame()).await
        {
            if let Ok(d) = f.into_data() {
                got.extend_from_slice(&d);
            }
        }
        got.into()
    } else {
        body.collect().await.unwrap().to_bytes()
    };
    (status, String::from_utf8_lossy(&bytes).into_owned())
}
