//! What an AWS SDK call's failure means, decided once for every service (S3,
//! Athena, SES): each adapter then maps the answer onto its own error names.
//!
//! - no credentials, or no region: a setting to fix (`ConfigError`); a retry
//!   would fail the same way;
//! - timeouts, network faults, unreadable responses, throttling and 5xx:
//!   transient (the SDK has already retried them; the state machine retries
//!   again later);
//! - any other answer of the service: its status, code and message;
//! - a request that could not be built: a client error.
//!
//! Messages are one line: the errors' own messages joined, never the SDK's
//! `Debug` dump (which `DisplayErrorContext` appends, a kilobyte of it).

use std::error::Error;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::error::StepError;

/// What to set when no credentials are found.
pub const SET_CREDENTIALS: &str = "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY \
     (on Lambda the function's role provides them)";
/// What to set when no region is configured.
pub const SET_REGION: &str = "set AWS_REGION (or a region in the AWS_PROFILE's profile)";

/// An SDK failure, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkFailure {
    /// A setting is missing or wrong: `variable` names it, `message` says
    /// what was wrong and what to set.
    Config {
        variable: &'static str,
        message: String,
    },
    /// The same call may succeed later.
    Transient { message: String },
    /// The service answered with an error that a retry will not change.
    Service {
        status: u16,
        code: String,
        message: String,
    },
    /// The request was never sent (a parameter the SDK refused, ...).
    Client { message: String },
}

impl SdkFailure {
    /// The step error of a failure the calling adapter has no rule of its
    /// own for: `ConfigError`, `Transient`, or `AwsError` with the service's
    /// code (`ClientError` for a request never sent).
    pub fn into_step_error(self, service: &'static str) -> StepError {
        match self {
            SdkFailure::Config { variable, message } => StepError::config(variable, message),
            SdkFailure::Transient { message } => StepError::transient(message),
            SdkFailure::Client { message } => StepError::Aws {
                service,
                code: "ClientError".into(),
                message,
            },
            SdkFailure::Service { code, message, .. } => StepError::Aws {
                service,
                code,
                message,
            },
        }
    }
}

/// Error codes that mean "slow down" or "try again" whatever the status.
const RETRYABLE_CODES: [&str; 12] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "SlowDown",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// Classifies `err`, a failure of a call to `service` (`"S3"`, `"Athena"`,
/// `"SES"`: it starts the messages).
pub fn classify_sdk_error<E>(service: &str, err: &SdkError<E, HttpResponse>) -> SdkFailure
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(answer) => {
            let status = answer.raw().status().as_u16();
            let (code, message) = code_and_message(answer.err());
            if RETRYABLE_CODES.contains(&code.as_str()) || status >= 500 {
                SdkFailure::Transient {
                    message: format!("{service} {code}: {message}"),
                }
            } else {
                SdkFailure::Service {
                    status,
                    code,
                    message,
                }
            }
        }
        // Credentials and the endpoint are resolved just before sending: a
        // failure there is a dispatch failure too, with the cause as its
        // source. Only a network fault or a timeout is worth a retry.
        SdkError::DispatchFailure(_) => match missing_setting(service, err) {
            Some(config) => config,
            None => SdkFailure::Transient {
                message: format!("{service} could not be reached: {}", detail(err)),
            },
        },
        SdkError::TimeoutError(_) => SdkFailure::Transient {
            message: format!("{service} did not answer in time: {}", detail(err)),
        },
        SdkError::ResponseError(_) => SdkFailure::Transient {
            message: format!("{service}'s answer could not be read: {}", detail(err)),
        },
        // Construction failures, and any kind a later SDK adds.
        _ => match missing_setting(service, err) {
            Some(config) => config,
            None => SdkFailure::Client {
                message: format!(
                    "the request to {service} could not be made: {}",
                    detail(err)
                ),
            },
        },
    }
}

