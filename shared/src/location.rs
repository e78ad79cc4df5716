//! Where objects live: `s3://bucket/key` on AWS, `file:///path` when a local
//! directory plays S3 (`s3la run`). Steps pass these URIs around as strings.

use std::path::{Path, PathBuf};

use crate::error::StepError;

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

impl Location {
    /// `uri`, a field of a step's input (or a setting), as a location; a
    /// malformed one is `InvalidInput` naming `field`.
    pub fn parse_field(uri: &str, field: &str) -> Result<Self, StepError> {
        Self::parse(uri).map_err(|m| StepError::invalid(field, m))
    }

    /// A local directory as a folder: `file:///dir/`, the trailing slash kept
    /// so that names appended as text stay inside it.
    pub fn local_folder(dir: &Path) -> Self {
        let mut path = dir.as_os_str().to_owned();
        if !path.to_string_lossy().ends_with('/') {
            path.push("/");
        }
        Location::Local(PathBuf::from(path))
    }

    /// `self` as a folder, with `name` under it: `s3://b/p` + `x` = `s3://b/p/x`.
    pub fn join(&self, name: &str) -> Location {
        fn joined(base: &str, name: &str) -> String {
            if base.is_empty() || base.ends_with('/') {
                format!("{base}{name}")
            } else {
                format!("{base}/{name}")
            }
        }
        match self {
            Location::S3 { bucket, key } => Location::S3 {
                bucket: bucket.clone(),
                key: joined(key, name),
            },
            Location::Local(path) => {
                Location::Local(PathBuf::from(joined(&path.to_string_lossy(), name)))
            }
        }
    }

    /// The folder holding `self`: `s3://b/p/x.json` gives `s3://b/p/`.
    pub fn parent_folder(&self) -> Location {
        fn cut(s: &str) -> &str {
            s.rfind('/').map_or("", |i| &s[..=i])
        }
        match self {
            Location::S3 { bucket, key } => Location::S3 {
                bucket: bucket.clone(),
                key: cut(key).to_string(),
            },
            Location::Local(path) => Location::Local(PathBuf::from(cut(&path.to_string_lossy()))),
        }
    }

    /// Whether `self`, as a key prefix, covers `other` or `other` covers it:
    /// deleting under one could then touch the other.
    pub fn overlaps(&self, other: &Location) -> bool {
        let (a, b) = (self.to_string(), other.to_string());
        let folder = |s: &str| {
            if s.ends_with('/') {
                s.to_string()
            } else {
                format!("{s}/")
            }
        };
        let (a, b) = (folder(&a), folder(&b));
        a.starts_with(&b) || b.starts_with(&a)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::S3 { bucket, key } => write!(f, "s3://{bucket}/{key}"),
            Location::Local(path) => write!(f, "file://{}", path.display()),
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

    #[test]
    fn joins_and_prints_back_the_uri() {
        for uri in ["s3://bkt/p/x", "s3://bkt/", "file:///tmp/r/x"] {
            assert_eq!(Location::parse(uri).unwrap().to_string(), uri);
        }
        let at = |u: &str| Location::parse(u).unwrap();
        assert_eq!(at("s3://bkt/p").join("x").to_string(), "s3://bkt/p/x");
        assert_eq!(at("s3://bkt/p/").join("x").to_string(), "s3://bkt/p/x");
        assert_eq!(at("s3://bkt").join("x").to_string(), "s3://bkt/x");
        assert_eq!(at("file:///tmp/r").join("x").to_string(), "file:///tmp/r/x");
    }

    #[test]
    fn overlap_is_folder_containment_either_way() {
        let at = |u: &str| Location::parse(u).unwrap();
        assert!(at("s3://bkt/logs/").overlaps(&at("s3://bkt/logs/reports/")));
        assert!(at("s3://bkt/logs/reports").overlaps(&at("s3://bkt/logs")));
        assert!(at("s3://bkt/").overlaps(&at("s3://bkt/anything")));
        assert!(at("s3://bkt/logs").overlaps(&at("s3://bkt/logs/")));
        // A shared string prefix is not containment.
        assert!(!at("s3://bkt/logs").overlaps(&at("s3://bkt/logs-reports/")));
        assert!(!at("s3://bkt/logs/").overlaps(&at("s3://other/logs/")));
        assert!(!at("file:///r/logs").overlaps(&at("file:///r/results")));
    }
}
