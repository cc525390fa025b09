//! `http`: one HTTP(S) request, its status, headers and body as outputs.
//! Flowable's `http` task and Camunda 7's `http-connector` are read as this
//! ([`from_flowable`], [`from_camunda`]).
//!
//! TLS is rustls with ring only; certificates are checked against the
//! system's roots unless `tlsVerify` is false.

use std::error::Error as StdError;
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url, redirect};
use serde_json::{Map, Value, json};

use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::schema::{self, choice, prop};
use crate::{BoxFuture, Node, Outputs};

/// A response body larger than this fails the node (it would not fit an output).
pub const BODY_CAP: usize = 16 << 20;
/// Failing-status text quotes at most this many characters of the body.
const QUOTE_CHARS: usize = 200;
/// Connecting gives up after this long even without a `timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"];

pub struct Http;

impl Node for Http {
    fn kind(&self) -> &'static str {
        "http"
    }

    fn schema(&self) -> Value {
        schema::object(
            "HTTP request",
            vec![
                ("url", prop("string", "URL", "`http://` or `https://`.")),
                ("method", choice("Method", METHODS, "GET")),
                (
                    "headers",
                    prop(
                        "string",
                        "Headers",
                        "A JSON object (`{\"Accept\": \"application/json\"}`) or `Name: value` lines.",
                    ),
                ),
                (
                    "body",
                    prop(
                        "string",
                        "Body",
                        "Sent as is; `Content-Type` defaults to JSON when it parses as JSON, else text.",
                    ),
                ),
                (
                    "tlsVerify",
                    prop(
                        "boolean",
                        "Verify TLS certificates",
                        "Default true. False accepts any certificate (self-signed test servers).",
                    ),
                ),
                (
                    "failStatusCodes",
                    prop(
                        "string",
                        "Fail on status codes",
                        "Default `400-599`. A list like `400-499,503` or `4XX, 500`, or `none`.",
                    ),
                ),
                (
                    "handleStatusCodes",
                    prop(
                        "string",
                        "BPMN error on status codes",
                        "Same form as failStatusCodes: these statuses throw BPMN error `HTTP<status>` (e.g. `HTTP404`) for an error boundary event.",
                    ),
                ),
                (
                    "followRedirects",
                    prop("boolean", "Follow redirects", "Default true (up to 10)."),
                ),
                (
                    "ignoreErrors",
                    prop(
                        "boolean",
                        "Ignore errors",
                        "Complete the node on a failed request or failing status; the reason is the output `errorMessage`.",
                    ),
                ),
            ],
            &["url"],
        )
    }

    /// GET and HEAD are safe to repeat, but idempotence is declared per kind:
    /// a POST interrupted by a crash must go to the operator, so `false`.
    fn idempotent(&self) -> bool {
        false
    }

    fn validate(&self, props: &Outputs) -> Result<(), NodeError> {
        schema::check_required(&self.schema(), props)?;
        schema::check_templates(props)?;
        schema::check_choice(props, "method", METHODS)?;
        if let Some(u) = literal(props, "url") {
            parse_url(u)?;
        }
        for name in ["failStatusCodes", "handleStatusCodes"] {
            if let Some(s) = literal(props, name) {
                StatusCodes::parse(s).map_err(|e| NodeError::property(name, e))?;
            }
        }
        unmapped_timeout(props.get("requestTimeout"))
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(run(ctx))
    }
}

/// A property written without `${}` (checkable at deploy time).
fn literal<'p>(props: &'p Outputs, name: &str) -> Option<&'p str> {
    props
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.contains("${") && !s.contains("#{") && !s.trim().is_empty())
}

/// Flowable's `requestTimeout` the alias could not convert to seconds.
fn unmapped_timeout(v: Option<&Value>) -> Result<(), NodeError> {
    match v {
        Some(v) if !v.as_str().is_some_and(|s| s.trim().is_empty()) => Err(NodeError::property(
            "requestTimeout",
            format!(
                "`{}` must be a number of milliseconds or one `${{}}` expression",
                v.as_str().map_or_else(|| v.to_string(), str::to_owned)
            ),
        )),
        _ => Ok(()),
    }
}

