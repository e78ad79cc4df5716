//! The S3 server access log format: one record per line, fields separated by a
//! single space, as documented in "Amazon S3 server access log format".
//!
//! - [`fields`] lists every field in order with its JSON and Athena names;
//! - [`parse_line`] turns one line into a borrowed [`LogRecord`];
//! - [`lines`] walks a buffer line by line with line numbers;
//! - [`arrow`] appends records to Arrow builders under [`arrow::log_schema`].

pub mod arrow;
mod columns;
pub mod fields;
pub mod forms;
pub mod lines;
mod marks;
mod parser;
mod record;
mod render;
pub(crate) mod scan;
pub mod structured;
pub mod structured_parquet;
mod time;

pub use parser::{ParseError, parse_line};
pub use record::{FieldValue, LogRecord};
pub use time::{format_iso8601, format_structured_time, parse_log_time, parse_structured_time};
