//! Every copy of the execution input's description outside the code agrees
//! with shared/src/request/fields.rs: the README's table, the definition's
//! `Comment`, infra/README.md's lists and infra/lib/execution-input.json.
//! `S3LA_BLESS=1` rewrites the two generated ones (the JSON and the table).

use std::path::PathBuf;

use s3la_shared::request::docs;
use s3la_shared::request::fields::{FIELDS, FieldValue, InputField};

const REGENERATE: &str = "S3LA_BLESS=1 cargo test -p s3la-shared --test request_fields";

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bless() -> bool {
    std::env::var_os("S3LA_BLESS").is_some()
}

/// Compares a generated file with its expected text, or rewrites it when blessing.
fn generated(path: &str, current: &str, expected: &str) {
    if current == expected {
        return;
    }
    if bless() {
        std::fs::write(repo(path), expected).unwrap_or_else(|e| panic!("{path}: {e}"));
        return;
    }
    panic!(
        "{path} is stale: it no longer matches shared/src/request/fields.rs.\n\
         Regenerate it with: {REGENERATE}\n--- expected:\n{expected}\n--- found:\n{current}"
    );
}

#[test]
fn request_infra_json_is_generated_from_the_fields() {
    let path = "infra/lib/execution-input.json";
    let current = std::fs::read_to_string(repo(path)).unwrap_or_default();
    generated(path, &current, &docs::infra_json());
}

#[test]
fn request_readme_table_is_generated_from_the_fields() {
    let readme = read("README.md");
    let section = readme
        .find("### Execution input")
        .expect("README.md has an \"Execution input\" section");
    let start = section + readme[section..].find("\n| field |").expect("with a table") + 1;
    let len: usize = readme[start..]
        .split_inclusive('\n')
        .take_while(|line| line.starts_with('|'))
        .map(str::len)
        .sum();
    let expected = format!(
        "{}{}{}",
        &readme[..start],
        docs::markdown_table(),
        &readme[start + len..]
    );
    generated("README.md", &readme, &expected);
}

#[test]
fn request_definition_comment_says_what_the_input_takes() {
    let definition: serde_json::Value =
        serde_json::from_str(&read("statemachine/definition/s3la.asl.json")).unwrap();
    let comment = definition["Comment"].as_str().unwrap();
    let summary = docs::definition_summary();
    assert!(
        comment.contains(&summary),
        "statemachine/definition/s3la.asl.json's Comment should say, as \
         shared/src/request/fields.rs describes:\n{summary}\nit says:\n{comment}"
    );
}

#[test]
fn request_infra_readme_names_the_fields() {
    let readme = read("infra/README.md");
    let schedules = readme
        .lines()
        .find(|l| l.starts_with("| `schedules` |"))
        .expect("infra/README.md has a schedules row");
    let flags: Vec<String> = InputField::schedule_flags()
        .map(|f| format!("`{}`", f.name))
        .collect();
    assert!(
        schedules.contains(&format!("the execution flags {};", flags.join(", "))),
        "infra/README.md's schedules row should list the execution flags {flags:?}: {schedules}"
    );
    let unwrapped = readme.replace('\n', " ");
    let fields: Vec<String> = FIELDS
        .iter()
        .filter(|f| !matches!(f.value, FieldValue::Note))
        .map(|f| format!("`{}`", f.name))
        .collect();
    assert!(
        unwrapped.contains(&format!("The input fields ({})", fields.join(", "))),
        "infra/README.md should list the input fields {fields:?}"
    );
}