/// Installs ring as the process's rustls provider (reqwest and lettre are
/// built without one). A provider installed earlier stays.
pub(crate) fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

async fn run(ctx: &Ctx) -> Result<Outputs, NodeError> {
    let ignore = ctx.bool("ignoreErrors", false)?;
    match request(ctx).await {
        Err(e @ (NodeError::Failed(_) | NodeError::Bpmn { .. })) if ignore => {
            ctx.log(Stream::Info, &format!("ignored: {e}"));
            let mut o = Outputs::new();
            o.insert("errorMessage".into(), json!(e.to_string()));
            Ok(o)
        }
        r => r,
    }
}

async fn request(ctx: &Ctx) -> Result<Outputs, NodeError> {
    unmapped_timeout(ctx.raw("requestTimeout").map(|s| json!(s)).as_ref())?;
    let url = parse_url(&ctx.required("url")?)?;
    if let Some(pw) = url.password() {
        ctx.add_secret(pw);
    }
    let method = match ctx.text("method")? {
        None => Method::GET,
        Some(m) => {
            let m = m.trim().to_ascii_uppercase();
            if !METHODS.contains(&m.as_str()) {
                return Err(NodeError::property(
                    "method",
                    format!("`{m}` is not one of {}", METHODS.join(", ")),
                ));
            }
            Method::from_bytes(m.as_bytes()).map_err(|e| NodeError::property("method", e))?
        }
    };
    let headers = headers(ctx)?;
    let body = match ctx.value("body")? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v) => Some(v.to_string()),
    };
    let verify = ctx.bool("tlsVerify", true)?;
    let follow = ctx.bool("followRedirects", true)?;
    let fail = match ctx.text("failStatusCodes")? {
        Some(s) => StatusCodes::parse(&s).map_err(|e| NodeError::property("failStatusCodes", e))?,
        None => StatusCodes(vec![(400, 599)]),
    };
    let handle = match ctx.text("handleStatusCodes")? {
        Some(s) => {
            StatusCodes::parse(&s).map_err(|e| NodeError::property("handleStatusCodes", e))?
        }
        None => StatusCodes(Vec::new()),
    };

    install_tls_provider();
    let client = reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(!verify)
        .redirect(if follow {
            redirect::Policy::limited(10)
        } else {
            redirect::Policy::none()
        })
        .connect_timeout(CONNECT_TIMEOUT)
        .user_agent(concat!("Baton/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| NodeError::failed(format!("cannot set up the HTTP client: {}", chain(&e))))?;
    let mut req = client
        .request(method.clone(), url.clone())
        .headers(headers.clone());
    if let Some(b) = body {
        if !headers.contains_key(CONTENT_TYPE) {
            let json =
                serde_json::from_str::<Value>(&b).is_ok_and(|v| v.is_object() || v.is_array());
            req = req.header(
                CONTENT_TYPE,
                if json {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                },
            );
        }
        req = req.body(b);
    }

    ctx.log(Stream::Info, &format!("{method} {}", shown(&url)));
    let started = Instant::now();
    let mut resp = tokio::select! {
        r = req.send() => r.map_err(|e| NodeError::failed(describe(&e, &url)))?,
        _ = ctx.cancelled() => return Err(NodeError::Cancelled),
    };
    if resp.content_length().is_some_and(|n| n > BODY_CAP as u64) {
        return Err(too_large(&url));
    }
    let status = resp.status();
    let final_url = resp.url().clone();
    let resp_headers = header_map(resp.headers());
    let json_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_type);
    let mut bytes = Vec::new();
    loop {
        let chunk = tokio::select! {
            c = resp.chunk() => c.map_err(|e| NodeError::failed(format!("reading the response from {}: {}", shown(&url), chain(&e))))?,
            _ = ctx.cancelled() => return Err(NodeError::Cancelled),
        };
        let Some(chunk) = chunk else { break };
        if bytes.len() + chunk.len() > BODY_CAP {
            return Err(too_large(&url));
        }
        bytes.extend_from_slice(&chunk);
    }
    let duration = started.elapsed();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    ctx.log(
        Stream::Info,
        &format!(
            "HTTP {} in {} ms, {} bytes",
            status.as_u16(),
            duration.as_millis(),
            bytes.len()
        ),
    );

    let code = status.as_u16();
    let line = match status.canonical_reason() {
        Some(r) => format!("HTTP {code} {r}"),
        None => format!("HTTP {code}"),
    };
    let quote = || {
        let q: String = text.trim().chars().take(QUOTE_CHARS).collect();
        if q.is_empty() {
            format!("{line} from {}", shown(&url))
        } else {
            format!("{line} from {}: {q}", shown(&url))
        }
    };
    if handle.contains(code) {
        return Err(NodeError::Bpmn {
            code: format!("HTTP{code}"),
            message: quote(),
        });
    }
    if fail.contains(code) {
        return Err(NodeError::failed(quote()));
    }

    let body = if json_type {
        serde_json::from_slice(&bytes).unwrap_or(Value::String(text))
    } else {
        Value::String(text)
    };
    let mut o = Outputs::new();
    o.insert("status".into(), json!(code));
    o.insert(
        "statusText".into(),
        json!(status.canonical_reason().unwrap_or("")),
    );
    o.insert("headers".into(), Value::Object(resp_headers));
    o.insert("body".into(), body);
    o.insert("finalUrl".into(), json!(shown(&final_url)));
    o.insert("durationMs".into(), json!(duration.as_millis() as u64));
    Ok(o)
}

