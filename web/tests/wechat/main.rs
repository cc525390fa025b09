//! Signing in from WeChat (the LWAMS mobile entry `/?appid=…&companyCode=…`)
//! through the API: entry checks, the redirect to WeChat's authorisation
//! page, the callback, binding through the mobile sign-in page, signing in
//! again without a password, unbinding, and every way it must refuse.
//!
//! **WeChat's servers cannot be reached from the machine these tests run
//! on**, so they run against a local stand-in ([`StandIn`], axum on
//! 127.0.0.1) that speaks WeChat's documented web-authorisation protocol
//! for official accounts ("网页授权", scope `snsapi_base`):
//! `GET /connect/oauth2/authorize?appid&redirect_uri&response_type=code&scope&state#wechat_redirect`
//! redirects (302) to `redirect_uri?code=CODE&state=STATE`, and
//! `GET /sns/oauth2/access_token?appid&secret&code&grant_type=authorization_code`
//! answers `{"access_token","expires_in","refresh_token","openid","scope"}`
//! for a code it issued to that appid, or WeChat's error JSON:
//! `{"errcode":40013,"errmsg":"invalid appid"}`, `40125 invalid appsecret`,
//! `40029 invalid code`, `40163 code been used`. The stand-in gives a
//! visitor the same openid under every appid (as when two companies share
//! one official account, the case where a binding could leak between
//! companies). Behaviour of the real WeChat beyond that documented
//! protocol was not verified here.

#[path = "../common/mod.rs"]
mod common;

mod binding;
mod logs;
mod refusals;
mod server;
mod standin;
mod unbinding;

/// Every app secret here holds this, so one search finds any of them.
const SECRET_MARK: &str = "S3cretWX";
const SECRET_A: &str = "S3cretWX-acme-0123456789abcdef";
const SECRET_B: &str = "S3cretWX-beta-0123456789abcdef";
const PASSWORD: &str = "Alice-pass-123";
const PUBLIC: &str = "https://baton.example";
const ACME: &str = "acme-0196f0c2-7a1b-7cde-8f00";
const BETA: &str = "beta-0196f0c2-7a1b-7cde-8f00";
