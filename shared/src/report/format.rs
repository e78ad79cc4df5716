//! Numbers and text as people read them, shared by the HTML and text
//! renderings so both say the same figures the same way.

/// `1234567` as `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Which units a byte count is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteUnits {
    /// `1.5 GiB`: the report's sizes, as the S3 console states them.
    Binary,
    /// `1.5 MB`, `1.50 GB`: the command line's progress and summaries, as
    /// throughput and disk figures are usually read.
    Decimal,
}

impl ByteUnits {
    /// The step between units, and each unit's name and decimals.
    fn scale(self) -> (f64, &'static [(&'static str, usize)]) {
        match self {
            ByteUnits::Binary => (
                1024.0,
                &[
                    ("B", 0),
                    ("KiB", 1),
                    ("MiB", 1),
                    ("GiB", 1),
                    ("TiB", 1),
                    ("PiB", 1),
                ],
            ),
            ByteUnits::Decimal => (1000.0, &[("B", 0), ("kB", 1), ("MB", 1), ("GB", 2)]),
        }
    }
}

/// `n` bytes in the largest of `units`' units it reaches.
pub fn bytes_in(n: u64, units: ByteUnits) -> String {
    let (step, names) = units.scale();
    let mut unit = 0;
    while unit < names.len() - 1 && n as f64 >= step.powi(unit as i32 + 1) {
        unit += 1;
    }
    let (name, decimals) = names[unit];
    if unit == 0 {
        format!("{n} {name}")
    } else {
        // One division by an exact power, as each unit's threshold.
        let value = n as f64 / step.powi(unit as i32);
        format!("{value:.decimals$} {name}")
    }
}

/// Bytes in binary units: `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    bytes_in(n, ByteUnits::Binary)
}

/// US dollars: cents for most figures, a hundredth of a cent below a cent.
pub fn usd(v: f64) -> String {
    if v > 0.0 && v < 0.01 {
        format!("${v:.4}")
    } else {
        format!("${v:.2}")
    }
}

/// A share (0 to 1) as a percentage.
pub fn share(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// A change in percent with its sign, `no change` when it rounds to zero
/// (never `-0.0%`), or `new` when there was nothing before.
pub fn change(percent: Option<f64>) -> String {
    match percent {
        Some(p) if format!("{:.1}", p.abs()) == "0.0" => "no change".into(),
        Some(p) if p > 0.0 => format!("+{p:.1}%"),
        Some(p) => format!("{p:.1}%"),
        None => "new".into(),
    }
}

/// Which way a change went, once rounded as [`change`] shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
    Flat,
}

pub fn direction(percent: Option<f64>) -> Direction {
    match percent {
        Some(p) if change(Some(p)) == "no change" => Direction::Flat,
        Some(p) if p < 0.0 => Direction::Down,
        _ => Direction::Up,
    }
}

/// A key as people wrote it: S3 logs keys URL-encoded (`Q1%20summary.pdf`,
/// `caf%C3%A9`); a key whose escapes do not decode to text is shown as logged.
pub fn decoded_key(key: &str) -> std::borrow::Cow<'_, str> {
    if !key.contains('%') {
        return key.into();
    }
    let b = key.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    match String::from_utf8(out) {
        Ok(s) => s.into(),
        Err(_) => key.into(),
    }
}

/// Text safe inside HTML elements and attribute values: a key named
/// `<script>` shows as text.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters have no business in a report.
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters, with an ellipsis when cut (long keys would
/// widen the email past any screen).
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_units_reach_each_unit_at_its_threshold() {
        for (n, binary, decimal) in [
            (0, "0 B", "0 B"),
            (999, "999 B", "999 B"),
            (1_000, "1000 B", "1.0 kB"),
            (1_023, "1023 B", "1.0 kB"),
            (1_024, "1.0 KiB", "1.0 kB"),
            (1_500_000, "1.4 MiB", "1.5 MB"),
            (999_999_999, "953.7 MiB", "1000.0 MB"),
            (1_000_000_000, "953.7 MiB", "1.00 GB"),
            (1 << 30, "1.0 GiB", "1.07 GB"),
            (5 << 50, "5.0 PiB", "5629499.53 GB"),
            (u64::MAX, "16384.0 PiB", "18446744073.71 GB"),
        ] {
            assert_eq!(bytes_in(n, ByteUnits::Binary), binary, "{n}");
            assert_eq!(bytes_in(n, ByteUnits::Decimal), decimal, "{n}");
        }
    }

    #[test]
    fn figures() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(100), "100");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_610_612_736), "1.5 GiB");
        assert_eq!(usd(0.004), "$0.0040");
        assert_eq!(usd(12.345), "$12.35");
        assert_eq!(share(0.1234), "12.3%");
        assert_eq!(change(Some(5.0)), "+5.0%");
        assert_eq!(change(Some(-2.5)), "-2.5%");
        assert_eq!(change(None), "new");
        assert_eq!(change(Some(-0.04)), "no change");
        assert_eq!(change(Some(0.0)), "no change");
        assert_eq!(direction(Some(-0.04)), Direction::Flat);
        assert_eq!(direction(Some(-0.1)), Direction::Down);
    }

    #[test]
    fn keys_are_shown_decoded() {
        assert_eq!(
            decoded_key("docs/Q1%20summary-11.pdf"),
            "docs/Q1 summary-11.pdf"
        );
        assert_eq!(decoded_key("caf%C3%A9"), "café");
        assert_eq!(decoded_key("a+b%2Bc"), "a+b+c");
        assert_eq!(decoded_key("100%"), "100%");
        assert_eq!(decoded_key("bad%FF"), "bad%FF", "not UTF-8: as logged");
    }

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("<script>alert('x')</script>&\"\u{7}"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;\u{FFFD}"
        );
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
