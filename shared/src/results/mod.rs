//! The run's results: the query's parts merged into one Parquet file and one
//! csv.gz ([`merge`]), watched batch by batch by an observer it does not know
//! ([`observer`]), the csv.gz formatted and compressed in parallel chunks
//! ([`csv_gz`]) and the Parquet file's columns encoded in parallel
//! ([`parquet_columns`]), checked before anything depends on them ([`verify`]), and
//! named as one set by `_SUCCESS.json` ([`output_set`]).

pub mod assemble;
pub mod crc64;
pub mod csv_gz;
pub mod csv_text;
pub mod fed_thread;
pub mod merge;
pub mod observer;
pub mod output_set;
pub mod parquet_columns;
pub mod sharded;
pub mod verify;
