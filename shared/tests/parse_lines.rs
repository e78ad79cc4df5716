//! The parser against AWS's documented sample lines and every line shape the
//! format can take.

use s3la_shared::log_format::lines::for_each_line;
use s3la_shared::log_format::{LogRecord, format_iso8601, parse_line};

const AWS_SAMPLE: &str = include_str!("../../tests/fixtures/aws-doc-sample.log");
const OWNER: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

fn sample(i: usize) -> &'static str {
    AWS_SAMPLE.lines().nth(i).unwrap()
}

#[test]
fn aws_sample_line_every_field() {
    let r = parse_line(sample(0)).unwrap();
    assert_eq!(r.bucket_owner, Some(OWNER));
    assert_eq!(r.bucket, Some("amzn-s3-demo-bucket1"));
    assert_eq!(
        format_iso8601(r.request_time_ms.unwrap()),
        "2019-02-06T00:00:38Z"
    );
    assert_eq!(r.remote_ip, Some("192.0.2.3"));
    assert_eq!(r.requester, Some(OWNER));
    assert_eq!(r.request_id, Some("3E57427F3EXAMPLE"));
    assert_eq!(r.operation, Some("REST.GET.VERSIONING"));
    assert_eq!(r.key, None);
    assert_eq!(
        r.request_uri,
        Some("GET /amzn-s3-demo-bucket1?versioning HTTP/1.1")
    );
    assert_eq!(r.http_status, Some(200));
    assert_eq!(r.error_code, None);
    assert_eq!(r.bytes_sent, Some(113));
    assert_eq!(r.object_size, None);
    assert_eq!(r.total_time, Some(7));
    assert_eq!(r.turn_around_time, None);
    assert_eq!(r.referer, None);
    assert_eq!(r.user_agent, Some("S3Console/0.4"));
    assert_eq!(r.version_id, None);
    assert_eq!(
        r.host_id,
        Some("s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=")
    );
    assert_eq!(r.signature_version, Some("SigV4"));
    assert_eq!(r.cipher_suite, Some("ECDHE-RSA-AES128-GCM-SHA256"));
    assert_eq!(r.authentication_type, Some("AuthHeader"));
    assert_eq!(
        r.host_header,
        Some("amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com")
    );
    assert_eq!(r.tls_version, Some("TLSV1.2"));
    assert_eq!(
        r.access_point_arn,
        Some("arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP")
    );
    assert_eq!(r.acl_required, Some("Yes"));
    assert_eq!(r.source_region, Some("us-east-1"));
    assert_eq!(r.extra, None);
    assert_eq!(r.field_count, 27);
}

#[test]
fn aws_sample_put_and_error_lines() {
    let r = parse_line(sample(4)).unwrap();
    assert_eq!(r.operation, Some("REST.PUT.OBJECT"));
    assert_eq!(r.key, Some("s3-dg.pdf"));
    assert_eq!(r.bytes_sent, None);
    assert_eq!(r.object_size, Some(4_406_583));
    assert_eq!(r.total_time, Some(41_754));
    assert_eq!(r.turn_around_time, Some(28));
    assert_eq!(r.cipher_suite, Some("ECDHE-RSA-AES128-SHA"));
    assert_eq!(
        format_iso8601(r.request_time_ms.unwrap()),
        "2019-02-06T00:01:57Z"
    );

    let r = parse_line(sample(2)).unwrap();
    assert_eq!(r.http_status, Some(404));
    assert_eq!(r.error_code, Some("NoSuchBucketPolicy"));
    assert_eq!(r.access_point_arn, None);
    assert_eq!(r.acl_required, Some("Yes"));
}

#[test]
fn every_aws_sample_line_parses_and_renders_back() {
    let mut n = 0;
    for_each_line(AWS_SAMPLE.as_bytes(), 1, |_, r| {
        let r = r.unwrap();
        n += 1;
        let again = r.to_line();
        assert_eq!(parse_line(&again).unwrap(), r);
    });
    assert_eq!(n, 5);
}

