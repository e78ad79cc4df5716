//! Week-long download links: CloudFront signed URLs over the results
//! bucket, for SendReport when `LINK_BASE_URL`, `LINK_KEY_PAIR_ID` and
//! `LINK_PRIVATE_KEY_SECRET` are set. A presigned S3 URL dies with the
//! credentials that signed it (a Lambda role's session: hours); a CloudFront
//! signed URL is checked against a public key the distribution trusts, so it
//! lives as long as its policy says.
//!
//! The settings are read here for every build; the signer itself (RSA) is
//! compiled only with the `cloudfront` feature (SendReport and `s3la`).

use std::time::Duration;

use crate::config::Env;
use crate::error::StepError;
use crate::location::Location;
use crate::storage::SignedUrl;

/// How long a CloudFront link works: the week the original tool promised.
pub const CLOUDFRONT_LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// Where the links point and what signs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// `https://<distribution>` (no trailing slash): an object's link is
    /// this followed by `/` and its key.
    pub base_url: String,
    /// The CloudFront public key's ID (`K...`), in the distribution's
    /// trusted key group.
    pub key_pair_id: String,
    /// The Secrets Manager secret (ARN or name) holding the private key PEM.
    pub private_key_secret: String,
}

pub const LINK_VARIABLES: [&str; 3] = [
    "LINK_BASE_URL",
    "LINK_KEY_PAIR_ID",
    "LINK_PRIVATE_KEY_SECRET",
];

impl LinkConfig {
    /// `None` when none of the three is set (presigned S3 links); all three
    /// or an error naming the one that is missing or wrong.
    pub fn from_env(env: &dyn Env) -> Result<Option<Self>, StepError> {
        let get = |name: &str| env.get(name).filter(|v| !v.trim().is_empty());
        let values = LINK_VARIABLES.map(get);
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let set = LINK_VARIABLES
            .iter()
            .zip(&values)
            .filter(|(_, v)| v.is_some())
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ");
        let [base_url, key_pair_id, secret] = values;
        let need = |name: &str, v: Option<String>, example: &str| {
            v.map(|v| v.trim().to_string()).ok_or_else(|| {
                StepError::config(
                    name,
                    format!(
                        "is not set (e.g. {example}); CloudFront links need all of {} \
                         ({set} set), or none for presigned S3 links",
                        LINK_VARIABLES.join(", ")
                    ),
                )
            })
        };
        let base_url = need(
            "LINK_BASE_URL",
            base_url,
            "https://d111111abcdef8.cloudfront.net",
        )?;
        let key_pair_id = need("LINK_KEY_PAIR_ID", key_pair_id, "K2JCJMDEHXQW5F")?;
        let private_key_secret = need(
            "LINK_PRIVATE_KEY_SECRET",
            secret,
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s3la-link-key-AbCdEf",
        )?;
        let host = base_url.strip_prefix("https://").ok_or_else(|| {
            StepError::config(
                "LINK_BASE_URL",
                format!("must start with https:// (CloudFront serves the links over HTTPS only), not '{base_url}'"),
            )
        })?;
        let host_ok = !host.is_empty()
            && !host.starts_with('/')
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._/".contains(c));
        let key_pair_id_ok = key_pair_id.len() <= 128
            && key_pair_id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let secret_ok = private_key_secret.len() <= 2048
            && private_key_secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-:".contains(c));
        // Each setting's check and what it must be, in the order they are reported.
        for (ok, variable, must_be, value) in [
            (
                host_ok,
                "LINK_BASE_URL",
                "https://<host>[/<path>] with no query, port or user",
                &base_url,
            ),
            (
                key_pair_id_ok,
                "LINK_KEY_PAIR_ID",
                "a CloudFront public key ID (upper-case letters and digits, e.g. K2JCJMDEHXQW5F)",
                &key_pair_id,
            ),
            (
                secret_ok,
                "LINK_PRIVATE_KEY_SECRET",
                "a Secrets Manager secret ARN or name",
                &private_key_secret,
            ),
        ] {
            if !ok {
                return Err(StepError::config(
                    variable,
                    format!("must be {must_be}, not '{value}'"),
                ));
            }
        }
        Ok(Some(LinkConfig {
            base_url: base_url.trim_end_matches('/').to_string(),
            key_pair_id,
            private_key_secret,
        }))
    }

