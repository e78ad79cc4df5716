//! The one error type of the pipeline's steps.
//!
//! Each variant reaches Step Functions under a stable name ([`StepError::name`])
//! that the definition's Retry and Catch match on, so renaming a variant's
//! name is a breaking change of the state machine (the README lists them).

use std::fmt;

/// An error a step reports. `Display` is the message a person reads in the
/// console's "Cause"; [`StepError::name`] is the "Error" the definition matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepError {
    /// The execution or step input is wrong; retrying cannot help.
    InvalidInput { field: String, message: String },
    /// A setting in the environment is missing or wrong.
    Config { variable: String, message: String },
    /// Athena refused to start the query (bad SQL, missing table, non-empty
    /// UNLOAD target, access denied on the workgroup, ...).
    QueryRejected { message: String },
    /// The query ran and ended FAILED or CANCELLED.
    QueryFailed {
        state: String,
        reason: String,
        category: Option<String>,
    },
    /// The query was still queued or running after `QueryMaxPolls` status
    /// reads; it has been stopped. A redrive starts it again and waits anew.
    QueryTimedOut { message: String },
    /// Throttling, timeouts and network faults: the same call may succeed later.
    Transient { message: String },
    /// The query's parts could not be merged into the outputs (a part that
    /// cannot be read, a column that cannot become its type, a failed write).
    MergeFailed { message: String },
    /// Reading or writing objects failed for a reason retrying will not fix
    /// (a missing object, a local file-system error).
    Storage { message: String },
    /// A deletion was refused before anything was deleted: the locations
    /// overlap, or the outputs it depends on are not verified.
    UnsafeDeletion { message: String },
    /// The mail service refused the message (an unverified sender, the SES
    /// sandbox, a paused account): fix the setting named, then redrive.
    EmailRejected { message: String },
    /// Any other error from an AWS service, with its error code.
    Aws {
        service: &'static str,
        code: String,
        message: String,
    },
}

impl StepError {
    /// The stable name Step Functions sees as the error type.
    pub fn name(&self) -> &'static str {
        match self {
            StepError::InvalidInput { .. } => "InvalidInput",
            StepError::Config { .. } => "ConfigError",
            StepError::QueryRejected { .. } => "QueryRejected",
            StepError::QueryFailed { .. } => "QueryFailed",
            StepError::QueryTimedOut { .. } => "QueryTimedOut",
            StepError::Transient { .. } => "Transient",
            StepError::MergeFailed { .. } => "MergeFailed",
            StepError::Storage { .. } => "StorageError",
            StepError::UnsafeDeletion { .. } => "UnsafeDeletion",
            StepError::EmailRejected { .. } => "EmailRejected",
            StepError::Aws { .. } => "AwsError",
        }
    }

    /// Every name [`StepError::name`] can return, for docs and the definition's tests.
    pub const NAMES: [&'static str; 11] = [
        "InvalidInput",
        "ConfigError",
        "QueryRejected",
        "QueryFailed",
        "QueryTimedOut",
        "Transient",
        "MergeFailed",
        "StorageError",
        "UnsafeDeletion",
        "EmailRejected",
        "AwsError",
    ];

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StepError::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn config(variable: impl Into<String>, message: impl Into<String>) -> Self {
        StepError::Config {
            variable: variable.into(),
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        StepError::Transient {
            message: message.into(),
        }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::InvalidInput { field, message } => write!(f, "{field}: {message}"),
            StepError::Config { variable, message } => write!(f, "{variable}: {message}"),
            StepError::QueryRejected { message } => {
                write!(f, "Athena refused the query: {message}")
            }
            StepError::QueryFailed {
                state,
                reason,
                category,
            } => {
                write!(f, "the Athena query ended {state}: {reason}")?;
                if let Some(c) = category {
                    write!(f, " (error category: {c})")?;
                }
                Ok(())
            }
            StepError::QueryTimedOut { message } => write!(f, "{message}"),
            StepError::Transient { message } => write!(f, "temporary failure, retry: {message}"),
            StepError::MergeFailed { message } => {
                write!(f, "merging the results failed: {message}")
            }
            StepError::Storage { message } => write!(f, "storage: {message}"),
            StepError::UnsafeDeletion { message } => {
                write!(f, "refused to delete anything: {message}")
            }
            StepError::EmailRejected { message } => {
                write!(f, "the email was refused: {message}")
            }
            StepError::Aws {
                service,
                code,
                message,
            } => write!(f, "{service} error {code}: {message}"),
        }
    }
}

impl std::error::Error for StepError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable_and_listed() {
        let all = [
            StepError::invalid("f", "m"),
            StepError::config("V", "m"),
            StepError::QueryRejected {
                message: "m".into(),
            },
            StepError::QueryFailed {
                state: "FAILED".into(),
                reason: "r".into(),
                category: Some("USER".into()),
            },
            StepError::QueryTimedOut {
                message: "m".into(),
            },
            StepError::transient("m"),
            StepError::MergeFailed {
                message: "m".into(),
            },
            StepError::Storage {
                message: "m".into(),
            },
            StepError::UnsafeDeletion {
                message: "m".into(),
            },
            StepError::EmailRejected {
                message: "m".into(),
            },
            StepError::Aws {
                service: "Athena",
                code: "C".into(),
                message: "m".into(),
            },
        ];
        let names: Vec<_> = all.iter().map(StepError::name).collect();
        assert_eq!(names, StepError::NAMES);
    }

    #[test]
    fn messages_name_the_field() {
        let e = StepError::invalid("dateRange.start", "expected YYYY-MM-DD, got \"x\"");
        assert_eq!(
            e.to_string(),
            "dateRange.start: expected YYYY-MM-DD, got \"x\""
        );
        let e = StepError::QueryFailed {
            state: "FAILED".into(),
            reason: "TABLE_NOT_FOUND".into(),
            category: Some("USER".into()),
        };
        assert_eq!(
            e.to_string(),
            "the Athena query ended FAILED: TABLE_NOT_FOUND (error category: USER)"
        );
    }
}
