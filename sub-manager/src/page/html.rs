//! The page's HTML, rendered on the server. Everything from outside is escaped.

use std::fmt::Write;

use baton_relay_protocol::{LogStream, LoginUser, TerminalSpec};
use chrono::{DateTime, Local};

use crate::config::Config;
use crate::status::{JobState, JobView, LinkState, LinkView, LogView};

/// HTML-escapes `s`.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a path segment.
fn seg(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn time(t: &DateTime<Local>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn page(title: &str, user: Option<&LoginUser>, refresh: bool, body: &str) -> String {
    let who = user
        .map(|u| {
            format!(
                "<form method=post action=/logout class=who>{} <button>Sign out</button></form>",
                esc(&u.name)
            )
        })
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content='width=device-width,initial-scale=1'>{}\
         <title>{} · Baton Sub-Manager</title><style>{CSS}</style></head>\
         <body><header><b>Baton Sub-Manager</b>{who}</header><main>{body}</main></body></html>",
        if refresh {
            "<meta http-equiv=refresh content=5>"
        } else {
            ""
        },
        esc(title),
    )
}

const CSS: &str = "body{font:14px system-ui,sans-serif;margin:0;color:#222}\
header{background:#234;color:#fff;padding:.6em 1em;display:flex;justify-content:space-between}\
.who{margin:0}main{padding:1em;max-width:70em}table{border-collapse:collapse;margin:.5em 0 1.5em}\
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}\
.ok{color:#070}.bad{color:#b00}.warn{color:#a60}pre{background:#f6f6f6;padding:.6em;overflow:auto}\
.stderr{color:#b00}.info{color:#555}form.login{max-width:22em}label{display:block;margin:.6em 0}\
input{width:100%;padding:.3em}.note{padding:.6em;background:#fee;border:1px solid #e99}";

fn link_line(link: &LinkView) -> String {
    let (class, text) = match &link.state {
        LinkState::Starting => ("warn", "not connected yet".to_owned()),
        LinkState::Connected { host_id } => ("ok", format!("connected (host {})", esc(host_id))),
        LinkState::Reconnecting { error } => ("warn", format!("reconnecting — {}", esc(error))),
        LinkState::Revoked { reason } => ("bad", format!("revoked — {}", esc(reason))),
    };
    format!(
        "<span class={class}>{text}</span> since {}",
        time(&link.since)
    )
}

pub fn login(link: &LinkView, error: Option<&str>) -> String {
    let mut body = String::from("<h1>Sign in</h1>");
    if let Some(e) = error {
        let _ = write!(body, "<p class=note>{}</p>", esc(e));
    }
    if !matches!(link.state, LinkState::Connected { .. }) {
        let _ = write!(
            body,
            "<p class=note>Link to the cloud: {}. Signing in needs the cloud.</p>",
            link_line(link)
        );
    }
    body.push_str(
        "<form class=login method=post action=/login>\
         <label>Cloud user name <input name=username autocomplete=username required></label>\
         <label>Password <input name=password type=password autocomplete=current-password required></label>\
         <button>Sign in</button></form>\
         <p>Use your Baton (cloud) account; it needs the “may log in to Sub-Manager” permission.</p>",
    );
    page("Sign in", None, false, &body)
}

pub fn message(title: &str, text: &str) -> String {
    page(
        title,
        None,
        false,
        &format!(
            "<h1>{}</h1><p>{}</p><p><a href=/>Back</a></p>",
            esc(title),
            esc(text)
        ),
    )
}

fn state(s: &JobState) -> String {
    match s {
        JobState::Queued => "<span class=warn>queued</span>".into(),
        JobState::Running => "<span class=warn>running</span>".into(),
        JobState::Done => "<span class=ok>done</span>".into(),
        JobState::Failed(m) => format!("<span class=bad>failed</span>: {}", esc(m)),
    }
}

fn job_rows(jobs: &[JobView]) -> String {
    if jobs.is_empty() {
        return "<p>None.</p>".into();
    }
    let mut t = String::from(
        "<table><tr><th>Job</th><th>Kind</th><th>Element</th><th>Instance</th><th>State</th>\
         <th>Accepted</th><th>Finished</th></tr>",
    );
    for j in jobs {
        let _ = write!(
            t,
            "<tr><td><a href=\"/jobs/{}/{}\">{} #{}</a></td><td>{}</td><td>{} {}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            seg(&j.job.job_id),
            j.job.attempt,
            esc(&j.job.job_id),
            j.job.attempt,
            esc(&j.kind),
            esc(&j.element_id),
            esc(&j.element_name),
            esc(&j.instance_id),
            state(&j.state),
            time(&j.accepted),
            j.finished.as_ref().map(time).unwrap_or_default(),
        );
    }
    t.push_str("</table>");
    t
}

pub fn overview(
    user: &LoginUser,
    config: &Config,
    link: &LinkView,
    terminals: &[TerminalSpec],
    has_secret: impl Fn(&str) -> bool,
    active: &[JobView],
    recent: &[JobView],
) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>Link</h1><table><tr><th>Cloud</th><td>{}:{}</td></tr>\
         <tr><th>Company</th><td>{}</td></tr><tr><th>State</th><td>{}</td></tr>",
        esc(&config.cloud_host),
        config.cloud_port,
        esc(&config.company_code),
        link_line(link)
    );
    match &link.last_heartbeat {
        Some((at, hb)) => {
            let _ = write!(
                b,
                "<tr><th>Last heartbeat</th><td>{} — load {:.2}, CPU {:.1} %, {} MiB free of {} MiB, \
                 I/O {} KiB/s, {} running, {} queued — {}</td></tr>",
                time(at),
                hb.load1,
                hb.cpu_pct,
                hb.mem_free >> 20,
                hb.mem_total >> 20,
                hb.io_bytes_per_s >> 10,
                hb.running,
                hb.queued,
                match &hb.reason {
                    None => "<span class=ok>available</span>".to_owned(),
                    Some(r) => format!("<span class=bad>not available</span>: {}", esc(r)),
                }
            );
        }
        None => b.push_str("<tr><th>Last heartbeat</th><td>none yet</td></tr>"),
    }
    b.push_str("</table><h1>Terminals</h1>");
    if terminals.is_empty() {
        b.push_str("<p>The server has not sent any terminal.</p>");
    } else {
        b.push_str(
            "<table><tr><th>Name</th><th>Address</th><th>Connection</th><th>OS</th>\
             <th>Accounts</th><th>Comments</th></tr>",
        );
        for t in terminals {
            let accounts: Vec<String> = t
                .accounts
                .iter()
                .map(|a| {
                    format!(
                        "{} ({:?}{})",
                        esc(&a.username),
                        a.auth_kind,
                        if has_secret(&a.id) {
                            ", secret stored"
                        } else {
                            ", <span class=bad>no secret</span>"
                        }
                    )
                })
                .collect();
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{} ({}:{})</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td></tr>",
                esc(&t.name),
                esc(&t.host_name),
                esc(&t.host_address),
                t.port,
                esc(&t.connection_type),
                esc(&t.os_name),
                esc(&t.os_version),
                accounts.join("<br>"),
                esc(&t.comments)
            );
        }
        b.push_str("</table>");
    }
    let _ = write!(
        b,
        "<h1>Running and queued jobs ({})</h1>{}<h1>Recent jobs</h1>{}",
        active.len(),
        job_rows(active),
        job_rows(recent)
    );
    page("Overview", Some(user), true, &b)
}