    /// The URL of the object at `key` behind the distribution: each path
    /// segment percent-encoded, as CloudFront forwards it to S3.
    pub fn url_of(&self, key: &str) -> String {
        let mut url = format!("{}/", self.base_url);
        for (i, segment) in key.split('/').enumerate() {
            if i > 0 {
                url.push('/');
            }
            for b in segment.bytes() {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    url.push(b as char);
                } else {
                    url.push_str(&format!("%{b:02X}"));
                }
            }
        }
        url
    }
}

/// Signs a link to an object other than by presigning it with the store's
/// credentials (a CloudFront signed URL).
pub trait SignLink: Send + Sync {
    /// A link to `at` that works for `lifetime` from now.
    fn sign(&self, at: &Location, lifetime: Duration) -> Result<SignedUrl, StepError>;
}

#[cfg(feature = "cloudfront")]
pub mod cloudfront {
    //! CloudFront signed URLs with a canned policy: the policy
    //! `{"Statement":[{"Resource":URL,"Condition":{"DateLessThan":{"AWS:EpochTime":N}}}]}`
    //! signed with RSA-SHA1 (PKCS#1 v1.5), in CloudFront's URL-safe base64,
    //! as the query parameters `Expires`, `Signature` and `Key-Pair-Id`
    //! (CloudFront developer guide, "Create a signed URL using a canned
    //! policy").

    use std::time::{Duration, SystemTime};

    use base64ct::{Base64, Encoding};
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs1v15::SigningKey;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    use sha1::Sha1;

    use super::{LinkConfig, SignLink};
    use crate::error::StepError;
    use crate::location::Location;
    use crate::report::LinkKind;
    use crate::storage::SignedUrl;

    pub struct CloudFrontSigner {
        config: LinkConfig,
        key: SigningKey<Sha1>,
    }

