//! What the whole-system tests share: a real `baton serve` process and an
//! HTTP client for its API that keeps every body it received (for the
//! secret searches).
#![allow(dead_code)] // each test binary uses a part

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed when dropped (a failing test leaves none behind).
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// How a request is signed.
#[derive(Clone)]
pub enum Auth {
    None,
    Bearer(String),
    /// A browser session: the cookie and the CSRF token to echo.
    Session {
        cookie: String,
        csrf: String,
    },
}

/// An HTTP client for the server that keeps every response body it got.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub bodies: Mutex<Vec<(String, Vec<u8>)>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// `name=value` of the `Set-Cookie` header, if any.
    pub fn cookie(&self) -> Option<String> {
        let v = self
            .headers
            .get(reqwest::header::SET_COOKIE)?
            .to_str()
            .ok()?;
        Some(v.split(';').next()?.trim().to_owned())
    }
}

impl Api {
    pub async fn send(
        &self,
        auth: &Auth,
        method: Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Reply {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.bearer_auth(t),
            Auth::Session { cookie, csrf } => {
                req = req.header("cookie", cookie).header("x-csrf-token", csrf);
            }
        }
        let res = build(req)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap().to_vec();
        self.bodies
            .lock()
            .unwrap()
            .push((format!("{method} {path}"), bytes.clone()));
        Reply {
            status,
            headers,
            bytes,
        }
    }

    pub async fn call(
        &self,
        auth: &Auth,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        self.send(auth, method, path, |r| match body {
            Some(b) => r.json(&b),
            None => r,
        })
        .await
    }

    /// A JSON call that must answer `want`; its body.
    pub async fn ok(
        &self,
        auth: &Auth,
        method: Method,
        path: &str,
        body: Option<Value>,
        want: u16,
    ) -> Value {
        let r = self.call(auth, method.clone(), path, body).await;
        assert_eq!(
            r.status,
            want,
            "{method} {path}: {}",
            String::from_utf8_lossy(&r.bytes)
        );
        r.json()
    }

    /// Signs in, changes the one-time password to `password` (a fresh
    /// session comes back) and creates an API token.
    pub async fn sign_in(&self, username: &str, first: &str, password: &str) -> Auth {
        let r = self
            .call(
                &Auth::None,
                Method::POST,
                "/api/v1/auth/login",
                Some(json!({"company": "default", "username": username, "password": first})),
            )
            .await;
        assert_eq!(r.status, 200, "login {username}: {}", r.json());
        assert_eq!(r.json()["mustChangePassword"], true, "{}", r.json());
        let session = Auth::Session {
            cookie: r.cookie().expect("a session cookie"),
            csrf: r.json()["csrfToken"].as_str().unwrap().to_owned(),
        };
        // Nothing but the password change before it.
        let r = self
            .call(&session, Method::GET, "/api/v1/tasks", None)
            .await;
        assert_eq!(r.status, 403, "{username} before the change: {}", r.json());
        let r = self
            .call(
                &session,
                Method::POST,
                "/api/v1/auth/password",
                Some(json!({"current": first, "password": password})),
            )
            .await;
        assert_eq!(r.status, 200, "password {username}: {}", r.json());
        let session = Auth::Session {
            cookie: r.cookie().expect("a new session cookie"),
            csrf: r.json()["csrfToken"].as_str().unwrap().to_owned(),
        };
        let t = self
            .ok(
                &session,
                Method::POST,
                "/api/v1/auth/tokens",
                Some(json!({"name": "worked-example"})),
                201,
            )
            .await;
        Auth::Bearer(t["token"].as_str().expect("a token").to_owned())
    }
}

/// Waits up to `limit` for `f` to give `Some`; panics with `what()`.
pub async fn until<T, F, Fut>(limit: Duration, what: impl Fn() -> String, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out: {}", what());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A running `baton serve` (killed when dropped) and its stderr log.
pub struct Serve {
    pub base: String,
    pub log_path: std::path::PathBuf,
    /// The first admin's one-time password, when this server created it.
    pub first_password: Option<String>,
    pub proc: Proc,
}

impl Serve {
    /// Starts `baton serve` on `port` with `args` (the store and the rest)
    /// and `BATON_MASTER_KEY=master_key`, in `dir`, logging to `dir/<log>`;
    /// waits until it answers.
    pub async fn start(
        dir: &Path,
        log: &str,
        master_key: &str,
        port: u16,
        args: &[String],
    ) -> Serve {
        // reqwest is built without a TLS provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = format!("http://127.0.0.1:{port}");
        let log_path = dir.join(log);
        let proc = Proc(
            Command::new(env!("CARGO_BIN_EXE_baton"))
                .arg("serve")
                .args(["--listen", &format!("127.0.0.1:{port}")])
                .args(args)
                .current_dir(dir)
                .env("BATON_MASTER_KEY", master_key)
                .env("BATON_LOG", "info")
                .env_remove("BATON_CONFIG")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log_path).unwrap())
                .spawn()
                .expect("baton serve starts"),
        );
        let mut serve = Serve {
            base,
            log_path,
            first_password: None,
            proc,
        };
        let http = reqwest::Client::new();
        until(
            Duration::from_secs(60),
            || format!("baton serve never answered:\n{}", serve.log()),
            || async {
                let r = http
                    .get(format!("{}/api/v1/health", serve.base))
                    .send()
                    .await;
                r.ok().filter(|r| r.status().is_success()).map(|_| ())
            },
        )
        .await;
        // The first-start password: the line after "with the password".
        let text = serve.log();
        serve.first_password = text
            .lines()
            .skip_while(|l| !l.contains("with the password"))
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.contains("with the password"))
            .map(str::to_owned);
        serve
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// An API client for this server.
    pub fn api(&self) -> Api {
        Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            base: self.base.clone(),
            bodies: Mutex::new(Vec::new()),
        }
    }

    /// The operating-system process id of the server.
    pub fn pid(&self) -> u32 {
        self.proc.0.id()
    }
}
