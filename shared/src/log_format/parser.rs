//! Field-by-field parser for one log line.
//!
//! The format is space-separated, except for the bracketed time (which holds a
//! space) and three quoted fields (request URI, referer, user agent) that AWS
//! writes without escaping: a quote inside them is not escaped. A quote
//! followed by a space is therefore only a *candidate* end of the field; the
//! parser takes the first candidate after which the following fields have the
//! shape the format requires (a status code after the request URI, a quoted
//! user agent after the referer, a signature version and auth type at their
//! places after the user agent). This finds the true boundaries for every
//! line the format can produce, short of a quoted value that itself contains
//! a complete, well-formed copy of the fields that follow it.

use super::marks::Marks;
use super::record::{LogRecord, TRAILING_KNOWN};
use super::scan::find;
use super::time::parse_log_time;

/// Why a line is not a valid log record: the field (by its JSON name, or
/// `line`) and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ParseError {
    pub field: &'static str,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

type Result<T> = std::result::Result<T, ParseError>;

/// Parses one line (without its line end). A trailing `\r` and trailing
/// spaces are ignored: they carry no field.
pub fn parse_line(line: &str) -> Result<LogRecord<'_>> {
    let line = line.trim_end_matches([' ', '\r']);
    let marks = Marks::new(line.as_bytes());
    let mut c = Cursor {
        s: line,
        b: line.as_bytes(),
        m: &marks,
        pos: 0,
        fields_seen: 0,
    };
    let mut r = LogRecord {
        bucket_owner: c.text("bucket_owner")?,
        bucket: c.text("bucket")?,
        request_time_ms: c.time()?.map(|seconds| seconds * 1000),
        remote_ip: c.text("remote_ip")?,
        requester: c.text("requester")?,
        request_id: c.text("request_id")?,
        operation: c.text("operation")?,
        key: c.text("key")?,
        ..LogRecord::default()
    };
    r.request_uri = c.quoted("request_uri", |q| after_request_uri_ok(&marks, q + 1))?;
    r.http_status = c
        .int("http_status")?
        .map(|v| i32::try_from(v).map_err(|_| ParseError::new("http_status", "out of range")))
        .transpose()?;
    r.error_code = c.text("error_code")?;
    // The only free-text field between two quoted ones: a quote in it would
    // make the request URI's end ambiguous.
    if r.error_code.is_some_and(|v| v.contains('"')) {
        return Err(ParseError::new(
            "error_code",
            "unexpected '\"' in an unquoted field",
        ));
    }
    r.bytes_sent = c.int("bytes_sent")?;
    r.object_size = c.int("object_size")?;
    r.total_time = c.int("total_time")?;
    r.turn_around_time = c.int("turn_around_time")?;
    let (referer, user_agent, trailing) = c.referer_and_user_agent()?;
    r.referer = referer;
    r.user_agent = user_agent;
    for (index, value) in trailing.values.into_iter().enumerate() {
        r.set_trailing(index, value);
    }
    r.extra = trailing.extra;
    r.field_count = 17 + trailing.count;
    Ok(r)
}

/// The fields after the user agent, read once: while a candidate end of the
/// user agent is checked, and then kept for the record.
#[derive(Debug, Default, Clone, Copy)]
struct Trailing<'a> {
    values: [Option<&'a str>; TRAILING_KNOWN],
    /// How many fields there are after the user agent.
    count: usize,
    extra: Option<&'a str>,
}

impl Trailing<'_> {
    /// Whether the fields with a fixed vocabulary hold one of its words.
    fn shapes_ok(&self) -> bool {
        matches!(self.values[2], None | Some("SigV2" | "SigV4"))
            && matches!(self.values[4], None | Some("AuthHeader" | "QueryString"))
            && matches!(self.values[8], None | Some("Yes"))
    }
}