fn parse_url(u: &str) -> Result<Url, NodeError> {
    let u = u.trim();
    let url = Url::parse(u)
        .map_err(|e| NodeError::property("url", format!("`{u}` is not a valid URL: {e}")))?;
    match url.scheme() {
        "http" | "https" if url.host_str().is_some() => Ok(url),
        "http" | "https" => Err(NodeError::property(
            "url",
            format!("`{u}` is not a valid URL: it has no host"),
        )),
        s => Err(NodeError::property(
            "url",
            format!("`{u}` is not a valid URL: scheme `{s}` is not http or https"),
        )),
    }
}

/// The URL for messages and logs, its password masked.
fn shown(url: &Url) -> String {
    if url.password().is_some() {
        let mut u = url.clone();
        let _ = u.set_password(Some(crate::secret::MASK));
        u.to_string()
    } else {
        url.to_string()
    }
}

fn too_large(url: &Url) -> NodeError {
    NodeError::failed(format!(
        "the response from {} is larger than {} MiB",
        shown(url),
        BODY_CAP >> 20
    ))
}

fn is_json_type(ct: &str) -> bool {
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// Request headers: a JSON object (as text, or a `${}` that is an object),
/// or `Name: value` lines.
fn headers(ctx: &Ctx) -> Result<HeaderMap, NodeError> {
    let pairs: Vec<(String, String)> = match ctx.value("headers")? {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => object_pairs(&m),
        Some(Value::String(s)) if s.trim_start().starts_with('{') => {
            match serde_json::from_str::<Value>(&s) {
                Ok(Value::Object(m)) => object_pairs(&m),
                _ => {
                    return Err(NodeError::property(
                        "headers",
                        "starts with `{` but is not a JSON object",
                    ));
                }
            }
        }
        Some(Value::String(s)) => {
            let mut v = Vec::new();
            for line in s.lines().map(str::trim).filter(|l| !l.is_empty()) {
                let (n, val) = line.split_once(':').ok_or_else(|| {
                    NodeError::property("headers", format!("line `{line}` is not `Name: value`"))
                })?;
                v.push((n.trim().to_owned(), val.trim().to_owned()));
            }
            v
        }
        Some(v) => {
            return Err(NodeError::property(
                "headers",
                format!("`{v}` is neither a JSON object nor `Name: value` lines"),
            ));
        }
    };
    let mut map = HeaderMap::new();
    for (n, v) in pairs {
        let name = HeaderName::from_bytes(n.as_bytes())
            .map_err(|_| NodeError::property("headers", format!("`{n}` is not a header name")))?;
        let value = HeaderValue::from_str(&v).map_err(|_| {
            NodeError::property(
                "headers",
                format!("the value of `{n}` is not a header value"),
            )
        })?;
        map.append(name, value);
    }
    Ok(map)
}

fn object_pairs(m: &Map<String, Value>) -> Vec<(String, String)> {
    m.iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Response headers: lower-case names; repeated headers joined with `, `.
fn header_map(h: &HeaderMap) -> Map<String, Value> {
    let mut m = Map::new();
    for (name, value) in h {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match m.get_mut(name.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&v);
            }
            _ => {
                m.insert(name.as_str().to_owned(), Value::String(v));
            }
        }
    }
    m
}

