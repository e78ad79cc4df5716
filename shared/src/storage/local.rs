//! A local directory as the object store: what `s3la run` and `s3la merge`
//! use in place of S3, with the same visible behaviour — a prefix is a string
//! prefix of paths, an upload is invisible until complete (a temporary file
//! renamed into place), deleting a missing object succeeds.

use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;

use super::{
    DeleteFailure, DeleteReport, ObjectMeta, ObjectStore, SignedUrl, StorageError, Upload,
};
use crate::location::Location;

#[derive(Debug, Clone, Copy, Default)]
pub struct LocalStore;

fn path_of(at: &Location) -> Result<&Path, StorageError> {
    match at {
        Location::Local(p) => Ok(p),
        Location::S3 { .. } => Err(StorageError::local(
            at.to_string(),
            "is on S3, and this store is a local directory",
        )),
    }
}

fn io_error(at: &Location, e: std::io::Error) -> StorageError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StorageError::NotFound {
            uri: at.to_string(),
        }
    } else {
        StorageError::local(at.to_string(), e)
    }
}

/// Every file under `dir` whose path starts with `prefix`, recursively.
fn walk(dir: &Path, prefix: &str, out: &mut Vec<ObjectMeta>) -> std::io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let text = path.to_string_lossy();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            // Descend only where the prefix can still match.
            let as_dir = format!("{text}/");
            if as_dir.starts_with(prefix) || prefix.starts_with(&as_dir) {
                walk(&path, prefix, out)?;
            }
        } else if kind.is_file() && text.starts_with(prefix) {
            out.push(ObjectMeta {
                size: entry.metadata()?.len(),
                location: Location::Local(path),
            });
        }
    }
    Ok(())
}

impl ObjectStore for LocalStore {
    type Upload = LocalUpload;

    async fn list(&self, prefix: &Location) -> Result<Vec<ObjectMeta>, StorageError> {
        let path = path_of(prefix)?;
        let text = path.to_string_lossy();
        // The folder to start from: the prefix itself when it ends in `/`,
        // else the folder its last component lives in (`a` matches `ab/`).
        let start = if text.ends_with('/') {
            path.to_path_buf()
        } else {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let mut out = Vec::new();
        walk(&start, &text, &mut out).map_err(|e| io_error(prefix, e))?;
        out.sort_by_key(|o| o.location.to_string());
        Ok(out)
    }

    async fn size(&self, at: &Location) -> Result<Option<u64>, StorageError> {
        match fs::metadata(path_of(at)?) {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(at, e)),
        }
    }

    async fn get_range(&self, at: &Location, range: Range<u64>) -> Result<Bytes, StorageError> {
        let mut file = File::open(path_of(at)?).map_err(|e| io_error(at, e))?;
        file.seek(SeekFrom::Start(range.start))
            .map_err(|e| io_error(at, e))?;
        let mut buf = Vec::with_capacity((range.end - range.start) as usize);
        file.take(range.end - range.start)
            .read_to_end(&mut buf)
            .map_err(|e| io_error(at, e))?;
        Ok(Bytes::from(buf))
    }

    async fn get(&self, at: &Location) -> Result<Bytes, StorageError> {
        fs::read(path_of(at)?)
            .map(Bytes::from)
            .map_err(|e| io_error(at, e))
    }

    async fn put(&self, at: &Location, body: Bytes) -> Result<(), StorageError> {
        let mut upload = self.upload(at).await?;
        upload.put_part(body).await?;
        upload.complete().await.map(|_| ())
    }

    async fn upload(&self, at: &Location) -> Result<LocalUpload, StorageError> {
        let path = path_of(at)?.to_path_buf();
        let dir = path
            .parent()
            .ok_or_else(|| StorageError::local(at.to_string(), "has no folder"))?;
        fs::create_dir_all(dir).map_err(|e| io_error(at, e))?;
        let name = path
            .file_name()
            .ok_or_else(|| StorageError::local(at.to_string(), "has no file name"))?;
        // A hidden temporary beside the target, so the rename stays on one
        // file system and readers listing the folder skip it.
        remove_stale_temporaries(dir, &name.to_string_lossy());
        let file = tempfile::Builder::new()
            .prefix(&format!(
                ".{}.{}.",
                name.to_string_lossy(),
                std::process::id()
            ))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|e| io_error(at, e))?;
        Ok(LocalUpload {
            target: path,
            at: at.clone(),
            file,
            size: 0,
        })
    }

    async fn delete(&self, objects: &[Location]) -> Result<DeleteReport, StorageError> {
        let mut report = DeleteReport::default();
        for at in objects {
            match fs::remove_file(path_of(at)?) {
                Ok(()) => report.deleted += 1,
                // As S3: deleting what is not there succeeds.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => report.deleted += 1,
                Err(e) => report.failed.push(DeleteFailure {
                    uri: at.to_string(),
                    code: format!("{:?}", e.kind()),
                    message: e.to_string(),
                }),
            }
        }
        Ok(report)
    }

    async fn presign_get(&self, at: &Location, _max: Duration) -> Result<SignedUrl, StorageError> {
        // A local file needs no signature; its URI is the link, for good.
        path_of(at)?;
        Ok(SignedUrl {
            url: at.to_string(),
            expires: None,
            kind: crate::report::LinkKind::LocalFile,
        })
    }
}

