//! What the docs and infra say about the execution input, rendered from
//! [`FIELDS`]. shared/tests/request_fields.rs checks the README's table, the
//! definition's `Comment` and infra/lib/execution-input.json against these,
//! and rewrites the table and the JSON when run with `S3LA_BLESS=1`.

use serde_json::{Value, json};

use super::fields::{FIELDS, FREQUENCIES, FieldValue, InputField};

/// How a field's values are written in the docs (Markdown).
fn shape(value: FieldValue) -> String {
    match value {
        FieldValue::Frequency => FREQUENCIES.map(|f| format!("`\"{f}\"`")).join(" \\| "),
        FieldValue::DateRange => "`{\"start\": \"YYYY-MM-DD\", \"end\": \"YYYY-MM-DD\"}`".into(),
        FieldValue::Flag(_) => "boolean".into(),
        FieldValue::Instant => "RFC 3339".into(),
        FieldValue::Note => "string".into(),
    }
}

/// `--date_range START END` (`--date-range`), `-v`, `--verbose`.
fn flag_text(field: &InputField) -> String {
    let Some(flag) = field.flag else {
        return String::new();
    };
    let mut text = format!("`--{}", flag.long);
    for v in flag.value_names {
        text.push_str(&format!(" {v}"));
    }
    text.push('`');
    if let Some(alias) = flag.alias {
        text.push_str(&format!(" (`--{alias}`)"));
    }
    if let Some(short) = flag.short {
        text = format!("`-{short}`, {text}");
    }
    text
}

/// The meaning column: what it does, then the rules its value follows.
pub fn meaning(field: &InputField) -> String {
    if field.limits.is_empty() {
        field.doc.to_string()
    } else {
        format!("{}; {}", field.doc, field.limits)
    }
}

/// The README's table of execution-input fields ("Execution input").
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| field | type | meaning | default | `s3la` flag | set by a schedule |\n\
         |---|---|---|---|---|---|\n",
    );
    for f in FIELDS {
        table.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            f.name,
            shape(f.value),
            meaning(f),
            f.default,
            flag_text(f),
            match f.value {
                FieldValue::Frequency => "always (its frequency)",
                _ if f.schedule => "yes",
                _ => "no",
            },
        ));
    }
    table
}

/// The sentence of the state machine definition's `Comment` that says what
/// input it takes.
pub fn definition_summary() -> String {
    let frequencies = FREQUENCIES.map(|f| format!("\"{f}\"")).join("|");
    let flags: Vec<&str> = FIELDS
        .iter()
        .filter(|f| matches!(f.value, FieldValue::Flag(_)))
        .map(|f| f.name)
        .collect();
    format!(
        "Input: {{\"frequency\": {frequencies}}} or {{\"dateRange\": {{\"start\", \"end\"}}}}, \
         plus the flags {} and an optional now.",
        flags.join(", ")
    )
}

/// infra/lib/execution-input.json: what the CDK app's `schedules` setting
/// accepts (infra/lib/config.ts reads it).
pub fn infra_json() -> String {
    let value: Value = json!({
        "generatedBy": "shared/src/request/fields.rs; regenerate with S3LA_BLESS=1 cargo test -p s3la-shared --test request_fields",
        "frequencies": FREQUENCIES,
        "scheduleFlags": InputField::schedule_flags().map(|f| f.name).collect::<Vec<_>>(),
    });
    format!("{:#}\n", value)
}