/// Status codes: `400-499,503`, `4XX, 500` or `none`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusCodes(Vec<(u16, u16)>);

impl StatusCodes {
    pub fn parse(spec: &str) -> Result<Self, String> {
        let spec = spec.trim();
        if spec.is_empty() || spec.eq_ignore_ascii_case("none") {
            return Ok(StatusCodes(Vec::new()));
        }
        let mut ranges = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = || format!("`{item}` is not a status code, a range `400-499` or `4XX`");
            let code = |s: &str| -> Result<(u16, u16), String> {
                let s = s.trim();
                if s.len() != 3 {
                    return Err(bad());
                }
                let lo: String = s
                    .chars()
                    .map(|c| if c.eq_ignore_ascii_case(&'x') { '0' } else { c })
                    .collect();
                let hi: String = s
                    .chars()
                    .map(|c| if c.eq_ignore_ascii_case(&'x') { '9' } else { c })
                    .collect();
                let lo: u16 = lo.parse().map_err(|_| bad())?;
                let hi: u16 = hi.parse().map_err(|_| bad())?;
                if !(100..=999).contains(&lo) {
                    return Err(bad());
                }
                Ok((lo, hi))
            };
            let range = match item.split_once('-') {
                Some((a, b)) => {
                    let (lo, _) = code(a)?;
                    let (_, hi) = code(b)?;
                    if lo > hi {
                        return Err(bad());
                    }
                    (lo, hi)
                }
                None => code(item)?,
            };
            ranges.push(range);
        }
        Ok(StatusCodes(ranges))
    }

    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|(lo, hi)| (*lo..=*hi).contains(&code))
    }
}

/// Every error in a chain, with those an `io::Error` wraps (its `source`
/// skips them).
pub(crate) fn chain_parts<'a>(
    e: &'a (dyn StdError + 'static),
) -> Vec<&'a (dyn StdError + 'static)> {
    fn walk<'a>(e: &'a (dyn StdError + 'static), parts: &mut Vec<&'a (dyn StdError + 'static)>) {
        let mut cur = Some(e);
        while let Some(x) = cur {
            if parts.len() > 32 {
                return;
            }
            parts.push(x);
            if let Some(inner) = x
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                walk(inner, parts);
            }
            cur = x.source();
        }
    }
    let mut parts = Vec::new();
    walk(e, &mut parts);
    parts
}

/// The error's messages, outermost first, repeats dropped.
pub(crate) fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut seen: Vec<String> = Vec::new();
    for p in chain_parts(e) {
        let s = p.to_string();
        if !seen.iter().any(|x| x.contains(&s)) {
            seen.push(s);
        }
    }
    seen.join(": ")
}

