//! A real SMTP server for tests: Python's aiosmtpd, started here, saving
//! each message it accepts as JSON. Without aiosmtpd, `smtp` fails under
//! `CI=true` and returns `None` (with a note) elsewhere. Shared by the mail
//! node's tests and the server's task-notice tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The SMTP server: refuses recipients starting with `reject`, accepts the
/// login `baton` / `pa55word` (without TLS, for the test), saves messages.
const SERVER: &str = r#"
import asyncio, email, email.policy, json, os, socket, sys
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

out = sys.argv[1]

class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 <%s>: Recipient address rejected: User unknown" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        saved = {"from": envelope.mail_from, "rcpt": envelope.rcpt_tos,
                 "login": session.auth_data.login.decode() if session.authenticated else None,
                 "subject": msg["subject"], "fromHeader": msg["from"], "to": msg["to"], "cc": msg["cc"], "bcc": msg["bcc"],
                 "messageId": msg["message-id"], "text": None, "html": None, "attachments": []}
        for part in msg.walk():
            if part.is_multipart():
                continue
            if part.get_filename():
                saved["attachments"].append({"name": part.get_filename(),
                    "type": part.get_content_type(),
                    "content": part.get_payload(decode=True).decode("latin-1")})
            elif part.get_content_type() == "text/plain":
                saved["text"] = part.get_content()
            elif part.get_content_type() == "text/html":
                saved["html"] = part.get_content()
        n = len(os.listdir(out))
        tmp = os.path.join(out, ".tmp")
        with open(tmp, "w") as f:
            json.dump(saved, f)
        os.rename(tmp, os.path.join(out, "msg%03d.json" % n))
        return "250 2.0.0 Ok: queued as BATON%03d" % n

def auth(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == b"baton" and data.password == b"pa55word"
    return AuthResult(success=ok, handled=False, auth_data=data)

async def main():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Handler(), authenticator=auth, auth_require_tls=False, auth_required=False),
        sock=sock)
    print(sock.getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"#;

pub struct Smtp {
    pub port: u16,
    dir: PathBuf,
    _child: Child,
}

impl Smtp {
    /// The messages saved so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the server, or `None` when aiosmtpd is missing outside CI.
pub async fn smtp(name: &str) -> Option<Smtp> {
    let has = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("python3 with aiosmtpd is required (python3 -m pip install aiosmtpd)");
        }
        eprintln!("note: python3 with aiosmtpd is missing; the SMTP tests are skipped");
        return None;
    }
    let dir = std::env::temp_dir().join(format!("baton-mail-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let script = dir.join("smtpd.py");
    std::fs::write(&script, SERVER).unwrap();
    let mut child = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 starts");
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).await.unwrap();
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the SMTP server did not start: {line:?}"));
    Some(Smtp {
        port,
        dir: out,
        _child: child,
    })
}
