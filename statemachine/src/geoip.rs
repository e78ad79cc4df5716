//! The country database `s3la` ships, so local runs and the demo show
//! countries without the user finding one: the same data the CDK stack
//! ships as a Lambda layer (`shared/data/SOURCE.md`: source, date, license).
//! Only `s3la` embeds it; the Lambdas get it from the layer.

use std::io::Write;
use std::path::PathBuf;

/// The database, zstd-compressed (3 MB; 7.8 MB once written out).
const COUNTRY_MMDB_ZST: &[u8] = include_bytes!("../../shared/data/country.mmdb.zst");

/// The embedded database as a file (MaxMind readers open files), written
/// once per version into the temporary folder and reused after: the name
/// carries a digest of the bytes, and it is renamed into place whole, so a
/// reader never sees half of it.
pub fn country_database() -> std::io::Result<PathBuf> {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(COUNTRY_MMDB_ZST);
    let name = format!(
        "s3la-country-{}.mmdb",
        digest[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let path = std::env::temp_dir().join(name);
    if path.is_file() {
        return Ok(path);
    }
    let bytes = zstd::stream::decode_all(COUNTRY_MMDB_ZST)?;
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(&bytes)?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3la_shared::report::geo::Countries;

    #[test]
    fn the_shipped_database_opens_and_knows_countries() {
        let path = country_database().unwrap();
        let mut c = Countries::open(&path).unwrap();
        assert!(
            c.source().unwrap().starts_with("country"),
            "{:?}",
            c.source()
        );
        // Address blocks registered in Japan and Germany (APNIC, RIPE).
        assert_eq!(
            c.of("133.0.0.1").map(|c| c.as_str().to_string()).as_deref(),
            Some("JP")
        );
        assert!(
            c.of("192.0.2.1").is_none(),
            "documentation addresses are nobody's"
        );
        assert_eq!(
            country_database().unwrap(),
            path,
            "written once, then reused"
        );
    }
}
