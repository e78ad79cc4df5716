//! AssembleResults Lambda: the shards -> the period's Parquet file and
//! csv.gz by server-side copies (UploadPartCopy), then the report and the
//! output set, as MergeResults writes them for a period of one shard.

s3la_lambdas::step_lambda!(AssembleResults);
