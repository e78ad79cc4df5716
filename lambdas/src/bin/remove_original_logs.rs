//! RemoveOriginalLogs Lambda: the period's own log objects, deleted after the
//! outputs are verified (never the whole prefix, never the slack days).

use s3la_shared::config::CleanupConfig;
use s3la_shared::steps::remove_original_logs::remove_original_logs;

s3la_lambdas::s3_step_lambda!(CleanupConfig, remove_original_logs);
