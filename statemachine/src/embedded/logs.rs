//! Finding log files under a directory, and the delivery day ("partition")
//! each belongs to: the `YYYY/MM/DD` folders of S3's date-based layout, at
//! any depth. Files outside such folders (the simple layout) have none.

use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use s3la_shared::log_keys::date_folders;
use s3la_shared::period::PartitionRange;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    pub path: PathBuf,
    pub partition: Option<NaiveDate>,
    pub size: u64,
}

/// Every regular file under `root` (hidden ones skipped), in name order.
pub fn discover(root: &Path) -> io::Result<Vec<LogFile>> {
    let meta = std::fs::metadata(root).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot read the logs at '{}': {e}", root.display()),
        )
    })?;
    let mut out = Vec::new();
    if meta.is_file() {
        out.push(LogFile {
            path: root.to_path_buf(),
            partition: None,
            size: meta.len(),
        });
    } else {
        walk(root, &mut out)?;
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<LogFile>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let kind = e.file_type()?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file() {
            out.push(LogFile {
                partition: partition_of(&path),
                size: e.metadata()?.len(),
                path,
            });
        }
    }
    Ok(())
}

/// The `YYYY/MM/DD` of the folders holding `path`, if they are a real date
/// (read as RemoveOriginalLogs reads S3 keys).
pub fn partition_of(path: &Path) -> Option<NaiveDate> {
    date_folders(path.to_str()?)
}

/// The files a query over `range` reads: those in its partitions, and every
/// file without a partition (their request times are filtered exactly anyway).
pub fn in_range(files: Vec<LogFile>, range: Option<PartitionRange>) -> Vec<LogFile> {
    match range {
        None => files,
        Some(r) => files
            .into_iter()
            .filter(|f| f.partition.is_none_or(|p| (r.first..=r.last).contains(&p)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_come_from_date_folders() {
        let p = |s: &str| partition_of(Path::new(s));
        assert_eq!(
            p("/l/123456789012/us-east-1/bucket/2024/02/29/2024-02-29-10-00-00-ABC"),
            NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        assert_eq!(p("/l/2023/02/29/x"), None, "not a real date");
        assert_eq!(p("/l/logs/2024-02-29-10-00-00-ABC"), None, "simple layout");
        assert_eq!(p("x"), None);
    }
}