/// Reads the fields after a user agent that ends just before `from` (where
/// the line ends or a separator follows). These fields are never quoted: a
/// quote in one means the user agent's end is misplaced or the line is
/// damaged, and accepting it would make the record read differently once
/// written back.
fn read_trailing<'a>(s: &'a str, m: &Marks<'_>, from: usize) -> Result<Trailing<'a>> {
    let b = s.as_bytes();
    let mut t = Trailing::default();
    let mut pos = from + 1;
    while pos <= b.len() && from < b.len() {
        if t.count == TRAILING_KNOWN {
            let extra = &b[pos..];
            if extra.is_empty() || extra.split(|&x| x == b' ').any(<[u8]>::is_empty) {
                return Err(ParseError::new(
                    "extra_fields",
                    "empty field (two spaces in a row or a trailing space)",
                ));
            }
            t.extra = Some(&s[pos..]);
            t.count += 1 + memchr::memchr_iter(b' ', extra).count();
            break;
        }
        let name = super::fields::FIELDS[17 + t.count].json_name;
        let (end, quote) = match m.space_or_quote(pos) {
            Some(i) => (i, b[i] == b'"'),
            None => (b.len(), false),
        };
        if quote {
            return Err(ParseError::new(
                name,
                "unexpected '\"' in an unquoted field",
            ));
        }
        if end == pos {
            return Err(ParseError::new(
                name,
                "empty field (two spaces in a row or a trailing space)",
            ));
        }
        t.values[t.count] = dash_is_null(&s[pos..end]);
        t.count += 1;
        pos = end + 1;
    }
    check_complete(&t)?;
    Ok(t)
}

/// A line AWS wrote whole has 17, 18, 24, 25, 26, 27 or more fields, and its
/// last field is not the start of a longer value: anything else is a line
/// cut short (a truncated last line of a file). `t.count` is the number of
/// fields after the user agent.
fn check_complete(t: &Trailing<'_>) -> Result<()> {
    const FIELD_COUNTS: &str = "AWS writes 17, 18, 24, 25, 26, 27 or more";
    let count = t.count;
    if (2..=6).contains(&count) {
        return Err(ParseError::new(
            super::fields::FIELDS[17 + count].json_name,
            format!(
                "missing: the line ends after {} fields ({FIELD_COUNTS}): it was cut short",
                17 + count
            ),
        ));
    }
    let Some(last) = count.checked_sub(1).filter(|&i| i < TRAILING_KNOWN) else {
        return Ok(());
    };
    let Some(v) = t.values[last] else {
        return Ok(());
    };
    let what = match last {
        6 if is_cut_tls_version(v.as_bytes()) => "a TLS version such as TLSv1.2",
        7 if is_cut_access_point_arn(v) => {
            "an access point ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:accesspoint/NAME)"
        }
        8 if matches!(v, "Y" | "Ye") => "'Yes'",
        9 if is_cut_region(v.as_bytes()) => "a region such as us-east-1",
        _ => return Ok(()),
    };
    Err(ParseError::new(
        super::fields::FIELDS[17 + last].json_name,
        format!(
            "cut short: the line ends inside this field ('{}' is only the start of {what})",
            clip(v)
        ),
    ))
}

/// `T`, `TLS`, `TLSv1.` ...: the start of `TLSv1.2` but not a version
/// (`TLSv1` alone is TLS 1.0's).
fn is_cut_tls_version(v: &[u8]) -> bool {
    const FULL: &[u8] = b"TLSV1.2";
    v.len() < FULL.len() && v.eq_ignore_ascii_case(&FULL[..v.len()]) && v.len() != 5
}

/// The start of an ARN without a resource name: `arn:aws:s3:` or
/// `arn:aws:s3:us-east-1:123456789012:accesspoint`.
fn is_cut_access_point_arn(v: &str) -> bool {
    if v.len() < 4 {
        return "arn:".starts_with(v);
    }
    if !v.starts_with("arn:") {
        return false;
    }
    match v.splitn(6, ':').nth(5) {
        Some(resource) => match resource.find('/') {
            Some(i) => i + 1 == resource.len(),
            None => true,
        },
        None => true,
    }
}

