//! Who is calling: a session cookie (browser; unsafe methods must echo the
//! session's CSRF token in `X-CSRF-Token`) or `Authorization: Bearer` with an
//! API token (scripts). Passwords are argon2id; session ids and tokens are
//! random 256-bit values stored only as SHA-256 hashes. Failed logins are
//! rate limited per company and username.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use baton_runtime::store::{CompanyRow, UserRow};
use sha2::Digest;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::perm::{Function, Grants, Level};

pub const SESSION_COOKIE: &str = "baton_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Sessions last this long.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// The company created on first start; its admins manage companies.
pub const ROOT_COMPANY: &str = "default";

/// Routes a user who must change the password may still use.
const BEFORE_PASSWORD_CHANGE: &[&str] = &[
    "/api/v1/auth/me",
    "/api/v1/auth/password",
    "/api/v1/auth/logout",
];

pub fn hash_password(password: &str) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h: PasswordHash| h.to_string())
        .map_err(ApiError::internal)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A password policy a user can read: 10 characters at least, not all the same kind.
pub fn check_new_password(p: &str) -> ApiResult<()> {
    let kinds = [
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|k| **k)
    .count();
    if p.chars().count() < 10 || kinds < 2 {
        return Err(ApiError::invalid(
            "body.password",
            "a password needs 10 characters or more, of at least two kinds (lower, upper, digit, other)",
            "密码至少 10 个字符，且至少包含两类（小写、大写、数字、其他）",
        ));
    }
    Ok(())
}

/// A new random secret (session id, CSRF token, API token), URL-safe.
pub fn random_secret() -> String {
    let mut b = [0u8; 32];
    rand::fill(&mut b);
    B64.encode(b)
}

pub fn sha256_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal without an early exit (CSRF tokens).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session {
        id_hash: String,
    },
    Token {
        id: String,
    },
    /// A signed approval link (its nonce): good for its one task only.
    Link {
        id: String,
    },
}

/// The authenticated caller of a route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRow,
    pub company: CompanyRow,
    pub grants: Grants,
    pub via: Via,
}

impl Caller {
    /// The company every object this caller touches must belong to.
    pub fn company_id(&self) -> &str {
        &self.user.company_id
    }

    /// An admin of the root company: manages companies.
    pub fn is_root_admin(&self) -> bool {
        self.user.admin && self.company.id == ROOT_COMPANY
    }

    pub fn require(&self, f: Function, l: Level) -> ApiResult<()> {
        let ok = match f {
            // Other companies' admins see their own company only.
            Function::Companies if l == Level::Manage => self.is_root_admin(),
            _ => self.grants.allows(f, l),
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::forbidden(f.key(), l.key()))
        }
    }
}

fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The user, company and grants of `user_id`, if the user may act.
pub async fn load(state: &AppState, user_id: &str, via: Via) -> ApiResult<Option<Caller>> {
    let Some(user) = state.store.user(user_id).await? else {
        return Ok(None);
    };
    if user.disabled {
        return Ok(None);
    }
    let Some(company) = state.store.company(&user.company_id).await? else {
        return Ok(None);
    };
    let grants = if user.admin {
        Grants::all()
    } else {
        let groups = state.store.groups_of(&user.id).await?;
        Grants::from_groups(groups.iter().map(|g| &g.permissions))
    };
    Ok(Some(Caller {
        user,
        company,
        grants,
        via,
    }))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let now = now_ms();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let caller = if let Some(token) = bearer {
            let Some(t) = state
                .store
                .use_token(&sha256_hex(token.trim()), now)
                .await?
            else {
                return Err(ApiError::unauthenticated());
            };
            load(state, &t.user_id, Via::Token { id: t.id }).await?
        } else if let Some(sid) = cookie(parts, SESSION_COOKIE) {
            let id_hash = sha256_hex(sid);
            let Some(s) = state.store.session(&id_hash, now).await? else {
                return Err(ApiError::unauthenticated());
            };
            let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
            let echoed = parts
                .headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !safe && !same(echoed, &s.csrf) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "csrf",
                    "missing or wrong X-CSRF-Token header (it comes with the login answer)",
                    "缺少或错误的 X-CSRF-Token 请求头（登录响应中提供）",
                ));
            }
            load(state, &s.user_id, Via::Session { id_hash }).await?
        } else {
            None
        };
        let caller = caller.ok_or_else(ApiError::unauthenticated)?;
        if caller.user.must_change_password && !BEFORE_PASSWORD_CHANGE.contains(&parts.uri.path()) {
            return Err(ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "password_change_required",
                "change your password first (POST /api/v1/auth/password)",
                "请先修改密码（POST /api/v1/auth/password）",
            ));
        }
        Ok(caller)
    }
}

/// Failed logins per key: at most [`LoginLimiter::MAX_FAILURES`] within
/// [`LoginLimiter::WINDOW`]; then refused until the window passes.
#[derive(Debug, Default)]
pub struct LoginLimiter(Mutex<HashMap<String, Vec<Instant>>>);

impl LoginLimiter {
    pub const MAX_FAILURES: usize = 5;
    pub const WINDOW: Duration = Duration::from_secs(300);

    /// `Err(seconds to wait)` when `key` is locked out.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let v = m.entry(key.to_owned()).or_default();
        v.retain(|t| now.duration_since(*t) < Self::WINDOW);
        if v.len() >= Self::MAX_FAILURES {
            let wait = Self::WINDOW.saturating_sub(now.duration_since(v[0]));
            return Err(wait.as_secs().max(1));
        }
        Ok(())
    }

    pub fn failed(&self, key: &str) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        m.entry(key.to_owned()).or_default().push(Instant::now());
        // Bounded memory under a flood of distinct names.
        if m.len() > 100_000 {
            let now = Instant::now();
            m.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < Self::WINDOW));
        }
    }

    pub fn succeeded(&self, key: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("Correct horse 1").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Correct horse 1", &h));
        assert!(!verify_password("correct horse 1", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn password_policy() {
        assert!(check_new_password("short1A").is_err());
        assert!(check_new_password("alllowercaseletters").is_err());
        assert!(check_new_password("lowercase and 123").is_ok());
    }

    #[test]
    fn limiter_locks_after_five_failures() {
        let l = LoginLimiter::default();
        for _ in 0..LoginLimiter::MAX_FAILURES {
            assert!(l.check("k").is_ok());
            l.failed("k");
        }
        assert!(l.check("k").is_err());
        assert!(l.check("other").is_ok());
        l.succeeded("k");
        assert!(l.check("k").is_ok());
    }

    #[test]
    fn secrets_are_random_and_constant_time_compared() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b));
        assert!(!same("a", "ab"));
    }
}
