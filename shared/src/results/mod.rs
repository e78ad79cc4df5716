//! The run's results: the query's parts merged into one Parquet file and one
//! csv.gz ([`merge`]).

pub mod merge;
