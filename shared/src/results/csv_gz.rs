//! A csv.gz writer that formats and compresses chunks of rows on several
//! threads and writes them in order as one multi-member gzip stream (RFC 1952
//! allows members one after another; gzip, zcat, Python, pandas and DuckDB
//! read the whole stream as one file).
//!
//! Formatting CSV costs about as much as compressing it, so both happen on
//! the worker: the thread that feeds the writer only hands over batches,
//! whose columns are shared, not copied.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, ArrayRef, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::Datelike;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Rows per gzip member (at least; whole batches are kept together): a few
/// MiB of text, so the per-member overhead (about 20 bytes, and a fresh
/// dictionary) does not matter.
pub const CHUNK_ROWS: usize = 16 * 1024;

/// Workers at most, whatever the core count: each holds a chunk of rows
/// (up to about 10 MiB of Arrow data for `selectAll` rows), and memory must
/// stay flat.
const MAX_WORKERS: usize = 8;

/// How timestamps with a time zone are written: ISO 8601 in UTC, to the
/// millisecond, as the Parquet file holds them ([`iso_millis`] writes UTC
/// milliseconds, the result schema's, the same way).
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

type Member = Result<Vec<u8>, ArrowError>;

pub struct CsvGzWriter<W: Write> {
    out: W,
    schema: SchemaRef,
    level: Compression,
    chunk: Vec<RecordBatch>,
    chunk_rows: usize,
    in_flight: VecDeque<JoinHandle<Member>>,
    max_in_flight: usize,
    /// Members written or on their way; the first one carries the header.
    members: usize,
}

impl<W: Write> CsvGzWriter<W> {
    pub fn new(out: W, schema: SchemaRef, level: Compression) -> Self {
        let threads = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(MAX_WORKERS);
        Self {
            out,
            schema,
            level,
            chunk: Vec::new(),
            chunk_rows: 0,
            in_flight: VecDeque::new(),
            max_in_flight: threads + 1,
            members: 0,
        }
    }