/// A failed request in words: refused, unresolvable, TLS, timed out.
fn describe(e: &reqwest::Error, url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    let target = format!("{host}:{}", url.port_or_known_default().unwrap_or(0));
    let parts = chain_parts(e);
    let innermost = parts.last().map(|p| p.to_string()).unwrap_or_default();
    if let Some(t) = parts.iter().find_map(|p| p.downcast_ref::<rustls::Error>()) {
        return match t {
            rustls::Error::InvalidCertificate(c) => format!(
                "TLS handshake with {target} failed: the server's certificate {}: {t} (tlsVerify=false accepts it)",
                certificate_problem(c)
            ),
            _ => format!("TLS handshake with {target} failed: {t}"),
        };
    }
    let io_kind = parts
        .iter()
        .find_map(|p| p.downcast_ref::<std::io::Error>())
        .map(std::io::Error::kind);
    if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        return format!("connection refused by {target} ({})", shown(url));
    }
    let messages: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
    if messages.iter().any(|m| m.contains("dns error")) {
        return format!("cannot resolve host `{host}`: {innermost}");
    }
    if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        return format!("timed out connecting to {target} ({})", shown(url));
    }
    if e.is_connect() {
        return format!("cannot connect to {target}: {innermost}");
    }
    format!("request to {} failed: {}", shown(url), chain(e))
}

/// What is wrong with a certificate, in words.
fn certificate_problem(c: &rustls::CertificateError) -> &'static str {
    use rustls::CertificateError as C;
    match c {
        C::UnknownIssuer => "is not signed by a trusted authority",
        C::Expired | C::ExpiredContext { .. } => "has expired",
        C::NotValidYet | C::NotValidYetContext { .. } => "is not valid yet",
        C::NotValidForName | C::NotValidForNameContext { .. } => "is not valid for this host name",
        C::Revoked => "is revoked",
        _ => "is not trusted",
    }
}

// ---- other tools' names ------------------------------------------------

/// Flowable's `http` task (`<serviceTask flowable:type="http">`), read as
/// Baton's `http` (the alias shares the name; Baton's own properties pass
/// through unchanged). Mapped: `requestUrl` → `url`, `requestMethod` →
/// `method`, `requestHeaders` (`Name: value` lines) → `headers`,
/// `requestBody` → `body`, `requestTimeout` (ms) → `timeout` (s),
/// `disallowRedirects` → `followRedirects` (negated), `failStatusCodes` and
/// `handleStatusCodes` (same syntax; Flowable fails on no status unless
/// told, so an absent `failStatusCodes` becomes `none`), `ignoreException`
/// → `ignoreErrors`, `responseVariableName` → the body is stored in that
/// variable. Not mapped: `saveRequestVariables`, `saveResponseParameters`,
/// `saveResponseParametersTransient`, `saveResponseVariableAsJson`,
/// `resultVariablePrefix` (the response is the node's outputs instead:
/// `${taskId.status}`, `${taskId.headers}`, `${taskId.body}`),
/// `requestBodyEncoding` (bodies are UTF-8), `httpActivityBehaviorClass`.
pub fn from_flowable(props: &mut Outputs) {
    let flowable = props.contains_key("requestUrl") || props.contains_key("requestMethod");
    for (from, to) in [
        ("requestUrl", "url"),
        ("requestMethod", "method"),
        ("requestHeaders", "headers"),
        ("requestBody", "body"),
        ("ignoreException", "ignoreErrors"),
    ] {
        if let Some(v) = props.remove(from) {
            props.insert(to.into(), v);
        }
    }
    if let Some(v) = props.remove("requestTimeout") {
        match v
            .as_str()
            .and_then(|s| scaled(s, "/ 1000", |ms| ms / 1000.0))
        {
            Some(t) => {
                props.insert("timeout".into(), Value::String(t));
            }
            // Left for `validate` / `run` to name.
            None => {
                props.insert("requestTimeout".into(), v);
            }
        }
    }
    if let Some(v) = props.remove("disallowRedirects") {
        let follow = match v.as_str().map(str::trim) {
            Some(s) if s.eq_ignore_ascii_case("true") => "false".to_owned(),
            Some(s) if s.eq_ignore_ascii_case("false") || s.is_empty() => "true".to_owned(),
            Some(s) => match whole_expr(s) {
                Some(inner) => format!("${{!({inner})}}"),
                None => s.to_owned(),
            },
            None => v.to_string(),
        };
        props.insert("followRedirects".into(), Value::String(follow));
    }
    if flowable {
        props
            .entry("failStatusCodes")
            .or_insert(Value::String("none".into()));
    }
}

