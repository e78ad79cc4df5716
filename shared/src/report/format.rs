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

/// Bytes in binary units: `1.5 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
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

/// A change in percent with its sign, or `new` when there was nothing before.
pub fn change(percent: Option<f64>) -> String {
    match percent {
        Some(p) if p > 0.0 => format!("+{p:.1}%"),
        Some(p) => format!("{p:.1}%"),
        None => "new".into(),
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
