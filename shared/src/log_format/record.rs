use super::fields::{FIELDS, MIN_FIELDS};

/// One parsed log record. Text fields borrow from the input line; `-` and a
/// quoted `"-"` are `None`. Quoted fields are given without their quotes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRecord<'a> {
    pub bucket_owner: Option<&'a str>,
    pub bucket: Option<&'a str>,
    /// Request time, milliseconds since the Unix epoch, UTC (whole seconds
    /// in the text format; the structured records have milliseconds).
    pub request_time_ms: Option<i64>,
    pub remote_ip: Option<&'a str>,
    pub requester: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub operation: Option<&'a str>,
    /// The key as logged: still URL-encoded.
    pub key: Option<&'a str>,
    pub request_uri: Option<&'a str>,
    pub http_status: Option<i32>,
    pub error_code: Option<&'a str>,
    pub bytes_sent: Option<i64>,
    pub object_size: Option<i64>,
    pub total_time: Option<i64>,
    pub turn_around_time: Option<i64>,
    pub referer: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub version_id: Option<&'a str>,
    pub host_id: Option<&'a str>,
    pub signature_version: Option<&'a str>,
    pub cipher_suite: Option<&'a str>,
    pub authentication_type: Option<&'a str>,
    pub host_header: Option<&'a str>,
    pub tls_version: Option<&'a str>,
    pub access_point_arn: Option<&'a str>,
    pub acl_required: Option<&'a str>,
    pub source_region: Option<&'a str>,
    /// Fields after `source_region` that AWS appended after this version was
    /// written, as the raw space-separated text (see [`LogRecord::extra_fields`]).
    pub extra: Option<&'a str>,
    /// How many fields the line held (17 for the oldest records).
    pub field_count: usize,
}

/// One field's value, typed as the format defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    /// Milliseconds since the Unix epoch, UTC.
    Time(Option<i64>),
}

impl<'a> LogRecord<'a> {
    /// Every known field's value, in log order (the order of [`FIELDS`]), so
    /// that output formats name and order fields from one place.
    pub fn values(&self) -> [FieldValue<'a>; FIELDS.len()] {
        use FieldValue::{Int, Text, Time};
        [
            Text(self.bucket_owner),
            Text(self.bucket),
            Time(self.request_time_ms),
            Text(self.remote_ip),
            Text(self.requester),
            Text(self.request_id),
            Text(self.operation),
            Text(self.key),
            Text(self.request_uri),
            Int(self.http_status.map(i64::from)),
            Text(self.error_code),
            Int(self.bytes_sent),
            Int(self.object_size),
            Int(self.total_time),
            Int(self.turn_around_time),
            Text(self.referer),
            Text(self.user_agent),
            Text(self.version_id),
            Text(self.host_id),
            Text(self.signature_version),
            Text(self.cipher_suite),
            Text(self.authentication_type),
            Text(self.host_header),
            Text(self.tls_version),
            Text(self.access_point_arn),
            Text(self.acl_required),
            Text(self.source_region),
        ]
    }

    /// The unknown trailing fields, each as logged (`-` included, so nothing
    /// AWS wrote is lost).
    pub fn extra_fields(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.extra.into_iter().flat_map(|s| s.split(' '))
    }

    /// The text fields after the user agent, in log order, for code that
    /// handles them uniformly (index 0 is `version_id`).
    pub fn trailing_text_fields(&self) -> [Option<&'a str>; TRAILING_KNOWN] {
        let values = self.values();
        // Every trailing field is text (`trailing_fields_are_text`).
        std::array::from_fn(|i| match values[MIN_FIELDS + i] {
            FieldValue::Text(v) => v,
            FieldValue::Int(_) | FieldValue::Time(_) => None,
        })
    }

