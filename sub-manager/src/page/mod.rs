//! The local page on `http_host:http_port` (LWAMS: "open http://IP:8080;
//! a login page means it started"). Sign-in with a cloud account, checked
//! by the server over the link (`loginCheck`): only users who may log in to
//! Sub-Manager get in, and nobody while the link is down. Then: the link's
//! state, terminals (no secrets), running and recent jobs, a job's log.
//!
//! Sessions are in memory (12 h), in an HttpOnly, SameSite=Strict cookie;
//! five failed sign-ins for a user name lock it for five minutes. The page
//! is plain HTTP, as LWAMS's is: bind it to a trusted interface.

mod html;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use baton_relay_protocol::{JobRef, LoginUser};
use serde::Deserialize;

use crate::Agent;
use crate::login;

const COOKIE: &str = "baton_relay_session";
const SESSION: Duration = Duration::from_secs(12 * 3600);
const MAX_FAILURES: u32 = 5;
const LOCKOUT: Duration = Duration::from_secs(300);

struct Session {
    user: LoginUser,
    until: Instant,
}

struct Page {
    agent: Arc<Agent>,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

type S = State<Arc<Page>>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The page's routes.
pub fn router(agent: Arc<Agent>) -> Router {
    let page = Arc::new(Page {
        agent,
        sessions: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
    });
    Router::new()
        .route("/", get(overview))
        .route("/jobs/{job_id}/{attempt}", get(job))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(page)
}

impl Page {
    fn user(&self, headers: &HeaderMap) -> Option<LoginUser> {
        let token = cookie(headers, COOKIE)?;
        let mut sessions = lock(&self.sessions);
        let now = Instant::now();
        sessions.retain(|_, s| s.until > now);
        sessions.get(&token).map(|s| s.user.clone())
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

async fn overview(State(p): S, headers: HeaderMap) -> Response {
    let Some(user) = p.user(&headers) else {
        return Redirect::to("/login").into_response();
    };
    let a = &p.agent;
    let (active, recent) = a.status.jobs();
    Html(html::overview(
        &user,
        &a.config,
        &a.status.link(),
        &a.vault.terminals(),
        |id| a.vault.has_secret(id),
        &active,
        &recent,
    ))
    .into_response()
}

async fn job(
    State(p): S,
    headers: HeaderMap,
    Path((job_id, attempt)): Path<(String, u32)>,
) -> Response {
    let Some(user) = p.user(&headers) else {
        return Redirect::to("/login").into_response();
    };
    match p.agent.status.job(&JobRef::new(job_id.clone(), attempt)) {
        Some((view, lines, dropped)) => Html(html::job(&user, &view, &lines, dropped)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Html(html::message(
                "No such job",
                &format!("Job {job_id} attempt {attempt} is not running here and not among the recent ones."),
            )),
        )
            .into_response(),
    }
}

async fn login_form(State(p): S, headers: HeaderMap) -> Response {
    if p.user(&headers).is_some() {
        return Redirect::to("/").into_response();
    }
    Html(html::login(&p.agent.status.link(), None)).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login(State(p): S, Form(f): Form<LoginForm>) -> Response {
    let link = p.agent.status.link();
    let username = f.username.trim().to_owned();
    let refuse = |status: StatusCode, msg: &str| {
        (status, Html(html::login(&link, Some(msg)))).into_response()
    };
    if username.is_empty() || f.password.is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "Enter your cloud user name and password.",
        );
    }
    {
        let mut failures = lock(&p.failures);
        if let Some((n, since)) = failures.get(&username).copied() {
            if since.elapsed() > LOCKOUT {
                failures.remove(&username);
            } else if n >= MAX_FAILURES {
                let left = LOCKOUT
                    .saturating_sub(since.elapsed())
                    .as_secs()
                    .div_ceil(60);
                return refuse(
                    StatusCode::TOO_MANY_REQUESTS,
                    &format!("Too many failed sign-ins for this user: try again in {left} min."),
                );
            }
        }
    }
    let a = &p.agent;
    match a
        .logins
        .check(&a.status, &a.outbox, &username, &f.password)
        .await
    {
        Ok(user) => {
            lock(&p.failures).remove(&username);
            let token = format!(
                "{:032x}{:032x}",
                rand::random::<u128>(),
                rand::random::<u128>()
            );
            tracing::info!("`{}` ({}) signed in to the local page", user.name, user.id);
            lock(&p.sessions).insert(
                token.clone(),
                Session {
                    user,
                    until: Instant::now() + SESSION,
                },
            );
            let cookie = format!(
                "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
                SESSION.as_secs()
            );
            ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
        }
        Err(login::Error::Denied(reason)) => {
            let mut failures = lock(&p.failures);
            let e = failures
                .entry(username.clone())
                .or_insert((0, Instant::now()));
            e.0 += 1;
            tracing::warn!("sign-in refused for `{username}`: {reason}");
            refuse(
                StatusCode::UNAUTHORIZED,
                &format!("Sign-in refused: {reason}"),
            )
        }
        Err(login::Error::Unavailable(msg)) => refuse(StatusCode::SERVICE_UNAVAILABLE, &msg),
    }
}

async fn logout(State(p): S, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, COOKIE) {
        lock(&p.sessions).remove(&token);
    }
    let clear = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}
