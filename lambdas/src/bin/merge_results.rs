//! MergeResults Lambda: the query's parts -> one Parquet and one csv.gz under
//! RESULT_PATH/<period>/, written as multipart uploads.

use s3la_shared::config::MergeConfig;
use s3la_shared::steps::merge_results::merge_results;

s3la_lambdas::s3_step_lambda!(MergeConfig, merge_results);
