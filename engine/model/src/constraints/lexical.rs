//! Lexical forms the specification prescribes: URIs, MIME types, ISO 8601 dates,
//! durations and repeating intervals, numbers.

/// An RFC 3986 URI reference (absolute or relative). The specification's own
/// `##name` tokens (e.g. `##WebService`, `##Compensate`) are accepted as well.
pub(super) fn is_uri(s: &str) -> bool {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("##") {
        return !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric());
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        if !(b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b)) {
            return false;
        }
        i += 1;
    }
    if s.matches('#').count() > 1 {
        return false;
    }
    // A colon before the first '/', '?' or '#' ends a scheme, which has a strict form.
    let head = s.split(['/', '?', '#']).next().unwrap_or("");
    match head.split_once(':') {
        Some((scheme, _)) => {
            let mut cs = scheme.chars();
            cs.next().is_some_and(|c| c.is_ascii_alphabetic())
                && cs.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => true,
    }
}

/// `type/subtype` with optional `; parameter=value` parts (RFC 2045 tokens).
pub(super) fn is_mime(s: &str) -> bool {
    let mut parts = s.split(';');
    let Some((ty, sub)) = parts.next().and_then(|m| m.trim().split_once('/')) else {
        return false;
    };
    let token = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c))
    };
    token(ty)
        && token(sub)
        && parts.all(|p| {
            p.split_once('=')
                .is_some_and(|(k, v)| token(k.trim()) && !v.trim().is_empty())
        })
}

/// A body that can only be a literal value (no operators, quotes, blanks or
/// template markers): the only kind whose lexical form can be judged without
/// evaluating an expression language.
pub(super) fn is_literal(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || ":.,+-/_".contains(c))
}

/// A number (integer or decimal, optional sign and exponent).
pub(super) fn is_number(s: &str) -> bool {
    s.trim().parse::<f64>().is_ok_and(f64::is_finite)
}

/// A quoted string literal.
pub(super) fn is_quoted(s: &str) -> bool {
    let s = s.trim();
    s.len() >= 2
        && ((s.starts_with('"') && s.ends_with('"')) || (s.starts_with('\'') && s.ends_with('\'')))
}

/// Text that reads as prose rather than code: two or more words of letters only.
pub(super) fn is_prose(s: &str) -> bool {
    let words: Vec<&str> = s.split_whitespace().collect();
    words.len() >= 2 && words.iter().all(|w| w.chars().all(char::is_alphabetic))
}

/// Digits only, exactly `n` of them, as a number.
fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn date(s: &str) -> bool {
    let (y, m, d) = if s.contains('-') {
        let mut it = s.split('-');
        (
            it.next(),
            it.next(),
            it.next().filter(|_| it.next().is_none()),
        )
    } else {
        (
            s.get(0..4),
            s.get(4..6),
            s.get(6..8).filter(|_| s.len() == 8),
        )
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return false;
    };
    digits(y, 4).is_some()
        && digits(m, 2).is_some_and(|m| (1..=12).contains(&m))
        && digits(d, 2).is_some_and(|d| (1..=31).contains(&d))
}

fn time(s: &str) -> bool {
    // Strip a zone designator: Z, ±hh, ±hhmm, ±hh:mm.
    let (clock, zone) = match s.find(['Z', '+', '-']) {
        Some(k) => (s.get(..k).unwrap_or(""), s.get(k..).unwrap_or("")),
        None => (s, ""),
    };
    let zone_ok = zone.is_empty()
        || zone == "Z"
        || zone.get(1..).is_some_and(|z| {
            let z = z.replace(':', "");
            (z.len() == 2 || z.len() == 4) && z.bytes().all(|b| b.is_ascii_digit())
        });
    let (hms, frac) = match clock.split_once(['.', ',']) {
        Some((a, f)) => (a, Some(f)),
        None => (clock, None),
    };
    let frac_ok = frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    let fields: Vec<&str> = if hms.contains(':') {
        hms.split(':').collect()
    } else {
        hms.as_bytes()
            .chunks(2)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect()
    };
    let limits = [24, 59, 60];
    zone_ok
        && frac_ok
        && (1..=3).contains(&fields.len())
        && fields
            .iter()
            .zip(limits)
            .all(|(f, max)| digits(f, 2).is_some_and(|v| v <= max))
}

/// ISO 8601 calendar date, optionally with a time of day and zone.
pub(super) fn is_iso_datetime(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('T') {
        Some((d, t)) => date(d) && time(t),
        None => date(s),
    }
}

