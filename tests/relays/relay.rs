//! A real `sub-manager` process dialling in ([`Relay`]).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::cloud::Cloud;

/// A `sub-manager` process.
pub(crate) struct Relay {
    child: Child,
    config: PathBuf,
    log: PathBuf,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sub_manager_bin() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_baton")).parent().unwrap();
    let bin = dir.join("sub-manager");
    if !bin.exists() {
        let ok = Command::new(env!("CARGO"))
            .args(["build", "-p", "sub-manager", "--bin", "sub-manager"])
            .status()
            .unwrap();
        assert!(ok.success(), "building sub-manager");
    }
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Relay {
    pub(crate) fn start(
        cloud: &Cloud,
        name: &str,
        token: &str,
        company: &str,
        max_jobs: u32,
    ) -> Relay {
        let dir = cloud.dir.join(format!("relay-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("sub-manager.toml");
        std::fs::write(
            &config,
            format!(
                "company_code = \"{company}\"\ncloud_host = \"127.0.0.1\"\ncloud_port = {}\n\
                 token = \"{token}\"\ncloud_cert_sha256 = \"{}\"\nhttp_host = \"127.0.0.1\"\n\
                 http_port = {}\ndata_dir = \"data\"\nmax_jobs = {max_jobs}\n",
                cloud.port,
                cloud.pin,
                free_port()
            ),
        )
        .unwrap();
        Relay::spawn(config, dir.join("relay.log"))
    }

    fn spawn(config: PathBuf, log: PathBuf) -> Relay {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new(sub_manager_bin())
            .arg("run")
            .arg("--config")
            .arg(&config)
            .env("RUST_LOG", "info")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Relay { child, config, log }
    }

    /// kill -9, then start again on the same data directory.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn restart(&mut self) {
        self.kill();
        // The old value's drop kills a process already gone: harmless.
        *self = Relay::spawn(self.config.clone(), self.log.clone());
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