/// A temporary untouched this long belongs to a writer that is gone: a live
/// upload writes a part at least every few seconds.
const STALE_AFTER: Duration = Duration::from_secs(600);

/// Removes what killed writers of `name` left in `dir`
/// (`.<name>.<pid>.XXXXXX.tmp`): a dropped upload removes its own file, a
/// killed process cannot, and the next write of the same file is where such
/// leftovers are found. On Linux a temporary naming its process is a
/// leftover exactly when that process is gone (no `/proc/<pid>`): a live
/// writer's is never touched, however long it has been idle (two runs of one
/// period at once, a suspended process). Elsewhere, and for older names
/// without a pid, nothing written for [`STALE_AFTER`] is the sign. Writers in
/// another pid namespace (a results folder shared between containers) look
/// gone: their upload then fails instead of completing. A file it cannot
/// remove stays; the new upload does not depend on it.
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        // `<pid>.XXXXXX` or `XXXXXX`: tempfile's random part is six characters.
        let Some(middle) = file_name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".tmp"))
        else {
            continue;
        };
        let writer = match middle.split_once('.') {
            Some((pid, random)) if random.len() == 6 => match pid.parse::<u32>() {
                Ok(pid) => Some(pid),
                Err(_) => continue,
            },
            None if middle.len() == 6 => None,
            _ => continue,
        };
        let idle = || {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= STALE_AFTER)
        };
        let leftover = match writer {
            Some(pid) if cfg!(target_os = "linux") => {
                pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists()
            }
            _ => idle(),
        };
        if leftover
            && entry.file_type().is_ok_and(|t| t.is_file())
            && let Err(e) = fs::remove_file(entry.path())
        {
            eprintln!(
                "note: could not remove the leftover {}: {e}",
                entry.path().display()
            );
        }
    }
}

/// A file written under a temporary name and renamed into place on
/// completion; dropped or aborted, the temporary file is removed.
pub struct LocalUpload {
    target: PathBuf,
    at: Location,
    file: tempfile::NamedTempFile,
    size: u64,
}

impl Upload for LocalUpload {
    async fn put_part(&mut self, data: Bytes) -> Result<(), StorageError> {
        self.file
            .write_all(&data)
            .map_err(|e| io_error(&self.at, e))?;
        self.size += data.len() as u64;
        Ok(())
    }