/// Cuts the AWS sample line after `n` fields (the first 17 fields take 19
/// space-separated tokens: the time holds one space and the request URI two).
fn with_field_count(n: usize) -> String {
    let tokens: Vec<&str> = sample(0).split(' ').collect();
    tokens[..n + 3].join(" ")
}

#[test]
fn older_field_counts_leave_the_missing_fields_null() {
    for n in [17, 18, 24, 25, 26] {
        let line = with_field_count(n);
        let r = parse_line(&line).unwrap_or_else(|e| panic!("{n} fields: {e}"));
        assert_eq!(r.field_count, n);
        assert_eq!(r.user_agent, Some("S3Console/0.4"));
        let trailing = r.trailing_text_fields();
        for (i, v) in trailing.iter().enumerate() {
            if 17 + i >= n {
                assert_eq!(*v, None, "{n} fields: field {} should be null", 18 + i);
            }
        }
        assert_eq!(r.host_id.is_some(), n >= 19);
        assert_eq!(r.tls_version, (n >= 24).then_some("TLSV1.2"));
        assert_eq!(r.acl_required, (n >= 26).then_some("Yes"));
        assert_eq!(r.source_region, None);
    }
}

#[test]
fn fields_appended_in_future_are_kept() {
    let line = format!("{} futureA - future\"C", sample(0));
    let r = parse_line(&line).unwrap();
    assert_eq!(r.source_region, Some("us-east-1"));
    assert_eq!(r.field_count, 30);
    assert_eq!(
        r.extra_fields().collect::<Vec<_>>(),
        ["futureA", "-", "future\"C"]
    );
    assert_eq!(r.to_line(), line);
}

fn replace_quoted(line: &str, old: &str, new: &str) -> String {
    assert!(line.contains(old));
    line.replacen(old, new, 1)
}

#[test]
fn user_agent_ending_in_a_quote() {
    let line = replace_quoted(
        sample(0),
        "\"S3Console/0.4\"",
        "\"Mozilla/5.0 (X11) \"quoted\"\"",
    );
    let r = parse_line(&line).unwrap();
    assert_eq!(r.user_agent, Some("Mozilla/5.0 (X11) \"quoted\""));
    assert_eq!(r.version_id, None);
    assert_eq!(r.signature_version, Some("SigV4"));
    assert_eq!(r.source_region, Some("us-east-1"));
}

#[test]
fn user_agent_with_a_quote_and_space_inside() {
    let line = replace_quoted(sample(0), "\"S3Console/0.4\"", "\"curl\" 7.1 - x SigV4\"");
    let r = parse_line(&line).unwrap();
    assert_eq!(r.user_agent, Some("curl\" 7.1 - x SigV4"));
    assert_eq!(r.field_count, 27);
    // The same kind of user agent on a 17-field record, where it is the last field.
    let short = replace_quoted(&with_field_count(17), "\"S3Console/0.4\"", "\"a\" b c\"");
    assert_eq!(parse_line(&short).unwrap().user_agent, Some("a\" b c"));
}

#[test]
fn user_agent_starting_like_a_quoted_dash() {
    // The value `-" x` is written `"-" x"`: its first three characters read
    // as the quoted dash that means null, until the fields after it cannot fit.
    let line = replace_quoted(sample(0), "\"S3Console/0.4\"", "\"-\" x\"");
    let r = parse_line(&line).unwrap();
    assert_eq!(r.user_agent, Some("-\" x"));
    assert_eq!(r.signature_version, Some("SigV4"));
    assert_eq!(r.field_count, 27);
    // Found by the round-trip property: the last field of a 17-field record,
    // after a quoted-dash referer.
    let short = "- - - - - - - - \"-\" - - - - - - \"-\" \"-\" \"";
    let r = parse_line(short).unwrap();
    assert_eq!((r.referer, r.user_agent), (None, Some("-\" ")));
    assert_eq!(r.field_count, 17);
    // A real quoted dash still reads as null.
    let dash = replace_quoted(sample(0), "\"S3Console/0.4\"", "\"-\"");
    assert_eq!(parse_line(&dash).unwrap().user_agent, None);
}

