//! The day a log object belongs to, read from its key: the `YYYY/MM/DD/`
//! folders of S3's date-based layout, or the `YYYY-MM-DD-` that starts a
//! simple-layout file name. Used to find a period's log objects and nothing
//! else, so a key that does not match exactly belongs to no day.

use chrono::NaiveDate;

use crate::athena_ddl::KeyLayout;

/// The day of `key` (a key or path; only its last segments matter).
pub fn log_day(key: &str, layout: KeyLayout) -> Option<NaiveDate> {
    match layout {
        KeyLayout::DateBased { .. } => date_folders(key),
        KeyLayout::Simple => {
            let name = key.rsplit('/').next()?;
            let (date, rest) = (name.get(..10)?, name.get(10..)?);
            if !rest.starts_with('-') || rest.len() < 2 {
                return None;
            }
            let b = date.as_bytes();
            let shaped = b[4] == b'-' && b[7] == b'-';
            let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
            if !(shaped && digits(0..4) && digits(5..7) && digits(8..10)) {
                return None;
            }
            NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
        }
    }
}

/// The `YYYY/MM/DD` of the three folders holding the file `key`, if they
/// are a real date. The folders may be Hive-compatible, as the 2026
/// delivery writes them when `enableHiveCompatiblePath` is on:
/// `year=YYYY/month=MM/day=DD` ("Amazon S3 object key format" in the
/// CloudWatch Logs guide).
pub fn date_folders(key: &str) -> Option<NaiveDate> {
    let mut segments = key.rsplit('/');
    let _file = segments.next().filter(|f| !f.is_empty())?;
    let (d, m, y) = (segments.next()?, segments.next()?, segments.next()?);
    let (y, m, d) = match (
        y.strip_prefix("year="),
        m.strip_prefix("month="),
        d.strip_prefix("day="),
    ) {
        (Some(y), Some(m), Some(d)) => (y, m, d),
        (None, None, None) => (y, m, d),
        // Half Hive, half plain: no layout AWS writes.
        _ => return None,
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
    }

    #[test]
    fn date_based_keys() {
        let layout = KeyLayout::DateBased {
            projection_start: day("2020-01-01").unwrap(),
        };
        let k = "AWSLogs/123456789012/us-east-1/bkt/2024/01/31/2024-01-31-10-00-00-ABC";
        assert_eq!(log_day(k, layout), day("2024-01-31"));
        let hive = "AWSLogs/aws-account-id=123456789012/s3/region=us-east-1/\
                    year=2024/month=01/day=31/x.json.gz";
        assert_eq!(log_day(hive, layout), day("2024-01-31"));
        assert_eq!(log_day("year=2024/01/day=31/x", layout), None);
        assert_eq!(log_day("year=2024/month=1/day=31/x", layout), None);
        assert_eq!(log_day("2024/01/31/x", layout), day("2024-01-31"));
        for not_a_day in [
            "2024/01/32/x",
            "2024/1/31/x",
            "2024/01/31/",
            "01/31/x",
            "2024/01/31",
            "logs/2024-01-31-10-00-00-ABC",
        ] {
            assert_eq!(log_day(not_a_day, layout), None, "{not_a_day}");
        }
    }

    #[test]
    fn simple_keys() {
        let l = KeyLayout::Simple;
        assert_eq!(
            log_day("logs/2024-02-29-23-59-59-F00D", l),
            day("2024-02-29")
        );
        assert_eq!(log_day("2024-02-29-x", l), day("2024-02-29"));
        for not_a_day in [
            "logs/2023-02-29-00-00-00-X",
            "logs/2024-02-29",
            "logs/2024-02-29-",
            "logs/2024_02_29-x",
            "logs/x2024-02-29-y",
            "logs/2024-02-29-x/",
        ] {
            assert_eq!(log_day(not_a_day, l), None, "{not_a_day}");
        }
    }
}
