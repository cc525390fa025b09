//! Where the engine's time comes from: the wall clock in production, a clock
//! that moves only when told to in in-process tests, and a fast-forwarded
//! clock that several processes can share (end-to-end tests of `baton serve`).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Where time comes from (Unix milliseconds). Tests use [`TestClock`] or [`WarpClock`].
pub trait Clock: Send + Sync + 'static {
    fn now_ms(&self) -> i64;

    /// How long to sleep, in real time, for `ms` of this clock to pass.
    fn real(&self, ms: i64) -> Duration {
        Duration::from_millis(ms.max(0) as u64)
    }
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        wall_ms()
    }
}

fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn new(at: i64) -> Self {
        TestClock(AtomicI64::new(at))
    }
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Time running `rate` times faster than the wall clock, from `at` (its time)
/// at wall instant `wall_at`. A pure function of the wall clock, so processes
/// given the same three numbers agree on the time, across restarts too.
/// For tests only (`BATON_TEST_CLOCK` of `baton serve`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarpClock {
    pub at: i64,
    pub wall_at: i64,
    pub rate: f64,
}

impl WarpClock {
    /// `AT@WALL_AT*RATE` (milliseconds, milliseconds, factor), e.g.
    /// `1893456000000@1790000000000*25`.
    pub fn parse(s: &str) -> Result<WarpClock, String> {
        let bad = || format!("test clock {s:?}: expected AT_MS@WALL_MS*RATE");
        let (at, rest) = s.split_once('@').ok_or_else(bad)?;
        let (wall_at, rate) = rest.split_once('*').ok_or_else(bad)?;
        let clock = WarpClock {
            at: at.trim().parse().map_err(|_| bad())?,
            wall_at: wall_at.trim().parse().map_err(|_| bad())?,
            rate: rate.trim().parse().map_err(|_| bad())?,
        };
        if !(clock.rate.is_finite() && clock.rate > 0.0) {
            return Err(format!("test clock {s:?}: the rate must be positive"));
        }
        Ok(clock)
    }
}

impl Clock for WarpClock {
    fn now_ms(&self) -> i64 {
        self.at + ((wall_ms() - self.wall_at) as f64 * self.rate) as i64
    }

    fn real(&self, ms: i64) -> Duration {
        Duration::from_secs_f64(ms.max(0) as f64 / self.rate / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warp_clock_parses_and_runs_faster() {
        let c = WarpClock::parse(&format!("1000@{}*20", wall_ms())).unwrap();
        assert!(c.now_ms() >= 1000);
        assert_eq!(c.real(2000), Duration::from_millis(100));
        for bad in ["", "1@2", "1@2*0", "x@2*3", "1@2*-1", "1@2*NaN"] {
            assert!(WarpClock::parse(bad).is_err(), "{bad}");
        }
    }
}
