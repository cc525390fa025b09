//! WeChat web authorisation (OAuth 2.0, scope `snsapi_base`) as WeChat
//! documents it for official accounts: the browser is sent to
//! `{open}/connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope=snsapi_base&state#wechat_redirect`,
//! WeChat sends it back to `redirect_uri?code&state`, and the server trades
//! the code for the visitor's openid at
//! `{api}/sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`.
//!
//! What this server adds, all signed under a key derived from the master
//! key and tied to the browser that started (a random nonce in an
//! HttpOnly cookie, [`NONCE_COOKIE`], that the signatures cover):
//! - the `state`: the company and an expiry. WeChat allows only
//!   `[a-zA-Z0-9]`, at most 128 bytes, so it is hex and a 128-bit tag.
//! - the bind ticket: company, openid and expiry, handed to the mobile
//!   sign-in page when the openid is bound to nobody yet. Tied to the
//!   nonce, a ticket cannot be planted in someone else's browser to bind
//!   the planter's WeChat to the victim's account.
//!
//! The app secret goes to WeChat's API only: never into a URL this server
//! shows, a log line or an error (`reqwest` errors are stripped of their
//! URL, which holds it).

use std::time::Duration;

use baton_nodes::{MasterKey, Secret};
use reqwest::Url;
use serde::Deserialize;

/// Where WeChat is; `serve --wechat-open-base / --wechat-api-base` (a
/// stand-in in tests) and the public address WeChat sends browsers back to.
#[derive(Debug, Clone)]
pub struct WeChatSettings {
    /// The authorisation page's host (`https://open.weixin.qq.com`).
    pub open_base: String,
    /// The API host (`https://api.weixin.qq.com`).
    pub api_base: String,
    /// This server as browsers reach it (`serve --public-url`); unset: the
    /// request's `Host`.
    pub public_url: Option<String>,
}

impl Default for WeChatSettings {
    fn default() -> Self {
        WeChatSettings {
            open_base: DEFAULT_OPEN_BASE.to_owned(),
            api_base: DEFAULT_API_BASE.to_owned(),
            public_url: None,
        }
    }
}

pub const DEFAULT_OPEN_BASE: &str = "https://open.weixin.qq.com";
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";

/// The cookie that ties a sign-in through WeChat to the browser that began it.
pub const NONCE_COOKIE: &str = "baton_wechat";
/// The path it is sent on (the WeChat routes only).
pub const NONCE_PATH: &str = "/api/v1/wechat";
/// How long a `state` and a bind ticket live.
pub const TTL: Duration = Duration::from_secs(600);
/// WeChat's limit on `state`.
const STATE_MAX: usize = 128;
/// How long the server waits for WeChat's API.
const API_TIMEOUT: Duration = Duration::from_secs(10);

const STATE_PURPOSE: &str = "wechat-state";
const TICKET_PURPOSE: &str = "wechat-bind-ticket";

/// Why a `state` or ticket was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not this server's, altered, or from another browser.
    Invalid,
    /// This server's, but too old.
    Expired,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Equal without an early exit.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The first 128 bits of the HMAC, in hex.
fn short_tag(key: &MasterKey, purpose: &str, message: &str) -> String {
    use base64::Engine as _;
    let full = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key.sign(purpose, message))
        .unwrap_or_default();
    hex(&full[..full.len().min(16)])
}

/// A fresh nonce for [`NONCE_COOKIE`].
pub fn new_nonce() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    hex(&b)
}

/// The `state` for `company_id`, good until `expires_s` (Unix seconds) in
/// the browser holding `nonce`: `HEX(company)xEXPIRYxTAG`, alphanumeric.
pub fn sign_state(key: &MasterKey, company_id: &str, nonce: &str, expires_s: i64) -> String {
    let tag = short_tag(
        key,
        STATE_PURPOSE,
        &format!("{company_id}|{expires_s}|{nonce}"),
    );
    format!("{}x{expires_s}x{tag}", hex(company_id.as_bytes()))
}

