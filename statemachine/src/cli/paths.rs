//! Inputs and outputs that overlap are refused before a command does
//! anything: an output inside its input is read back as input on the next
//! run (`--results` inside `--logs`), and an output that is its input
//! replaces it (`s3la parse a.log --out a.log`).

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use s3la_shared::location::Location;

/// `path` absolute, with symbolic links, `.` and `..` resolved. A path that
/// does not exist yet (an output) is its nearest existing ancestor,
/// canonicalized, with the rest appended.
pub fn resolve(path: &Path) -> anyhow::Result<PathBuf> {
    let absolute = std::path::absolute(path).with_context(|| format!("'{}'", path.display()))?;
    let parts: Vec<Component> = absolute.components().collect();
    // The longest prefix that exists (at least the root) is canonicalized;
    // what follows does not exist yet, so its `..` can only be lexical.
    for exists in (1..=parts.len()).rev() {
        let Ok(mut out) = parts[..exists].iter().collect::<PathBuf>().canonicalize() else {
            continue;
        };
        for part in &parts[exists..] {
            match part {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(name) => out.push(name),
                _ => {}
            }
        }
        return Ok(out);
    }
    bail!("'{}': no part of this path exists", path.display())
}

/// Refuses an output that is an input, is inside one, or holds one. Each
/// side is the flag that named it and the path as given.
pub fn refuse_overlap(input: (&str, &Path), output: (&str, &Path)) -> anyhow::Result<()> {
    let (in_flag, in_path) = input;
    let (out_flag, out_path) = output;
    let (i, o) = (resolve(in_path)?, resolve(out_path)?);
    let shown = |flag: &str, given: &Path, resolved: &Path| {
        if given == resolved {
            format!("{flag} '{}'", given.display())
        } else {
            format!("{flag} '{}' ({})", given.display(), resolved.display())
        }
    };
    let (is, os) = (shown(in_flag, in_path, &i), shown(out_flag, out_path, &o));
    if i == o {
        bail!(
            "{os} is the same path as {is}: the output would replace the input or mix with it. \
             Choose {out_flag} outside {in_flag}"
        );
    }
    if o.starts_with(&i) {
        bail!(
            "{os} is inside {is}: every later run would read these outputs back as input. \
             Choose {out_flag} outside {in_flag} (for example a sibling folder)"
        );
    }
    if i.starts_with(&o) {
        bail!(
            "{is} is inside {os}: the outputs would be written among the inputs. \
             Choose {out_flag} outside {in_flag} (for example a sibling folder)"
        );
    }
    Ok(())
}

/// [`refuse_overlap`] for locations that may be on S3: two prefixes of
/// one bucket overlap when one covers the other. A local path and an S3
/// location never do.
pub fn refuse_location_overlap(
    input: (&str, &Location),
    output: (&str, &Location),
) -> anyhow::Result<()> {
    match (input.1, output.1) {
        (Location::Local(i), Location::Local(o)) => refuse_overlap((input.0, i), (output.0, o)),
        (i @ Location::S3 { .. }, o @ Location::S3 { .. }) if i.overlaps(o) => bail!(
            "{} '{o}' overlaps {} '{i}' (one is the other or under it): the outputs would be \
             written among the inputs. Choose {} outside {}",
            output.0,
            input.0,
            output.0,
            input.0
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("logs/2024")).unwrap();
        std::fs::write(root.join("logs/2024/a.log"), "x").unwrap();
        (t, root)
    }

    #[test]
    fn a_missing_path_resolves_through_its_nearest_existing_ancestor() {
        let (_t, root) = dirs();
        assert_eq!(
            resolve(&root.join("logs/new/deeper/../out.csv")).unwrap(),
            root.join("logs/new/out.csv")
        );
        assert_eq!(
            resolve(&root.join("logs/./2024/../x")).unwrap(),
            root.join("logs/x")
        );
        assert_eq!(resolve(&root.join("logs")).unwrap(), root.join("logs"));
    }

    #[test]
    fn same_inside_and_holding_are_refused_disjoint_is_not() {
        let (_t, root) = dirs();
        let logs = root.join("logs");
        let log = logs.join("2024/a.log");
        let e = refuse_overlap(("PATH", &log), ("--out", &log)).unwrap_err();
        assert!(e.to_string().contains("is the same path as PATH"), "{e}");
        assert!(e.to_string().contains(&log.display().to_string()), "{e}");

        let inside = logs.join("results");
        let e = refuse_overlap(("--logs", &logs), ("--results", &inside)).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("--results") && m.contains("is inside --logs"),
            "{m}"
        );
        assert!(m.contains("Choose --results outside --logs"), "{m}");

        let e = refuse_overlap(("--logs", &logs), ("--results", &root)).unwrap_err();
        assert!(e.to_string().contains("is inside --results"), "{e}");

        refuse_overlap(("--logs", &logs), ("--results", &root.join("results"))).unwrap();
        // A sibling whose name starts with the input's is not inside it.
        refuse_overlap(("--logs", &logs), ("--results", &root.join("logs-out"))).unwrap();
    }

    #[test]
    fn s3_prefixes_overlap_when_one_covers_the_other() {
        let at = |s: &str| Location::parse(s).unwrap();
        let parts = at("s3://bkt/unload/");
        let e = refuse_location_overlap(
            ("--parts", &parts),
            ("--out", &at("s3://bkt/unload/merged/")),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("--out 's3://bkt/unload/merged/' overlaps --parts"),
            "{e}"
        );
        assert!(refuse_location_overlap(("--parts", &parts), ("--out", &at("s3://bkt/"))).is_err());
        refuse_location_overlap(("--parts", &parts), ("--out", &at("s3://bkt/unloaded/"))).unwrap();
        refuse_location_overlap(("--parts", &parts), ("--out", &at("s3://ckt/unload/"))).unwrap();
        let local = Location::Local(PathBuf::from("/unload"));
        refuse_location_overlap(("--parts", &parts), ("--out", &local)).unwrap();
    }

    #[test]
    fn relative_dotted_and_linked_spellings_are_seen_through() {
        let (_t, root) = dirs();
        let logs = root.join("logs");
        let dotted = root.join("logs/2024/../out.parquet");
        assert!(refuse_overlap(("PATH", &logs), ("--out", &dotted)).is_err());
        #[cfg(unix)]
        {
            let link = root.join("link");
            std::os::unix::fs::symlink(&logs, &link).unwrap();
            let e = refuse_overlap(("--logs", &logs), ("--results", &link.join("r"))).unwrap_err();
            // The message shows the path as given and as resolved.
            assert!(
                e.to_string()
                    .contains(&logs.join("r").display().to_string()),
                "{e}"
            );
        }
    }
}
