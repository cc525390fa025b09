//! Relay benchmark: `noop` jobs through one link between the test cloud
//! (in this process) and the real `sub-manager` binary on loopback.
//!
//! ```sh
//! cargo build --release -p sub-manager --bin sub-manager --example relay_bench
//! target/release/examples/relay_bench [--data-dir DIR] [--single 2000] [--jobs 200000] [--batch 1000] [--window 8]
//! ```
//!
//! - latency: one job at a time (send `jobs` → `result` back), p50 / p99 / max;
//!   the relay journals each job (fsync) before `accepted` and its result
//!   (fsync) before sending it, so both syncs are in the round trip.
//! - throughput: `--jobs` jobs in frames of `--batch`, `--window` frames in
//!   flight, results acknowledged as they come; jobs per second from the
//!   first send to the last result.
//!
//! `--data-dir` is where the relay's journal goes (default: under the
//! system temp dir); compare a disk with a tmpfs (`/dev/shm/...`) to see
//! what the fsyncs cost. The same run times the bare `fdatasync` of that
//! directory's filesystem before and after the latency phase (the floor:
//! a durable round trip needs two). Prints one JSON object;
//! `RELAY_BENCH_SLOW=1` also lists the round trips over 5 ms on stderr.

#[path = "../tests/common/cloud.rs"]
#[allow(dead_code)]
mod cloud;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use baton_relay_protocol::{JobRef, Map, Outcome, RelayJob, ToRelay, ToServer};
use cloud::{COMPANY, Cloud, TOKEN};
use serde_json::json;

struct Args {
    data_dir: Option<PathBuf>,
    single: usize,
    jobs: usize,
    batch: usize,
    window: usize,
}