/// Whether a `state` fits WeChat's rules.
pub fn state_fits(state: &str) -> bool {
    state.len() <= STATE_MAX && state.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The company a `state` names, if it is this server's for `nonce` and
/// not expired at `now_s`.
pub fn verify_state(
    key: &MasterKey,
    state: &str,
    nonce: &str,
    now_s: i64,
) -> Result<String, Refused> {
    let mut parts = state.split('x');
    let (Some(company), Some(expires), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refused::Invalid);
    };
    let company = unhex(company)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(Refused::Invalid)?;
    let expires_s: i64 = expires.parse().map_err(|_| Refused::Invalid)?;
    let want = short_tag(
        key,
        STATE_PURPOSE,
        &format!("{company}|{expires_s}|{nonce}"),
    );
    if !same(tag, &want) {
        return Err(Refused::Invalid);
    }
    if now_s >= expires_s {
        return Err(Refused::Expired);
    }
    Ok(company)
}

/// What a bind ticket carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub company_id: String,
    pub openid: String,
}

/// A bind ticket: `HEX(company).HEX(openid).EXPIRY.SIGNATURE`.
pub fn sign_ticket(key: &MasterKey, t: &Ticket, nonce: &str, expires_s: i64) -> String {
    let sig = key.sign(
        TICKET_PURPOSE,
        &format!("{}|{}|{expires_s}|{nonce}", t.company_id, t.openid),
    );
    format!(
        "{}.{}.{expires_s}.{sig}",
        hex(t.company_id.as_bytes()),
        hex(t.openid.as_bytes())
    )
}

/// The ticket's company and openid, if it is this server's for `nonce` and
/// not expired at `now_s`.
pub fn verify_ticket(
    key: &MasterKey,
    ticket: &str,
    nonce: &str,
    now_s: i64,
) -> Result<Ticket, Refused> {
    let mut parts = ticket.split('.');
    let (Some(company), Some(openid), Some(expires), Some(sig), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(Refused::Invalid);
    };
    let text = |h: &str| unhex(h).and_then(|b| String::from_utf8(b).ok());
    let (Some(company_id), Some(openid)) = (text(company), text(openid)) else {
        return Err(Refused::Invalid);
    };
    let expires_s: i64 = expires.parse().map_err(|_| Refused::Invalid)?;
    if !key.verify(
        TICKET_PURPOSE,
        &format!("{company_id}|{openid}|{expires_s}|{nonce}"),
        sig,
    ) {
        return Err(Refused::Invalid);
    }
    if now_s >= expires_s {
        return Err(Refused::Expired);
    }
    Ok(Ticket { company_id, openid })
}

/// WeChat's authorisation page for `appid`, sending the browser back to
/// `redirect_uri` with `state`. The parameters are in WeChat's documented
/// order (its page is known to insist on it).
pub fn authorize_url(
    open_base: &str,
    appid: &str,
    redirect_uri: &str,
    state: &str,
) -> Result<String, String> {
    let mut u = Url::parse(&format!(
        "{}/connect/oauth2/authorize",
        open_base.trim_end_matches('/')
    ))
    .map_err(|e| format!("--wechat-open-base `{open_base}`: {e}"))?;
    u.query_pairs_mut()
        .append_pair("appid", appid)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("response_type", "code")
        .append_pair("scope", "snsapi_base")
        .append_pair("state", state);
    u.set_fragment(Some("wechat_redirect"));
    Ok(u.to_string())
}

/// Why the code could not be traded for an openid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// WeChat refused: its `errcode` and `errmsg` (40029 invalid code,
    /// 40163 code been used, 40125 invalid appsecret, ...).
    Refused { errcode: i64, errmsg: String },
    /// WeChat could not be reached, or answered something else than its
    /// documented JSON (the text says what; never the secret).
    Failed(String),
}

