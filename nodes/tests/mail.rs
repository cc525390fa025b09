//! The `mail` node against a real SMTP server: Python's aiosmtpd, started
//! here, saving each message it accepts as JSON. Without aiosmtpd the tests
//! fail under `CI=true` and are skipped (with a note) elsewhere.

use std::path::PathBuf;
use std::sync::Arc;

use baton_nodes::resources::MemResources;
use baton_nodes::{Ctx, JobInfo, NodeError, Registry, RunResult};
use serde_json::{Map, Value, json};

#[path = "common/smtp.rs"]
mod smtp;

use smtp::smtp;

fn ctx(roots: Vec<PathBuf>, p: Value) -> Ctx {
    Ctx::new(
        JobInfo {
            job_id: "i1:5".into(),
            element_id: "notify".into(),
            ..Default::default()
        },
        p.as_object().unwrap().clone(),
        Arc::new(MemResources {
            roots,
            ..Default::default()
        }),
    )
    .with_vars(
        json!({"host": "web01", "pw": "pa55word"})
            .as_object()
            .unwrap()
            .clone(),
    )
}

async fn run(kind: &str, roots: &[PathBuf], p: Value) -> RunResult {
    Registry::with_defaults()
        .run(kind, ctx(roots.to_vec(), p))
        .await
}

async fn ok(kind: &str, roots: &[PathBuf], p: Value) -> Map<String, Value> {
    match run(kind, roots, p).await {
        RunResult::Done { outputs, .. } => outputs,
        RunResult::Failed(e) => panic!("failed: {e}"),
    }
}

async fn err(kind: &str, roots: &[PathBuf], p: Value) -> NodeError {
    match run(kind, roots, p).await {
        RunResult::Failed(e) => e,
        RunResult::Done { outputs, .. } => panic!("succeeded: {outputs:?}"),
    }
}