#[test]
fn request_uri_with_quotes_inside() {
    for uri in [
        "GET /bucket/a\"b.txt HTTP/1.1",
        "GET /bucket/say \"hi\" there HTTP/1.1",
        "GET /bucket/x\" 200 y HTTP/1.1",
    ] {
        let line = replace_quoted(
            sample(0),
            "\"GET /amzn-s3-demo-bucket1?versioning HTTP/1.1\"",
            &format!("\"{uri}\""),
        );
        let r = parse_line(&line).unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(r.request_uri, Some(uri));
        assert_eq!(r.http_status, Some(200));
        assert_eq!(r.bytes_sent, Some(113));
        assert_eq!(r.user_agent, Some("S3Console/0.4"));
    }
}

#[test]
fn referer_with_a_quote_inside() {
    let line = replace_quoted(
        sample(0),
        "\"-\" \"S3Console",
        "\"https://e.com/?q=\"x\" \"S3Console",
    );
    let r = parse_line(&line).unwrap();
    assert_eq!(r.referer, Some("https://e.com/?q=\"x"));
    assert_eq!(r.user_agent, Some("S3Console/0.4"));
}

#[test]
fn lifecycle_record_with_dash_request_uri() {
    let line = format!(
        "{OWNER} amzn-s3-demo-bucket1 [06/Feb/2019:03:10:00 +0000] - - 5BC6D1EXAMPLE S3.EXPIRE.OBJECT \
         logs/old.gz \"-\" - - - 1048576 - - \"-\" \"-\" - - - - - - - - - -"
    );
    let r = parse_line(&line).unwrap();
    assert_eq!(r.operation, Some("S3.EXPIRE.OBJECT"));
    assert_eq!(r.request_uri, None);
    assert_eq!(r.http_status, None);
    assert_eq!(r.remote_ip, None);
    assert_eq!(r.object_size, Some(1_048_576));
    assert_eq!(r.user_agent, None);
    assert_eq!(r.field_count, 27);
    // A bare `-` instead of `"-"` means the same.
    let bare = line.replacen("\"-\" -", "- -", 1);
    assert_eq!(parse_line(&bare).unwrap(), r);
}

#[test]
fn crlf_line_ends_and_blank_lines() {
    let text = format!("{}\r\n\r\n{}\r\n\n", sample(0), sample(1));
    let mut seen = vec![];
    let counts = for_each_line(text.as_bytes(), 1, |n, r| {
        seen.push((n, r.unwrap().source_region))
    });
    assert_eq!(seen, vec![(1, Some("us-east-1")), (3, Some("us-east-1"))]);
    assert_eq!((counts.lines, counts.records, counts.malformed), (4, 2, 0));
}

fn error_of(line: &str) -> (String, String) {
    let e = parse_line(line).unwrap_err();
    (e.field.to_string(), e.message)
}

