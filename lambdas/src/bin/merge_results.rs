//! MergeResults Lambda: the query's parts -> one Parquet and one csv.gz under
//! RESULT_PATH/<period>/, written as multipart uploads.

s3la_lambdas::step_lambda!(MergeResults);
