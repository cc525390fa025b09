//! The configuration file (TOML). The keys are LWAMS's (`company_code`,
//! `cloud_host`, `cloud_port`, `http_host`, `http_port`, written there as
//! `lwams.company.code`, ...) plus what Baton adds: the enrolment `token`,
//! the pin of the server's certificate and the data directory. The server
//! writes this file into the package it offers for download.
//!
//! ```toml
//! company_code = "acme"
//! cloud_host = "baton.example.com"
//! cloud_port = 443
//! token = "…"                       # the host's enrolment token
//! cloud_cert_sha256 = "3f:a2:…"     # SHA-256 of the server certificate (DER), hex; several: comma-separated
//! http_host = "0.0.0.0"             # the local page (default 0.0.0.0, as LWAMS)
//! http_port = 8080                  # default 8080
//! data_dir = "data"                 # vault, key, job journal; relative to this file (default "data")
//! max_jobs = 64                     # jobs run at once
//! max_held_jobs = 100000            # jobs held (queued + running + unacknowledged) before refusing more
//! file_roots = ["/srv/baton"]       # where `file-operation` nodes may reach (default: none)
//! revoked_retry_secs = 300          # after a revocation or a 401/403, how long between tries
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// A configuration that cannot be used, naming the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the configuration {path}: {message}")]
    Read { path: String, message: String },
    #[error("configuration {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("configuration {path}: `{key}` is required")]
    Missing { path: String, key: &'static str },
    #[error("configuration {path}: `{key}` {message}")]
    Invalid {
        path: String,
        key: &'static str,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    company_code: Option<String>,
    cloud_host: Option<String>,
    cloud_port: Option<i64>,
    http_host: Option<String>,
    http_port: Option<i64>,
    token: Option<String>,
    cloud_cert_sha256: Option<String>,
    data_dir: Option<String>,
    max_jobs: Option<i64>,
    max_held_jobs: Option<i64>,
    file_roots: Option<Vec<String>>,
    revoked_retry_secs: Option<f64>,
}

/// The relay's configuration, checked.
#[derive(Clone)]
pub struct Config {
    pub company_code: String,
    pub cloud_host: String,
    pub cloud_port: u16,
    pub http_host: String,
    pub http_port: u16,
    pub token: String,
    /// SHA-256 digests of the certificates the server may present.
    pub cloud_cert_sha256: Vec<[u8; 32]>,
    pub data_dir: PathBuf,
    pub max_jobs: usize,
    pub max_held_jobs: usize,
    pub file_roots: Vec<PathBuf>,
    pub revoked_retry: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("company_code", &self.company_code)
            .field("cloud", &format!("{}:{}", self.cloud_host, self.cloud_port))
            .field("http", &format!("{}:{}", self.http_host, self.http_port))
            .field("token", &"******")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, &path.display().to_string(), base)
    }

    /// Checks `text` (read from `path`; relative paths are under `base`).
    pub fn parse(text: &str, path: &str, base: &Path) -> Result<Config, Error> {
        let p = || path.to_owned();
        let raw: Raw = toml::from_str(text).map_err(|e| Error::Syntax {
            path: p(),
            message: e.to_string().trim_end().replace('\n', " "),
        })?;
        let invalid = |key, message: String| Error::Invalid {
            path: p(),
            key,
            message,
        };
        let text_key = |key, v: Option<String>| -> Result<String, Error> {
            let v = v.ok_or(Error::Missing { path: p(), key })?;
            let v = v.trim().to_owned();
            if v.is_empty() {
                return Err(invalid(key, "is empty".into()));
            }
            Ok(v)
        };
        let port = |key, v: Option<i64>, default: Option<u16>| -> Result<u16, Error> {
            match v {
                None => default.ok_or(Error::Missing { path: p(), key }),
                Some(n) => u16::try_from(n)
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| invalid(key, format!("must be a port 1–65535 (got {n})"))),
            }
        };
        let count = |key, v: Option<i64>, default: usize, max: usize| -> Result<usize, Error> {
            match v {
                None => Ok(default),
                Some(n) => usize::try_from(n)
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| invalid(key, format!("must be 1–{max} (got {n})"))),
            }
        };
        let company_code = text_key("company_code", raw.company_code)?;
        let cloud_host = text_key("cloud_host", raw.cloud_host)?;
        let cloud_port = port("cloud_port", raw.cloud_port, None)?;
        let http_host = match raw.http_host {
            None => "0.0.0.0".to_owned(),
            Some(h) => text_key("http_host", Some(h))?,
        };
        let http_port = port("http_port", raw.http_port, Some(8080))?;
        let token = text_key("token", raw.token)?;
        let pins = text_key("cloud_cert_sha256", raw.cloud_cert_sha256)?;
        let cloud_cert_sha256 = pins
            .split(',')
            .map(parse_pin)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|m| invalid("cloud_cert_sha256", m))?;
        let data_dir = base.join(raw.data_dir.as_deref().unwrap_or("data"));
        let max_jobs = count("max_jobs", raw.max_jobs, 64, 4096)?;
        let max_held_jobs = count("max_held_jobs", raw.max_held_jobs, 100_000, 10_000_000)?;
        let file_roots = raw
            .file_roots
            .unwrap_or_default()
            .into_iter()
            .map(|r| base.join(r))
            .collect();
        let revoked_retry = match raw.revoked_retry_secs {
            None => Duration::from_secs(300),
            Some(s) if s.is_finite() && (0.1..=86_400.0).contains(&s) => Duration::from_secs_f64(s),
            Some(s) => {
                return Err(invalid(
                    "revoked_retry_secs",
                    format!("must be 0.1–86400 seconds (got {s})"),
                ));
            }
        };
        Ok(Config {
            company_code,
            cloud_host,
            cloud_port,
            http_host,
            http_port,
            token,
            cloud_cert_sha256,
            data_dir,
            max_jobs,
            max_held_jobs,
            file_roots,
            revoked_retry,
        })
    }
}

