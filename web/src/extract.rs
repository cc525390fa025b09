//! Extractors whose rejections are [`ApiError`]s naming the field: a JSON
//! body, a query string, a path parameter; and the list parameters every
//! list route shares.

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::error::ApiError;

/// A JSON body; a bad one is `400 invalid` naming the field serde names.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

fn json_rejection(e: JsonRejection) -> ApiError {
    let text = e.body_text();
    // serde's messages name the field ("missing field `name` at line 1 column 2").
    let field = text
        .split('`')
        .nth(1)
        .map(|f| format!("body.{f}"))
        .unwrap_or_else(|| "body".to_owned());
    let (field, en, zh) = match e {
        JsonRejection::MissingJsonContentType(_) => (
            "header.Content-Type".to_owned(),
            "send the body as JSON (Content-Type: application/json)".to_owned(),
            "请求体须为 JSON（Content-Type: application/json）".to_owned(),
        ),
        _ => (
            field,
            format!("the body is not what this route takes: {text}"),
            format!("请求体格式不正确：{text}"),
        ),
    };
    ApiError::invalid(&field, en, zh)
}

/// Query parameters; bad ones are `400 invalid` naming the parameter.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Query(v)),
            Err(e) => Err(query_rejection(e)),
        }
    }
}

fn query_rejection(e: QueryRejection) -> ApiError {
    let text = e.body_text();
    // serde_urlencoded names the field of a bad value first (`...query
    // string: limit: invalid digit found in string`), a missing or unknown
    // one in backticks.
    let bad_value = text
        .split_once("query string: ")
        .and_then(|(_, rest)| rest.split_once(": "))
        .map(|(name, _)| name)
        .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let field = bad_value
        .or_else(|| text.split('`').nth(1))
        .map(|f| format!("query.{f}"))
        .unwrap_or_else(|| "query".to_owned());
    ApiError::invalid(
        &field,
        format!("bad query parameters: {text}"),
        format!("查询参数不正确：{text}"),
    )
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(e) => Err(path_rejection(e)),
        }
    }
}

fn path_rejection(e: PathRejection) -> ApiError {
    let text = e.body_text();
    ApiError::invalid(
        "path",
        format!("bad path: {text}"),
        format!("路径参数不正确：{text}"),
    )
}

/// The list parameters every list route takes: `offset`, `limit` (1–500,
/// default 50), `sort` (a field, `-field` for descending), `q` (a
/// case-insensitive substring of the name-like fields).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub offset: Option<u64>,
    pub limit: Option<u64>,
    pub sort: Option<String>,
    pub q: Option<String>,
}

/// A sortable field of a list: its name and its sort key.
pub type SortField<T> = (&'static str, fn(&T) -> String);

/// A page of a list, with the total before paging.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub offset: u64,
    pub limit: u64,
}

impl ListParams {
    /// Filter by `q` on `text`, sort by one of `fields` (each with its key
    /// function), then page. In memory: these lists are small and company-scoped.
    pub fn apply<T>(
        &self,
        mut items: Vec<T>,
        text: impl Fn(&T) -> String,
        fields: &[SortField<T>],
    ) -> Result<Page<T>, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::invalid(
                "query.limit",
                "limit must be between 1 and 500",
                "limit 须在 1 到 500 之间",
            ));
        }
        if let Some(q) = self.q.as_deref().filter(|q| !q.is_empty()) {
            let q = q.to_lowercase();
            items.retain(|i| text(i).to_lowercase().contains(&q));
        }
        if let Some(sort) = self.sort.as_deref().filter(|s| !s.is_empty()) {
            let (desc, name) = match sort.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, sort),
            };
            let Some((_, key)) = fields.iter().find(|(f, _)| *f == name) else {
                let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
                return Err(ApiError::invalid(
                    "query.sort",
                    format!("cannot sort by `{name}` (one of {})", names.join(", ")),
                    format!("不能按「{name}」排序（可选：{}）", names.join("、")),
                ));
            };
            items.sort_by_key(*key);
            if desc {
                items.reverse();
            }
        }
        let total = items.len();
        let offset = self.offset.unwrap_or(0);
        let items = items
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        Ok(Page {
            items,
            total,
            offset,
            limit,
        })
    }
}

/// A multipart form; a body that is not one is `400 invalid`.
pub struct Form(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Form)
            .map_err(|e: MultipartRejection| {
                let text = e.body_text();
                ApiError::invalid(
                    "body",
                    format!("send a multipart/form-data body: {text}"),
                    format!("请求体须为 multipart/form-data：{text}"),
                )
            })
    }
}
