//! The execution input's fields, described once. The parser
//! ([`super::ExecutionRequest::parse`]), the `s3la` flags
//! (statemachine/src/cli/request_flags.rs), the schedules' settings
//! (infra/lib/execution-input.json) and the field tables of the docs
//! ([`super::docs`]) are all read from [`FIELDS`]: a new field is one entry
//! here (and, for a flag, one member of [`Options`]).

use super::Options;

/// One field of the execution input.
#[derive(Debug, Clone, Copy)]
pub struct InputField {
    /// The JSON name.
    pub name: &'static str,
    /// Other JSON spellings accepted (and not advertised).
    pub aliases: &'static [&'static str],
    /// What values it takes, and where a parsed value goes.
    pub value: FieldValue,
    /// What leaving it out means.
    pub default: &'static str,
    /// What it does, one sentence: `s3la`'s `--help` and the docs' tables
    /// (Markdown's `code` is shown 'quoted' in `--help`).
    pub doc: &'static str,
    /// The rules a value must also follow (Markdown; in the docs' tables).
    pub limits: &'static str,
    /// The `s3la` flag that sets it, if any.
    pub flag: Option<CliFlag>,
    /// Whether a schedule may set it (infra's `schedules` setting).
    pub schedule: bool,
}

/// The values a field takes.
#[derive(Debug, Clone, Copy)]
pub enum FieldValue {
    /// One of [`FREQUENCIES`].
    Frequency,
    /// `{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}`, both days included.
    DateRange,
    /// `true` or `false`: the member of [`Options`] it sets.
    Flag(fn(&mut Options) -> &mut bool),
    /// An RFC 3339 instant.
    Instant,
    /// Any string, read and ignored.
    Note,
}

/// The `s3la` flag of a field.
#[derive(Debug, Clone, Copy)]
pub struct CliFlag {
    /// The original Python tool's spelling (`select_all`), kept so its
    /// command lines still work.
    pub long: &'static str,
    /// The kebab-case spelling (`select-all`), where it differs.
    pub alias: Option<&'static str>,
    pub short: Option<char>,
    /// The value's placeholder(s) in `--help`; none for a switch.
    pub value_names: &'static [&'static str],
    pub group: FlagGroup,
}

/// Which commands offer a flag: `s3la sql` takes what the query depends on
/// (period and query); `s3la run` and `executions start` take all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagGroup {
    Period,
    Query,
    Action,
}

/// The values of `frequency`, as [`crate::period::Frequency::parse`] reads them.
pub const FREQUENCIES: [&str; 3] = ["weekly", "monthly", "quarterly"];

const fn switch(long: &'static str, alias: &'static str, group: FlagGroup) -> Option<CliFlag> {
    Some(CliFlag {
        long,
        alias: Some(alias),
        short: None,
        value_names: &[],
        group,
    })
}

