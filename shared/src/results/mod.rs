//! The run's results: the query's parts merged into one Parquet file and one
//! csv.gz ([`merge`]), compressed in parallel blocks ([`gzip_blocks`]), and
//! checked before anything depends on them ([`verify`]).

pub mod gzip_blocks;
pub mod merge;
pub mod verify;
