//! The log's time field: `[06/Feb/2019:00:00:38 +0000]` (strftime
//! `%d/%b/%Y:%H:%M:%S %z`) in the text format, `2019-02-06T00:00:38.000Z`
//! (ISO 8601 with milliseconds, UTC) in the structured records. Both are
//! parsed by hand in their usual shape because they are on the hot path of
//! every record; chrono validates the calendar date and reads the rarer
//! shapes.

use chrono::DateTime;

/// Parses the text between the brackets into seconds since the epoch, UTC.
pub fn parse_log_time(text: &str) -> Result<i64, String> {
    let b = text.as_bytes();
    let bad = || format!("expected a time like 06/Feb/2019:00:00:38 +0000, found '{text}'");
    if b.len() != 26
        || b[2] != b'/'
        || b[6] != b'/'
        || b[11] != b':'
        || b[14] != b':'
        || b[17] != b':'
        || b[20] != b' '
    {
        return Err(bad());
    }
    let day = two_digits(&b[0..2]).ok_or_else(bad)?;
    let month = month_number(&b[3..6]).ok_or_else(bad)?;
    let year = four_digits(&b[7..11]).ok_or_else(bad)?;
    let hour = two_digits(&b[12..14]).ok_or_else(bad)?;
    let minute = two_digits(&b[15..17]).ok_or_else(bad)?;
    let second = two_digits(&b[18..20]).ok_or_else(bad)?;
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return Err(bad()),
    };
    let off_h = two_digits(&b[22..24]).ok_or_else(bad)?;
    let off_m = two_digits(&b[24..26]).ok_or_else(bad)?;
    // 60 allows a leap second as written; it folds into the next minute.
    if hour > 23 || minute > 59 || second > 60 || off_h > 23 || off_m > 59 {
        return Err(bad());
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(format!("'{text}' is not a calendar date"));
    }
    let local =
        days_since_epoch(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    let offset = sign * i64::from(off_h * 3600 + off_m * 60);
    Ok(local - offset)
}

/// Formats epoch milliseconds as ISO 8601 UTC, e.g. `2019-02-06T00:00:38Z`,
/// with the milliseconds when there are any (`...38.250Z`).
pub fn format_iso8601(epoch_ms: i64) -> String {
    match DateTime::from_timestamp_millis(epoch_ms) {
        Some(t) if epoch_ms % 1000 == 0 => t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => epoch_ms.to_string(),
    }
}

/// Formats epoch milliseconds as the structured records write
/// `request_time`: `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`.
pub fn format_structured_time(epoch_ms: i64) -> String {
    match DateTime::from_timestamp_millis(epoch_ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        None => epoch_ms.to_string(),
    }
}

/// Parses a structured record's `request_time` into milliseconds since the
/// epoch, UTC. AWS documents `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`; other RFC 3339
/// shapes (no fraction, an offset) are read too rather than refused.
pub fn parse_structured_time(text: &str) -> Result<i64, String> {
    let b = text.as_bytes();
    let exact = b.len() == 24
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'.'
        && b[23] == b'Z';
    if exact
        && let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
            four_digits(&b[0..4]),
            two_digits(&b[5..7]),
            two_digits(&b[8..10]),
            two_digits(&b[11..13]),
            two_digits(&b[14..16]),
            two_digits(&b[17..19]),
        )
        && let Some(ms) = three_digits(&b[20..23])
        && (1..=12).contains(&month)
        && day >= 1
        && day <= days_in_month(year, month)
        && hour < 24
        && minute < 60
        && second < 61
    {
        let seconds = days_since_epoch(year, month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second);
        return Ok(seconds * 1000 + i64::from(ms));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|_| {
            format!("expected an ISO 8601 time like 2019-02-06T00:00:38.000Z, found '{text}'")
        })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a valid proleptic Gregorian date: the