/// 64 hex digits, with or without `:` or spaces between bytes (as
/// `openssl x509 -fingerprint -sha256` prints them).
fn parse_pin(text: &str) -> Result<[u8; 32], String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '\t'))
        .collect();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "must be the certificate's SHA-256 as 64 hex digits (got `{}`)",
            text.trim()
        ));
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PIN: &str = "AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:ab:cd:ef:01:23:45:67:89";

    fn good() -> String {
        format!(
            "company_code = \"acme\"\ncloud_host = \"cloud.example\"\ncloud_port = 18002\n\
             token = \"t0k\"\ncloud_cert_sha256 = \"{PIN}\"\n"
        )
    }

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, "relay.toml", Path::new("/etc/relay"))
    }

    #[test]
    fn defaults() {
        let c = parse(&good()).unwrap();
        assert_eq!(c.http_host, "0.0.0.0");
        assert_eq!(c.http_port, 8080);
        assert_eq!(c.data_dir, Path::new("/etc/relay/data"));
        assert_eq!(c.max_jobs, 64);
        assert_eq!(c.cloud_cert_sha256[0][0], 0xab);
        assert_eq!(c.cloud_cert_sha256[0][31], 0x89);
        assert_eq!(c.revoked_retry, Duration::from_secs(300));
        assert!(!format!("{c:?}").contains("t0k"));
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                good().replace("cloud_port = 18002\n", ""),
                "`cloud_port` is required",
            ),
            (
                good().replace("18002", "70000"),
                "`cloud_port` must be a port 1–65535 (got 70000)",
            ),
            (
                good().replace("\"acme\"", "\"  \""),
                "`company_code` is empty",
            ),
            (
                good().replace("token = \"t0k\"\n", ""),
                "`token` is required",
            ),
            (
                good().replace(PIN, "abc"),
                "`cloud_cert_sha256` must be the certificate's SHA-256",
            ),
            (good() + "http_port = 0\n", "`http_port` must be a port"),
            (
                good() + "max_jobs = 0\n",
                "`max_jobs` must be 1–4096 (got 0)",
            ),
            (
                good() + "revoked_retry_secs = -1\n",
                "`revoked_retry_secs` must be",
            ),
            (good() + "cloud_pot = 1\n", "unknown field `cloud_pot`"),
            (good().replace("18002", "\"x\""), "cloud_port"),
            ("company_code = ".into(), "relay.toml"),
        ];
        for (text, want) in cases {
            let e = parse(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
            assert!(e.contains("relay.toml"), "{e}");
        }
    }

    #[test]
    fn several_pins_and_relative_paths() {
        let text = good().replace(PIN, &format!("{PIN}, {}", "00".repeat(32)))
            + "data_dir = \"/var/lib/relay\"\nfile_roots = [\"files\"]\n";
        let c = parse(&text).unwrap();
        assert_eq!(c.cloud_cert_sha256.len(), 2);
        assert_eq!(c.cloud_cert_sha256[1], [0u8; 32]);
        assert_eq!(c.data_dir, Path::new("/var/lib/relay"));
        assert_eq!(c.file_roots, vec![PathBuf::from("/etc/relay/files")]);
    }
}