/// Camunda 7's `http-connector`: input parameters `url`, `method`,
/// `headers` (a `<camunda:map>`, arriving as a JSON object), `payload` →
/// `body`. The connector never fails on a status, so neither does this
/// (`failStatusCodes` = `none` unless given). Its outputs `statusCode`,
/// `response` and `headers` are the node's `status`, `body` and `headers`.
pub fn from_camunda(props: &mut Outputs) {
    if let Some(v) = props.remove("payload") {
        props.insert("body".into(), v);
    }
    // A `<camunda:map>` of headers becomes `Name: value` lines (a value with
    // a quote rendered into JSON text would break it).
    if let Some(Value::Object(m)) = props.get("headers") {
        let lines: Vec<String> = object_pairs(m)
            .into_iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        props.insert("headers".into(), Value::String(lines.join("\n")));
    }
    if let Some(v @ (Value::Object(_) | Value::Array(_))) = props.get("body") {
        let text = v.to_string();
        props.insert("body".into(), Value::String(text));
    }
    props
        .entry("failStatusCodes")
        .or_insert(Value::String("none".into()));
}

/// `s` as one `${…}` expression spanning the whole text: its inside.
fn whole_expr(s: &str) -> Option<&str> {
    let inner = s.trim().strip_prefix("${")?.strip_suffix('}')?;
    (!inner.contains("${") && !inner.contains('}')).then_some(inner)
}

/// A number or a whole `${}` expression, scaled (`op` is appended inside the
/// expression; `f` applied to a literal).
fn scaled(s: &str, op: &str, f: impl Fn(f64) -> f64) -> Option<String> {
    let t = s.trim();
    if let Ok(n) = t.parse::<f64>() {
        return Some(f(n).to_string());
    }
    whole_expr(t).map(|inner| format!("${{({inner}) {op}}}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_code_lists() {
        let c = StatusCodes::parse("400-499, 503").unwrap();
        assert!(c.contains(404) && c.contains(503) && !c.contains(500) && !c.contains(200));
        let c = StatusCodes::parse("5xx,404").unwrap();
        assert!(c.contains(500) && c.contains(599) && c.contains(404) && !c.contains(403));
        assert!(!StatusCodes::parse("none").unwrap().contains(500));
        assert!(StatusCodes::parse("40").is_err());
        assert!(StatusCodes::parse("500-400").is_err());
        assert!(StatusCodes::parse("abc").is_err());
        assert!(StatusCodes::parse("4é0").is_err());
    }

    #[test]
    fn json_content_types() {
        assert!(is_json_type("application/json; charset=utf-8"));
        assert!(is_json_type("application/problem+json"));
        assert!(!is_json_type("text/plain"));
    }

    #[test]
    fn flowable_timeouts_and_redirects() {
        let mut p = Outputs::new();
        p.insert("requestUrl".into(), json!("http://x/"));
        p.insert("requestTimeout".into(), json!("2500"));
        p.insert("disallowRedirects".into(), json!("${noRedirects}"));
        from_flowable(&mut p);
        assert_eq!(p["url"], "http://x/");
        assert_eq!(p["timeout"], "2.5");
        assert_eq!(p["followRedirects"], "${!(noRedirects)}");
        assert_eq!(p["failStatusCodes"], "none");
        let mut p = Outputs::new();
        p.insert("requestTimeout".into(), json!("${t}"));
        from_flowable(&mut p);
        assert_eq!(p["timeout"], "${(t) / 1000}");
        assert!(!p.contains_key("failStatusCodes"), "Baton props untouched");
        let mut p = Outputs::new();
        p.insert("requestTimeout".into(), json!("soon"));
        from_flowable(&mut p);
        assert!(unmapped_timeout(p.get("requestTimeout")).is_err());
    }
}
