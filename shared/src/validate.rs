//! Validation of names and locations that end up inside SQL or DDL text.
//! Anything refused here is refused with a message naming the setting.

/// A Glue/Athena database or table name: lower-case letters, digits and
/// underscores, starting with a letter or underscore, at most 255 characters.
/// (Athena folds names to lower case; we refuse upper case instead of
/// surprising the user with a renamed table.)
pub fn athena_identifier(setting: &str, value: &str) -> Result<(), String> {
    let ok_start = value
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let ok_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if value.is_empty() || value.len() > 255 || !ok_start || !ok_chars {
        return Err(format!(
            "{setting} must be a name of lower-case letters, digits and underscores that \
             starts with a letter or underscore (at most 255 characters), got '{value}'"
        ));
    }
    Ok(())
}

/// An `s3://bucket/prefix/` location as Athena accepts it: a valid bucket name,
/// then a key prefix without quotes, backslashes, control characters or
/// whitespace. Returns the location with exactly one trailing slash.
pub fn s3_prefix_uri(setting: &str, value: &str) -> Result<String, String> {
    let err = |why: &str| {
        format!(
            "{setting} must be an S3 location like s3://my-log-bucket/logs/ ({why}), got '{value}'"
        )
    };
    let rest = value
        .strip_prefix("s3://")
        .ok_or_else(|| err("it must start with s3://"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    bucket_name(bucket).map_err(|why| err(&why))?;
    if let Some(c) = prefix
        .chars()
        .find(|c| c.is_control() || c.is_whitespace() || matches!(c, '\'' | '"' | '\\' | '`'))
    {
        return Err(err(&format!("the prefix may not contain {c:?}")));
    }
    if prefix.contains("//") {
        return Err(err("the prefix may not contain an empty path segment '//'"));
    }
    let prefix = prefix.trim_end_matches('/');
    Ok(if prefix.is_empty() {
        format!("s3://{bucket}/")
    } else {
        format!("s3://{bucket}/{prefix}/")
    })
}

/// S3 general-purpose bucket naming rules.
pub fn bucket_name(bucket: &str) -> Result<(), String> {
    let valid_chars = bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let edge_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if !(3..=63).contains(&bucket.len())
        || !valid_chars
        || !edge_ok(bucket.bytes().next())
        || !edge_ok(bucket.bytes().last())
        || bucket.contains("..")
    {
        return Err(format!(
            "bucket name '{bucket}' is not valid: 3-63 lower-case letters, digits, '-' and '.', \
             starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check` refuses each of `bad` as the setting `name`, saying what it
    /// must be.
    fn refuses<T: std::fmt::Debug>(
        check: fn(&str, &str) -> Result<T, String>,
        name: &str,
        bad: &[&str],
    ) {
        for value in bad {
            let e = check(name, value).unwrap_err();
            assert!(e.starts_with(&format!("{name} must be")), "{value}: {e}");
        }
    }

    #[test]
    fn identifiers() {
        assert!(athena_identifier("ATHENA_TABLE", "s3_access_logs").is_ok());
        assert!(athena_identifier("ATHENA_TABLE", "_t1").is_ok());
        let bad = [
            "",
            "1abc",
            "Logs",
            "a-b",
            "a.b",
            "a b",
            "x`; DROP TABLE y; --",
            "t'",
        ];
        refuses(athena_identifier, "ATHENA_TABLE", &bad);
    }

    #[test]
    fn s3_locations() {
        assert_eq!(
            s3_prefix_uri("S3_LOGS_LOCATION", "s3://my-logs/a/b").unwrap(),
            "s3://my-logs/a/b/"
        );
        assert_eq!(s3_prefix_uri("X", "s3://my-logs").unwrap(), "s3://my-logs/");
        let bad = [
            "my-logs/a",
            "s3://My-Logs/a",
            "s3://ab/",
            "s3://logs/a'b",
            "s3://logs/a b",
            "s3://logs/a\\b",
            "s3://logs/a//b",
            "s3://logs/a\n",
            "s3://-logs/",
        ];
        refuses(s3_prefix_uri, "S3_LOGS_LOCATION", &bad);
    }
}