/// era-based count of H. Hinnant's `days_from_civil`, in integers only (a
/// calendar library's date type costs several times more on every line).
fn days_since_epoch(year: u32, month: u32, day: u32) -> i64 {
    // Years start in March, so the leap day is the last day of a year.
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(month);
    let day_of_year = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn two_digits(b: &[u8]) -> Option<u32> {
    let (h, l) = (b[0].wrapping_sub(b'0'), b[1].wrapping_sub(b'0'));
    (h < 10 && l < 10).then(|| u32::from(h) * 10 + u32::from(l))
}

fn three_digits(b: &[u8]) -> Option<u32> {
    let units = b[2].wrapping_sub(b'0');
    (units < 10).then_some(())?;
    Some(two_digits(&b[0..2])? * 10 + u32::from(units))
}

fn four_digits(b: &[u8]) -> Option<u32> {
    Some(two_digits(&b[0..2])? * 100 + two_digits(&b[2..4])?)
}

fn month_number(b: &[u8]) -> Option<u32> {
    Some(match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aws_sample_time() {
        let t = parse_log_time("06/Feb/2019:00:00:38 +0000").unwrap();
        assert_eq!(format_iso8601(t * 1000), "2019-02-06T00:00:38Z");
        assert_eq!(format_iso8601(t * 1000 + 7), "2019-02-06T00:00:38.007Z");
    }

    #[test]
    fn structured_times_as_aws_documents_them() {
        let t = parse_structured_time("2019-02-06T00:00:38.250Z").unwrap();
        assert_eq!(t, 1_549_411_238_250);
        assert_eq!(format_structured_time(t), "2019-02-06T00:00:38.250Z");
        assert_eq!(format_structured_time(t - 250), "2019-02-06T00:00:38.000Z");
        // Other RFC 3339 shapes are read by chrono.
        assert_eq!(parse_structured_time("2019-02-06T00:00:38Z"), Ok(t - 250));
        assert_eq!(parse_structured_time("2019-02-06T02:00:38.25+02:00"), Ok(t));
        for bad in [
            "2019-02-30T00:00:38.000Z",
            "2019-13-06T00:00:38.000Z",
            "2019-02-06T24:00:38.000Z",
            "2019-02-06 00:00:38",
            "06/Feb/2019:00:00:38 +0000",
            "",
        ] {
            let e = parse_structured_time(bad).unwrap_err();
            assert!(e.contains("2019-02-06T00:00:38.000Z"), "{bad}: {e}");
        }
    }

    #[test]
    fn structured_times_agree_with_chrono_over_a_year() {
        let mut t = chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z").unwrap();
        let end = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z").unwrap();
        while t < end {
            let text = t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
            assert_eq!(
                parse_structured_time(&text),
                Ok(t.timestamp_millis()),
                "{text}"
            );
            t += chrono::Duration::milliseconds(3_599_987);
        }
    }

    #[test]
    fn applies_a_non_utc_offset() {
        let t = parse_log_time("06/Feb/2019:02:00:38 +0200").unwrap();
        assert_eq!(format_iso8601(t * 1000), "2019-02-06T00:00:38Z");
        let t = parse_log_time("05/Feb/2019:19:30:38 -0430").unwrap();
        assert_eq!(format_iso8601(t * 1000), "2019-02-06T00:00:38Z");
    }

    #[test]
    fn leap_day_and_year_end() {
        assert_eq!(
            format_iso8601(parse_log_time("29/Feb/2024:23:59:59 +0000").unwrap() * 1000),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(
            format_iso8601(parse_log_time("31/Dec/1999:23:59:59 +0000").unwrap() * 1000),
            "1999-12-31T23:59:59Z"
        );
    }

    #[test]
    fn every_day_of_ten_thousand_years_agrees_with_chrono() {
        let mut date = chrono::NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        let end = chrono::NaiveDate::from_ymd_opt(9999, 12, 31).unwrap();
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        use chrono::Datelike;
        while date <= end {
            let text = format!(
                "{:02}/{}/{:04}:12:34:56 +0000",
                date.day(),
                months[date.month0() as usize],
                date.year()
            );
            let want = date.and_hms_opt(12, 34, 56).unwrap().and_utc().timestamp();
            assert_eq!(parse_log_time(&text), Ok(want), "{text}");
            date = date.succ_opt().unwrap();
        }
        // The day after each month's last is refused.
        for (y, m, last) in [
            (2023, "Feb", 28),
            (2024, "Feb", 29),
            (1900, "Feb", 28),
            (2000, "Feb", 29),
            (2023, "Jun", 30),
            (2023, "Dec", 31),
        ] {
            let text = format!("{:02}/{m}/{y}:00:00:00 +0000", last + 1);
            assert!(parse_log_time(&text).is_err(), "{text}");
        }
        assert!(parse_log_time("00/Jan/2024:00:00:00 +0000").is_err());
    }

    #[test]
    fn refuses_impossible_or_malformed_times() {
        for bad in [
            "29/Feb/2023:00:00:00 +0000",
            "31/Apr/2023:00:00:00 +0000",
            "06/Feb/2019:24:00:00 +0000",
            "06/Foo/2019:00:00:00 +0000",
            "06/Feb/2019 00:00:00 +0000",
            "6/Feb/2019:00:00:00 +0000",
            "06/Feb/2019:00:00:00",
            "",
        ] {
            assert!(parse_log_time(bad).is_err(), "{bad} should be refused");
        }
    }
}
