//! `mail`: one message over SMTP (plain, STARTTLS or TLS), text and/or HTML,
//! with attachments from the file roots. Flowable's `mail` task and Camunda
//! 7's `mail-send` connector are read as this ([`from_flowable`],
//! [`from_camunda`]).

use std::path::Path;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};

use crate::ctx::{Ctx, Stream};
use crate::error::NodeError;
use crate::fileop::confine_existing_file;
use crate::http::{chain, chain_parts, install_tls_provider};
use crate::schema::{self, choice, prop, secret};
use crate::{BoxFuture, Node, Outputs};

/// How long one SMTP command may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
const SECURITY: &[&str] = &["none", "starttls", "tls"];

pub struct Mail;

impl Node for Mail {
    fn kind(&self) -> &'static str {
        "mail"
    }

    fn schema(&self) -> Value {
        schema::object(
            "Send mail",
            vec![
                (
                    "smtpHost",
                    prop("string", "SMTP server", "Host name or address."),
                ),
                ("smtpPort", prop("integer", "SMTP port", "Default 25.")),
                (
                    "smtpSecurity",
                    choice("Connection security", SECURITY, "none"),
                ),
                ("smtpUser", prop("string", "SMTP user", "Empty: no login.")),
                ("smtpPassword", secret("SMTP password")),
                (
                    "from",
                    prop("string", "From", "`Name <address>` or an address."),
                ),
                ("to", prop("string", "To", "Comma-separated addresses.")),
                ("cc", prop("string", "Cc", "Comma-separated addresses.")),
                ("bcc", prop("string", "Bcc", "Comma-separated addresses.")),
                ("subject", prop("string", "Subject", "")),
                ("text", prop("string", "Text", "The plain-text body.")),
                (
                    "html",
                    prop(
                        "string",
                        "HTML",
                        "The HTML body (with `text`: both, as alternatives).",
                    ),
                ),
                (
                    "attachments",
                    prop(
                        "string",
                        "Attachments",
                        "File paths, comma- or newline-separated, inside the configured file roots.",
                    ),
                ),
            ],
            &["smtpHost", "from"],
        )
    }

    /// Sending twice sends two mails.
    fn idempotent(&self) -> bool {
        false
    }

    fn validate(&self, props: &Outputs) -> Result<(), NodeError> {
        schema::check_required(&self.schema(), props)?;
        schema::check_templates(props)?;
        schema::check_choice(props, "smtpSecurity", SECURITY)?;
        let has = |n: &str| {
            props
                .get(n)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
        };
        if !["to", "cc", "bcc"].iter().any(|n| has(n)) {
            return Err(NodeError::property("to", "is required (or `cc` / `bcc`)"));
        }
        Ok(())
    }

    fn run<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<Outputs, NodeError>> {
        Box::pin(run(ctx))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Security {
    None,
    StartTls,
    Tls,
}

async fn run(ctx: &Ctx) -> Result<Outputs, NodeError> {
    let host = ctx.required("smtpHost")?.trim().to_owned();
    let port = match ctx.number("smtpPort")? {
        None => 25,
        Some(n) if n.fract() == 0.0 && (1.0..=65535.0).contains(&n) => n as u16,
        Some(n) => {
            return Err(NodeError::property(
                "smtpPort",
                format!("`{n}` is not a port (1-65535)"),
            ));
        }
    };
    let security = match ctx
        .text("smtpSecurity")?
        .map(|s| s.trim().to_ascii_lowercase())
    {
        None => match port {
            465 => Security::Tls,
            587 => Security::StartTls,
            _ => Security::None,
        },
        Some(s) => match s.as_str() {
            "none" => Security::None,
            "starttls" => Security::StartTls,
            "tls" | "ssl" => Security::Tls,
            _ => {
                return Err(NodeError::property(
                    "smtpSecurity",
                    format!("`{s}` is not one of {}", SECURITY.join(", ")),
                ));
            }
        },
    };
    let user = ctx.text("smtpUser")?.filter(|u| !u.trim().is_empty());
    let password = ctx.secret_text("smtpPassword")?;

    let from_text = ctx.required("from")?;
    let from = mailbox("from", &from_text)?;
    let mut builder = Message::builder()
        .from(from)
        .message_id(None)
        .subject(ctx.text("subject")?.unwrap_or_default());
    let mut recipients = Vec::new();
    for field in ["to", "cc", "bcc"] {
        let Some(list) = ctx.text(field)? else {
            continue;
        };
        for addr in split_addresses(&list) {
            let m = mailbox(field, &addr)?;
            recipients.push(m.email.to_string());
            builder = match field {
                "to" => builder.to(m),
                "cc" => builder.cc(m),
                _ => builder.bcc(m),
            };
        }
    }
    if recipients.is_empty() {
        return Err(NodeError::property("to", "is required (or `cc` / `bcc`)"));
    }

    let text = ctx.text("text")?;
    let html = ctx.text("html")?;
    let body = match (text, html) {
        (Some(t), Some(h)) => MultiPart::alternative_plain_html(t, h),
        (None, Some(h)) => MultiPart::mixed().singlepart(SinglePart::html(h)),
        (t, None) => MultiPart::mixed().singlepart(SinglePart::plain(t.unwrap_or_default())),
    };
    let attachments = attachments(ctx).await?;
    let message = if attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for a in attachments {
            mixed = mixed.singlepart(a);
        }
        builder.multipart(mixed)
    }
    .map_err(|e| NodeError::failed(format!("cannot build the message: {e}")))?;
    let message_id = message
        .headers()
        .get_raw("Message-ID")
        .unwrap_or_default()
        .to_owned();

    install_tls_provider();
    let tls = |h: &str| {
        TlsParameters::new(h.to_owned())
            .map_err(|e| NodeError::failed(format!("TLS setup for {h}: {}", chain(&e))))
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
        .port(port)
        .timeout(Some(COMMAND_TIMEOUT));
    transport = match security {
        Security::None => transport.tls(Tls::None),
        Security::StartTls => transport.tls(Tls::Required(tls(&host)?)),
        Security::Tls => transport.tls(Tls::Wrapper(tls(&host)?)),
    };
    if let Some(u) = &user {
        let pw = password
            .as_ref()
            .map(|p| p.expose().to_owned())
            .unwrap_or_default();
        transport = transport.credentials(Credentials::new(u.clone(), pw));
    }
    let transport = transport.build();
    ctx.log(
        Stream::Info,
        &format!(
            "sending mail to {} recipient(s) via {host}:{port} ({})",
            recipients.len(),
            match security {
                Security::None => "plain",
                Security::StartTls => "STARTTLS",
                Security::Tls => "TLS",
            }
        ),
    );
    let response = tokio::select! {
        r = transport.send(message) => r.map_err(|e| NodeError::failed(describe(&e, &host, port, user.as_deref())))?,
        _ = ctx.cancelled() => return Err(NodeError::Cancelled),
    };
    let smtp_response = format!(
        "{} {}",
        response.code(),
        response.message().collect::<Vec<_>>().join(" ")
    );
    ctx.log(Stream::Info, &format!("accepted: {smtp_response}"));
    let mut o = Outputs::new();
    o.insert("messageId".into(), json!(message_id));
    o.insert("recipients".into(), json!(recipients));
    o.insert("smtpResponse".into(), json!(smtp_response.trim_end()));
    Ok(o)
}

fn mailbox(field: &str, addr: &str) -> Result<Mailbox, NodeError> {
    addr.trim().parse::<Mailbox>().map_err(|e| {
        NodeError::property(
            field,
            format!("`{}` is not a mail address: {e}", addr.trim()),
        )
    })
}

/// Addresses separated by `,`, `;` or new lines; a quoted display name or an
/// `<…>` may hold a comma.
fn split_addresses(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut angle) = (String::new(), false, false);
    for c in s.chars() {
        match c {
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' | ';' | '\n' if !quoted && !angle => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect()
}

/// The attachment parts: each path must be a file inside the file roots.
async fn attachments(ctx: &Ctx) -> Result<Vec<SinglePart>, NodeError> {
    let Some(list) = ctx.text("attachments")? else {
        return Ok(Vec::new());
    };
    let roots = ctx.resources().file_roots();
    let mut parts = Vec::new();
    for name in list
        .split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let path = confine_existing_file(&roots, name)
            .map_err(|e| NodeError::property("attachments", e))?;
        let bytes = tokio::fs::read(&path).await.map_err(|e| {
            NodeError::failed(format!("cannot read attachment `{}`: {e}", path.display()))
        })?;
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "attachment".into());
        parts.push(Attachment::new(filename).body(bytes, content_type(&path)));
    }
    Ok(parts)
}