pub fn job(user: &LoginUser, j: &JobView, lines: &[LogView], dropped: usize) -> String {
    let mut b = format!(
        "<p><a href=/>← Overview</a></p><h1>Job {} #{}</h1><table>\
         <tr><th>Kind</th><td>{}</td></tr><tr><th>Element</th><td>{} {}</td></tr>\
         <tr><th>Instance</th><td>{}</td></tr><tr><th>State</th><td>{}</td></tr>\
         <tr><th>Accepted</th><td>{}</td></tr><tr><th>Started</th><td>{}</td></tr>\
         <tr><th>Finished</th><td>{}</td></tr></table><h2>Log</h2>",
        esc(&j.job.job_id),
        j.job.attempt,
        esc(&j.kind),
        esc(&j.element_id),
        esc(&j.element_name),
        esc(&j.instance_id),
        state(&j.state),
        time(&j.accepted),
        j.started.as_ref().map(time).unwrap_or_default(),
        j.finished.as_ref().map(time).unwrap_or_default(),
    );
    if dropped > 0 {
        let _ = write!(b, "<p>({dropped} earlier lines not kept.)</p>");
    }
    b.push_str("<pre>");
    for l in lines {
        let class = match l.stream {
            LogStream::Stdout => "stdout",
            LogStream::Stderr => "stderr",
            LogStream::Info => "info",
        };
        let _ = writeln!(
            b,
            "<span class={class}>{} {}</span>",
            l.at.format("%H:%M:%S%.3f"),
            esc(&l.text)
        );
    }
    b.push_str("</pre>");
    let running = matches!(j.state, JobState::Queued | JobState::Running);
    page(&format!("Job {}", j.job.job_id), Some(user), running, &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(seg("i1:7/x y"), "i1%3A7%2Fx%20y");
    }
}
