//! The real `sub-manager` binary, run with a config in a temp dir against a
//! test cloud; its stderr (the log) is kept for the test to read.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::cloud::{COMPANY, TOKEN};

static SEQ: AtomicU32 = AtomicU32::new(0);

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub struct Relay {
    child: Option<Child>,
    pub dir: PathBuf,
    pub page_port: u16,
    log: Arc<Mutex<String>>,
}

impl Relay {
    /// A fresh relay for the cloud on `cloud_port` with the pin `pin`; `extra`
    /// config lines appended.
    pub fn start(cloud_port: u16, pin: &str, extra: &str) -> Relay {
        let dir = std::env::temp_dir().join(format!(
            "sub-manager-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("test dir");
        let page_port = free_port();
        std::fs::write(
            dir.join("relay.toml"),
            format!(
                "company_code = \"{COMPANY}\"\ncloud_host = \"127.0.0.1\"\ncloud_port = {cloud_port}\n\
                 token = \"{TOKEN}\"\ncloud_cert_sha256 = \"{pin}\"\nhttp_host = \"127.0.0.1\"\n\
                 http_port = {page_port}\ndata_dir = \"data\"\n{extra}\n"
            ),
        )
        .expect("config");
        let mut r = Relay {
            child: None,
            dir,
            page_port,
            log: Arc::new(Mutex::new(String::new())),
        };
        r.spawn();
        r
    }

    fn spawn(&mut self) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sub-manager"))
            .args(["run", "--config"])
            .arg(self.dir.join("relay.toml"))
            .current_dir(&self.dir)
            .env("BATON_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sub-manager");
        let stderr = child.stderr.take().expect("stderr");
        let log = self.log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = log.lock().unwrap_or_else(|p| p.into_inner());
                l.push_str(&line);
                l.push('\n');
            }
        });
        self.child = Some(child);
    }

    /// SIGKILL, no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for the exit; its status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        c.wait().ok().and_then(|s| s.code())
    }

    /// Starts the binary again on the same config and data.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until the log contains `needle` (polled: the log is another
    /// process's output, there is no event to await).
    pub async fn wait_log(&self, needle: &str, limit: Duration) -> bool {
        let start = Instant::now();
        loop {
            if self.log().contains(needle) {
                return true;
            }
            if start.elapsed() > limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every file under the data directory, as bytes.
    pub fn data_files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.join("data")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else if let Ok(b) = std::fs::read(&p) {
                    out.push((p, b));
                }
            }
        }
        out
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.kill9();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("relay log:\n{}", self.log());
        }
    }
}