/// What went wrong under the SDK's own "dispatch failure", "timeout error"...
fn detail(err: &(dyn Error + 'static)) -> String {
    match err.source() {
        Some(source) => one_line(source),
        None => one_line(err),
    }
}

/// A credentials provider's error as the setting to fix and what to set
/// (for callers that ask the provider directly, such as presigning). Even a
/// provider that timed out is one that should not be asked: on Lambda the
/// credentials are in the environment, and elsewhere it is the instance
/// metadata service of a machine that has none.
pub fn missing_credentials(service: &str, err: &CredentialsError) -> (&'static str, String) {
    // The provider chain goes on with every provider it tried ("no
    // credentials found in chain. Attempted: Environment: ..."): the first
    // sentence says enough.
    let detail = one_line(err);
    let reason = detail.split(". ").next().unwrap_or(&detail);
    let reason = reason.trim_end_matches(['.', '…']);
    (
        "AWS_PROFILE",
        format!("no AWS credentials for {service} ({reason}): {SET_CREDENTIALS}"),
    )
}

/// A missing setting somewhere in `err`'s chain of sources: a credentials
/// provider that found nothing (or failed for a reason other than a
/// timeout), or an endpoint that cannot be chosen without a region.
fn missing_setting(service: &str, err: &(dyn Error + 'static)) -> Option<SdkFailure> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(credentials) = e.downcast_ref::<CredentialsError>() {
            let (variable, message) = missing_credentials(service, credentials);
            return Some(SdkFailure::Config { variable, message });
        }
        let text = e.to_string().to_ascii_lowercase();
        // A client built without any credentials provider.
        if text.contains("there was no identity resolver") {
            return Some(SdkFailure::Config {
                variable: "AWS_PROFILE",
                message: format!("no AWS credentials for {service}: {SET_CREDENTIALS}"),
            });
        }
        // The endpoint rules' words: "Invalid Configuration: Missing Region"
        // (Athena, SES), "A region must be set when sending requests to S3.";
        // the signer's, when an endpoint URL is set: "missing signing region".
        if text.contains("missing region")
            || text.contains("region must be set")
            || text.contains("missing signing region")
        {
            return Some(SdkFailure::Config {
                variable: "AWS_REGION",
                message: format!("no AWS region for {service}: {SET_REGION}"),
            });
        }
        next = e.source();
    }
    None
}

/// The error's code and message: from its metadata, or (for modeled errors
/// without it) from its `Display`, which reads "Code: message".
fn code_and_message<E: ProvideErrorMetadata + Error>(e: &E) -> (String, String) {
    let shown = e.to_string();
    let code = match e.code() {
        Some(c) => c.to_string(),
        None => shown
            .split(':')
            .next()
            .unwrap_or("Unknown")
            .trim()
            .to_string(),
    };
    let code = if code.is_empty() {
        "Unknown".to_string()
    } else {
        code
    };
    let message = match e.message() {
        Some(m) => m.to_string(),
        None => match shown.split_once(": ") {
            Some((prefix, rest)) if prefix == code => rest.to_string(),
            _ => shown,
        },
    };
    (code, message)
}

/// Longest message kept: the chain of a network error is a few hundred
/// characters; a kilobyte means something is dumping its state.
const MAX_LINE: usize = 400;

/// `err` and its sources' messages, joined by ": " on one line, each said
/// once (wrappers often repeat their source's words).
pub fn one_line(err: &(dyn Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    let mut line = parts.join(": ");
    if line.len() > MAX_LINE {
        let mut cut = MAX_LINE;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        line.truncate(cut);
        line.push('…');
    }
    line
}

/// SDK failures as the adapters' tests need them, for any service's
/// operation error (`generic` is each one's constructor from metadata).
#[cfg(test)]
pub(crate) mod samples {
    use super::*;
    use aws_sdk_s3::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_s3::primitives::SdkBody;

    pub fn response(status: u16) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap(), SdkBody::from("<Error/>"))
    }

    /// The service's answer `status` with error `code`.
    pub fn answer<E>(
        generic: impl FnOnce(ErrorMetadata) -> E,
        status: u16,
        code: &str,
        message: &str,
    ) -> SdkError<E, HttpResponse> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        SdkError::service_error(generic(meta), response(status))
    }

    /// A call that never left: no credentials were found.
    pub fn no_credentials<E>() -> SdkError<E, HttpResponse> {
        dispatch(CredentialsError::not_loaded("nothing set"), "other")
    }

    pub fn dispatch<E>(
        source: impl Error + Send + Sync + 'static,
        kind: &str,
    ) -> SdkError<E, HttpResponse> {
        let source = Box::new(source);
        let e = match kind {
            "io" => ConnectorError::io(source),
            "timeout" => ConnectorError::timeout(source),
            _ => ConnectorError::other(source, None),
        };
        SdkError::dispatch_failure(e)
    }
}

