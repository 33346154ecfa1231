//! Durations as Go's `time.ParseDuration` reads them (`1m30s`, `1.5h`, `300ms`, `-2s`,
//! `0`), for `HEALTHCHECK --interval` and its siblings.

use std::time::Duration;

/// The units Go accepts, in nanoseconds.
const UNITS: [(&str, f64); 8] = [
    ("ns", 1.0),
    ("us", 1e3),
    ("\u{b5}s", 1e3),
    ("\u{3bc}s", 1e3),
    ("ms", 1e6),
    ("s", 1e9),
    ("m", 60e9),
    ("h", 3600e9),
];

/// A signed duration in nanoseconds, or Go's error text.
pub(super) fn parse_go_duration(text: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        if number.is_empty() || number == "." {
            return Err(invalid());
        }
        let value: f64 = number.parse().map_err(|_| invalid())?;
        let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {text:?}"));
        }
        let Some(&(_, nanos)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!("time: unknown unit {unit:?} in duration {text:?}"));
        };
        total += value * nanos;
        rest = after;
    }
    if total > i64::MAX as f64 {
        return Err(invalid());
    }
    Ok(if negative { -(total as i128) } else { total as i128 })
}

/// A `HEALTHCHECK` interval flag: empty or zero is unset, below a millisecond an error.
pub(super) fn health_interval(flag: &str, value: Option<String>) -> Result<Duration, String> {
    let Some(value) = value.filter(|v| !v.is_empty()) else { return Ok(Duration::ZERO) };
    match parse_go_duration(&value)? {
        0 => Ok(Duration::ZERO),
        nanos if nanos < 1_000_000 => Err(format!("Interval {flag:?} cannot be less than 1ms")),
        nanos => Ok(Duration::from_nanos(nanos as u64)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_go_duration("-2s"), Ok(-2_000_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert!(parse_go_duration("5").unwrap_err().contains("missing unit"));
        assert!(parse_go_duration("5x").unwrap_err().contains("unknown unit"));
        assert!(parse_go_duration("").is_err());
        assert_eq!(health_interval("interval", Some("0s".into())), Ok(Duration::ZERO));
        assert!(health_interval("timeout", Some("1us".into())).unwrap_err().contains("cannot be less than 1ms"));
    }
}
