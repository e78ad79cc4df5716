//! Result rows as CSV text, byte for byte as arrow-csv writes them with the
//! csv crate's defaults: a field is quoted only when it holds a comma, a
//! quote or a line break, quotes inside are doubled, null is an empty field,
//! and `\n` ends a record.
//!
//! arrow-csv formats every value through a generic display layer into a
//! scratch string that the csv crate then copies and checks again: about 400
//! instructions per value, more than gzip spends compressing it. The columns
//! a run's results hold (text, integers, UTC times) are written here
//! straight into the output buffer; any other type still goes through
//! arrow's display formatter, so nothing is formatted differently. The tests
//! hold the output to arrow-csv's, value for value.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, PrimitiveArray, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{ArrowError, DataType, Schema, TimeUnit};

use crate::log_format::scan::contains_any;

/// Bytes that make a field need quotes.
const SPECIAL: [u8; 4] = [b',', b'"', b'\n', b'\r'];

/// One batch's columns, ready to be written row by row.
pub struct CsvRows<'a> {
    columns: Vec<Column<'a>>,
}

enum Column<'a> {
    Text(&'a arrow_array::StringArray),
    LargeText(&'a arrow_array::LargeStringArray),
    TextView(&'a arrow_array::StringViewArray),
    Int32(&'a PrimitiveArray<Int32Type>),
    Int64(&'a PrimitiveArray<Int64Type>),
    /// Milliseconds in UTC: ISO 8601 to the millisecond, as the result
    /// files' time format asks.
    UtcMillis(&'a PrimitiveArray<TimestampMillisecondType>),
    Other(ArrayFormatter<'a>),
}

impl<'a> CsvRows<'a> {
    /// The columns of `batch`; `options` format the types not written here
    /// (as arrow-csv would with the same options). Nested types cannot be
    /// CSV and are refused, as arrow-csv refuses them.
    pub fn new(batch: &'a RecordBatch, options: &'a FormatOptions<'a>) -> Result<Self, ArrowError> {
        let columns = batch
            .columns()
            .iter()
            .map(|a| {
                Ok(match a.data_type() {
                    t if t.is_nested() => {
                        return Err(ArrowError::CsvError(format!(
                            "Nested type {t} is not supported in CSV"
                        )));
                    }
                    DataType::Utf8 => Column::Text(a.as_string()),
                    DataType::LargeUtf8 => Column::LargeText(a.as_string()),
                    DataType::Utf8View => Column::TextView(a.as_string_view()),
                    DataType::Int32 => Column::Int32(a.as_primitive()),
                    DataType::Int64 => Column::Int64(a.as_primitive()),
                    DataType::Timestamp(TimeUnit::Millisecond, Some(tz))
                        if tz.as_ref() == "UTC" =>
                    {
                        Column::UtcMillis(a.as_primitive())
                    }
                    _ => Column::Other(ArrayFormatter::try_new(a.as_ref(), options)?),
                })
            })
            .collect::<Result<_, ArrowError>>()?;
        Ok(Self { columns })
    }

    /// Appends row `row` and its line end to `out`.
    pub fn write_row(&self, row: usize, out: &mut Vec<u8>) -> Result<(), ArrowError> {
        let only_one = self.columns.len() == 1;
        let mut scratch = String::new();
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let start = out.len();
            match column {
                Column::Text(a) => text(out, a.is_valid(row).then(|| a.value(row))),
                Column::LargeText(a) => text(out, a.is_valid(row).then(|| a.value(row))),
                Column::TextView(a) => text(out, a.is_valid(row).then(|| a.value(row))),
                Column::Int32(a) => {
                    if a.is_valid(row) {
                        out.extend_from_slice(itoa::Buffer::new().format(a.value(row)).as_bytes())
                    }
                }
                Column::Int64(a) => {
                    if a.is_valid(row) {
                        out.extend_from_slice(itoa::Buffer::new().format(a.value(row)).as_bytes())
                    }
                }
                Column::UtcMillis(a) => {
                    if a.is_valid(row) {
                        let mut buf = [0u8; 24];
                        match iso_millis(a.value(row), &mut buf) {
                            Some(s) => out.extend_from_slice(s),
                            // Years past 9999 (or before year 0), as chrono writes them.
                            None => out.extend_from_slice(
                                chrono::DateTime::from_timestamp_millis(a.value(row))
                                    .map(|d| d.format(TIMESTAMP_FORMAT).to_string())
                                    .unwrap_or_default()
                                    .as_bytes(),
                            ),
                        }
                    }
                }
                Column::Other(f) => {
                    scratch.clear();
                    f.value(row).write(&mut scratch).map_err(|e| {
                        ArrowError::CsvError(format!(
                            "Error processing row {}, col {}: {e}",
                            row + 1,
                            i + 1
                        ))
                    })?;
                    text(out, Some(&scratch));
                }
            }
            // A record of one empty field would read as an empty line.
            if only_one && out.len() == start {
                out.extend_from_slice(b"\"\"");
            }
        }
        out.push(b'\n');
        Ok(())
    }
}

/// The header line: the schema's column names.
pub fn write_header(schema: &Schema, out: &mut Vec<u8>) {
    for (i, f) in schema.fields().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        text(out, Some(f.name()));
    }
    if schema.fields().len() == 1 && schema.field(0).name().is_empty() {
        out.extend_from_slice(b"\"\"");
    }
    out.push(b'\n');
}

/// How timestamps with a time zone are written: ISO 8601 in UTC, to the
/// millisecond, as the Parquet file holds them ([`iso_millis`] writes the
/// same text without parsing a format string for every value).
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

fn text(out: &mut Vec<u8>, value: Option<&str>) {
    let Some(v) = value else { return };
    let bytes = v.as_bytes();
    if !contains_any(bytes, SPECIAL) {
        out.extend_from_slice(bytes);
        return;
    }
    out.push(b'"');
    for part in bytes.split_inclusive(|&b| b == b'"') {
        out.extend_from_slice(part);
        if part.last() == Some(&b'"') {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

/// `millis` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`, written into
/// `buf`; `None` for years outside 0000-9999.
pub(crate) fn iso_millis(millis: i64, buf: &mut [u8; 24]) -> Option<&[u8]> {
    use chrono::Datelike;
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
    Some(&buf[..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, Date32Array, Int32Array, Int64Array, LargeStringArray, StringArray,
        StringViewArray, TimestampMillisecondArray,
    };
    use arrow_schema::Field;
    use proptest::prelude::*;

    fn options() -> FormatOptions<'static> {
        FormatOptions::default().with_timestamp_tz_format(Some(TIMESTAMP_FORMAT))
    }

    /// What arrow-csv writes for `batch` (header included).
    fn arrow_csv(batch: &RecordBatch) -> Vec<u8> {
        let mut w = arrow_csv::WriterBuilder::new()
            .with_header(true)
            .with_timestamp_tz_format(TIMESTAMP_FORMAT.to_string())
            .build(Vec::new());
        w.write(batch).unwrap();
        w.into_inner()
    }

    fn ours(batch: &RecordBatch) -> Vec<u8> {
        let mut out = Vec::new();
        write_header(&batch.schema(), &mut out);
        let opts = options();
        let rows = CsvRows::new(batch, &opts).unwrap();
        for r in 0..batch.num_rows() {
            rows.write_row(r, &mut out).unwrap();
        }
        out
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
            assert_eq!(iso_millis(t, &mut buf), Some(want.as_bytes()), "{t}");
        }
        assert_eq!(iso_millis(253_402_300_800_000, &mut buf), None);
        assert_eq!(iso_millis(i64::MIN, &mut buf), None);
    }

    #[test]
    fn every_type_a_result_holds_and_others_match_arrow_csv() {
        let utc = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
        let other_tz = DataType::Timestamp(TimeUnit::Millisecond, Some("+02:00".into()));
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("time", utc, true),
                Field::new("text", DataType::Utf8, true),
                Field::new("large", DataType::LargeUtf8, true),
                Field::new("view", DataType::Utf8View, true),
                Field::new("status", DataType::Int32, true),
                Field::new("bytes", DataType::Int64, true),
                Field::new("local", other_tz, true),
                Field::new("day", DataType::Date32, true),
                Field::new("say \"hi\", twice", DataType::Utf8, true),
            ])),
            vec![
                Arc::new(
                    TimestampMillisecondArray::from(vec![
                        Some(1_706_745_600_042),
                        None,
                        Some(253_402_300_800_000),
                    ])
                    .with_timezone("UTC"),
                ),
                Arc::new(StringArray::from(vec![Some("a,b"), None, Some("")])),
                Arc::new(LargeStringArray::from(vec![Some("x\ny"), Some("\r"), None])),
                Arc::new(StringViewArray::from(vec![
                    Some("a longer value, \"quoted\""),
                    Some("short"),
                    None,
                ])),
                Arc::new(Int32Array::from(vec![Some(200), None, Some(-1)])),
                Arc::new(Int64Array::from(vec![
                    Some(i64::MIN),
                    Some(0),
                    Some(i64::MAX),
                ])),
                Arc::new(
                    TimestampMillisecondArray::from(vec![Some(0), None, Some(1)])
                        .with_timezone("+02:00"),
                ),
                Arc::new(Date32Array::from(vec![Some(0), Some(19_000), None])),
                Arc::new(StringArray::from(vec![Some("\"\""), Some("é,ü"), None])),
            ],
        )
        .unwrap();
        let text = String::from_utf8(ours(&batch)).unwrap();
        assert_eq!(text, String::from_utf8(arrow_csv(&batch)).unwrap());
        assert!(
            text.contains("2024-02-01T00:00:00.042Z,\"a,b\",\"x\ny\""),
            "{text}"
        );
    }

    #[test]
    fn a_single_empty_field_is_quoted_so_the_line_is_not_blank() {
        let batch = RecordBatch::try_from_iter([(
            "k",
            Arc::new(StringArray::from(vec![Some(""), None, Some("v")])) as ArrayRef,
        )])
        .unwrap();
        assert_eq!(ours(&batch), arrow_csv(&batch));
        assert_eq!(ours(&batch), b"k\n\"\"\n\"\"\nv\n");
    }

    #[test]
    fn nested_columns_are_refused() {
        use arrow_array::builder::{ListBuilder, StringBuilder};
        let mut list = ListBuilder::new(StringBuilder::new());
        list.values().append_value("x");
        list.append(true);
        let batch =
            RecordBatch::try_from_iter([("extra", Arc::new(list.finish()) as ArrayRef)]).unwrap();
        let opts = options();
        let err = CsvRows::new(&batch, &opts).err().unwrap().to_string();
        assert!(err.contains("Nested type"), "{err}");
    }

    fn value() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(
            proptest::collection::vec(
                prop_oneof![
                    Just(',' as u32),
                    Just('"' as u32),
                    Just('\n' as u32),
                    Just('\r' as u32),
                    Just(' ' as u32),
                    32u32..127,
                    0x80u32..0x3000,
                ],
                0..20,
            )
            .prop_map(|cs| cs.into_iter().filter_map(char::from_u32).collect()),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn any_rows_come_out_as_arrow_csv_writes_them(
            rows in proptest::collection::vec(
                (value(), value(), any::<Option<i64>>(), any::<Option<i32>>(),
                 proptest::option::of(-62_135_596_800_000i64..253_402_300_799_999)),
                0..30),
        ) {
            let texts: Vec<_> = rows.iter().map(|r| r.0.clone()).collect();
            let views: Vec<_> = rows.iter().map(|r| r.1.clone()).collect();
            let batch = RecordBatch::try_from_iter([
                ("text", Arc::new(StringArray::from(texts)) as ArrayRef),
                ("view", Arc::new(StringViewArray::from(views)) as ArrayRef),
                ("n", Arc::new(Int64Array::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())) as ArrayRef),
                ("status", Arc::new(Int32Array::from(rows.iter().map(|r| r.3).collect::<Vec<_>>())) as ArrayRef),
                ("time", Arc::new(TimestampMillisecondArray::from(
                    rows.iter().map(|r| r.4).collect::<Vec<_>>()).with_timezone("UTC")) as ArrayRef),
            ]).unwrap();
            prop_assert_eq!(
                String::from_utf8(ours(&batch)).unwrap(),
                String::from_utf8(arrow_csv(&batch)).unwrap()
            );
        }
    }
}