    async fn copy_part(
        &mut self,
        from: &Location,
        range: std::ops::Range<u64>,
    ) -> Result<(), StorageError> {
        let Location::Local(path) = from else {
            return Err(StorageError::local(
                from.to_string(),
                "a local file takes copies of local files only",
            ));
        };
        let mut file = fs::File::open(path).map_err(|e| io_error(from, e))?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(range.start))
            .map_err(|e| io_error(from, e))?;
        let want = range.end - range.start;
        // File to file: std copies in the kernel (copy_file_range), so the
        // bytes do not pass through this process either.
        let copied = std::io::copy(
            &mut std::io::Read::take(file, want),
            self.file.as_file_mut(),
        )
        .map_err(|e| io_error(&self.at, e))?;
        if copied != want {
            return Err(StorageError::local(
                from.to_string(),
                format!("ends before byte {}", range.end),
            ));
        }
        self.size += copied;
        Ok(())
    }

    async fn complete(self) -> Result<u64, StorageError> {
        let at = self.at;
        // Temporary files are private (0600); an output is an ordinary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(self.file.path(), fs::Permissions::from_mode(0o644))
                .map_err(|e| io_error(&at, e))?;
        }
        self.file
            .as_file()
            .sync_all()
            .map_err(|e| io_error(&at, e))?;
        self.file
            .persist(&self.target)
            .map_err(|e| io_error(&at, e.error))?;
        Ok(self.size)
    }

    async fn abort(self) -> Result<(), StorageError> {
        let at = self.at;
        self.file.close().map_err(|e| io_error(&at, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{block_on, temp_location};

    #[test]
    fn an_upload_is_invisible_until_complete_and_gone_when_aborted() {
        let (dir, at) = temp_location("r/out.csv.gz");
        block_on(async {
            let store = LocalStore;
            let mut up = store.upload(&at).await.unwrap();
            up.put_part(Bytes::from_static(b"abc")).await.unwrap();
            assert_eq!(store.size(&at).await.unwrap(), None);
            assert_eq!(up.complete().await.unwrap(), 3);
            assert_eq!(store.get(&at).await.unwrap(), Bytes::from_static(b"abc"));

            let mut up = store.upload(&at).await.unwrap();
            up.put_part(Bytes::from_static(b"partial")).await.unwrap();
            up.abort().await.unwrap();
            // The earlier object is intact and no temporary file is left.
            assert_eq!(store.get(&at).await.unwrap(), Bytes::from_static(b"abc"));
            let names: Vec<_> = fs::read_dir(dir.path().join("r"))
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, vec!["out.csv.gz"]);
        });
    }

    #[test]
    fn a_new_write_removes_what_a_killed_writer_of_the_same_file_left() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("requests-2024-01.csv.gz");
        let leftover = dir.path().join(".requests-2024-01.csv.gz.Ab12Cd.tmp");
        let other = dir.path().join(".report.json.Ab12Cd.tmp");
        let live = dir.path().join(".requests-2024-01.csv.gz.Ef34Gh.tmp");
        // A writer that is gone (no such process), just now: removed at once.
        let dead = dir
            .path()
            .join(".requests-2024-01.csv.gz.4194303999.Zz99Yy.tmp");
        fs::write(&dead, b"a killed writer's").unwrap();
        // A writer that runs (this test's own process): left alone.
        let running = dir.path().join(format!(
            ".requests-2024-01.csv.gz.{}.Qq11Rr.tmp",
            std::process::id()
        ));
        fs::write(&running, b"a live writer's").unwrap();
        // Idle for an hour, but its process runs (suspended, say): it stays.
        File::options()
            .write(true)
            .open(&running)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
        for (path, body) in [(&leftover, "half a file"), (&other, "another file's")] {
            fs::write(path, body).unwrap();
            File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(an_hour_ago)
                .unwrap();
        }
        fs::write(&live, b"a live writer's").unwrap();
        block_on(async {
            let at = Location::Local(target.clone());
            LocalStore.put(&at, Bytes::from_static(b"x")).await.unwrap();
        });
        assert!(!leftover.exists(), "the leftover of this file is removed");
        assert!(
            other.exists(),
            "another file's temporary is not this write's to remove"
        );
        assert!(
            live.exists(),
            "a temporary still being written is left to its writer"
        );
        if cfg!(target_os = "linux") {
            assert!(!dead.exists(), "a dead writer's temporary goes at once");
        }
        assert!(running.exists(), "a running writer's temporary stays");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            names.len(),
            if cfg!(target_os = "linux") { 4 } else { 5 },
            "{names:?}"
        );
    }

    #[test]
    fn lists_by_string_prefix_like_s3() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "a/2024-01-01-x",
            "a/2024-01-02-y",
            "a/b/2024-01-01-z",
            "ab/q",
        ] {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "1234").unwrap();
        }
        let root = dir.path().to_string_lossy().to_string();
        let list = |prefix: &str| {
            block_on(LocalStore.list(&Location::Local(PathBuf::from(format!("{root}/{prefix}")))))
                .unwrap()
                .into_iter()
                .map(|m| m.location.to_string()[root.len() + 8..].to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(list("a/2024-01-01-"), vec!["a/2024-01-01-x"]);
        assert_eq!(
            list("a/"),
            vec!["a/2024-01-01-x", "a/2024-01-02-y", "a/b/2024-01-01-z"]
        );
        assert_eq!(
            list("a"),
            list("a/")
                .into_iter()
                .chain(["ab/q".to_string()])
                .collect::<Vec<_>>()
        );
        assert!(list("nothing/").is_empty());
    }

    #[test]
    fn ranged_reads_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let at = Location::Local(dir.path().join("f"));
        fs::write(dir.path().join("f"), "0123456789").unwrap();
        block_on(async {
            let s = LocalStore;
            assert_eq!(
                s.get_range(&at, 2..5).await.unwrap(),
                Bytes::from_static(b"234")
            );
            let gone = Location::Local(dir.path().join("never-there"));
            let report = s.delete(&[at.clone(), gone]).await.unwrap();
            assert_eq!(report.deleted, 2);
            assert!(report.failed.is_empty());
            assert_eq!(s.size(&at).await.unwrap(), None);
            assert!(matches!(
                s.get(&at).await.unwrap_err(),
                StorageError::NotFound { .. }
            ));
        });
    }
}