#[cfg(test)]
mod tests {
    use super::samples::response;
    use super::*;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_sdk_s3::types::error::NoSuchKey;

    type Err = SdkError<GetObjectError, HttpResponse>;

    fn service(status: u16, code: &str, message: &str) -> Err {
        super::samples::answer(GetObjectError::generic, status, code, message)
    }

    fn dispatch(source: impl Error + Send + Sync + 'static, kind: &str) -> Err {
        super::samples::dispatch(source, kind)
    }

    #[test]
    fn a_failure_no_adapter_rule_claims_keeps_its_class_as_a_step_error() {
        let service = |status, code: &str| SdkFailure::Service {
            status,
            code: code.into(),
            message: "m".into(),
        };
        for (failure, name, shown) in [
            (
                SdkFailure::Config {
                    variable: "AWS_REGION",
                    message: "m".into(),
                },
                "ConfigError",
                "AWS_REGION: m",
            ),
            (
                SdkFailure::Transient {
                    message: "SES Throttling: m".into(),
                },
                "Transient",
                "temporary failure, retry: SES Throttling: m",
            ),
            (
                service(403, "AccessDeniedException"),
                "AwsError",
                "SES error AccessDeniedException: m",
            ),
            (
                SdkFailure::Client {
                    message: "m".into(),
                },
                "AwsError",
                "SES error ClientError: m",
            ),
        ] {
            let e = failure.into_step_error("SES");
            assert_eq!((e.name(), e.to_string().as_str()), (name, shown));
        }
    }

