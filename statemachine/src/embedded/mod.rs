//! The embedded engine: Athena's stand-in for local runs. It reads a
//! directory of logs with the project's parser into Arrow ([`table`]),
//! evaluates the query model with DataFusion ([`plan`]) and writes its result
//! like Athena's UNLOAD: Parquet data files plus a manifest ([`engine`]).

pub mod engine;
pub mod logs;
pub mod plan;
mod prefix;
pub mod table;
