//! MergeShard Lambda: one shard of a sharded MergeResults (an item of the
//! MergeShards Map state) -> its Parquet file, csv.gz and tally beside the plan.

s3la_lambdas::step_lambda!(MergeShard);
