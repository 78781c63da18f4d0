//! Durations as flags take them: `7d`, `12h`, `1d12h`, plain seconds.

/// The longest duration a flag takes: 100 years. Beyond it dates leave
/// what a Release, SQLite or chrono can hold.
pub const MAX_DURATION_SECS: u64 = 100 * 366 * 86400;

/// Parses `7d`, `12h`, `30m`, `90s` or a plain number of seconds; units
/// combine (`1d12h`). `None` for anything else, or longer than
/// [`MAX_DURATION_SECS`].
pub fn parse_duration(s: &str) -> Option<u64> {
    parse_duration_unbounded(s).filter(|&secs| secs <= MAX_DURATION_SECS)
}

fn parse_duration_unbounded(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let unit = match c {
            'w' => 7 * 86400,
            'd' => 86400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: u64 = num.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        num.clear();
    }
    if !num.is_empty() {
        return None;
    }
    Some(total)
}
