//! Seed 001's availability rule: a backup marks itself *Not available* when
//! its free memory falls below, or its load, CPU or I/O rate rises above, a
//! threshold. Pure, so the relay (which reports it) and the server (which
//! may re-check a heartbeat under other thresholds) decide alike.

use serde::{Deserialize, Serialize};

/// Limits past which a relay takes no new work. `None`: no limit.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Thresholds {
    /// Not available when available memory is below this many bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_mem_free_bytes: Option<u64>,
    /// Not available when the one-minute load average is above this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_load1: Option<f64>,
    /// Not available when CPU use (0–100) is above this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_cpu_pct: Option<f64>,
    /// Not available when disk reads + writes exceed this many bytes per second.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_io_bytes_per_s: Option<u64>,
}

/// One sample of a machine's load (a heartbeat's numbers).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Load {
    pub load1: f64,
    pub cpu_pct: f64,
    pub mem_free: u64,
    pub mem_total: u64,
    pub io_bytes_per_s: u64,
}

/// Whether a machine with `load` takes work under `t`, and if not why
/// (every threshold crossed, `; `-separated). A limit is crossed only
/// strictly (`load1 == max_load1` is still available); a NaN reading
/// crosses nothing.
pub fn available(t: &Thresholds, load: &Load) -> (bool, Option<String>) {
    let mut why = Vec::new();
    if let Some(min) = t.min_mem_free_bytes
        && load.mem_free < min
    {
        why.push(format!(
            "free memory {} is below {}",
            bytes(load.mem_free),
            bytes(min)
        ));
    }
    if let Some(max) = t.max_load1
        && load.load1 > max
    {
        why.push(format!("load {:.2} is above {max}", load.load1));
    }
    if let Some(max) = t.max_cpu_pct
        && load.cpu_pct > max
    {
        why.push(format!("CPU {:.1} % is above {max} %", load.cpu_pct));
    }
    if let Some(max) = t.max_io_bytes_per_s
        && load.io_bytes_per_s > max
    {
        why.push(format!(
            "I/O {}/s is above {}/s",
            bytes(load.io_bytes_per_s),
            bytes(max)
        ));
    }
    if why.is_empty() {
        (true, None)
    } else {
        (false, Some(why.join("; ")))
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GIB: u64 = 1024 * 1024 * 1024;

    fn load() -> Load {
        Load {
            load1: 1.0,
            cpu_pct: 20.0,
            mem_free: 4 * GIB,
            mem_total: 16 * GIB,
            io_bytes_per_s: 1_000_000,
        }
    }

    #[test]
    fn no_thresholds_is_available() {
        assert_eq!(available(&Thresholds::default(), &load()), (true, None));
    }

    #[test]
    fn each_threshold_alone() {
        let cases: [(Thresholds, &str); 4] = [
            (
                Thresholds {
                    min_mem_free_bytes: Some(8 * GIB),
                    ..Default::default()
                },
                "free memory 4.0 GiB is below 8.0 GiB",
            ),
            (
                Thresholds {
                    max_load1: Some(0.5),
                    ..Default::default()
                },
                "load 1.00 is above 0.5",
            ),
            (
                Thresholds {
                    max_cpu_pct: Some(10.0),
                    ..Default::default()
                },
                "CPU 20.0 % is above 10 %",
            ),
            (
                Thresholds {
                    max_io_bytes_per_s: Some(1000),
                    ..Default::default()
                },
                "I/O 976.6 KiB/s is above 1000 B/s",
            ),
        ];
        for (t, why) in cases {
            assert_eq!(
                available(&t, &load()),
                (false, Some(why.to_owned())),
                "{t:?}"
            );
        }
    }

    #[test]
    fn limits_are_strict_and_inside_is_available() {
        let t = Thresholds {
            min_mem_free_bytes: Some(4 * GIB),
            max_load1: Some(1.0),
            max_cpu_pct: Some(20.0),
            max_io_bytes_per_s: Some(1_000_000),
        };
        assert_eq!(available(&t, &load()), (true, None));
        let mut l = load();
        l.mem_free -= 1;
        assert!(!available(&t, &l).0, "one byte below the minimum");
        let mut l = load();
        l.cpu_pct = 20.01;
        assert!(!available(&t, &l).0);
    }

    #[test]
    fn every_crossed_threshold_is_named() {
        let t = Thresholds {
            min_mem_free_bytes: Some(8 * GIB),
            max_load1: Some(0.5),
            max_cpu_pct: Some(90.0),
            max_io_bytes_per_s: Some(10),
        };
        let (ok, why) = available(&t, &load());
        assert!(!ok);
        let why = why.unwrap();
        assert_eq!(why.matches("; ").count(), 2, "{why}");
        assert!(why.contains("free memory") && why.contains("load") && why.contains("I/O"));
        assert!(!why.contains("CPU"), "{why}");
    }

    #[test]
    fn nan_readings_cross_nothing() {
        let t = Thresholds {
            max_load1: Some(1.0),
            max_cpu_pct: Some(1.0),
            ..Default::default()
        };
        let l = Load {
            load1: f64::NAN,
            cpu_pct: f64::NAN,
            ..load()
        };
        assert_eq!(available(&t, &l), (true, None));
    }
}
