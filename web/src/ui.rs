//! The browser front end: `web/ui` (Vue, Element Plus, Vant, bpmn-js), built
//! by Vite into `web/ui/dist` (`build.rs` runs npm when the sources changed)
//! and embedded in the binary, served at `/` behind the API.
//!
//! Hashed files under `/assets/` are cached for a year; everything else is
//! revalidated (ETag). A path that is no file is a screen of the single-page
//! app: `index.html` answers it, unless it is under `/api` (a JSON 404, like
//! the API's own) or names a missing file (a 404, so a stale page does not
//! get HTML for a script).

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::{ApiError, localize};

#[derive(RustEmbed)]
#[folder = "ui/dist"]
struct Assets;

/// What `baton serve` answers outside the API: mount it as the app's fallback.
pub fn router() -> Router {
    Router::new()
        .fallback(serve)
        .layer(axum::middleware::from_fn(localize))
}

const INDEX: &str = "index.html";

async fn serve(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found("route").into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        let mut r = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not take that method",
            "该路径不支持此方法",
        )
        .into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let rel = path.trim_start_matches('/');
    let (name, file) = match Assets::get(rel).filter(|_| !rel.is_empty()) {
        Some(f) => (rel, f),
        None if names_a_file(rel) => return (StatusCode::NOT_FOUND, "not found").into_response(),
        None => match Assets::get(INDEX) {
            Some(f) => (INDEX, f),
            None => return (StatusCode::NOT_FOUND, "the UI is not built").into_response(),
        },
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, cache);
    let r = if fresh {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type(name, &file))
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .body(Body::from(file.data.into_owned()))
    };
    r.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// A request for a file that is not there (`/assets/…`, a name with an
/// extension), as opposed to a screen of the app.
fn names_a_file(rel: &str) -> bool {
    rel.starts_with("assets/") || rel.rsplit('/').next().is_some_and(|s| s.contains('.'))
}

fn content_type(name: &str, file: &rust_embed::EmbeddedFile) -> String {
    let mime = file.metadata.mimetype();
    let text = mime.starts_with("text/")
        || mime == "application/javascript"
        || mime == "text/javascript"
        || mime == "application/json"
        || mime == "image/svg+xml";
    if name.ends_with(".js") || name.ends_with(".mjs") {
        "text/javascript; charset=utf-8".to_owned()
    } else if text && !mime.contains("charset") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(path: &str, h: &[(&str, &str)]) -> (StatusCode, HeaderMap, String) {
        let mut req = Request::builder().uri(path);
        for (k, v) in h {
            req = req.header(*k, *v);
        }
        let r = router()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = r.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    #[tokio::test]
    async fn screens_get_the_app_and_assets_are_cached() {
        let (s, h, body) = get("/", &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "text/html; charset=utf-8");
        assert_eq!(h[header::CACHE_CONTROL], "no-cache");
        assert!(body.contains("<div id=\"app\">"));

        // A screen of the app (client-side route) answers the same page.
        let (s, _, deep) = get("/monitor/some-instance", &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(deep, body);

        // Every asset the page names is served, typed and cached for good.
        let script = body
            .split("src=\"/")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("index.html names its script");
        let (s, h, _) = get(&format!("/{script}"), &[]).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(h[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(
            h[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );

        // Revalidation.
        let etag = h[header::ETAG].to_str().unwrap().to_owned();
        let (s, _, b) = get(&format!("/{script}"), &[("if-none-match", &etag)]).await;
        assert_eq!(s, StatusCode::NOT_MODIFIED);
        assert!(b.is_empty());
    }

    #[tokio::test]
    async fn missing_files_and_api_paths_are_not_the_app() {
        let (s, _, _) = get("/assets/gone-1234.js", &[]).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _, _) = get("/favicon.ico", &[]).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, h, body) = get("/api/v1/no-such-route", &[]).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(h[header::CONTENT_TYPE], "application/json");
        assert!(body.contains("\"code\":\"not_found\""), "{body}");
        let (_, _, zh) = get("/api/v1/no-such-route", &[("accept-language", "zh-CN")]).await;
        assert!(zh.contains("找不到"), "{zh}");
    }
}