fn args() -> Args {
    let mut a = Args {
        data_dir: None,
        single: 2000,
        jobs: 200_000,
        batch: 1000,
        window: 8,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        let mut v = || it.next().unwrap_or_else(|| panic!("{k} needs a value"));
        match k.as_str() {
            "--data-dir" => a.data_dir = Some(PathBuf::from(v())),
            "--single" => a.single = v().parse().expect("--single N"),
            "--jobs" => a.jobs = v().parse().expect("--jobs N"),
            "--batch" => a.batch = v().parse().expect("--batch N"),
            "--window" => a.window = v().parse().expect("--window N"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn noop(id: usize) -> RelayJob {
    RelayJob {
        job_id: format!("bench:{id}"),
        attempt: 1,
        kind: "noop".into(),
        element_id: "noop".into(),
        element_name: "No-op".into(),
        instance_id: format!("bench-{}", id / 100),
        props: Map::new(),
        vars: json!({"n": id}).as_object().cloned().unwrap_or_default(),
        outputs: Map::new(),
        globals: Map::new(),
        timeout_ms: None,
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The disk's own cost: `fdatasync` after appending a journal-sized record,
/// `n` times, in `dir` (a durable round trip needs two).
fn fsync_probe(dir: &std::path::Path, n: usize) -> Vec<f64> {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("probe file");
    let rec = vec![b'x'; 700];
    let mut v: Vec<f64> = (0..n)
        .map(|_| {
            f.write_all(&rec).expect("write");
            let t = Instant::now();
            f.sync_data().expect("fdatasync");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let _ = std::fs::remove_file(&path);
    v.sort_by(f64::total_cmp);
    v
}

fn first_line(path: &str, key: &str) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    let exe = std::env::current_exe().expect("current exe");
    let bin = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("sub-manager"))
        .filter(|p| p.exists())
        .expect("target/<profile>/sub-manager: build it with `cargo build --release -p sub-manager --bin sub-manager`");

    let mut cloud = Cloud::start().await;
    let dir = a.data_dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("relay-bench-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("data dir");
    let page_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a port");
    let config = dir.join("relay.toml");
    std::fs::write(
        &config,
        format!(
            "company_code = \"{COMPANY}\"\ncloud_host = \"127.0.0.1\"\ncloud_port = {}\ntoken = \"{TOKEN}\"\n\
             cloud_cert_sha256 = \"{}\"\nhttp_host = \"127.0.0.1\"\nhttp_port = {page_port}\n\
             data_dir = \"data\"\nmax_held_jobs = 1000000\n",
            cloud.port,
            cloud.cert.pin()
        ),
    )
    .expect("config");
    let mut child = Command::new(&bin)
        .args(["run", "--config"])
        .arg(&config)
        .env("BATON_LOG", "warn")
        .stdin(Stdio::null())
        .spawn()
        .expect("start sub-manager");
    let mut conn = cloud.accept().await;

    // Warm-up.
    let mut next = 0;
    let warm: Vec<RelayJob> = (0..1000).map(|i| noop(next + i)).collect();
    next += warm.len();
    conn.send(vec![ToRelay::Jobs { jobs: warm }]);
    let mut done = 0;
    let mut acks = Vec::new();
    while done < 1000 {
        if let ToServer::Result {
            job_id, attempt, ..
        } = conn.recv().await
        {
            done += 1;
            acks.push(JobRef::new(job_id, attempt));
        }
    }
    conn.send(vec![ToRelay::Ack {
        results: std::mem::take(&mut acks),
    }]);

    let fsync_before = fsync_probe(&dir, 2000);

    // Latency: one job at a time.
    let mut lat = Vec::with_capacity(a.single);
    let mut slow = Vec::new();
    let phase = Instant::now();
    for _ in 0..a.single {
        let j = noop(next);
        next += 1;
        let want = j.job_id.clone();
        let t = Instant::now();
        conn.send(vec![ToRelay::Jobs { jobs: vec![j] }]);
        loop {
            match conn.recv().await {
                ToServer::Result {
                    job_id,
                    attempt,
                    outcome,
                } if job_id == want => {
                    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    lat.push(ms);
                    if ms > 5.0 {
                        slow.push((
                            t.duration_since(phase).as_millis() as u64,
                            ms.round() as u64,
                        ));
                    }
                    acks.push(JobRef::new(job_id, attempt));
                    break;
                }
                _ => {}
            }
        }
        if acks.len() >= 100 {
            conn.send(vec![ToRelay::Ack {
                results: std::mem::take(&mut acks),
            }]);
        }
    }
    conn.send(vec![ToRelay::Ack {
        results: std::mem::take(&mut acks),
    }]);
    lat.sort_by(f64::total_cmp);
    let fsync_after = fsync_probe(&dir, 2000);
    if std::env::var_os("RELAY_BENCH_SLOW").is_some() {
        eprintln!("over 5 ms (at ms into the phase, round trip ms): {slow:?}");
    }

    // Throughput: batches, a window of them in flight.
    let batches = a.jobs.div_ceil(a.batch);
    let t = Instant::now();
    let mut sent = 0;
    let mut received = 0;
    let mut in_flight = 0;
    while received < a.jobs {
        while in_flight < a.window && sent < batches {
            let n = a.batch.min(a.jobs - sent * a.batch);
            let jobs: Vec<RelayJob> = (0..n).map(|i| noop(next + i)).collect();
            next += n;
            conn.send(vec![ToRelay::Jobs { jobs }]);
            sent += 1;
            in_flight += 1;
        }
        let m = conn
            .recv_within(Duration::from_secs(60))
            .await
            .expect("results keep coming");
        if let ToServer::Result {
            job_id, attempt, ..
        } = m
        {
            received += 1;
            acks.push(JobRef::new(job_id, attempt));
            if received % a.batch == 0 {
                in_flight -= 1;
                conn.send(vec![ToRelay::Ack {
                    results: std::mem::take(&mut acks),
                }]);
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let _ = child.kill();
    let _ = child.wait();
    let fs = Command::new("df")
        .args(["--output=fstype"])
        .arg(&dir)
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .nth(1)
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_default();
    let out = json!({
        "machine": {
            "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            "cpu": first_line("/proc/cpuinfo", "model name"),
            "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
            "load1_before": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().next().unwrap_or(""),
        },
        "data_dir": dir.display().to_string(),
        "data_fs": fs,
        "fdatasync_ms_same_dir": {
            "before": {"p50": pct(&fsync_before, 50.0), "p99": pct(&fsync_before, 99.0)},
            "after": {"p50": pct(&fsync_after, 50.0), "p99": pct(&fsync_after, 99.0)},
        },
        "single_job_round_trip_ms": {
            "jobs": lat.len(),
            "p50": pct(&lat, 50.0),
            "p99": pct(&lat, 99.0),
            "max": lat.last().copied().unwrap_or(f64::NAN),
            "target_p99": 5.0,
        },
        "batched": {
            "jobs": a.jobs,
            "batch": a.batch,
            "window": a.window,
            "seconds": secs,
            "jobs_per_s": a.jobs as f64 / secs,
            "target_jobs_per_s": 20000,
        },
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    let _ = std::fs::remove_dir_all(&dir);
}
