//! The country of a remote IP, from a MaxMind-format database file:
//! GeoLite2/GeoIP2 Country (`country.iso_code`) or the CC0
//! geo-whois-asn-country database (`country_code`). Without a database every
//! country is unknown and the report says so; the run goes on.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;

/// A two-letter country code, stored inline (no allocation per request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    fn parse(code: &str) -> Option<Self> {
        let b = code.as_bytes();
        (b.len() == 2 && b.iter().all(u8::is_ascii_alphabetic))
            .then(|| Self([b[0].to_ascii_uppercase(), b[1].to_ascii_uppercase()]))
    }

    pub fn as_str(&self) -> &str {
        // Two ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    country_code: Option<&'a str>,
    #[serde(borrow, default)]
    country: Option<Country<'a>>,
}

#[derive(Deserialize)]
struct Country<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

/// A database file as read, with what the report names as its source: the
/// database's type and build date.
struct Database {
    reader: maxminddb::Reader<Vec<u8>>,
    source: String,
}

impl Database {
    fn read(path: &Path) -> Result<Self, String> {
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| format!("{} is not a readable MaxMind database: {e}", path.display()))?;
        let m = reader.metadata();
        let built = chrono::DateTime::from_timestamp(m.build_epoch as i64, 0)
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let source = format!("{} ({built})", m.database_type);
        Ok(Self { reader, source })
    }

    /// The database at `path`, read once per process: a Lambda reads it at
    /// init (when its settings are checked) and every invocation shares it.
    fn shared(path: &Path) -> Result<Arc<Self>, String> {
        static READ: OnceLock<Mutex<HashMap<PathBuf, Arc<Database>>>> = OnceLock::new();
        let mut read = READ
            .get_or_init(Mutex::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(db) = read.get(path) {
            return Ok(db.clone());
        }
        let db = Arc::new(Self::read(path)?);
        read.insert(path.to_path_buf(), db.clone());
        Ok(db)
    }
}

/// Country lookups for one run, with a cache per IP (a period has far fewer
/// distinct IPs than requests). The default has no database.
#[derive(Default)]
pub struct Countries {
    database: Option<Arc<Database>>,
    cache: HashMap<Box<str>, Option<CountryCode>, foldhash::fast::RandomState>,
}

impl Countries {
    /// No database: every country is unknown.
    pub fn unknown() -> Self {
        Self {
            database: None,
            cache: HashMap::default(),
        }
    }

    /// Lookups in the database at `path`, read the first time only; the
    /// error names the file and says why.
    pub fn open(path: &Path) -> Result<Self, String> {
        Ok(Self {
            database: Some(Database::shared(path)?),
            cache: HashMap::default(),
        })
    }

    /// The database's type and build date, when there is one.
    pub fn source(&self) -> Option<&str> {
        self.database.as_ref().map(|db| db.source.as_str())
    }

    /// The country of `ip`; `None` when unknown (no database, not an IP,
    /// or not in the database).
    pub fn of(&mut self, ip: &str) -> Option<CountryCode> {
        let reader = &self.database.as_ref()?.reader;
        if let Some(hit) = self.cache.get(ip) {
            return *hit;
        }
        let code = ip
            .parse::<IpAddr>()
            .ok()
            .and_then(|addr| reader.lookup(addr).ok())
            .and_then(|found| found.decode::<Record>().ok().flatten())
            .and_then(|r| {
                r.country_code
                    .or_else(|| r.country.and_then(|c| c.iso_code))
                    .and_then(CountryCode::parse)
            });
        self.cache.insert(ip.into(), code);
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_database_every_country_is_unknown() {
        let mut c = Countries::unknown();
        assert_eq!(c.of("8.8.8.8"), None);
        assert_eq!(c.source(), None);
    }

    #[test]
    fn a_bad_database_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("country.mmdb");
        std::fs::write(&path, b"not a database").unwrap();
        let e = Countries::open(&path).err().unwrap();
        assert!(
            e.contains("country.mmdb is not a readable MaxMind database"),
            "{e}"
        );
    }

    #[test]
    fn a_database_is_read_once_and_each_run_has_its_own_cache() {
        // The database the e2e tests use, when tests/js's packages are installed.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../tests/js/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
        );
        if !path.exists() {
            eprintln!("skipped: {} is not installed", path.display());
            return;
        }
        let mut first = Countries::open(&path).unwrap();
        let country = first.of("8.8.8.8");
        assert!(country.is_some());
        let second = Countries::open(&path).unwrap();
        let (a, b) = (first.database.as_ref(), second.database.as_ref());
        assert!(Arc::ptr_eq(a.unwrap(), b.unwrap()), "read once");
        assert_eq!((first.cache.len(), second.cache.len()), (1, 0));
        assert_eq!(first.source(), second.source());
    }

    #[test]
    fn country_codes_are_two_letters() {
        assert_eq!(CountryCode::parse("us").unwrap().as_str(), "US");
        assert!(CountryCode::parse("USA").is_none());
        assert!(CountryCode::parse("1A").is_none());
    }
}
