//! The server under test with the stand-in behind it ([`Api`]), its
//! answers ([`Res`]), a browser's sign-in through WeChat ([`Browser`]) and
//! what to read from the answers.

use axum::http::{StatusCode, header};
use baton_nodes::MasterKey;
use baton_runtime::store::{CompanyRow, Store, UserRow};
use baton_web::AppState;
use baton_web::auth::hash_password;
use baton_web::wechat::WeChatSettings;
use serde_json::{Value, json};

use crate::common::{self, TempDir};
use crate::logs::capture_logs;
use crate::standin::StandIn;
use crate::{PASSWORD, PUBLIC, SECRET_A, SECRET_B, SECRET_MARK};

// ---- the server -------------------------------------------------------------

pub(crate) struct Api {
    pub(crate) state: AppState,
    pub(crate) store: Store,
    pub(crate) key: MasterKey,
    pub(crate) wechat: StandIn,
    pub(crate) dir: TempDir,
}

#[derive(Debug)]
pub(crate) struct Res {
    pub(crate) status: StatusCode,
    pub(crate) location: String,
    pub(crate) cookies: Vec<String>,
    pub(crate) json: Value,
}

impl Res {
    pub(crate) fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }

    /// `name=value` of the cookie `name` this answer sets.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_owned())
    }
}

/// A browser's sign-in through WeChat, step by step.
pub(crate) struct Browser {
    /// The `baton_wechat=…` cookie the entry set.
    pub(crate) nonce: String,
}

impl Api {
    /// Companies `acme` (appid wxA) and `beta` (wxB), users `alice`, `bob`
    /// and admin `boss` in acme, `carol` and admin `bigboss` in beta; a
    /// user's API token is its id.
    pub(crate) async fn new(name: &str) -> Api {
        capture_logs();
        let dir = TempDir::new(&format!("wechat-{name}"));
        let store = common::sqlite(&dir).await;
        let key = common::key();
        let wechat = StandIn::start(&[("wxA", SECRET_A), ("wxB", SECRET_B)]).await;
        for (id, appid, secret) in [("acme", "wxA", SECRET_A), ("beta", "wxB", SECRET_B)] {
            store
                .put_company(&CompanyRow {
                    id: format!("{id}-0196f0c2-7a1b-7cde-8f00"),
                    code: id.into(),
                    name: id.into(),
                    wechat_appid: appid.into(),
                    wechat_secret_enc: Some(key.encrypt(secret)),
                    created_at: 0,
                    updated_at: 0,
                })
                .await
                .unwrap();
        }
        let acme = "acme-0196f0c2-7a1b-7cde-8f00";
        let beta = "beta-0196f0c2-7a1b-7cde-8f00";
        for (id, company, admin) in [
            ("alice", acme, false),
            ("bob", acme, false),
            ("boss", acme, true),
            ("carol", beta, false),
            ("bigboss", beta, true),
        ] {
            let row = UserRow {
                password_hash: hash_password(PASSWORD).unwrap(),
                ..common::user_row(company, id, admin)
            };
            store.put_user(&row).await.unwrap();
            common::api_token(&store, id, id).await;
        }
        let state = AppState::new(store.clone(), key.clone(), dir.join("data")).with_wechat(
            WeChatSettings {
                open_base: wechat.base.clone(),
                api_base: wechat.base.clone(),
                public_url: Some(PUBLIC.into()),
            },
        );
        Api {
            state,
            store,
            key,
            wechat,
            dir,
        }
    }