    /// A plain error with a source, as the SDK's wrappers are.
    #[derive(Debug)]
    struct Wrapper(&'static str, Option<Box<dyn Error + Send + Sync>>);
    impl std::fmt::Display for Wrapper {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl Error for Wrapper {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    #[test]
    fn no_credentials_is_a_setting_to_fix_not_a_retry() {
        let none = CredentialsError::not_loaded(
            "no credentials found in chain. Attempted: Environment: the credential provider was \
             not enabled: environment variable not set Profile: the credential provider was not \
             enabled",
        );
        let chain = classify_sdk_error("Athena", &dispatch(none, "other"));
        assert_eq!(
            chain,
            SdkFailure::Config {
                variable: "AWS_PROFILE",
                message: format!(
                    "no AWS credentials for Athena (the credential provider was not enabled: no \
                     credentials found in chain): {SET_CREDENTIALS}"
                ),
            }
        );
        for e in [
            dispatch(CredentialsError::not_loaded("nothing set"), "other"),
            // However deep the provider's error sits.
            dispatch(
                Wrapper(
                    "failed to resolve identity",
                    Some(Box::new(CredentialsError::invalid_configuration(
                        "bad profile",
                    ))),
                ),
                "other",
            ),
            dispatch(
                CredentialsError::provider_error("the SSO session has expired"),
                "other",
            ),
        ] {
            match classify_sdk_error("Athena", &e) {
                SdkFailure::Config { variable, message } => {
                    assert_eq!(variable, "AWS_PROFILE");
                    assert!(message.contains("credentials for Athena ("), "{message}");
                    assert!(
                        message.starts_with("no AWS credentials for Athena"),
                        "{message}"
                    );
                    assert!(message.contains("AWS_ACCESS_KEY_ID"), "{message}");
                    assert!(!message.contains('\n') && message.len() < 400, "{message}");
                }
                other => panic!("{other:?}"),
            }
        }
        let slow = dispatch(
            CredentialsError::provider_timed_out(std::time::Duration::from_secs(5)),
            "other",
        );
        assert!(matches!(
            classify_sdk_error("S3", &slow),
            SdkFailure::Config {
                variable: "AWS_PROFILE",
                ..
            }
        ));
        let no_resolver = dispatch(
            Wrapper(
                "failed to select an auth scheme to sign the request with. \"sigv4\" wasn't a \
                 valid option because there was no identity resolver for it.",
                None,
            ),
            "other",
        );
        assert!(matches!(
            classify_sdk_error("SES", &no_resolver),
            SdkFailure::Config {
                variable: "AWS_PROFILE",
                ..
            }
        ));
    }

    #[test]
    fn no_region_is_a_setting_to_fix() {
        for words in [
            "Invalid Configuration: Missing Region",
            "A region must be set when sending requests to S3.",
            "missing signing region",
        ] {
            let e = dispatch(Wrapper(words, None), "other");
            assert_eq!(
                classify_sdk_error("S3", &e),
                SdkFailure::Config {
                    variable: "AWS_REGION",
                    message: format!("no AWS region for S3: {SET_REGION}"),
                }
            );
        }
    }

    #[test]
    fn network_faults_and_timeouts_are_transient() {
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        for (e, start) in [
            (dispatch(refused, "io"), "S3 could not be reached: "),
            (
                dispatch(Wrapper("timed out", None), "timeout"),
                "S3 could not be reached: ",
            ),
            (
                dispatch(Wrapper("interceptor", None), "other"),
                "S3 could not be reached: ",
            ),
            (
                SdkError::timeout_error(Box::new(Wrapper("read timeout", None))),
                "S3 did not answer in time: ",
            ),
            (
                SdkError::response_error(Box::new(Wrapper("truncated body", None)), response(200)),
                "S3's answer could not be read: ",
            ),
        ] {
            match classify_sdk_error("S3", &e) {
                SdkFailure::Transient { message } => {
                    assert!(message.starts_with(start), "{message}")
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn throttling_and_5xx_are_transient_other_answers_keep_their_code() {
        for (status, code) in [
            (503, "SlowDown"),
            (400, "ThrottlingException"),
            (500, "Whatever"),
        ] {
            assert_eq!(
                classify_sdk_error("S3", &service(status, code, "m")),
                SdkFailure::Transient {
                    message: format!("S3 {code}: m")
                }
            );
        }
        assert_eq!(
            classify_sdk_error("S3", &service(403, "AccessDenied", "Access Denied")),
            SdkFailure::Service {
                status: 403,
                code: "AccessDenied".into(),
                message: "Access Denied".into()
            }
        );
        // A modeled error without metadata: its code from its name.
        let e: Err = SdkError::service_error(
            GetObjectError::NoSuchKey(NoSuchKey::builder().build()),
            response(404),
        );
        assert!(matches!(
            classify_sdk_error("S3", &e),
            SdkFailure::Service { status: 404, code, .. } if code == "NoSuchKey"
        ));
    }

    #[test]
    fn a_request_never_built_is_a_client_error() {
        let e: Err = SdkError::construction_failure(Box::new(Wrapper("bucket is required", None)));
        assert_eq!(
            classify_sdk_error("S3", &e),
            SdkFailure::Client {
                message: "the request to S3 could not be made: bucket is required".into()
            }
        );
    }

    #[test]
    fn one_line_joins_the_chain_once() {
        let e = Wrapper(
            "dispatch failure",
            Some(Box::new(Wrapper(
                "io error",
                Some(Box::new(Wrapper(
                    "connection refused\n(os error 111)",
                    None,
                ))),
            ))),
        );
        assert_eq!(
            one_line(&e),
            "dispatch failure: io error: connection refused (os error 111)"
        );
        let long = Wrapper(Box::leak("x".repeat(2000).into_boxed_str()), None);
        assert!(one_line(&long).chars().count() <= MAX_LINE + 1);
    }
}