fn content_type(path: &Path) -> ContentType {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let mime = match ext.as_str() {
        "txt" | "log" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => "application/octet-stream",
    };
    ContentType::parse(mime).unwrap_or(ContentType::TEXT_PLAIN)
}

/// A failed send in words: refused connection, SMTP refusal with the
/// server's code and text, failed login, TLS.
fn describe(
    e: &lettre::transport::smtp::Error,
    host: &str,
    port: u16,
    user: Option<&str>,
) -> String {
    let target = format!("{host}:{port}");
    if let Some(code) = e.status() {
        let text = std::error::Error::source(e)
            .map(|s| s.to_string())
            .unwrap_or_default();
        let reply = format!("{code} {text}").trim().to_owned();
        let auth = matches!(code.to_string().as_str(), "535" | "534" | "530" | "454");
        return match user {
            Some(u) if auth => format!("SMTP login as `{u}` at {target} failed: {reply}"),
            _ if e.is_permanent() => format!("the SMTP server {target} refused the mail: {reply}"),
            _ => format!(
                "the SMTP server {target} refused the mail for now (try again later): {reply}"
            ),
        };
    }
    let parts = chain_parts(e);
    if parts.iter().any(|p| {
        p.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
    }) {
        return format!("connection refused by {target}");
    }
    if e.is_timeout() {
        return format!("timed out talking to the SMTP server {target}");
    }
    if e.is_tls() {
        return format!("TLS with the SMTP server {target} failed: {}", chain(e));
    }
    format!("sending mail via {target} failed: {}", chain(e))
}

