//! Parsers for flag values whose refusals say what was wrong: a date that
//! is well formed but not on the calendar, a number too large for its flag.

use chrono::{DateTime, NaiveDate, Utc};

/// A log format: `text`, `json` or `parquet` (S3's delivery forms).
pub fn log_form(s: &str) -> Result<s3la_shared::log_format::forms::LogForm, String> {
    s3la_shared::log_format::forms::LogForm::from_name(s)
}

/// `YYYY-MM-DD` (or `YYYY/MM/DD`, as partition values are written).
pub fn date(s: &str) -> Result<NaiveDate, String> {
    let parts: Vec<&str> = s.split(['-', '/']).collect();
    let shaped = s.len() == 10
        && matches!(parts.as_slice(), [y, m, d] if y.len() == 4 && m.len() == 2 && d.len() == 2)
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !shaped {
        return Err(format!(
            "expected a date as YYYY-MM-DD (e.g. 2024-01-31), got '{s}'"
        ));
    }
    let [y, m, d] = [0, 1, 2].map(|i| parts[i].parse::<u32>().unwrap_or(0));
    let year = y as i32;
    if let Some(day) = NaiveDate::from_ymd_opt(year, m, d) {
        return Ok(day);
    }
    if !(1..=12).contains(&m) {
        return Err(format!("'{s}' is not a real date: there is no month {m}"));
    }
    let days = (28..=31)
        .rev()
        .find(|&n| NaiveDate::from_ymd_opt(year, m, n).is_some())
        .unwrap_or(28);
    Err(format!(
        "'{s}' is not a real date: {year:04}-{m:02} has {days} days"
    ))
}

/// A whole number from `MIN` to `MAX`, refused with the bound it breaks.
pub fn number<T: TryFrom<u64>, const MIN: u64, const MAX: u64>(s: &str) -> Result<T, String> {
    let digits = s.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{s}' is not a whole number"));
    }
    let n = match digits.parse::<u64>() {
        Ok(n) if n <= MAX => n,
        _ => return Err(format!("{digits} is too large: the most is {MAX}")),
    };
    if n < MIN {
        return Err(format!("{n} is too small: the least is {MIN}"));
    }
    T::try_from(n).map_err(|_| format!("{digits} is too large: the most is {MAX}"))
}

/// A size in bytes: a whole number with an optional binary unit, `K`, `M`,
/// `G` or `T` (also written `KiB`, `KB`, ...; each 1024 of the one before).
pub fn size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "expected a size such as 512MiB or 4GiB (units K, M, G, T), got '{s}'"
            ));
        }
    };
    let n: u64 = number::<u64, 1, { u64::MAX }>(digits)
        .map_err(|_| format!("expected a size such as 512MiB or 4GiB, got '{s}'"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("'{s}' is too large: the most is {} bytes", u64::MAX))
}

/// An RFC 3339 time (`2024-04-02T03:00:00Z`), in UTC.
pub fn time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("expected an RFC 3339 time such as 2024-04-02T03:00:00Z, got '{s}' ({e})")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_well_formed_date_off_the_calendar_is_called_not_real() {
        assert_eq!(
            date("2024-02-29"),
            NaiveDate::from_ymd_opt(2024, 2, 29).ok_or(String::new())
        );
        assert_eq!(date("2024/02/29").unwrap(), date("2024-02-29").unwrap());
        for (text, refusal) in [
            (
                "2024-02-30",
                "'2024-02-30' is not a real date: 2024-02 has 29 days",
            ),
            (
                "2023-02-29",
                "'2023-02-29' is not a real date: 2023-02 has 28 days",
            ),
            (
                "2024-13-01",
                "'2024-13-01' is not a real date: there is no month 13",
            ),
        ] {
            assert_eq!(date(text).unwrap_err(), refusal);
        }
        assert!(
            date("2024-1-5")
                .unwrap_err()
                .contains("expected a date as YYYY-MM-DD")
        );
        assert!(date("yesterday").unwrap_err().contains("got 'yesterday'"));
    }

    #[test]
    fn numbers_name_the_bound_they_break() {
        let lines = number::<u32, 1, 50_000_000>;
        assert_eq!(lines("20000"), Ok(20_000));
        for (text, refusal) in [
            (
                "99999999999999999999999",
                "99999999999999999999999 is too large: the most is 50000000",
            ),
            ("50000001", "50000001 is too large: the most is 50000000"),
            ("0", "0 is too small: the least is 1"),
            ("-3", "'-3' is not a whole number"),
            ("1.5", "'1.5' is not a whole number"),
        ] {
            assert_eq!(lines(text).unwrap_err(), refusal);
        }
        assert_eq!(
            number::<u64, 0, { u64::MAX }>("18446744073709551616").unwrap_err(),
            "18446744073709551616 is too large: the most is 18446744073709551615"
        );
    }

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(size("512MiB"), Ok(512 << 20));
        assert_eq!(size("4G"), Ok(4 << 30));
        assert_eq!(size("1 gb"), Ok(1 << 30));
        assert_eq!(size("1000"), Ok(1000));
        assert!(size("lots").unwrap_err().contains("expected a size"));
        assert!(size("0").unwrap_err().contains("expected a size"));
        assert!(size("99999999999T").unwrap_err().contains("too large"));
        // As the memory limit is shown back, by the one byte formatter.
        use s3la_shared::report::format::bytes;
        assert_eq!(bytes(512 << 20), "512.0 MiB");
        assert_eq!(bytes(1536 << 20), "1.5 GiB");
        assert_eq!(bytes(10), "10 B");
    }

    #[test]
    fn times_are_rfc_3339_in_utc() {
        assert_eq!(
            time("2024-04-02T05:00:00+02:00").unwrap().to_rfc3339(),
            "2024-04-02T03:00:00+00:00"
        );
        let e = time("2024-04-02").unwrap_err();
        assert!(
            e.contains("expected an RFC 3339 time") && e.contains("'2024-04-02'"),
            "{e}"
        );
    }
}