    /// Sets the text field at `index` in [`FIELDS`] (structured records
    /// name their fields; the test below holds this to [`LogRecord::values`]).
    pub(crate) fn set_text(&mut self, index: usize, value: &'a str) {
        let slot = match index {
            0 => &mut self.bucket_owner,
            1 => &mut self.bucket,
            3 => &mut self.remote_ip,
            4 => &mut self.requester,
            5 => &mut self.request_id,
            6 => &mut self.operation,
            7 => &mut self.key,
            8 => &mut self.request_uri,
            10 => &mut self.error_code,
            15 => &mut self.referer,
            16 => &mut self.user_agent,
            _ => return self.set_trailing(index.wrapping_sub(MIN_FIELDS), Some(value)),
        };
        *slot = Some(value);
    }

    /// Sets the integer field at `index` in [`FIELDS`]; the caller has
    /// checked that a status code fits 32 bits.
    pub(crate) fn set_int(&mut self, index: usize, value: i64) {
        let slot = match index {
            9 => {
                self.http_status = i32::try_from(value).ok();
                return;
            }
            11 => &mut self.bytes_sent,
            12 => &mut self.object_size,
            13 => &mut self.total_time,
            14 => &mut self.turn_around_time,
            _ => return,
        };
        *slot = Some(value);
    }

    /// Sets the `index`-th field after the user agent (0 = `version_id`).
    pub(crate) fn set_trailing(&mut self, index: usize, value: Option<&'a str>) {
        let slot = match index {
            0 => &mut self.version_id,
            1 => &mut self.host_id,
            2 => &mut self.signature_version,
            3 => &mut self.cipher_suite,
            4 => &mut self.authentication_type,
            5 => &mut self.host_header,
            6 => &mut self.tls_version,
            7 => &mut self.access_point_arn,
            8 => &mut self.acl_required,
            9 => &mut self.source_region,
            _ => return,
        };
        *slot = value;
    }
}

/// Number of fields after the user agent that this version knows by name.
pub(crate) const TRAILING_KNOWN: usize = FIELDS.len() - MIN_FIELDS;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_format::fields::Value;

    #[test]
    fn trailing_fields_are_text() {
        assert!(FIELDS[MIN_FIELDS..].iter().all(|f| f.value == Value::Text));
    }

    /// `values` and `set_trailing` name the same member for each field: the
    /// record's members are listed twice, checked here against each other.
    #[test]
    fn each_trailing_field_is_set_and_read_at_its_position() {
        for i in 0..TRAILING_KNOWN {
            let mut r = LogRecord::default();
            r.set_trailing(i, Some("x"));
            let want: [Option<&str>; TRAILING_KNOWN] =
                std::array::from_fn(|j| (j == i).then_some("x"));
            assert_eq!(r.trailing_text_fields(), want, "trailing field {i}");
        }
    }

    /// `set_text` and `set_int` name the member `values` reads at each
    /// position, and no other.
    #[test]
    fn each_field_is_set_at_its_position() {
        for (i, f) in FIELDS.iter().enumerate() {
            let mut r = LogRecord::default();
            match f.value {
                Value::Text => r.set_text(i, "x"),
                Value::Int32 | Value::Int64 => r.set_int(i, 7),
                Value::Time => r.request_time_ms = Some(7),
            }
            for (j, v) in r.values().into_iter().enumerate() {
                let set = match v {
                    FieldValue::Text(v) => v == Some("x"),
                    FieldValue::Int(v) | FieldValue::Time(v) => v == Some(7),
                };
                assert_eq!(
                    set,
                    i == j,
                    "{} set, {} read",
                    f.json_name,
                    FIELDS[j].json_name
                );
            }
        }
    }

    /// Each value has the type the table gives its field.
    #[test]
    fn values_are_typed_as_the_fields() {
        for (f, v) in FIELDS.iter().zip(LogRecord::default().values()) {
            let typed = match v {
                FieldValue::Text(_) => f.value == Value::Text,
                FieldValue::Time(_) => f.value == Value::Time,
                FieldValue::Int(_) => matches!(f.value, Value::Int32 | Value::Int64),
            };
            assert!(typed, "{}", f.json_name);
        }
    }
}
