//! RemoveMeta Lambda: this query's staging data, Athena metadata and
//! manifest, deleted — nothing else.

use s3la_shared::config::CleanupConfig;
use s3la_shared::steps::remove_meta::remove_meta;

s3la_lambdas::s3_step_lambda!(CleanupConfig, remove_meta);