#[test]
fn malformed_lines_name_the_field() {
    let s = sample(0);
    let cases: Vec<(String, &str, &str)> = vec![
        (
            s.replacen(" 200 ", " 2x0 ", 1),
            "http_status",
            "expected a whole number",
        ),
        (
            s.replacen(" 113 ", " 11a ", 1),
            "bytes_sent",
            "expected a whole number",
        ),
        (
            s.replacen("06/Feb/2019", "31/Feb/2019", 1),
            "request_time",
            "not a calendar date",
        ),
        (
            s.replacen("[06/Feb/2019:00:00:38 +0000]", "yesterday", 1),
            "request_time",
            "expected [",
        ),
        (
            with_field_count(12),
            "object_size",
            "the line ends after 12 fields",
        ),
        (
            s.replacen("\"S3Console/0.4\"", "\"S3Console/0.4", 1),
            "user_agent",
            "",
        ),
        (
            "a b - c d e f g - 200 - 1 2 3 4 \"-\" \"curl/8".to_string(),
            "user_agent",
            "unterminated quoted value",
        ),
        (
            s.replacen(" REST.GET.VERSIONING ", "  REST.GET.VERSIONING ", 1),
            "operation",
            "empty field",
        ),
        (
            "<html><body>502 Bad Gateway</body></html>".to_string(),
            "request_time",
            "found 'Gateway",
        ),
        (
            "garbage".to_string(),
            "bucket",
            "missing: the line ends after 1 field (",
        ),
    ];
    for (line, field, msg) in cases {
        let (f, m) = error_of(&line);
        assert_eq!(f, field, "{line}: {m}");
        assert!(m.contains(msg), "{field}: '{m}' should mention '{msg}'");
    }
}

#[test]
fn record_default_renders_as_all_dashes_and_parses_back() {
    let r = LogRecord {
        field_count: 27,
        ..LogRecord::default()
    };
    let line = r.to_line();
    assert_eq!(parse_line(&line).unwrap(), r);
}

#[test]
fn eighteen_field_record_round_trips() {
    let r = LogRecord {
        field_count: 18,
        user_agent: Some("curl/8.5.0"),
        ..LogRecord::default()
    };
    let line = r.to_line();
    assert_eq!(parse_line(&line).unwrap(), r, "{line}");
}

/// Found by fuzzing: `"-"` and `-` must read the same even when a quote
/// appears later in the line, and a quote where the format has none is an
/// error rather than a reason to move a quoted field's end.
#[test]
fn quoted_dash_reads_exactly_like_a_bare_dash() {
    let base = format!("{} future\" x", sample(0));
    for (old, new) in [
        ("\"S3Console/0.4\"", "\"-\""),
        ("\"-\" \"S3Console/0.4\"", "\"-\" -"),
        ("\"-\" \"S3Console/0.4\"", "- \"-\""),
    ] {
        let quoted = base.replacen("\"S3Console/0.4\"", "\"-\"", 1);
        let other = base.replacen(old, new, 1);
        let a = parse_line(&quoted).unwrap();
        let b = parse_line(&other).unwrap();
        assert_eq!(a, b, "{other}");
        assert_eq!(a.user_agent, None);
        assert_eq!(a.field_count, 29);
    }
}

#[test]
fn quotes_where_the_format_has_none_are_errors() {
    let line = sample(2).replacen("NoSuchBucketPolicy", "No\"Such", 1);
    assert_eq!(error_of(&line).0, "error_code");
    let line = sample(0).replacen(" SigV4 ", " Sig\"V4 ", 1);
    assert_eq!(error_of(&line).0, "signature_version");
}

#[test]
fn values_follow_the_field_list() {
    use s3la_shared::log_format::FieldValue::{Int, Text, Time};
    use s3la_shared::log_format::fields::FIELDS;
    let r = parse_line(sample(4)).unwrap();
    let by_name = |name: &str| {
        let i = FIELDS.iter().position(|f| f.json_name == name).unwrap();
        r.values()[i]
    };
    assert_eq!(by_name("bucket"), Text(Some("amzn-s3-demo-bucket1")));
    assert_eq!(by_name("request_time"), Time(r.request_time_ms));
    assert_eq!(by_name("key"), Text(Some("s3-dg.pdf")));
    assert_eq!(by_name("http_status"), Int(Some(200)));
    assert_eq!(by_name("object_size"), Int(Some(4_406_583)));
    assert_eq!(by_name("turn_around_time"), Int(Some(28)));
    assert_eq!(by_name("user_agent"), Text(Some("S3Console/0.4")));
    assert_eq!(by_name("cipher_suite"), Text(Some("ECDHE-RSA-AES128-SHA")));
    assert_eq!(by_name("source_region"), Text(Some("us-east-1")));
}