    impl std::fmt::Debug for CloudFrontSigner {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            // Never the key.
            f.debug_struct("CloudFrontSigner")
                .field("config", &self.config)
                .finish_non_exhaustive()
        }
    }

    impl CloudFrontSigner {
        /// A signer from the private key's PEM, PKCS#1 (`BEGIN RSA PRIVATE
        /// KEY`, `openssl genrsa -traditional`) or PKCS#8 (`BEGIN PRIVATE
        /// KEY`, OpenSSL 3's default). The error says what the PEM is not,
        /// never what it holds.
        pub fn from_pem(config: LinkConfig, pem: &str) -> Result<Self, String> {
            let pem = pem.trim();
            let key = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
                rsa::PrivateKey::from_pkcs1_pem(pem)
                    .map_err(|e| format!("is not a readable PKCS#1 RSA private key: {e}"))?
            } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
                rsa::PrivateKey::from_pkcs8_pem(pem)
                    .map_err(|e| format!("is not a readable PKCS#8 RSA private key: {e}"))?
            } else {
                return Err(
                    "is not an unencrypted RSA private key in PEM (BEGIN RSA PRIVATE \
                            KEY or BEGIN PRIVATE KEY)"
                        .into(),
                );
            };
            Ok(Self {
                config,
                key: SigningKey::<Sha1>::new(key),
            })
        }

        /// `url` signed with a canned policy that lets it be fetched until
        /// `expires` (seconds since the epoch).
        pub fn sign_url(&self, url: &str, expires: u64) -> String {
            let policy = format!(
                r#"{{"Statement":[{{"Resource":"{url}","Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
            );
            let signature = self.key.sign(policy.as_bytes()).to_vec();
            let signature: String = Base64::encode_string(&signature)
                .chars()
                .map(|c| match c {
                    '+' => '-',
                    '=' => '_',
                    '/' => '~',
                    c => c,
                })
                .collect();
            let separator = if url.contains('?') { '&' } else { '?' };
            format!(
                "{url}{separator}Expires={expires}&Signature={signature}&Key-Pair-Id={}",
                self.config.key_pair_id
            )
        }
    }

    impl SignLink for CloudFrontSigner {
        fn sign(&self, at: &Location, lifetime: Duration) -> Result<SignedUrl, StepError> {
            let Location::S3 { key, .. } = at else {
                return Err(StepError::invalid(
                    "results.outputs.csvGz",
                    format!("{at:?} is not in S3: CloudFront links serve the results bucket"),
                ));
            };
            let now = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs();
            let expires = now + lifetime.as_secs();
            Ok(SignedUrl {
                url: self.sign_url(&self.config.url_of(key), expires),
                expires: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(expires)),
                kind: LinkKind::CloudFront,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Option<LinkConfig>, StepError> {
        let env: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LinkConfig::from_env(&env)
    }

    const ALL: [(&str, &str); 3] = [
        ("LINK_BASE_URL", "https://d111111abcdef8.cloudfront.net/"),
        ("LINK_KEY_PAIR_ID", "K2JCJMDEHXQW5F"),
        (
            "LINK_PRIVATE_KEY_SECRET",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s3la-link-key-AbCdEf",
        ),
    ];

    #[test]
    fn none_set_means_presigned_links_all_set_means_cloudfront() {
        assert_eq!(config(&[]).unwrap(), None);
        let c = config(&ALL).unwrap().unwrap();
        assert_eq!(c.base_url, "https://d111111abcdef8.cloudfront.net");
        assert_eq!(
            c.url_of("s3la/2024-01/requests 2024+01.csv.gz"),
            "https://d111111abcdef8.cloudfront.net/s3la/2024-01/requests%202024%2B01.csv.gz"
        );
    }

    #[test]
    fn errors_name_the_variable() {
        for (missing, _) in ALL {
            let some: Vec<_> = ALL.into_iter().filter(|(k, _)| *k != missing).collect();
            let e = config(&some).unwrap_err().to_string();
            assert!(e.starts_with(missing), "{e}");
        }
        for (variable, bad) in [
            ("LINK_BASE_URL", "http://d1.cloudfront.net"),
            ("LINK_BASE_URL", "https://d1.cloudfront.net?x=1"),
            ("LINK_KEY_PAIR_ID", "k2jc jm"),
            ("LINK_PRIVATE_KEY_SECRET", "secret with spaces"),
        ] {
            let mut pairs = ALL.to_vec();
            pairs.retain(|(k, _)| *k != variable);
            pairs.push((variable, bad));
            let e = config(&pairs).unwrap_err();
            assert_eq!(e.name(), "ConfigError");
            assert!(e.to_string().starts_with(variable), "{e}");
        }
    }

    #[cfg(feature = "cloudfront")]
    #[test]
    fn cloudfront_links_are_signed_for_a_week_and_verify() {
        use base64ct::Encoding;
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::signature::Verifier;

        // Generated for these tests only (openssl genrsa); trusted by nothing.
        let pem = include_str!("../tests/fixtures/cloudfront-test-key.pem");
        let config = config(&ALL).unwrap().unwrap();
        let signer = cloudfront::CloudFrontSigner::from_pem(config, pem).unwrap();
        let at = Location::parse("s3://res-bkt/s3la/2024-01/requests-2024-01.csv.gz").unwrap();
        let before = chrono::Utc::now().timestamp() as u64;
        let link = signer.sign(&at, CLOUDFRONT_LINK_LIFETIME).unwrap();
        assert_eq!(link.kind, crate::report::LinkKind::CloudFront);
        let (resource, query) = link.url.split_once('?').unwrap();
        assert_eq!(
            resource,
            "https://d111111abcdef8.cloudfront.net/s3la/2024-01/requests-2024-01.csv.gz"
        );
        let param = |name: &str| {
            query
                .split('&')
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .unwrap()
        };
        let expires: u64 = param("Expires").parse().unwrap();
        assert!((before + 7 * 24 * 3600..=before + 7 * 24 * 3600 + 2).contains(&expires));
        let stated = link.expires.unwrap();
        assert_eq!(
            stated
                .duration_since(std::time::SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            expires,
            "the email states the policy's expiry"
        );
        assert_eq!(param("Key-Pair-Id"), "K2JCJMDEHXQW5F");
        // The signature verifies over the canned policy with the public key.
        let signature: String = param("Signature")
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '=',
                '~' => '/',
                c => c,
            })
            .collect();
        let signature = base64ct::Base64::decode_vec(&signature).unwrap();
        let policy = format!(
            r#"{{"Statement":[{{"Resource":"{resource}","Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
        );
        let public = rsa::pkcs1v15::VerifyingKey::<sha1::Sha1>::new(
            rsa::PrivateKey::from_pkcs1_pem(pem)
                .unwrap()
                .to_public_key(),
        );
        let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap();
        public.verify(policy.as_bytes(), &signature).unwrap();
        let later = policy.replace(&expires.to_string(), &(expires + 1).to_string());
        assert!(public.verify(later.as_bytes(), &signature).is_err());
        let file = Location::parse("file:///tmp/x.csv.gz").unwrap();
        assert!(signer.sign(&file, CLOUDFRONT_LINK_LIFETIME).is_err());
        assert!(cloudfront::CloudFrontSigner::from_pem(config_for_errors(), "not a key").is_err());
    }

    #[cfg(feature = "cloudfront")]
    fn config_for_errors() -> LinkConfig {
        config(&ALL).unwrap().unwrap()
    }
}