/// A region ends with its number (`us-east-1`); `us-east-` or `us-e` is the
/// start of one.
fn is_cut_region(v: &[u8]) -> bool {
    v.last().is_some_and(|c| !c.is_ascii_digit())
        && v.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

struct Cursor<'a, 'm> {
    s: &'a str,
    b: &'a [u8],
    /// Where `b`'s spaces and quotes are.
    m: &'m Marks<'a>,
    pos: usize,
    fields_seen: usize,
}

impl<'a> Cursor<'a, '_> {
    fn missing(&self, field: &'static str) -> ParseError {
        let n = self.fields_seen;
        let fields = if n == 1 { "field" } else { "fields" };
        ParseError::new(
            field,
            format!("missing: the line ends after {n} {fields} (a record has at least 17)"),
        )
    }

    /// The next space-separated token, advancing past its separator.
    fn token(&mut self, field: &'static str) -> Result<&'a str> {
        if self.pos >= self.b.len() {
            return Err(self.missing(field));
        }
        let start = self.pos;
        let end = self.m.space(start).unwrap_or(self.b.len());
        if end == start {
            return Err(ParseError::new(
                field,
                "empty field (two spaces in a row or a leading space)",
            ));
        }
        self.advance_to(end);
        self.fields_seen += 1;
        Ok(&self.s[start..end])
    }

    /// Moves past the field that ends at `end` and its separator.
    fn advance_to(&mut self, end: usize) {
        self.pos = (end + 1).min(self.b.len());
    }

    fn text(&mut self, field: &'static str) -> Result<Option<&'a str>> {
        self.token(field).map(dash_is_null)
    }

    fn int(&mut self, field: &'static str) -> Result<Option<i64>> {
        let t = self.token(field)?;
        if t == "-" {
            return Ok(None);
        }
        parse_int(t.as_bytes()).map(Some).ok_or_else(|| {
            ParseError::new(
                field,
                format!("expected a whole number or '-', found '{t}'"),
            )
        })
    }

    fn time(&mut self) -> Result<Option<i64>> {
        const FIELD: &str = "request_time";
        if self.pos >= self.b.len() {
            return Err(self.missing(FIELD));
        }
        if self.b[self.pos] != b'[' {
            return match self.token(FIELD)? {
                "-" => Ok(None),
                other => Err(ParseError::new(
                    FIELD,
                    format!("expected [dd/Mon/yyyy:HH:MM:SS +0000] or '-', found '{other}'"),
                )),
            };
        }
        let start = self.pos + 1;
        let close = find(self.b, start, b']')
            .ok_or_else(|| ParseError::new(FIELD, "'[' without a closing ']'"))?;
        let t = parse_log_time(&self.s[start..close]).map_err(|m| ParseError::new(FIELD, m))?;
        if close + 1 < self.b.len() && self.b[close + 1] != b' ' {
            return Err(ParseError::new(FIELD, "expected a space after ']'"));
        }
        self.advance_to(close + 1);
        self.fields_seen += 1;
        Ok(Some(t))
    }

    /// A quoted field, or a bare `-`. `follows_ok(q)` says whether the text
    /// after a candidate closing quote at `q` looks like the fields that follow.
    fn quoted(
        &mut self,
        field: &'static str,
        mut follows_ok: impl FnMut(usize) -> bool,
    ) -> Result<Option<&'a str>> {
        if self.pos >= self.b.len() {
            return Err(self.missing(field));
        }
        // A value that starts with `-" ` reads like a quoted dash; when the
        // fields after that dash cannot be right, the value's true closing
        // quote is a later one.
        if self.at_quoted_dash()
            && !follows_ok(self.pos + 2)
            && let Some(close) = closing_quote(self.m, self.pos, &mut follows_ok, true)
        {
            let value = &self.s[self.pos + 1..close];
            self.advance_to(close + 1);
            self.fields_seen += 1;
            return Ok(dash_is_null(value));
        }
        if self.b[self.pos] != b'"' || self.at_quoted_dash() {
            return match self.token(field)? {
                "-" | "\"-\"" => Ok(None),
                other => Err(ParseError::new(
                    field,
                    format!("expected a quoted value or '-', found '{}'", clip(other)),
                )),
            };
        }
        let close = closing_quote(self.m, self.pos, follows_ok, false).ok_or_else(|| {
            if self.m.quote(self.pos + 1).is_none() {
                ParseError::new(
                    field,
                    "unterminated quoted value: the line ends inside it (cut short?)",
                )
            } else {
                ParseError::new(
                    field,
                    "no closing quote followed by the fields that belong after it",
                )
            }
        })?;
        let value = &self.s[self.pos + 1..close];
        self.advance_to(close + 1);
        self.fields_seen += 1;
        Ok(dash_is_null(value))
    }

    /// Referer and user agent are adjacent quoted fields, so the referer's end
    /// is only confirmed once a user agent, and the fields after it, can be
    /// read after it. Returns both and the fields after the user agent.
    fn referer_and_user_agent(
        &mut self,
    ) -> Result<(Option<&'a str>, Option<&'a str>, Trailing<'a>)> {
        if self.pos >= self.b.len() {
            return Err(self.missing("referer"));
        }
        let (s, m) = (self.s, self.m);
        // The fields after the accepted end of the user agent, read while
        // checking it (keyed by the position of that end).
        let mut read: Option<(usize, Trailing<'a>)> = None;
        let mut ua_end_ok = |end: usize| match read_trailing(s, m, end + 1) {
            Ok(t) if t.shapes_ok() => {
                read = Some((end, t));
                true
            }
            _ => false,
        };
        if self.b[self.pos] != b'"' || self.at_quoted_dash() {
            let referer = match self.token("referer")? {
                "-" | "\"-\"" => None,
                other => {
                    return Err(ParseError::new(
                        "referer",
                        format!("expected a quoted value or '-', found '{}'", clip(other)),
                    ));
                }
            };
            let ua = self.quoted("user_agent", &mut ua_end_ok)?;
            let trailing = self.trailing_after_user_agent(read)?;
            return Ok((referer, ua, trailing));
        }
        let open = self.pos;
        // First pass: a referer end after which a well-formed user agent
        // follows; second pass: the first plausible one, so that the error
        // names the field after it.
        for strict in [true, false] {
            let mut from = open + 1;
            while let Some(q) = self.m.quote(from) {
                from = q + 1;
                if q + 1 >= self.b.len() || self.b[q + 1] != b' ' {
                    continue;
                }
                let ua_start = q + 2;
                // (end of the user agent field, whether it is null)
                let ua = match dash_len(self.b, ua_start) {
                    // `-` or `"-"`: read the same way, never searched past.
                    Some(len) => {
                        let end = ua_start + len - 1;
                        if !strict || ua_end_ok(end) {
                            Some((end, true))
                        } else if len == 3 {
                            // `"-" ...`: a value starting with `-" `, whose
                            // closing quote is a later one.
                            closing_quote(self.m, ua_start, &mut ua_end_ok, true)
                                .map(|close| (close, false))
                        } else {
                            None
                        }
                    }
                    None if self.b.get(ua_start) == Some(&b'"') => {
                        closing_quote(self.m, ua_start, &mut ua_end_ok, strict)
                            .map(|close| (close, false))
                    }
                    None => None,
                };
                let Some((ua_close, ua_null)) = ua else {
                    continue;
                };
                let referer = dash_is_null(&self.s[open + 1..q]);
                let ua = if ua_null {
                    None
                } else {
                    dash_is_null(&self.s[ua_start + 1..ua_close])
                };
                self.advance_to(ua_close + 1);
                self.fields_seen += 2;
                let trailing = self.trailing_after_user_agent(read)?;
                return Ok((referer, ua, trailing));
            }
        }
        if self.m.quote(open + 1).is_none() {
            Err(ParseError::new(
                "referer",
                "unterminated quoted value: the line ends inside it (cut short?)",
            ))
        } else {
            Err(self.missing_after_referer())
        }
    }

    /// The fields after the user agent, which ends just before `self.pos`'s
    /// separator: those read while checking it, or read now (and any error
    /// names the field) when the end was taken without a check.
    fn trailing_after_user_agent(
        &self,
        read: Option<(usize, Trailing<'a>)>,
    ) -> Result<Trailing<'a>> {
        let ua_end = if self.pos >= self.b.len() {
            self.b.len() - 1
        } else {
            self.pos - 2
        };
        match read {
            Some((end, t)) if end == ua_end => Ok(t),
            _ => read_trailing(self.s, self.m, ua_end + 1),
        }
    }

    /// `"-"` means null exactly as a bare `-` does, and is read the same way,
    /// without looking for a later closing quote; so a record reads the same
    /// whichever of the two AWS wrote.
    fn at_quoted_dash(&self) -> bool {
        self.b[self.pos..].starts_with(b"\"-\"")
            && matches!(self.b.get(self.pos + 3), None | Some(b' '))
    }

    fn missing_after_referer(&self) -> ParseError {
        ParseError::new(
            "user_agent",
            "no quoted user agent (or '-') found after the referer",
        )
    }
}

/// The first quote after `open` that is followed by a space or the line end
/// and by text that `follows_ok` accepts. When no candidate passes, the first
/// structural candidate is returned unless `strict`, so the error is reported
/// at the field that is actually wrong rather than at the quoted field.
fn closing_quote(
    m: &Marks<'_>,
    open: usize,
    mut follows_ok: impl FnMut(usize) -> bool,
    strict: bool,
) -> Option<usize> {
    let mut from = open + 1;
    let mut first = None;
    let b = m.bytes();
    while let Some(q) = m.quote(from) {
        from = q + 1;
        if matches!(b.get(q + 1), None | Some(b' ')) {
            if follows_ok(q) {
                return Some(q);
            }
            first = first.or(Some(q));
        }
    }
    if strict { None } else { first }
}

/// After the request URI, whose candidate closing quote is just before
/// `at`: status, error code, four numbers, then the referer (so the request
/// URI is never the last field). A line that ends sooner is checked as far
/// as it goes.
fn after_request_uri_ok(m: &Marks<'_>, at: usize) -> bool {
    let b = m.bytes();
    if at >= b.len() {
        return false;
    }
    // `at` is the separator; the first field starts after it.
    let mut start = at + 1;
    for i in 0..7 {
        // `start` never passes the line's end: it follows a space.
        let end = m.space(start).unwrap_or(b.len());
        let t = &b[start..end];
        let ok = match i {
            0 => t == b"-" || (t.len() == 3 && t.iter().all(u8::is_ascii_digit)),
            1 => !t.is_empty() && !t.contains(&b'"'),
            2..=5 => t == b"-" || (!t.is_empty() && t.iter().all(u8::is_ascii_digit)),
            _ => t.first() == Some(&b'"') || t == b"-",
        };
        if !ok {
            return false;
        }
        if end >= b.len() {
            break;
        }
        start = end + 1;
    }
    true
}

/// Length of a null field (`-` or `"-"`) at `at`, if there is one.
fn dash_len(b: &[u8], at: usize) -> Option<usize> {
    let rest = b.get(at..)?;
    let len = if rest.starts_with(b"\"-\"") {
        3
    } else if rest.starts_with(b"-") {
        1
    } else {
        return None;
    };
    matches!(rest.get(len), None | Some(b' ')).then_some(len)
}

fn dash_is_null(s: &str) -> Option<&str> {
    (s != "-").then_some(s)
}

fn parse_int(b: &[u8]) -> Option<i64> {
    if b.is_empty() || b.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in b {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(v)
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The check after a request URI, read plainly: the seven fields split
    /// at every space.
    fn after_request_uri_plain(rest: &[u8]) -> bool {
        !rest.is_empty()
            && rest[1..]
                .split(|&x| x == b' ')
                .take(7)
                .enumerate()
                .all(|(i, t)| match i {
                    0 => t == b"-" || (t.len() == 3 && t.iter().all(u8::is_ascii_digit)),
                    1 => !t.is_empty() && !t.contains(&b'"'),
                    2..=5 => t == b"-" || (!t.is_empty() && t.iter().all(u8::is_ascii_digit)),
                    _ => t.first() == Some(&b'"') || t == b"-",
                })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Fields of the shapes that matter (digits, dashes, quotes,
        /// words, empty ones), joined by spaces, checked at every space.
        #[test]
        fn after_request_uri_agrees_with_the_plain_reading(
            fields in proptest::collection::vec(
                prop_oneof![
                    3 => Just("-"), 3 => Just("200"), 3 => Just("4096"), 2 => Just("NoSuchKey"),
                    2 => Just("\"-\""), 2 => Just("\"https://x/"), 1 => Just("x\""),
                    1 => Just(""), 1 => Just("12a"), 1 => Just("\""),
                ],
                0..12),
        ) {
            let line = fields.join(" ");
            let b = line.as_bytes();
            let m = Marks::new(b);
            for at in 0..=b.len() {
                if at == b.len() || b[at] == b' ' {
                    prop_assert_eq!(
                        after_request_uri_ok(&m, at),
                        after_request_uri_plain(&b[at..]),
                        "at {} of {:?}", at, line
                    );
                }
            }
        }
    }

    #[test]
    fn after_request_uri_examples() {
        let line = b"\"GET / HTTP/1.1\" 200 - 10 20 30 40 \"-\" \"curl\"";
        let m = Marks::new(line);
        assert!(after_request_uri_ok(&m, 16));
        assert!(!after_request_uri_ok(&m, 4), "inside the URI");
        let short = b"\"x\" 200";
        assert!(after_request_uri_ok(&Marks::new(short), 3));
        assert!(!after_request_uri_ok(&Marks::new(short), short.len()));
    }
}