/// Field counts AWS never wrote (19 to 23) are lines cut short, not older
/// records: an error naming the first missing field.
#[test]
fn field_counts_aws_never_wrote_are_malformed() {
    use s3la_shared::log_format::fields::FIELDS;
    for (n, first_missing) in FIELDS.iter().enumerate().take(24).skip(19) {
        let (field, message) = error_of(&with_field_count(n));
        assert_eq!(field, first_missing.json_name, "{n} fields");
        assert!(
            message.contains(&format!("the line ends after {n} fields"))
                && message.contains("cut short"),
            "{n} fields: {message}"
        );
    }
    for n in [17, 18, 24, 25, 26, 27] {
        assert_eq!(parse_line(&with_field_count(n)).unwrap().field_count, n);
    }
}

/// The last line of a file cut part-way through (a partial write), at every
/// byte: an error wherever the cut's shape shows it. The only cuts read as
/// records are those that leave an older record whole (a field boundary of
/// 17, 18, 24, 25 or 26 fields) or a last field that is still a whole value
/// (`TLSV1`, TLS 1.0's; an access point name, which has no fixed shape).
#[test]
fn a_line_cut_short_is_malformed() {
    let line = sample(0);
    let tokens: Vec<&str> = line.split(' ').collect();
    let boundary = |n: usize| tokens[..n + 3].join(" ").len();
    let arn_name = boundary(24) + line[boundary(24)..].find('/').unwrap() + 1;
    let readable = |end: usize| {
        [17, 18, 24, 25, 26].map(boundary).contains(&end)
            || end == boundary(23) + " TLSV1".len()
            || (arn_name < end && end < boundary(25))
    };
    for cut in 1..line.len() {
        let text = &line[..cut];
        let end = text.trim_end_matches(' ').len();
        match parse_line(text) {
            Ok(r) => assert!(
                readable(end),
                "cut at {cut} read as a {}-field record: {text:?}",
                r.field_count
            ),
            Err(e) => assert!(!readable(end), "cut at {cut} should read: {e}"),
        }
    }
}

#[test]
fn a_last_field_cut_inside_is_named() {
    // (fields kept, None for the whole sample; value; its cut; the field)
    let cases = [
        (Some(24), " TLSV1.2", " TLSV1.", "tls_version"),
        (Some(24), " TLSV1.2", " TL", "tls_version"),
        (
            Some(25),
            ":accesspoint/example-AP",
            ":accessp",
            "access_point_arn",
        ),
        (
            Some(25),
            ":123456789012:accesspoint/example-AP",
            ":1234",
            "access_point_arn",
        ),
        (Some(26), " Yes", " Ye", "acl_required"),
        (None, " us-east-1", " us-east-", "source_region"),
        (None, " us-east-1", " u", "source_region"),
    ]
    .map(|(fields, whole, cut, field)| {
        let line = fields.map_or_else(|| sample(0).to_string(), with_field_count);
        (line.replacen(whole, cut, 1), field)
    });
    for (line, field) in cases {
        let (f, m) = error_of(&line);
        assert_eq!(f, field, "{line}: {m}");
        assert!(m.contains("cut short"), "{field}: {m}");
    }
    // Whole values of those fields are fine, and so is anything in a field
    // that is not the last one.
    let tls10 = with_field_count(24).replacen(" TLSV1.2", " TLSv1", 1);
    assert_eq!(parse_line(&tls10).unwrap().tls_version, Some("TLSv1"));
    let region = sample(0).replacen(" us-east-1", " eu-central-2", 1);
    assert_eq!(
        parse_line(&region).unwrap().source_region,
        Some("eu-central-2")
    );
    let mid = sample(0).replacen(" TLSV1.2", " TLSV1.", 1);
    assert_eq!(parse_line(&mid).unwrap().tls_version, Some("TLSV1."));
}