fn report_root(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("baton-mail-root-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[tokio::test]
async fn sends_text_html_and_attachments() {
    let Some(s) = smtp("send").await else { return };
    let root = report_root("send");
    std::fs::write(root.join("report.csv"), "host,disk\nweb01,93%\n").unwrap();
    std::fs::write(root.join("notes.txt"), "all good").unwrap();
    let o = ok(
        "mail",
        std::slice::from_ref(&root),
        json!({
            "smtpHost": "127.0.0.1", "smtpPort": s.port.to_string(),
            "from": "Baton <baton@example.org>",
            "to": "ops@example.org, \"Doe, Jane\" <jane@example.org>",
            "cc": "lead@example.org", "bcc": "audit@example.org",
            "subject": "Disk report for ${host}",
            "text": "Disk on ${host} is at 93%.",
            "html": "<p>Disk on <b>${host}</b></p>",
            "attachments": format!("report.csv\n{}", root.join("notes.txt").display()),
        }),
    )
    .await;
    assert_eq!(
        o["recipients"],
        json!([
            "ops@example.org",
            "jane@example.org",
            "lead@example.org",
            "audit@example.org"
        ])
    );
    assert!(
        o["smtpResponse"]
            .as_str()
            .unwrap()
            .starts_with("250 2.0.0 Ok: queued as BATON000"),
        "{o:?}"
    );
    let m = &s.messages()[0];
    assert_eq!(m["subject"], "Disk report for web01");
    assert_eq!(m["from"], "baton@example.org");
    assert_eq!(
        m["rcpt"],
        json!([
            "ops@example.org",
            "jane@example.org",
            "lead@example.org",
            "audit@example.org"
        ])
    );
    assert_eq!(m["bcc"], Value::Null, "Bcc is not in the headers");
    assert_eq!(m["messageId"], o["messageId"]);
    assert!(o["messageId"].as_str().unwrap().starts_with('<'));
    assert_eq!(
        m["text"].as_str().unwrap().trim_end(),
        "Disk on web01 is at 93%."
    );
    assert_eq!(
        m["html"].as_str().unwrap().trim_end(),
        "<p>Disk on <b>web01</b></p>"
    );
    let att = m["attachments"].as_array().unwrap();
    assert_eq!(att.len(), 2);
    assert_eq!(att[0]["name"], "report.csv");
    assert_eq!(att[0]["type"], "text/csv");
    assert_eq!(att[0]["content"], "host,disk\nweb01,93%\n");
    assert_eq!(att[1]["name"], "notes.txt");
    assert_eq!(att[1]["content"], "all good");
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn login_and_its_failure() {
    let Some(s) = smtp("auth").await else { return };
    let base = json!({
        "smtpHost": "127.0.0.1", "smtpPort": s.port.to_string(), "smtpUser": "baton",
        "from": "baton@example.org", "to": "ops@example.org", "subject": "s", "text": "t",
    });
    let mut p = base.clone();
    p["smtpPassword"] = json!("${pw}");
    let o = ok("mail", &[], p).await;
    assert!(
        !o.contains_key("smtpPassword"),
        "the password is never an output"
    );
    assert!(
        !serde_json::to_string(&o).unwrap().contains("pa55word"),
        "{o:?}"
    );
    assert_eq!(s.messages()[0]["login"], "baton");

    let mut p = base.clone();
    p["smtpPassword"] = json!("wrong-password");
    let e = err("mail", &[], p).await.to_string();
    assert!(
        e.starts_with(&format!(
            "SMTP login as `baton` at 127.0.0.1:{} failed: 535",
            s.port
        )),
        "{e}"
    );
    assert!(!e.contains("wrong-password"), "{e}");
}

#[tokio::test]
async fn refusals_and_bad_input_are_named() {
    let Some(s) = smtp("refuse").await else {
        return;
    };
    let p = |extra: Value| {
        let mut v = json!({"smtpHost": "127.0.0.1", "smtpPort": s.port.to_string(),
                           "from": "baton@example.org", "to": "ops@example.org", "text": "t"});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    };
    let e = err(
        "mail",
        &[],
        p(json!({"to": "ok@example.org, rejected@example.org"})),
    )
    .await;
    assert_eq!(
        e.to_string(),
        format!(
            "the SMTP server 127.0.0.1:{} refused the mail: 550 5.1.1 <rejected@example.org>: Recipient address rejected: User unknown",
            s.port
        )
    );
    assert!(s.messages().is_empty());

    let e = err(
        "mail",
        &[],
        p(json!({"to": "ops@example.org, not an address"})),
    )
    .await;
    assert!(
        e.to_string()
            .starts_with("property `to`: `not an address` is not a mail address"),
        "{e}"
    );
    let e = err("mail", &[], p(json!({"from": "baton@"}))).await;
    assert!(
        e.to_string()
            .starts_with("property `from`: `baton@` is not a mail address"),
        "{e}"
    );

    // Attachments: missing, outside the roots, no roots.
    let root = report_root("refuse");
    let e = err(
        "mail",
        std::slice::from_ref(&root),
        p(json!({"attachments": "missing.pdf"})),
    )
    .await;
    assert!(
        e.to_string()
            .starts_with("property `attachments`: file `missing.pdf` does not exist"),
        "{e}"
    );
    let e = err(
        "mail",
        std::slice::from_ref(&root),
        p(json!({"attachments": "/etc/hostname"})),
    )
    .await;
    assert!(e.to_string().contains("outside the file roots"), "{e}");
    let e = err("mail", &[], p(json!({"attachments": "/etc/hostname"}))).await;
    assert!(
        e.to_string().contains("no file roots are configured"),
        "{e}"
    );
    assert!(s.messages().is_empty());
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn connection_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let e = err(
        "mail",
        &[],
        json!({"smtpHost": "127.0.0.1", "smtpPort": port.to_string(),
               "from": "baton@example.org", "to": "ops@example.org"}),
    )
    .await;
    assert_eq!(
        e.to_string(),
        format!("connection refused by 127.0.0.1:{port}")
    );
    let reg = Registry::with_defaults();
    let v = |x: Value| x.as_object().unwrap().clone();
    assert_eq!(
        reg.validate("mail", &v(json!({"smtpHost": "h", "from": "a@b.c"})))
            .unwrap_err(),
        NodeError::property("to", "is required (or `cc` / `bcc`)")
    );
    assert!(!reg.idempotent("mail"));
}

#[tokio::test]
async fn flowable_mail_and_camunda_mail_send() {
    let Some(s) = smtp("alias").await else { return };
    let root = report_root("alias");
    std::fs::write(root.join("r.txt"), "report body").unwrap();
    assert_eq!(
        Registry::with_defaults().canonical("mail-send"),
        Some("mail")
    );
    ok(
        "mail",
        &[],
        json!({"smtpHost": "127.0.0.1", "smtpPort": s.port.to_string(),
               "from": "flowable@example.org", "to": "ops@example.org",
               "subject": "From Flowable", "htmlVar": "host", "charset": "ISO-8859-1"}),
    )
    .await;
    ok(
        "mail-send",
        std::slice::from_ref(&root),
        json!({"smtpHost": "127.0.0.1", "smtpPort": s.port.to_string(),
               "from": "camunda@example.org", "fromAlias": "Camunda Ops",
               "to": "ops@example.org", "subject": "From Camunda", "text": "see file",
               "fileNames": [root.join("r.txt").display().to_string()]}),
    )
    .await;
    let m = s.messages();
    assert_eq!(m[0]["subject"], "From Flowable");
    assert_eq!(m[0]["html"].as_str().unwrap().trim_end(), "web01");
    assert_eq!(m[1]["subject"], "From Camunda");
    assert_eq!(m[1]["rcpt"], json!(["ops@example.org"]));
    assert_eq!(m[1]["fromHeader"], "Camunda Ops <camunda@example.org>");
    assert_eq!(m[1]["attachments"][0]["name"], "r.txt");
    assert_eq!(m[1]["attachments"][0]["content"], "report body");
    let _ = std::fs::remove_dir_all(root);
}
