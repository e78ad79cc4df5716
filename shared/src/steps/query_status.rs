//! QueryStatus: where the query is, in the terms the definition's Choice
//! needs, with what it scanned and cost. A failed or cancelled query is
//! reported with Athena's reason, not raised: the definition takes it back
//! to StartQuery, which fails the execution there so that a redrive runs the
//! query again (reading the same failed query id would only fail again).

use serde::{Deserialize, Serialize};

use crate::config::StatusConfig;
use crate::engine::{QueryEngine, QueryState};
use crate::error::StepError;

/// The step's input, as [`super::catalog::Step::run`] reads it from JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    query_execution_id: String,
    /// The redrive count StartQuery started the query in (echoed).
    #[serde(default)]
    started_in_redrive: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QueryStatusOutput {
    pub query_execution_id: String,
    /// `QUEUED`, `RUNNING`, `SUCCEEDED`, `FAILED` or `CANCELLED`.
    pub state: QueryState,
    /// Why the query failed or was cancelled, in the engine's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Athena's error category of a failed query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_category: Option<String>,
    /// The execution's redrive count when the query was started.
    #[serde(default)]
    pub started_in_redrive: u32,
    /// True once the data files and manifest are written.
    pub done: bool,
    pub data_scanned_bytes: u64,
    pub engine_execution_ms: u64,
    pub total_execution_ms: u64,
    /// Athena's charge for this query at list price (an estimate).
    pub estimated_cost_usd: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_location: Option<String>,
    /// Log lines the engine could not read, when it counts them (the
    /// embedded engine); MergeResults adds them to the report's count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed_lines: Option<u64>,
}

pub async fn query_status<E: QueryEngine>(
    input: Input,
    config: &StatusConfig,
    engine: &E,
) -> Result<QueryStatusOutput, StepError> {
    let Input {
        query_execution_id,
        started_in_redrive,
    } = input;
    let id_ok = (1..=128).contains(&query_execution_id.len())
        && query_execution_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !id_ok {
        return Err(StepError::invalid(
            "queryExecutionId",
            format!(
                "must be an Athena query execution id (1-128 letters, digits, '-' or '_'), got {:?}",
                query_execution_id
            ),
        ));
    }
    let info = engine.status(&query_execution_id).await?;
    let ended_badly = matches!(info.state, QueryState::Failed | QueryState::Cancelled);
    Ok(QueryStatusOutput {
        query_execution_id,
        state: info.state,
        reason: ended_badly.then(|| {
            info.reason
                .clone()
                .unwrap_or_else(|| "no reason given by the engine".to_string())
        }),
        error_category: info.error_category.filter(|_| ended_badly),
        started_in_redrive,
        done: info.state == QueryState::Succeeded,
        data_scanned_bytes: info.data_scanned_bytes,
        engine_execution_ms: info.engine_execution_ms,
        total_execution_ms: info.total_execution_ms,
        estimated_cost_usd: athena_cost_usd(info.data_scanned_bytes, config.price_per_tb_usd),
        manifest: info.manifest,
        output_location: info.output_location,
        malformed_lines: info.malformed_lines,
    })
}

/// Athena bills scanned data rounded up to the next megabyte, at least 10 MB
/// per query (binary units, as AWS bills them). Rounded to a micro-dollar.
pub fn athena_cost_usd(scanned_bytes: u64, price_per_tb_usd: f64) -> f64 {
    const MB: u64 = 1 << 20;
    let billed_mb = scanned_bytes.div_ceil(MB).max(10);
    let usd = billed_mb as f64 / (1u64 << 20) as f64 * price_per_tb_usd;
    (usd * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_has_a_ten_megabyte_minimum() {
        assert_eq!(athena_cost_usd(0, 5.0), 0.000048);
        assert_eq!(athena_cost_usd(10 << 20, 5.0), 0.000048);
        assert_eq!(
            athena_cost_usd((10 << 20) + 1, 5.0),
            athena_cost_usd(11 << 20, 5.0)
        );
        assert_eq!(athena_cost_usd(1 << 40, 5.0), 5.0);
        assert_eq!(athena_cost_usd(3 << 39, 5.0), 7.5);
    }
}
