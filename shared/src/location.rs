//! Where objects live: `s3://bucket/key` on AWS, `file:///path` when a local
//! directory plays S3 (`s3la run`). Steps pass these URIs around as strings.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    S3 { bucket: String, key: String },
    Local(PathBuf),
}

impl Location {
    pub fn parse(uri: &str) -> Result<Self, String> {
        if let Some(rest) = uri.strip_prefix("s3://") {
            let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
            crate::validate::bucket_name(bucket)?;
            Ok(Location::S3 {
                bucket: bucket.to_string(),
                key: key.to_string(),
            })
        } else if let Some(path) = uri.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(format!("'{uri}' is not an absolute file:/// URI"));
            }
            Ok(Location::Local(PathBuf::from(path)))
        } else {
            Err(format!("'{uri}' is neither an s3:// nor a file:// URI"))
        }
    }
}

/// `file:///abs/path` (with a trailing slash when `dir`).
pub fn file_uri(path: &Path, dir: bool) -> String {
    let mut s = format!("file://{}", path.display());
    if dir && !s.ends_with('/') {
        s.push('/');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_schemes() {
        assert_eq!(
            Location::parse("s3://my-bucket/a/b").unwrap(),
            Location::S3 {
                bucket: "my-bucket".into(),
                key: "a/b".into()
            }
        );
        assert_eq!(
            Location::parse("file:///tmp/x/").unwrap(),
            Location::Local("/tmp/x/".into())
        );
        assert!(Location::parse("file://relative").is_err());
        assert!(Location::parse("/tmp/x").is_err());
        assert_eq!(file_uri(Path::new("/tmp/r"), true), "file:///tmp/r/");
    }
}
