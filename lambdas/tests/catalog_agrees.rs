//! The step catalog (`s3la_shared::steps::catalog`) against the files that
//! name the steps outside Rust: the Lambda binaries here, the CDK's list of
//! functions and the definition's Task resources. A step added, renamed or
//! removed in one place and not the others fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use s3la_shared::steps::catalog::CATALOG;

fn repo_file(relative: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    (path, text)
}

fn catalog_pairs() -> BTreeSet<(String, String)> {
    CATALOG
        .iter()
        .map(|d| (d.name.to_string(), d.binary.to_string()))
        .collect()
}

/// `  Name: 'binary',` lines between `export const STEPS = {` and `}`.
#[test]
fn the_cdk_builds_one_function_per_step_from_its_binary() {
    let (path, ts) = repo_file("infra/lib/pipeline-functions.ts");
    let body = ts
        .split_once("export const STEPS = {")
        .and_then(|(_, rest)| rest.split_once('}'))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("{} has no `export const STEPS = {{...}}`", path.display()));
    let listed: BTreeSet<(String, String)> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("//"))
        .map(|l| {
            let (name, binary) = l
                .trim_end_matches(',')
                .split_once(':')
                .unwrap_or_else(|| panic!("unexpected line in STEPS: {l}"));
            (
                name.trim().to_string(),
                binary.trim().trim_matches('\'').to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        catalog_pairs(),
        "{}'s STEPS and the step catalog disagree",
        path.display()
    );
}

#[test]
fn each_step_has_its_lambda_binary_and_no_other_binary_exists() {
    let (_, manifest) = repo_file("lambdas/Cargo.toml");
    let mut bins = BTreeSet::new();
    for block in manifest.split("[[bin]]").skip(1) {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| {
                    l.strip_prefix(key)?
                        .trim()
                        .strip_prefix('=')?
                        .trim()
                        .strip_prefix('"')?
                        .strip_suffix('"')
                })
                .unwrap_or_else(|| panic!("a [[bin]] without {key}: {block}"))
                .to_string()
        };
        bins.insert((field("name"), field("path")));
    }
    let expected: BTreeSet<(String, String)> = CATALOG
        .iter()
        .map(|d| {
            let path = format!("src/bin/{}.rs", d.binary.replace('-', "_"));
            (d.binary.to_string(), path)
        })
        .collect();
    assert_eq!(
        bins, expected,
        "lambdas/Cargo.toml's [[bin]]s and the step catalog disagree"
    );
    for d in &CATALOG {
        let (path, main) = repo_file(&format!(
            "lambdas/src/bin/{}.rs",
            d.binary.replace('-', "_")
        ));
        assert!(
            main.contains(&format!("step_lambda!({});", d.name)),
            "{} does not serve the {} step",
            path.display(),
            d.name
        );
    }
}

/// Every Task's `"Resource": "${<Name>FunctionArn}"`, and no other
/// `FunctionArn` substitution.
#[test]
fn the_definitions_tasks_are_the_catalogs_steps() {
    let (path, definition) = repo_file("statemachine/definition/s3la.asl.json");
    let named: BTreeSet<String> = definition
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}')?.0.strip_suffix("FunctionArn"))
        .map(str::to_string)
        .collect();
    let expected: BTreeSet<String> = CATALOG.iter().map(|d| d.name.to_string()).collect();
    assert_eq!(
        named,
        expected,
        "{}'s ${{<Step>FunctionArn}} and the step catalog disagree",
        path.display()
    );
}
