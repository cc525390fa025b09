//! A throw-away OpenSSH server for tests: `/usr/sbin/sshd -D -e` on a free
//! 127.0.0.1 port with its own host key, an authorized client key, and (when
//! running as root) a local user with a password. Stopped when dropped.
//!
//! Without `/usr/sbin/sshd`, [`Sshd::start`] returns `None` with a note, or
//! panics under `CI=true`: CI must not skip these tests silently.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SSHD: &str = "/usr/sbin/sshd";
/// The local user created for password authentication (as root only).
pub const TEST_USER: &str = "baton-ssh-test";
pub const TEST_PASSWORD: &str = "Baton-test-pw-42";

pub struct Sshd {
    pub port: u16,
    /// The user tests log in as.
    pub user: String,
    /// `Some` when the user has a password (the test runs as root).
    pub password: Option<String>,
    /// The authorized client key (OpenSSH ed25519), private text.
    pub key: String,
    /// The private key's file.
    pub key_path: PathBuf,
    /// The server's host key in `type base64` form.
    pub host_key: String,
    pub dir: PathBuf,
    child: Child,
    log: Arc<Mutex<String>>,
}

static SEQ: AtomicU32 = AtomicU32::new(0);
static USER_SETUP: Mutex<bool> = Mutex::new(false);

fn have(cmd: &str) -> bool {
    Path::new(cmd).exists()
        || Command::new("sh")
            .args(["-c", &format!("command -v {cmd}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn is_root() -> bool {
    run("id", &["-u"]).trim() == "0"
}

/// Creates [`TEST_USER`] (once per process) and sets its password.
fn ensure_test_user() {
    let mut done = USER_SETUP.lock().unwrap_or_else(|p| p.into_inner());
    if *done {
        return;
    }
    let exists = Command::new("id")
        .arg(TEST_USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !exists {
        run("useradd", &["-m", "-s", "/bin/sh", TEST_USER]);
    }
    let mut p = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .expect("chpasswd");
    use std::io::Write;
    p.stdin
        .take()
        .expect("stdin")
        .write_all(format!("{TEST_USER}:{TEST_PASSWORD}\n").as_bytes())
        .expect("chpasswd input");
    assert!(p.wait().expect("chpasswd").success(), "chpasswd failed");
    *done = true;
}

/// Whether the tests can run here; panics under CI when they cannot.
pub fn available() -> bool {
    let missing: Vec<_> = [SSHD, "ssh-keygen"]
        .into_iter()
        .filter(|c| !have(c))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "{} missing: install openssh-server and openssh-client to run the SSH tests",
        missing.join(", ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("note: skipping: {msg}");
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Sshd {
    /// Starts a server allowing 200 concurrent sessions; `None` when sshd
    /// is not installed (outside CI).
    pub fn start() -> Option<Sshd> {
        Self::start_with("")
    }

    /// [`Sshd::start`] with more `sshd_config` lines (first: sshd takes the
    /// first value of an option).
    pub fn start_with(extra: &str) -> Option<Sshd> {
        if !available() {
            return None;
        }
        let root = is_root();
        if root {
            ensure_test_user();
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let user = if root {
            TEST_USER.to_owned()
        } else {
            run("id", &["-un"]).trim().to_owned()
        };
        let dir = std::env::temp_dir().join(format!(
            "baton-sshd-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("sshd dir");
        let host_key = dir.join("host_ed25519");
        keygen(&host_key, &["-t", "ed25519"], "");
        let key_path = dir.join("id_ed25519");
        keygen(&key_path, &["-t", "ed25519"], "");
        let authorized = dir.join("authorized_keys");
        std::fs::copy(key_path.with_extension("pub"), &authorized).expect("authorized_keys");
        let sftp = ["/usr/lib/openssh/sftp-server", "/usr/libexec/sftp-server"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("internal-sftp");
        let port = free_port();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "{extra}\n\
                 Port {port}\n\
                 ListenAddress 127.0.0.1\n\
                 HostKey {host}\n\
                 PidFile none\n\
                 UsePAM no\n\
                 StrictModes no\n\
                 AuthorizedKeysFile {auth}\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication yes\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin yes\n\
                 MaxStartups 200\n\
                 MaxSessions 200\n\
                 MaxAuthTries 10\n\
                 LogLevel INFO\n\
                 Subsystem sftp {sftp}\n",
                host = host_key.display(),
                auth = authorized.display(),
            ),
        )
        .expect("sshd_config");
        let mut child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sshd");
        // sshd says when it listens; keep draining its log afterwards.
        let log = Arc::new(Mutex::new(String::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("sshd stderr");
        let log2 = log.clone();
        std::thread::spawn(move || {
            let mut ready = Some(ready_tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("Server listening on")
                    && let Some(tx) = ready.take()
                {
                    let _ = tx.send(());
                }
                let mut l = log2.lock().unwrap_or_else(|p| p.into_inner());
                l.push_str(&line);
                l.push('\n');
            }
        });
        if ready_rx.recv_timeout(Duration::from_secs(10)).is_err() {
            let _ = child.kill();
            panic!(
                "sshd did not start: {}",
                log.lock().unwrap_or_else(|p| p.into_inner())
            );
        }
        let pub_text = std::fs::read_to_string(host_key.with_extension("pub")).expect("host key");
        let host_key = pub_text.split(' ').take(2).collect::<Vec<_>>().join(" ");
        let key = std::fs::read_to_string(&key_path).expect("client key");
        Some(Sshd {
            port,
            password: root.then(|| TEST_PASSWORD.to_owned()),
            user,
            key,
            key_path,
            host_key,
            dir,
            child,
            log,
        })
    }

    /// Generates another client key (`ssh-keygen` `args`, e.g. `-t rsa -m PEM`),
    /// authorizes it unless `authorize` is false, and gives its private text.
    pub fn new_key(&self, name: &str, args: &[&str], passphrase: &str, authorize: bool) -> String {
        let path = self.dir.join(name);
        keygen(&path, args, passphrase);
        if authorize {
            let public = std::fs::read_to_string(path.with_extension("pub")).expect("pub key");
            let mut all =
                std::fs::read_to_string(self.dir.join("authorized_keys")).expect("authorized");
            all.push_str(&public);
            std::fs::write(self.dir.join("authorized_keys"), all).expect("authorized");
        }
        std::fs::read_to_string(&path).expect("private key")
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// `ssh-keygen -q -N <passphrase> -f <path> <args>`.
pub fn keygen(path: &Path, args: &[&str], passphrase: &str) {
    let _ = std::fs::remove_file(path);
    let p = path.to_string_lossy().into_owned();
    let mut all = vec!["-q", "-N", passphrase, "-C", "", "-f", &p];
    all.extend_from_slice(args);
    run("ssh-keygen", &all);
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits up to `limit` for `f` to hold (for effects outside this process,
/// such as a remote process ending, that give no event to await).
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