    pub(crate) async fn send(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Res {
        let a = common::send_json(&self.state, method, uri, None, headers, body).await;
        let status = a.status;
        let location = a.header(header::LOCATION.as_str());
        let cookies = a.header_all(header::SET_COOKIE.as_str());
        let text = String::from_utf8_lossy(&a.bytes);
        // No answer ever holds an app secret: not its body, not a header.
        assert!(!text.contains(SECRET_MARK), "{method} {uri}: {text}");
        assert!(
            !location.contains(SECRET_MARK),
            "{method} {uri}: {location}"
        );
        assert!(
            status.as_u16() < 500 || status == StatusCode::BAD_GATEWAY,
            "{method} {uri}: {status} {text}"
        );
        Res {
            status,
            location,
            cookies,
            json: a.json(),
        }
    }

    pub(crate) async fn as_user(&self, token: &str, method: &str, uri: &str) -> Res {
        self.send(
            method,
            uri,
            &[("authorization", &format!("Bearer {token}"))],
            None,
        )
        .await
    }

    /// The mobile page opened from the company's menu: the entry, then
    /// WeChat's page as `openid`. The answer is where WeChat sends the
    /// browser back (the server's callback, not called yet).
    pub(crate) async fn start(
        &self,
        company: &str,
        appid: &str,
        openid: &str,
    ) -> (Browser, String) {
        let r = self
            .send(
                "GET",
                &format!("/api/v1/wechat/entry?appid={appid}&companyCode={company}"),
                &[],
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::FOUND, "{r:?}");
        let nonce = r.cookie("baton_wechat").expect("the entry sets its cookie");
        self.wechat.visitor(openid);
        let back = self.wechat.open(&r.location).await;
        let path = back
            .strip_prefix(PUBLIC)
            .unwrap_or_else(|| panic!("WeChat sends the browser to {back}"))
            .to_owned();
        assert!(path.starts_with("/api/v1/wechat/callback?"), "{path}");
        (Browser { nonce }, path)
    }

    pub(crate) async fn callback(&self, b: &Browser, path: &str) -> Res {
        self.send("GET", path, &[("cookie", &b.nonce)], None).await
    }

    /// The whole visit: entry, WeChat, callback.
    pub(crate) async fn visit(&self, company: &str, appid: &str, openid: &str) -> (Browser, Res) {
        let (b, path) = self.start(company, appid, openid).await;
        let r = self.callback(&b, &path).await;
        (b, r)
    }

    pub(crate) async fn bind(
        &self,
        b: &Browser,
        ticket: &str,
        username: &str,
        password: &str,
    ) -> Res {
        let body = json!({"ticket": ticket, "username": username, "password": password});
        self.post_bind(&[("cookie", &b.nonce)], body).await
    }

    /// A binding with exactly these headers and body.
    pub(crate) async fn post_bind(&self, headers: &[(&str, &str)], body: Value) -> Res {
        self.send("POST", "/api/v1/wechat/bind", headers, Some(body))
            .await
    }

    /// A first visit of `openid` that binds `username` (with the right
    /// password) through the sign-in page; the binding's answer.
    pub(crate) async fn visit_and_bind(
        &self,
        company: &str,
        appid: &str,
        openid: &str,
        username: &str,
    ) -> Res {
        let (b, r) = self.visit(company, appid, openid).await;
        self.bind(&b, &ticket_of(&r), username, PASSWORD).await
    }

    pub(crate) async fn bound_user(&self, company: &str, openid: &str) -> Option<String> {
        self.store
            .wechat_binding(company, openid)
            .await
            .unwrap()
            .map(|b| b.user_id)
    }
}

/// The bind ticket of a redirect to the sign-in page.
pub(crate) fn ticket_of(r: &Res) -> String {
    assert_eq!(r.status, StatusCode::FOUND, "{r:?}");
    let (page, ticket) = r
        .location
        .split_once("#wechat=")
        .unwrap_or_else(|| panic!("to the sign-in page with a ticket: {}", r.location));
    assert!(page.starts_with("/m/login?company="), "{page}");
    ticket.to_owned()
}

/// The value of `name` in the query of a callback path.
pub(crate) fn param(path: &str, name: &str) -> String {
    let after = path.split(&format!("{name}=")).nth(1).unwrap();
    after.split('&').next().unwrap().to_owned()
}

/// The session cookie and CSRF token of a sign-in through the callback.
pub(crate) fn signed_in(r: &Res) -> (String, String) {
    assert_eq!(r.status, StatusCode::FOUND, "{r:?}");
    let csrf = r
        .location
        .strip_prefix("/m/wechat#csrf=")
        .unwrap_or_else(|| panic!("to the mobile page, signed in: {}", r.location))
        .to_owned();
    let cookie = r.cookie("baton_session").expect("a session cookie");
    (cookie, csrf)
}
