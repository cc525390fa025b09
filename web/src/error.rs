//! One error type for every route: an HTTP status, a stable code, a message
//! in English and Chinese (the one sent follows `Accept-Language`), and the
//! offending field when there is one. Store errors map to 400 (invalid
//! input, with the store's message) or 500 (logged, never detailed to the
//! caller).

use axum::Json;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable, for programs: `invalid`, `unauthenticated`, `forbidden`,
    /// `csrf`, `password_change_required`, `not_found`, `conflict`,
    /// `rate_limited`, `payload_too_large`, `internal`.
    pub code: &'static str,
    /// For people, in the request's language (en or zh-CN).
    pub message: String,
    /// The offending field (`body.name`, `query.limit`, `path.id`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub en: String,
    pub zh: String,
    pub field: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        en: impl Into<String>,
        zh: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code,
            en: en.into(),
            zh: zh.into(),
            field: None,
        }
    }

    pub fn field(mut self, f: impl Into<String>) -> Self {
        self.field = Some(f.into());
        self
    }

    /// Bad input in `field`.
    pub fn invalid(field: &str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", en, zh).field(field)
    }

    pub fn unauthenticated() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in first (session cookie or Authorization: Bearer token)",
            "请先登录（会话 Cookie 或 Authorization: Bearer 令牌）",
        )
    }

    pub fn forbidden(function: &str, level: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs `{level}` permission on `{function}`"),
            format!("需要「{function}」的「{level}」权限"),
        )
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
            format!("找不到该{what}"),
        )
    }

    pub fn conflict(en: impl Into<String>, zh: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", en, zh)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        let id = uuid::Uuid::now_v7();
        tracing::error!(error_id = %id, "internal error: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("internal error {id} (see the server log)"),
            format!("内部错误 {id}（见服务器日志）"),
        )
    }
}

impl From<baton_runtime::store::Error> for ApiError {
    fn from(e: baton_runtime::store::Error) -> Self {
        match e {
            baton_runtime::store::Error::Invalid { what } => {
                let zh = if what.contains("already taken") {
                    "名称已被占用".to_owned()
                } else {
                    format!("输入无效：{what}")
                };
                let code = if what.contains("already taken") {
                    "conflict"
                } else {
                    "invalid"
                };
                let status = if code == "conflict" {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::BAD_REQUEST
                };
                ApiError::new(status, code, what, zh)
            }
            other => ApiError::internal(other),
        }
    }
}

/// The Chinese message, carried to [`localize`] in the response's extensions.
#[derive(Clone)]
struct Zh(ErrorBody);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let en = ErrorBody {
            code: self.code,
            message: self.en,
            field: self.field.clone(),
        };
        let zh = ErrorBody {
            code: self.code,
            message: self.zh,
            field: self.field,
        };
        let mut r = (self.status, Json(en)).into_response();
        r.extensions_mut().insert(Zh(zh));
        r
    }
}

/// Whether the caller prefers Chinese (`Accept-Language: zh-CN,...`; the
/// first language listed with the highest weight wins).
pub fn wants_zh(headers: &HeaderMap) -> bool {
    let Some(v) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut best: Option<(f32, bool)> = None;
    for part in v.split(',') {
        let mut it = part.trim().split(';');
        let lang = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        if lang.is_empty() {
            continue;
        }
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang.starts_with("zh")));
        }
    }
    best.is_some_and(|(_, zh)| zh)
}

/// Middleware: error bodies in the request's language.
pub async fn localize(req: Request, next: Next) -> Response {
    let zh = wants_zh(req.headers());
    let mut res = next.run(req).await;
    if zh && let Some(Zh(body)) = res.extensions_mut().remove::<Zh>() {
        let status = res.status();
        let mut out = (status, Json(body)).into_response();
        for (k, v) in res.headers() {
            if k != header::CONTENT_LENGTH && k != header::CONTENT_TYPE {
                out.headers_mut().insert(k.clone(), v.clone());
            }
        }
        return out;
    }
    res
}

/// Axum's own rejections (unknown route, wrong method, body too large) as [`ApiError`]s.
pub async fn plain_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.extensions().get::<Zh>().is_some() || res.status().is_success() {
        return res;
    }
    let err = match res.status() {
        StatusCode::NOT_FOUND => ApiError::not_found("route"),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not take that method",
            "该路径不支持此方法",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is too large",
            "请求体过大",
        ),
        _ => return res,
    };
    let mut out = err.into_response();
    for (k, v) in res.headers() {
        if k == header::ALLOW {
            out.headers_mut().insert(k.clone(), v.clone());
        }
    }
    out
}

/// A response with no body.
pub fn no_content() -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::empty())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &str) -> HeaderMap {
        let mut m = HeaderMap::new();
        m.insert(header::ACCEPT_LANGUAGE, v.parse().unwrap());
        m
    }

    #[test]
    fn language_preference() {
        assert!(wants_zh(&h("zh-CN,zh;q=0.9,en;q=0.8")));
        assert!(!wants_zh(&h("en-US,en;q=0.9,zh-CN;q=0.8")));
        assert!(wants_zh(&h("en;q=0.5, zh;q=0.9")));
        assert!(!wants_zh(&h("")));
        assert!(!wants_zh(&HeaderMap::new()));
    }
}
