//! Baton's server API: JSON under `/api/v1` (axum), OpenAPI generated from
//! the handlers (utoipa) with Swagger UI at `/api/docs`.
//!
//! Every route but login and health takes a [`auth::Caller`] (a session
//! cookie with its CSRF token, or an API token), checks the caller's
//! permission on the route's function ([`perm`]) and touches only objects of
//! the caller's company. Errors are [`error::ApiError`]s: a status, a stable code, a
//! message in the request's language, the offending field.

pub mod auth;
pub mod bootstrap;
pub mod error;
pub mod extract;
pub mod forms;
pub mod metrics;
pub mod notify;
pub mod perm;
pub mod relay;
pub mod routes;
pub mod ui;
pub mod wechat;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use baton_nodes::MasterKey;
use baton_runtime::store::{AuditRow, Store};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub use routes::ROUTES;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    /// The engine processes run in (unset: process routes answer 503).
    pub engine: std::sync::OnceLock<baton_runtime::engine::Engine>,
    pub key: MasterKey,
    /// Where report data files live (`serve --data-dir`).
    pub data_dir: PathBuf,
    pub limiter: auth::LoginLimiter,
    pub metrics: metrics::Metrics,
    /// Mark cookies `Secure` (behind TLS).
    pub secure_cookies: bool,
    /// The Sub-Manager link (unset: this server has no relay listener).
    pub relay: std::sync::OnceLock<Arc<relay::RelayHub>>,
    /// Where WeChat is (unset: WeChat's own hosts, the request's `Host`).
    wechat: std::sync::OnceLock<wechat::WeChatSettings>,
    /// Set when the server begins to stop: open streams end.
    stopping: tokio::sync::watch::Sender<bool>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(store: Store, key: MasterKey, data_dir: PathBuf) -> AppState {
        AppState(Arc::new(Inner {
            store,
            engine: std::sync::OnceLock::new(),
            key,
            data_dir,
            limiter: auth::LoginLimiter::default(),
            metrics: metrics::Metrics::default(),
            secure_cookies: false,
            relay: std::sync::OnceLock::new(),
            wechat: std::sync::OnceLock::new(),
            stopping: tokio::sync::watch::Sender::new(false),
        }))
    }

    /// The server begins to stop: every open stream (the live feed, node
    /// logs) ends, so a graceful shutdown is not held up by a browser that
    /// keeps one open.
    pub fn stop(&self) {
        self.0.stopping.send_replace(true);
    }

    /// Resolves once [`AppState::stop`] was called.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.0.stopping.subscribe();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    }

    /// The same state with these WeChat settings (set once).
    pub fn with_wechat(self, settings: wechat::WeChatSettings) -> AppState {
        let _ = self.0.wechat.set(settings);
        self
    }

    /// Where WeChat is.
    pub fn wechat(&self) -> &wechat::WeChatSettings {
        static DEFAULT: std::sync::LazyLock<wechat::WeChatSettings> =
            std::sync::LazyLock::new(wechat::WeChatSettings::default);
        self.0.wechat.get().unwrap_or(&DEFAULT)
    }

    /// The same state with the engine that runs the processes (set once).
    pub fn with_engine(self, engine: baton_runtime::engine::Engine) -> AppState {
        let _ = self.0.engine.set(engine);
        self
    }

    /// Record who changed what (never a secret in `detail`). A failure to
    /// write it is logged, not hidden. `action` is one of [`AUDIT_ACTIONS`].
    pub async fn audit(&self, caller: &auth::Caller, action: &str, object: &str, detail: &str) {
        debug_assert!(
            AUDIT_ACTIONS.contains(&action),
            "audit action `{action}` is not in AUDIT_ACTIONS (the audit log screen filters by that list)"
        );
        let row = AuditRow {
            id: uuid::Uuid::now_v7().to_string(),
            at: auth::now_ms(),
            company_id: caller.company_id().to_owned(),
            user_id: caller.user.id.clone(),
            action: action.to_owned(),
            object: object.to_owned(),
            detail: detail.to_owned(),
        };
        if let Err(e) = self.store.append_audit(&row).await {
            tracing::error!("audit log: {e} ({action} {object})");
        }
    }
}

/// Every action the audit log records; the audit log screen
/// (`ui/src/admin/system/AuditLog.vue`) offers exactly these as its filter.
pub const AUDIT_ACTIONS: &[&str] = &[
    "create",
    "update",
    "delete",
    "save",
    "login",
    "password",
    "deploy",
    "start",
    "terminate",
    "pause",
    "resume",
    "retry",
    "skip",
    "claim",
    "delegate",
    "complete",
    "link",
    "download",
    "upload",
    "issueToken",
    "reissueToken",
    "revokeToken",
    "add-helper",
    "remove-helper",
    "set-due",
    "wechat-bind",
    "wechat-unbind",
];

#[derive(OpenApi)]
#[openapi(
    info(title = "Baton API", description = "BPMN workflow orchestration for IT operations"),
    components(schemas(error::ErrorBody)),
    modifiers(&Defaults)
)]
struct ApiDoc;

/// The security schemes, and the error answers every operation may give.
struct Defaults;

impl utoipa::Modify for Defaults {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let c = api.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(auth::SESSION_COOKIE))),
        );
    }
}

/// Every operation documents the [`error::ErrorBody`] answers it can give
/// (added after the routes are collected, where a handler did not say).
fn document_errors(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let errors = [
        ("400", "Bad input: `code`, `message`, the offending `field`"),
        ("401", "Not signed in"),
        ("403", "Not permitted, or CSRF token missing"),
        ("404", "No such object (or another company's)"),
        ("405", "Method not allowed"),
        ("409", "Conflicts with an existing object"),
        ("413", "Body too large"),
        ("429", "Too many failed sign-ins"),
    ];
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            for (code, what) in errors {
                op.responses
                    .responses
                    .entry(code.to_owned())
                    .or_insert_with(|| {
                        ResponseBuilder::new()
                            .description(what)
                            .content(
                                "application/json",
                                ContentBuilder::new()
                                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                                    .build(),
                            )
                            .build()
                            .into()
                    });
            }
        }
    }
}

/// The API's OpenAPI document and its axum router.
pub fn api(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (router, mut doc) =
        routes::register(OpenApiRouter::with_openapi(ApiDoc::openapi())).split_for_parts();
    document_errors(&mut doc);
    let router = router
        .route("/metrics", axum::routing::get(metrics::scrape))
        .layer(DefaultBodyLimit::max(32 << 20))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state);
    (router, doc)
}

/// Everything `baton serve` answers under `/api`: the API, its document at
/// `/api/openapi.json`, Swagger UI at `/api/docs`.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api(state);
    api.merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
        .layer(axum::middleware::from_fn(error::plain_errors))
        .layer(axum::middleware::from_fn(error::localize))
}
