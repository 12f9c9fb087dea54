//! Timestamps as Spigo writes them: RFC3339 with nanoseconds (Go's `RFC3339Nano`, UTC).

/// Formats nanoseconds since the Unix epoch as Go's `time.RFC3339Nano` in UTC: trailing zeros of
/// the fraction are dropped, and so is the fraction when it is zero.
pub fn rfc3339_nanos(unix_nanos: i64) -> String {
    let secs = unix_nanos.div_euclid(1_000_000_000);
    let nanos = unix_nanos.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = crate::model::time::civil_from_days(days);
    let (h, m, s) = (of_day / 3600, of_day / 60 % 60, of_day % 60);
    let mut out = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_go_rfc3339nano() {
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00Z");
        // 2026-11-21T23:10:02.101884523Z, from a real Spigo graph header.
        assert_eq!(
            rfc3339_nanos(1_795_302_602_101_884_523),
            "2026-11-21T23:10:02.101884523Z"
        );
        assert_eq!(
            rfc3339_nanos(1_795_302_791_977_178_000),
            "2026-11-21T23:13:11.977178Z"
        );
        assert_eq!(
            rfc3339_nanos(951_782_400_500_000_000),
            "2000-02-29T00:00:00.5Z"
        );
        assert_eq!(rfc3339_nanos(-1), "1969-12-31T23:59:59.999999999Z");
    }
}
