//! The run's results: the query's parts merged into one Parquet file and one
//! csv.gz ([`merge`]), the csv.gz formatted and compressed in parallel chunks
//! ([`csv_gz`]), and checked before anything depends on them ([`verify`]).

pub mod csv_gz;
pub mod csv_text;
pub mod merge;
pub mod verify;
