//! Exponential backoff with jitter between reconnection attempts.

use std::time::Duration;

use rand::Rng;

/// Delays `base · 2^n`, capped, each drawn uniformly from its upper half
/// (so a fleet of relays that lost the server together does not come back
/// in step).
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    attempt: u32,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Self {
        Backoff {
            base,
            cap,
            attempt: 0,
        }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << self.attempt.min(20))
            .min(self.cap);
        self.attempt = self.attempt.saturating_add(1);
        let lo = exp / 2;
        let ms = rand::rng().random_range(lo.as_millis() as u64..=exp.as_millis() as u64);
        Duration::from_millis(ms)
    }

    /// A connection succeeded: start again from `base`.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(250), Duration::from_secs(30));
        let d: Vec<u128> = (0..12).map(|_| b.next_delay().as_millis()).collect();
        assert!((125..=250).contains(&d[0]), "{d:?}");
        assert!((250..=500).contains(&d[1]), "{d:?}");
        assert!((1000..=2000).contains(&d[3]), "{d:?}");
        for x in &d[8..] {
            assert!((15_000..=30_000).contains(x), "{d:?}");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(250));
        // Jitter: many draws at one step are not all equal.
        let draws: std::collections::HashSet<_> = (0..20)
            .map(|_| {
                let mut b = Backoff::new(Duration::from_millis(1000), Duration::from_secs(30));
                b.next_delay()
            })
            .collect();
        assert!(draws.len() > 1);
    }
}