// ---- other tools' names ------------------------------------------------

/// Flowable's `mail` task (`<serviceTask flowable:type="mail">`), read as
/// Baton's `mail` (the alias shares the name; Baton's properties pass through
/// unchanged). Its fields `to`, `from`, `subject`, `cc`, `bcc`, `text`,
/// `html` have Baton's names already; `textVar` / `htmlVar` (a variable
/// holding the body) become `${var}`. `charset` is dropped: Baton always
/// sends UTF-8, which every mail reader decodes. Flowable takes the SMTP
/// server from the engine configuration: here it is `smtpHost` (and
/// `smtpPort`, `smtpUser`, ...) on the node, or a global variable used as
/// `${…}`. Not mapped: `headers`, `ignoreException`, `attachments` given
/// as Java objects.
pub fn from_flowable(props: &mut Outputs) {
    props.remove("charset");
    for (var, to) in [("textVar", "text"), ("htmlVar", "html")] {
        if let Some(Value::String(v)) = props.remove(var) {
            let v = v.trim();
            if !v.is_empty() && !props.contains_key(to) {
                props.insert(to.into(), Value::String(format!("${{{v}}}")));
            }
        }
    }
}

/// Camunda 7's `mail-send` connector (camunda-bpm-mail): input parameters
/// `to`, `cc`, `bcc`, `from`, `fromAlias` (the display name), `subject`,
/// `text`, `html`, `fileNames` (a list → `attachments`). Its SMTP settings
/// live in `mail-config.properties`: here they are `smtpHost`, ... on the node.
pub fn from_camunda(props: &mut Outputs) {
    if let Some(v) = props.remove("fileNames") {
        let list = match v {
            Value::Array(a) => a
                .iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("\n"),
            Value::String(s) => s,
            other => other.to_string(),
        };
        props.insert("attachments".into(), Value::String(list));
    }
    if let Some(Value::String(alias)) = props.remove("fromAlias")
        && let Some(Value::String(from)) = props.get("from")
        && !alias.trim().is_empty()
    {
        let from = format!("\"{}\" <{}>", alias.trim().replace('"', "'"), from.trim());
        props.insert("from".into(), Value::String(from));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_outside_quotes() {
        assert_eq!(
            split_addresses("a@x.org, \"Doe, Jane\" <j@x.org>; b@x.org\nc@x.org,"),
            vec!["a@x.org", "\"Doe, Jane\" <j@x.org>", "b@x.org", "c@x.org"]
        );
    }

    #[test]
    fn camunda_file_names_and_alias() {
        let mut p = Outputs::new();
        p.insert("fileNames".into(), json!(["/r/a.txt", "/r/b.pdf"]));
        p.insert("from".into(), json!("ops@x.org"));
        p.insert("fromAlias".into(), json!("Ops"));
        from_camunda(&mut p);
        assert_eq!(p["attachments"], "/r/a.txt\n/r/b.pdf");
        assert_eq!(p["from"], "\"Ops\" <ops@x.org>");
        let m: Mailbox = p["from"].as_str().unwrap().parse().unwrap();
        assert_eq!(m.name.as_deref(), Some("Ops"));
    }
}