    /// Queues `batch` (of the writer's schema); a full chunk goes to a worker.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), ArrowError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.chunk_rows += batch.num_rows();
        self.chunk.push(batch.clone());
        if self.chunk_rows >= CHUNK_ROWS {
            self.send_chunk()?;
        }
        Ok(())
    }

    fn send_chunk(&mut self) -> Result<(), ArrowError> {
        let batches = std::mem::take(&mut self.chunk);
        self.chunk_rows = 0;
        let header = self.members == 0;
        let (schema, level) = (self.schema.clone(), self.level);
        self.members += 1;
        let worker = std::thread::Builder::new()
            .name("csv-gz".into())
            .spawn(move || member(&schema, &batches, header, level))?;
        self.in_flight.push_back(worker);
        while self.in_flight.len() >= self.max_in_flight {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> Result<(), ArrowError> {
        if let Some(worker) = self.in_flight.pop_front() {
            let bytes = worker
                .join()
                .map_err(|_| ArrowError::CsvError("a csv.gz worker thread panicked".into()))??;
            self.out.write_all(&bytes)?;
        }
        Ok(())
    }

    /// Writes what is left (at least the header) and every member in order,
    /// and returns the inner writer.
    pub fn finish(mut self) -> Result<W, ArrowError> {
        if !self.chunk.is_empty() || self.members == 0 {
            self.send_chunk()?;
        }
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One gzip member holding `batches` as CSV, after the header if asked.
fn member(schema: &SchemaRef, batches: &[RecordBatch], header: bool, level: Compression) -> Member {
    // The compressed member is about a quarter of the text, which is about
    // the size of the Arrow data.
    let arrow_bytes: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
    let gz = GzEncoder::new(Vec::with_capacity(arrow_bytes / 4 + 1024), level);
    let mut csv = arrow_csv::WriterBuilder::new()
        .with_header(header)
        .with_timestamp_tz_format(TIMESTAMP_FORMAT.to_string())
        .build(io::BufWriter::with_capacity(256 << 10, NoFlush(gz)));
    if batches.is_empty() {
        // The CSV writer writes its header with the first batch.
        csv.write(&RecordBatch::new_empty(schema.clone()))?;
    }
    for batch in batches {
        csv.write(&with_iso_times(batch)?)?;
    }
    let NoFlush(gz) = csv
        .into_inner()
        .into_inner()
        .map_err(|e| ArrowError::from(e.into_error()))?;
    Ok(gz.finish()?)
}

/// A writer whose `flush` does nothing. arrow-csv flushes after every batch;
/// on a gzip encoder a flush ends a deflate block and aligns it to a byte,
/// which costs size and time for nothing: the member is finished once, at
/// its end.
struct NoFlush<W: Write>(W);

impl<W: Write> Write for NoFlush<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn is_utc_millis(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(TimeUnit::Millisecond, Some(tz)) if tz.as_ref() == "UTC")
}

/// `batch` with its UTC millisecond timestamps as ISO 8601 text. arrow-csv
/// formats a timestamp through a chrono format string, parsed again for
/// every value; this is the same text at a fraction of the cost (4% of a
/// whole local run).
fn with_iso_times(batch: &RecordBatch) -> Result<RecordBatch, ArrowError> {
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| is_utc_millis(f.data_type())) {
        return Ok(batch.clone());
    }
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        match column.as_any().downcast_ref::<TimestampMillisecondArray>() {
            Some(times) if is_utc_millis(field.data_type()) => {
                let mut text = StringBuilder::with_capacity(times.len(), times.len() * 24);
                let mut buf = [0u8; 24];
                for t in times.iter() {
                    match t.and_then(|t| iso_millis(t, &mut buf)) {
                        Some(s) => text.append_value(s),
                        // Years past 9999 (or before year 0), as chrono writes them.
                        None => text.append_option(t.and_then(|t| {
                            chrono::DateTime::from_timestamp_millis(t)
                                .map(|d| d.format(TIMESTAMP_FORMAT).to_string())
                        })),
                    }
                }
                fields.push(Field::new(field.name(), DataType::Utf8, true));
                columns.push(Arc::new(text.finish()) as ArrayRef);
            }
            _ => {
                fields.push(field.as_ref().clone());
                columns.push(column.clone());
            }
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// `millis` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`, written into
/// `buf`; `None` for years outside 0000-9999.
fn iso_millis(millis: i64, buf: &mut [u8; 24]) -> Option<&str> {
    let days = millis.div_euclid(86_400_000);
    let ms = millis.rem_euclid(86_400_000);
    // 719_163 days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
    let date = chrono::NaiveDate::from_num_days_from_ce_opt(i32::try_from(days + 719_163).ok()?)?;
    let year = u32::try_from(date.year()).ok().filter(|y| *y <= 9999)?;
    let digits = |buf: &mut [u8; 24], at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    let ms = ms as u32;
    *buf = *b"0000-00-00T00:00:00.000Z";
    digits(buf, 0, 4, year);
    digits(buf, 5, 2, date.month());
    digits(buf, 8, 2, date.day());
    digits(buf, 11, 2, ms / 3_600_000);
    digits(buf, 14, 2, ms / 60_000 % 60);
    digits(buf, 17, 2, ms / 1000 % 60);
    digits(buf, 20, 3, ms % 1000);
    std::str::from_utf8(buf).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    use arrow_array::{Int64Array, StringArray};

    fn gunzip(bytes: &[u8]) -> String {
        let mut out = String::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("text", DataType::Utf8, true),
        ]))
    }

    fn batch(from: i64, rows: i64) -> RecordBatch {
        let n: Vec<i64> = (from..from + rows).collect();
        let text: Vec<Option<String>> = n
            .iter()
            .map(|i| (i % 7 != 0).then(|| format!("a \"quoted\", {i}")))
            .collect();
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(Int64Array::from(n)),
                Arc::new(StringArray::from(text)),
            ],
        )
        .unwrap()
    }

    #[test]
    fn many_members_read_back_as_one_csv_in_order() {
        let mut w = CsvGzWriter::new(Vec::new(), schema(), Compression::fast());
        let (mut from, step) = (0, 5000);
        while from < 3 * CHUNK_ROWS as i64 + 17 {
            w.write(&batch(from, step)).unwrap();
            from += step;
        }
        let gz = w.finish().unwrap();
        let text = gunzip(&gz);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("n,text"));
        for (i, line) in lines.enumerate() {
            let want = if i % 7 == 0 {
                format!("{i},")
            } else {
                format!("{i},\"a \"\"quoted\"\", {i}\"")
            };
            assert_eq!(line, want);
        }
        assert_eq!(text.lines().count(), from as usize + 1);
        let members = gz.windows(3).filter(|w| *w == [0x1f, 0x8b, 0x08]).count();
        assert!(members >= 3, "{members} members");
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let samples = [
            0,
            1,
            -1,
            1_704_067_199_999,
            1_706_745_600_000,
            951_782_400_123,     // 2000-02-29
            -62_135_596_800_000, // 0001-01-01
            253_402_300_799_999, // 9999-12-31T23:59:59.999
        ];
        let mut buf = [0u8; 24];
        for t in samples {
            let want = chrono::DateTime::from_timestamp_millis(t)
                .unwrap()
                .format(TIMESTAMP_FORMAT)
                .to_string();
            assert_eq!(iso_millis(t, &mut buf), Some(want.as_str()), "{t}");
        }
        assert_eq!(iso_millis(253_402_300_800_000, &mut buf), None);
        assert_eq!(iso_millis(i64::MIN, &mut buf), None);
    }

    #[test]
    fn a_time_column_becomes_iso_text_and_nulls_stay_empty() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(
                "request_time",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new("key", DataType::Utf8, true),
        ]));
        let times = TimestampMillisecondArray::from(vec![
            Some(1_706_745_600_042),
            None,
            Some(253_402_300_800_000),
        ])
        .with_timezone("UTC");
        let keys = StringArray::from(vec!["a", "b", "c"]);
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(times), Arc::new(keys)]).unwrap();
        let mut w = CsvGzWriter::new(Vec::new(), schema, Compression::fast());
        w.write(&batch).unwrap();
        let text = gunzip(&w.finish().unwrap());
        assert_eq!(
            text,
            "request_time,key\n2024-02-01T00:00:00.042Z,a\n,b\n+10000-01-01T00:00:00.000Z,c\n"
        );
    }

    #[test]
    fn a_batch_csv_cannot_hold_fails_the_writer() {
        use arrow_array::builder::{ListBuilder, StringBuilder};
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("x");
        list.append(true);
        let column = Arc::new(list.finish()) as ArrayRef;
        let batch = RecordBatch::try_from_iter([("extra", column)]).unwrap();
        let mut w = CsvGzWriter::new(Vec::new(), batch.schema(), Compression::fast());
        w.write(&batch).unwrap();
        let err = w.finish().unwrap_err().to_string();
        assert!(err.contains("Nested type"), "{err}");
    }

    #[test]
    fn no_rows_is_the_header_alone() {
        let gz = CsvGzWriter::new(Vec::new(), schema(), Compression::fast())
            .finish()
            .unwrap();
        assert_eq!(gunzip(&gz), "n,text\n");
    }

    #[test]
    fn a_short_output_is_one_member_with_its_header() {
        let mut w = CsvGzWriter::new(Vec::new(), schema(), Compression::fast());
        w.write(&batch(0, 3)).unwrap();
        w.write(&batch(3, 0)).unwrap();
        let gz = w.finish().unwrap();
        assert_eq!(
            gz.windows(3).filter(|w| *w == [0x1f, 0x8b, 0x08]).count(),
            1
        );
        let text = gunzip(&gz);
        assert_eq!(text.lines().count(), 4);
        assert!(text.starts_with("n,text\n"));
    }
}
