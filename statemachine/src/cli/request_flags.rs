//! The execution input's `s3la` flags, built from its one description
//! (`s3la_shared::request::fields`): each flag writes the field a schedule
//! would send, so the command line and the state machine validate requests
//! with the same code. The original tool's spellings work beside the
//! kebab-case ones: `--select_all` and `--select-all`.

use std::marker::PhantomData;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};
use s3la_shared::request::fields::{
    CliFlag, FIELDS, FREQUENCIES, FieldValue, FlagGroup, InputField,
};
use serde_json::{Map, Value, json};

/// The argument of every flag here, for `conflicts_with_all` on `--input`.
pub const INPUT_FLAGS: InputFlagIds = InputFlagIds;

/// The ids of every execution-input flag (each is its `long` name).
#[derive(Debug, Clone, Copy)]
pub struct InputFlagIds;

impl IntoIterator for InputFlagIds {
    type Item = &'static str;
    type IntoIter = Box<dyn Iterator<Item = &'static str>>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(FIELDS.iter().filter_map(|f| f.flag.map(|c| c.long)))
    }
}

/// Which of the fields' flag groups a [`Flags`] offers.
pub trait Group {
    const GROUP: FlagGroup;
}

/// Which period.
#[derive(Debug, Clone, Copy, Default)]
pub struct Period;
/// What the query selects.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query;
/// What happens after the query: cleanup and the email.
#[derive(Debug, Clone, Copy, Default)]
pub struct Action;

impl Group for Period {
    const GROUP: FlagGroup = FlagGroup::Period;
}
impl Group for Query {
    const GROUP: FlagGroup = FlagGroup::Query;
}
impl Group for Action {
    const GROUP: FlagGroup = FlagGroup::Action;
}

/// The flags of one group, as the execution-input fields they gave.
#[derive(Debug, Clone)]
pub struct Flags<G> {
    // Boxed: the command enums that hold three of these stay small (clippy's
    // large_enum_variant), as they were with a bool per flag.
    given: Box<Map<String, Value>>,
    group: PhantomData<G>,
}

impl<G> Default for Flags<G> {
    fn default() -> Self {
        Self {
            given: Box::default(),
            group: PhantomData,
        }
    }
}

pub type PeriodFlags = Flags<Period>;
pub type QueryFlags = Flags<Query>;
pub type ActionFlags = Flags<Action>;

impl<G: Group> Flags<G> {
    fn fields() -> impl Iterator<Item = (&'static InputField, CliFlag)> {
        FIELDS
            .iter()
            .filter_map(|f| f.flag.filter(|c| c.group == G::GROUP).map(|c| (f, c)))
    }

    /// Adds these flags to an execution input.
    pub fn write(&self, input: &mut Map<String, Value>) {
        input.extend(self.given.as_ref().clone());
    }
}

/// Every group: the execution input's flags, as `s3la run` and `s3la
/// executions start` take them.
#[derive(Debug, Clone, Default, Args)]
pub struct RequestFlags {
    #[command(flatten)]
    pub period: PeriodFlags,
    #[command(flatten)]
    pub query: QueryFlags,
    #[command(flatten)]
    pub actions: ActionFlags,
}

impl RequestFlags {
    /// The execution input these flags give.
    pub fn input(&self) -> Value {
        let mut input = Map::new();
        self.period.write(&mut input);
        self.query.write(&mut input);
        self.actions.write(&mut input);
        Value::Object(input)
    }
}

impl PeriodFlags {
    /// A custom range, as `--date_range START END` gives it.
    pub fn date_range(start: &str, end: &str) -> Self {
        let field = FIELDS
            .iter()
            .find(|f| matches!(f.value, FieldValue::DateRange))
            .expect("the fields have a date range");
        let mut flags = Self::default();
        flags.given.insert(field.name.into(), range(start, end));
        flags
    }
}

fn range(start: &str, end: &str) -> Value {
    json!({"start": start, "end": end})
}

/// `--help`'s line: the field's doc (Markdown's `code` as 'code') and its
/// default where leaving the flag out means more than "off".
fn help(field: &InputField) -> String {
    let doc = field.doc.replace('`', "'");
    match field.default {
        "false" | "none" => doc,
        default => format!("{doc} (default: {default})"),
    }
}

fn arg(field: &InputField, flag: CliFlag) -> Arg {
    let mut arg = Arg::new(flag.long).long(flag.long).help(help(field));
    if let Some(alias) = flag.alias {
        arg = arg.visible_alias(alias);
    }
    if let Some(short) = flag.short {
        arg = arg.short(short);
    }
    if flag.value_names.is_empty() {
        return arg.action(ArgAction::SetTrue);
    }
    arg = arg
        .action(ArgAction::Set)
        .num_args(flag.value_names.len())
        .value_names(flag.value_names);
    if let FieldValue::Frequency = field.value {
        // The parser refuses both; the command line says so before it runs.
        let ranges = FIELDS
            .iter()
            .filter(|f| matches!(f.value, FieldValue::DateRange))
            .filter_map(|f| f.flag.map(|c| c.long));
        arg = arg
            .value_parser(PossibleValuesParser::new(FREQUENCIES))
            .conflicts_with_all(ranges);
    }
    arg
}

/// The field's value as the flag gave it, if it was given.
fn given(field: &InputField, flag: CliFlag, matches: &ArgMatches) -> Option<Value> {
    match field.value {
        FieldValue::Flag(_) => matches.get_flag(flag.long).then(|| json!(true)),
        FieldValue::DateRange => {
            let days: Vec<&String> = matches.get_many::<String>(flag.long)?.collect();
            Some(range(days[0], days[1]))
        }
        FieldValue::Frequency | FieldValue::Instant | FieldValue::Note => {
            matches.get_one::<String>(flag.long).map(|v| json!(v))
        }
    }
}

impl<G: Group> Args for Flags<G> {
    fn augment_args(cmd: Command) -> Command {
        Self::fields().fold(cmd, |cmd, (field, flag)| cmd.arg(arg(field, flag)))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<G: Group> FromArgMatches for Flags<G> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = Self::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for (field, flag) in Self::fields() {
            if let Some(value) = given(field, flag, matches) {
                self.given.insert(field.name.into(), value);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The execution input a command with all three groups of flags sends.
    fn input(args: &[&str]) -> Result<Value, clap::Error> {
        let command = RequestFlags::augment_args(Command::new("t"));
        let matches =
            command.try_get_matches_from(std::iter::once("t").chain(args.iter().copied()))?;
        Ok(RequestFlags::from_arg_matches(&matches)?.input())
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

    #[test]
    fn every_flag_gives_an_input_the_parser_reads() {
        use s3la_shared::request::ExecutionRequest;
        let switches: Vec<String> = FIELDS
            .iter()
            .filter(|f| matches!(f.value, FieldValue::Flag(_)))
            .filter_map(|f| f.flag.map(|c| format!("--{}", c.long)))
            .collect();
        let mut args = vec!["--date_range", "2024-01-01", "2024-01-31"];
        args.extend(["--now", "2024-02-01T00:00:00Z"]);
        args.extend(switches.iter().map(String::as_str));
        let given = input(&args).unwrap();
        let request = ExecutionRequest::parse(&given).unwrap();
        for f in FIELDS {
            if let FieldValue::Flag(member) = f.value {
                assert!(*member(&mut request.options.clone()), "{}: {given}", f.name);
            }
        }
        assert_eq!(given.as_object().unwrap().len(), 2 + switches.len());
    }
}
