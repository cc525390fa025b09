//! Wall-clock matches → instants in a time zone: the DST rules stated in the `cron` docs.
//!
//! The search walks the time line one *constant-offset stretch* at a time:
//! inside a stretch, wall time and real time move together, so croner's next
//! wall-clock match converts to an instant by subtracting the stretch's
//! offset. At a transition the rules for gaps and repeats apply, then the walk
//! continues in the next stretch. Instants are whole seconds.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, SubsecRound, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use super::wall::WallMatcher;

/// Upper bound on stretches and skipped repeats walked in one search.
const MAX_STEPS: usize = 20_000;

const DAY: TimeDelta = TimeDelta::days(1);

/// The first fire strictly after `after`.
pub(super) fn next_after(
    wall: &WallMatcher,
    fixed_time: bool,
    tz: Tz,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut t = after.trunc_subsecs(0);
    let mut inclusive = false;
    for _ in 0..MAX_STEPS {
        let o = offset(tz, t);
        let w = wall.next(t.naive_utc().checked_add_signed(o)?, inclusive)?;
        let candidate = w.checked_sub_signed(o)?.and_utc();
        match first_change(tz, t, candidate, o) {
            None => {
                if fixed_time && is_second_pass(tz, w, candidate) {
                    // A fixed-time job already fired at the first pass of this wall time.
                    t = candidate;
                    inclusive = false;
                    continue;
                }
                return Some(candidate);
            }
            Some(change) => {
                let o2 = offset(tz, change);
                if fixed_time && o2 > o {
                    // Spring forward: wall times [change+o, change+o2) do not exist. A
                    // fixed-time job scheduled inside fires once, at the first instant after.
                    let gap_start = change.naive_utc().checked_add_signed(o)?;
                    let gap_end = change.naive_utc().checked_add_signed(o2)?;
                    if wall.next(gap_start, true).is_some_and(|g| g < gap_end) {
                        return Some(change);
                    }
                }
                t = change;
                inclusive = true;
            }
        }
    }
    None
}

/// The zone's total UTC offset at instant `t`.
pub(crate) fn offset(tz: Tz, t: DateTime<Utc>) -> TimeDelta {
    TimeDelta::seconds(i64::from(
        tz.offset_from_utc_datetime(&t.naive_utc())
            .fix()
            .local_minus_utc(),
    ))
}

/// Whether `instant` is the later of two instants that show wall time `wall`.
fn is_second_pass(tz: Tz, wall: NaiveDateTime, instant: DateTime<Utc>) -> bool {
    match tz.from_local_datetime(&wall) {
        LocalResult::Ambiguous(early, late) => {
            late.with_timezone(&Utc) == instant && early.with_timezone(&Utc) != instant
        }
        _ => false,
    }
}

/// The first instant in `(t, c]` whose offset differs from `o` (the offset at `t`).
///
/// Transitions between the first and the last day of the span are skipped
/// when the offset is `o` again at both ends: croner found no wall-clock match
/// between, so no gap or repeat there holds a fire. Assumes no zone changes its
/// offset twice within 24 hours.
fn first_change(tz: Tz, t: DateTime<Utc>, c: DateTime<Utc>, o: TimeDelta) -> Option<DateTime<Utc>> {
    if c <= t {
        return None;
    }
    let step = |s: DateTime<Utc>| s.checked_add_signed(DAY).map_or(c, |n| n.min(c));
    let near = step(t);
    if offset(tz, near) != o {
        return Some(bisect(tz, t, near, o));
    }
    if near == c {
        return None;
    }
    let back = c.checked_sub_signed(DAY).map_or(near, |b| b.max(near));
    if offset(tz, c) == o && offset(tz, back) == o {
        return None;
    }
    let mut s = near;
    loop {
        let n = step(s);
        if offset(tz, n) != o {
            return Some(bisect(tz, s, n, o));
        }
        if n == c {
            return None;
        }
        s = n;
    }
}

/// Smallest whole second in `(lo, hi]` whose offset is not `o`, given offset(lo) = o ≠ offset(hi).
fn bisect(tz: Tz, mut lo: DateTime<Utc>, mut hi: DateTime<Utc>, o: TimeDelta) -> DateTime<Utc> {
    while hi - lo > TimeDelta::seconds(1) {
        let mid = lo + TimeDelta::seconds((hi - lo).num_seconds() / 2);
        if offset(tz, mid) == o {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The largest `f < before` such that `f = next(x)` for some `x`, where `next(x)` is the first
/// element of a fixed set of whole-second instants strictly after `x`. Binary search over
/// `x`, looking back at most ~4,000 years: about 80 calls of `next`.
pub(crate) fn last_before(
    before: DateTime<Utc>,
    next: impl Fn(DateTime<Utc>) -> Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let floor = before.trunc_subsecs(0);
    // `top`: the last whole second before `before`; nothing after it is `< before`.
    let top = if floor == before {
        floor.checked_sub_signed(TimeDelta::seconds(1))?
    } else {
        floor
    };
    let earliest = DateTime::<Utc>::from_timestamp(-62_135_596_800, 0)?; // 0001-01-01
    let fits = |x: DateTime<Utc>| next(x).is_some_and(|f| f < before);
    let mut hi = top;
    let mut back = TimeDelta::seconds(1);
    let mut lo = loop {
        let x = top.checked_sub_signed(back).filter(|x| *x >= earliest)?;
        if fits(x) {
            break x;
        }
        hi = x;
        back = back.checked_mul(2)?;
    };
    while hi - lo > TimeDelta::seconds(1) {
        let mid = lo + TimeDelta::seconds((hi - lo).num_seconds() / 2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    next(lo)
}
