//! The original tool's flags, turned into the execution input a schedule
//! would send, so the command line and the state machine validate requests
//! with the same code. Both spellings work: `--select_all` and `--select-all`.

use clap::Args;
use serde_json::{Map, Value, json};

/// Which period.
#[derive(Debug, Clone, Default, Args)]
pub struct PeriodFlags {
    /// The previous full period: Monday-Sunday week, calendar month or quarter (UTC).
    /// Without this or --date_range: monthly.
    #[arg(long, value_parser = ["weekly", "monthly", "quarterly"], conflicts_with = "date_range")]
    pub frequency: Option<String>,
    /// A custom range of days, both included (UTC).
    #[arg(long = "date_range", visible_alias = "date-range", num_args = 2,
          value_names = ["START", "END"])]
    pub date_range: Option<Vec<String>>,
    /// Compute the period as of this instant instead of now (RFC 3339, e.g. 2024-02-01T06:00:00Z).
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
}

/// What the query selects.
#[derive(Debug, Clone, Default, Args)]
pub struct QueryFlags {
    /// Every column of the table, raw, instead of the typed report columns.
    #[arg(long = "select_all", visible_alias = "select-all")]
    pub select_all: bool,
    /// Leave out bucket-level operations (key '-'), as the original tool did.
    #[arg(
        long = "exclude_bucket_operations",
        visible_alias = "exclude-bucket-operations"
    )]
    pub exclude_bucket_operations: bool,
    /// More detail in outputs (the SQL in StartQuery's output).
    #[arg(long, short)]
    pub verbose: bool,
}

/// What happens after the query: cleanup and the email.
#[derive(Debug, Clone, Default, Args)]
pub struct ActionFlags {
    /// Delete this query's staging data and metadata afterwards.
    #[arg(long = "remove_meta", visible_alias = "remove-meta")]
    pub remove_meta: bool,
    /// Delete the period's own log files once the outputs are verified.
    #[arg(long = "remove_original_logs", visible_alias = "remove-original-logs")]
    pub remove_original_logs: bool,
    /// Send the report by email.
    #[arg(long)]
    pub email: bool,
}

impl PeriodFlags {
    /// Adds these flags to an execution input.
    pub fn write(&self, input: &mut Map<String, Value>) {
        if let Some(f) = &self.frequency {
            input.insert("frequency".into(), json!(f));
        }
        if let Some([start, end]) = self.date_range.as_deref() {
            input.insert("dateRange".into(), json!({"start": start, "end": end}));
        }
        if let Some(now) = &self.now {
            input.insert("now".into(), json!(now));
        }
    }
}

impl QueryFlags {
    pub fn write(&self, input: &mut Map<String, Value>) {
        for (name, on) in [
            ("selectAll", self.select_all),
            ("excludeBucketOperations", self.exclude_bucket_operations),
            ("verbose", self.verbose),
        ] {
            if on {
                input.insert(name.into(), json!(true));
            }
        }
    }
}

impl ActionFlags {
    pub fn write(&self, input: &mut Map<String, Value>) {
        for (name, on) in [
            ("removeMeta", self.remove_meta),
            ("removeOriginalLogs", self.remove_original_logs),
            ("email", self.email),
        ] {
            if on {
                input.insert(name.into(), json!(true));
            }
        }
    }
}

/// The arguments of every flag above, for `conflicts_with_all` on `--input`.
pub const INPUT_FLAGS: [&str; 8] = [
    "frequency",
    "date_range",
    "now",
    "select_all",
    "exclude_bucket_operations",
    "remove_meta",
    "remove_original_logs",
    "email",
];

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        period: PeriodFlags,
        #[command(flatten)]
        query: QueryFlags,
        #[command(flatten)]
        actions: ActionFlags,
    }

    fn input(args: &[&str]) -> Result<Value, clap::Error> {
        let t = T::try_parse_from(std::iter::once("t").chain(args.iter().copied()))?;
        let mut m = Map::new();
        t.period.write(&mut m);
        t.query.write(&mut m);
        t.actions.write(&mut m);
        Ok(Value::Object(m))
    }

    #[test]
    fn both_spellings_map_to_the_execution_input() {
        assert_eq!(
            input(&["--date_range", "2024-01-01", "2024-01-31", "--select_all"]).unwrap(),
            json!({"dateRange": {"start": "2024-01-01", "end": "2024-01-31"}, "selectAll": true})
        );
        assert_eq!(
            input(&[
                "--date-range",
                "2024-01-01",
                "2024-01-31",
                "--select-all",
                "--verbose"
            ])
            .unwrap(),
            json!({"dateRange": {"start": "2024-01-01", "end": "2024-01-31"}, "selectAll": true, "verbose": true})
        );
        assert_eq!(
            input(&["--frequency", "weekly"]).unwrap(),
            json!({"frequency": "weekly"})
        );
        assert_eq!(
            input(&["--remove_meta", "--remove-original-logs", "--email"]).unwrap(),
            json!({"removeMeta": true, "removeOriginalLogs": true, "email": true})
        );
    }

    #[test]
    fn frequency_and_range_exclude_each_other() {
        let e = input(&[
            "--frequency",
            "weekly",
            "--date_range",
            "2024-01-01",
            "2024-01-02",
        ])
        .unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
        let e = input(&["--frequency", "daily"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
    }
}