/// Every field, in the order the docs and the error messages list them.
pub const FIELDS: &[InputField] = &[
    InputField {
        name: "frequency",
        aliases: &[],
        value: FieldValue::Frequency,
        default: "monthly, when no date range is given",
        doc: "The previous full period: Monday–Sunday week, calendar month or calendar quarter, in UTC",
        limits: "",
        flag: Some(CliFlag {
            long: "frequency",
            alias: None,
            short: None,
            value_names: &["FREQUENCY"],
            group: FlagGroup::Period,
        }),
        schedule: false,
    },
    InputField {
        name: "dateRange",
        aliases: &[],
        value: FieldValue::DateRange,
        default: "none",
        doc: "A custom range of days, both included, in UTC",
        limits: "not with `frequency`; at most `MAX_RANGE_DAYS` days; must have ended and must not \
                 start before `PROJECTION_START`",
        flag: Some(CliFlag {
            long: "date_range",
            alias: Some("date-range"),
            short: None,
            value_names: &["START", "END"],
            group: FlagGroup::Period,
        }),
        schedule: false,
    },
    InputField {
        name: "selectAll",
        aliases: &[],
        value: FieldValue::Flag(|o| &mut o.select_all),
        default: "false",
        doc: "Every column of the table, raw, instead of the typed report columns",
        limits: "",
        flag: switch("select_all", "select-all", FlagGroup::Query),
        schedule: true,
    },
    InputField {
        name: "excludeBucketOperations",
        aliases: &[],
        value: FieldValue::Flag(|o| &mut o.exclude_bucket_operations),
        default: "false",
        doc: "Leave out bucket-level operations (key `-`), which the original tool always dropped",
        limits: "",
        flag: switch(
            "exclude_bucket_operations",
            "exclude-bucket-operations",
            FlagGroup::Query,
        ),
        schedule: true,
    },
    InputField {
        name: "removeMeta",
        aliases: &[],
        value: FieldValue::Flag(|o| &mut o.remove_meta),
        default: "false",
        doc: "Delete this query's Athena staging data, metadata and manifest afterwards",
        limits: "",
        flag: switch("remove_meta", "remove-meta", FlagGroup::Action),
        schedule: true,
    },
    InputField {
        name: "removeOriginalLogs",
        aliases: &[],
        value: FieldValue::Flag(|o| &mut o.remove_original_logs),
        default: "false",
        doc: "Delete the period's own log objects once the outputs are verified",
        limits: "",
        flag: switch(
            "remove_original_logs",
            "remove-original-logs",
            FlagGroup::Action,
        ),
        schedule: true,
    },
    InputField {
        name: "email",
        aliases: &[],
        value: FieldValue::Flag(|o| &mut o.email),
        default: "false",
        doc: "Send the report by email (s3la run: written to an outbox)",
        limits: "",
        flag: Some(CliFlag {
            long: "email",
            alias: None,
            short: None,
            value_names: &[],
            group: FlagGroup::Action,
        }),
        schedule: true,
    },
    InputField {
        name: "verbose",
        aliases: &[],
        value: FieldValue::Flag(|o| &mut o.verbose),
        default: "false",
        doc: "More detail in outputs (the SQL in StartQuery's output)",
        limits: "",
        flag: Some(CliFlag {
            long: "verbose",
            alias: None,
            short: Some('v'),
            value_names: &[],
            group: FlagGroup::Query,
        }),
        schedule: true,
    },
    InputField {
        name: "now",
        aliases: &[],
        value: FieldValue::Instant,
        default: "the execution's start",
        doc: "Compute the period as of this instant (backfills, tests), e.g. 2024-02-01T06:00:00Z",
        limits: "",
        flag: Some(CliFlag {
            long: "now",
            alias: None,
            short: None,
            value_names: &["RFC3339"],
            group: FlagGroup::Period,
        }),
        schedule: false,
    },
    InputField {
        name: "Comment",
        // The console's default input is {"Comment": "Insert your JSON here"}.
        aliases: &["comment"],
        value: FieldValue::Note,
        default: "none",
        doc: "Ignored: the console's default input carries one",
        limits: "",
        flag: None,
        schedule: false,
    },
];

impl InputField {
    /// The field a JSON name (or one of its aliases) stands for.
    pub fn named(name: &str) -> Option<&'static InputField> {
        FIELDS
            .iter()
            .find(|f| f.name == name || f.aliases.contains(&name))
    }

    /// The JSON names of all fields, as error messages list them.
    pub fn names() -> String {
        FIELDS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
    }

    /// The fields a schedule may set, in order.
    pub fn schedule_flags() -> impl Iterator<Item = &'static InputField> {
        FIELDS.iter().filter(|f| f.schedule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Frequency;

    #[test]
    fn request_frequencies_are_those_the_period_reads() {
        for name in FREQUENCIES {
            assert!(Frequency::parse(name).is_some(), "{name}");
        }
        let quoted: Vec<String> = FREQUENCIES.iter().map(|f| format!("\"{f}\"")).collect();
        assert_eq!(
            Frequency::ALLOWED,
            format!("{} or {}", quoted[..2].join(", "), quoted[2])
        );
    }

    #[test]
    fn request_field_names_and_flags_are_unique() {
        let mut names: Vec<&str> = FIELDS
            .iter()
            .flat_map(|f| std::iter::once(f.name).chain(f.aliases.iter().copied()))
            .collect();
        let mut flags: Vec<&str> = FIELDS
            .iter()
            .filter_map(|f| f.flag)
            .flat_map(|c| std::iter::once(c.long).chain(c.alias))
            .collect();
        for list in [&mut names, &mut flags] {
            let n = list.len();
            list.sort();
            list.dedup();
            assert_eq!(list.len(), n, "{list:?}");
        }
    }

    #[test]
    fn request_flags_set_distinct_options() {
        for f in FIELDS {
            if let FieldValue::Flag(member) = f.value {
                let mut o = Options::default();
                *member(&mut o) = true;
                let others = FIELDS.iter().filter(|g| {
                    matches!(g.value, FieldValue::Flag(m) if g.name != f.name && *m(&mut o.clone()))
                });
                assert_eq!(others.count(), 0, "{} shares its member", f.name);
            }
        }
    }
}