/// ISO 8601 duration: `PnYnMnWnDTnHnMnS` (at least one part) or `P<datetime>`.
pub(super) fn is_iso_duration(s: &str) -> bool {
    let Some(body) = s.trim().strip_prefix('P') else {
        return false;
    };
    if body.contains('-') || body.contains(':') {
        // Alternative format `PYYYY-MM-DDThh:mm:ss`: fields are amounts, not calendar values.
        let shape = |s: &str, pattern: &str| {
            s.len() == pattern.len()
                && s.bytes().zip(pattern.bytes()).all(|(c, p)| {
                    if p == b'9' {
                        c.is_ascii_digit()
                    } else {
                        c == p
                    }
                })
        };
        return match body.split_once('T') {
            Some((d, t)) => shape(d, "9999-99-99") && shape(t, "99:99:99"),
            None => shape(body, "9999-99-99"),
        };
    }
    let (date_part, time_part) = match body.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (body, None),
    };
    let parts = |s: &str, units: &str| -> Option<usize> {
        let mut count = 0;
        let mut num = String::new();
        let mut last = 0;
        for c in s.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                num.push(c);
            } else {
                let pos = units.find(c)?;
                if num.is_empty() || pos < last || num.replace(',', ".").parse::<f64>().is_err() {
                    return None;
                }
                last = pos + 1;
                num.clear();
                count += 1;
            }
        }
        num.is_empty().then_some(count)
    };
    let Some(d) = parts(date_part, "YMWD") else {
        return false;
    };
    match time_part {
        Some(t) => parts(t, "HMS").is_some_and(|n| n > 0),
        None => d > 0,
    }
}

/// ISO 8601 repeating interval `R[n]/<interval>`, or a plain interval
/// (`start/end`, `start/duration`, `duration/end`) or duration.
pub(super) fn is_iso_cycle(s: &str) -> bool {
    let s = s.trim();
    let interval = match s.split_once('/') {
        Some((r, rest)) if r.starts_with('R') => {
            if !r
                .get(1..)
                .is_some_and(|n| n.is_empty() || digits(n, n.len()).is_some())
            {
                return false;
            }
            rest
        }
        _ => s,
    };
    match interval.split_once('/') {
        None => is_iso_duration(interval),
        Some((a, b)) => {
            (is_iso_datetime(a) && (is_iso_datetime(b) || is_iso_duration(b)))
                || (is_iso_duration(a) && is_iso_datetime(b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        for ok in [
            "http://www.w3.org/1999/XPath",
            "JavaScript",
            "urn:x-a:b",
            "##Compensate",
            "a%20b",
            "",
        ] {
            assert!(is_uri(ok), "{ok}");
        }
        for bad in [
            "_invalid_uri%$!",
            "_invalid_URI!$%",
            "a b",
            "1x:y",
            "a#b#c",
            "##",
        ] {
            assert!(!is_uri(bad), "{bad}");
        }
    }

    #[test]
    fn mime_types() {
        assert!(is_mime("text/plain") && is_mime("text/x-groovy; charset=utf-8"));
        assert!(!is_mime("INVALID") && !is_mime("text/") && !is_mime("a/b; c"));
    }

    #[test]
    fn iso_8601() {
        for ok in [
            "2015-12-24T20:00:00",
            "2024-01-01",
            "20240101T101010Z",
            "2024-01-01T10:00+01:00",
        ] {
            assert!(is_iso_datetime(ok), "{ok}");
        }
        for bad in ["INVALID", "2024-13-01", "2024-01-01T25:00", "2024-1-1"] {
            assert!(!is_iso_datetime(bad), "{bad}");
        }
        for ok in [
            "PT1M",
            "P1Y2M3DT4H5M6.5S",
            "P2W",
            "PT0,5S",
            "P0003-00-04T05:06:07",
        ] {
            assert!(is_iso_duration(ok), "{ok}");
        }
        for bad in ["INVALID", "P", "PT", "P1H", "PT1D", "P1M2Y", "1M"] {
            assert!(!is_iso_duration(bad), "{bad}");
        }
        for ok in [
            "R2/PT1M",
            "R/PT10S",
            "R3/2024-01-01T00:00:00Z/P1D",
            "PT5M",
            "2024-01-01/2024-02-01",
        ] {
            assert!(is_iso_cycle(ok), "{ok}");
        }
        for bad in ["R2", "Rx/PT1M", "R2/soon", "INVALID"] {
            assert!(!is_iso_cycle(bad), "{bad}");
        }
    }

    #[test]
    fn prose_and_literals() {
        assert!(
            is_prose("dummy condition expression")
                && !is_prose("integerVariable<2")
                && !is_prose("x")
        );
        assert!(is_literal("PT1M") && !is_literal("${x}") && !is_literal("\"PT1M\""));
    }
}