impl ExchangeError {
    /// A code that is bad (mistyped, used, expired) rather than a server
    /// misconfiguration.
    pub fn bad_code(&self) -> bool {
        matches!(self, ExchangeError::Refused { errcode, .. } if matches!(errcode, 40029 | 40163 | 41008))
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    openid: Option<String>,
    errcode: Option<i64>,
    errmsg: Option<String>,
}

/// Trades `code` for the visitor's openid (server to server).
pub async fn exchange_code(
    api_base: &str,
    appid: &str,
    secret: &Secret,
    code: &str,
) -> Result<String, ExchangeError> {
    let mask = |s: &str| baton_nodes::secret::mask_all(s, &[secret.expose().to_owned()]);
    let mut u = Url::parse(&format!(
        "{}/sns/oauth2/access_token",
        api_base.trim_end_matches('/')
    ))
    .map_err(|e| ExchangeError::Failed(format!("--wechat-api-base `{api_base}`: {e}")))?;
    u.query_pairs_mut()
        .append_pair("appid", appid)
        .append_pair("secret", secret.expose())
        .append_pair("code", code)
        .append_pair("grant_type", "authorization_code");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(API_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Baton/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| ExchangeError::Failed(mask(&e.without_url().to_string())))?;
    let res = client.get(u).send().await.map_err(|e| {
        ExchangeError::Failed(mask(&format!(
            "WeChat's API at {api_base} could not be reached: {}",
            chain(&e.without_url())
        )))
    })?;
    let status = res.status();
    let bytes = res.bytes().await.map_err(|e| {
        ExchangeError::Failed(mask(&format!(
            "reading WeChat's answer: {}",
            chain(&e.without_url())
        )))
    })?;
    let answer: TokenAnswer = serde_json::from_slice(&bytes).map_err(|_| {
        ExchangeError::Failed(format!(
            "WeChat's API answered HTTP {status} without its JSON"
        ))
    })?;
    match answer {
        TokenAnswer {
            errcode: Some(errcode),
            errmsg,
            ..
        } if errcode != 0 => Err(ExchangeError::Refused {
            errcode,
            errmsg: mask(&errmsg.unwrap_or_default()),
        }),
        TokenAnswer {
            openid: Some(openid),
            ..
        } if !openid.trim().is_empty() => Ok(openid),
        _ => Err(ExchangeError::Failed(
            "WeChat's answer holds no openid".into(),
        )),
    }
}

/// An error and its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::from_bytes(&[7u8; 32]).unwrap()
    }

    #[test]
    fn state_round_trips_and_fits_wechat() {
        let k = key();
        let company = "0196f0c2-7a1b-7cde-8f00-123456789abc";
        let s = sign_state(&k, company, "n1", 2_000_000_000);
        assert!(state_fits(&s), "{s} ({} bytes)", s.len());
        assert_eq!(verify_state(&k, &s, "n1", 1_000), Ok(company.to_owned()));
        // Another browser, a later time, an altered company or tag.
        assert_eq!(verify_state(&k, &s, "n2", 1_000), Err(Refused::Invalid));
        assert_eq!(
            verify_state(&k, &s, "n1", 2_000_000_000),
            Err(Refused::Expired)
        );
        let other = sign_state(&k, "default", "n1", 2_000_000_000);
        let forged = format!(
            "{}{}",
            other.split('x').next().unwrap(),
            &s[s.find('x').unwrap()..]
        );
        assert_eq!(
            verify_state(&k, &forged, "n1", 1_000),
            Err(Refused::Invalid)
        );
        let other_key = MasterKey::from_bytes(&[8u8; 32]).unwrap();
        assert_eq!(
            verify_state(&other_key, &s, "n1", 1_000),
            Err(Refused::Invalid)
        );
        for junk in ["", "x", "xx", "zzxx", "00x1x00x", "6465x1xq"] {
            assert_eq!(verify_state(&k, junk, "n1", 0), Err(Refused::Invalid));
        }
    }

    #[test]
    fn tickets_round_trip() {
        let k = key();
        let t = Ticket {
            company_id: "default".into(),
            openid: "oAbC-123_x".into(),
        };
        let s = sign_ticket(&k, &t, "n1", 100);
        assert_eq!(verify_ticket(&k, &s, "n1", 99), Ok(t.clone()));
        assert_eq!(verify_ticket(&k, &s, "n1", 100), Err(Refused::Expired));
        assert_eq!(verify_ticket(&k, &s, "n2", 99), Err(Refused::Invalid));
        let mut parts: Vec<&str> = s.split('.').collect();
        let other = hex(b"someone-else");
        parts[1] = &other;
        assert_eq!(
            verify_ticket(&k, &parts.join("."), "n1", 99),
            Err(Refused::Invalid)
        );
        assert_eq!(verify_ticket(&k, "a.b.c", "n1", 0), Err(Refused::Invalid));
    }

    #[test]
    fn the_authorize_url_is_wechats() {
        let u = authorize_url(
            "https://open.weixin.qq.com/",
            "wx1",
            "https://b.example/api/v1/wechat/callback",
            "abc",
        )
        .unwrap();
        assert_eq!(
            u,
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx1&redirect_uri=https%3A%2F%2Fb.example%2Fapi%2Fv1%2Fwechat%2Fcallback&response_type=code&scope=snsapi_base&state=abc#wechat_redirect"
        );
    }
}
