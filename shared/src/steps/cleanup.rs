//! What both cleanup steps share: deleting a list of objects and saying
//! exactly what was deleted, or failing with the keys that were not.

use serde::{Deserialize, Serialize};

use crate::error::StepError;
use crate::location::Location;
use crate::storage::{ObjectMeta, ObjectStore};

/// What a cleanup step deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub deleted_objects: u64,
    pub deleted_bytes: u64,
}

/// Deletes `objects`; any key left undeleted fails the step, naming the
/// first few keys and why (a retry deletes the rest: deleting is idempotent).
pub async fn delete_all<S: ObjectStore>(
    store: &S,
    objects: &[ObjectMeta],
) -> Result<Deleted, StepError> {
    let locations: Vec<Location> = objects.iter().map(|o| o.location.clone()).collect();
    let report = store.delete(&locations).await?;
    if let Some(first) = report.failed.first() {
        let examples: Vec<String> = report
            .failed
            .iter()
            .take(3)
            .map(|f| format!("{} ({}: {})", f.uri, f.code, f.message))
            .collect();
        return Err(StepError::Storage {
            message: format!(
                "{} of {} objects were not deleted ({} was the first: {}); e.g. {}",
                report.failed.len(),
                objects.len(),
                first.uri,
                first.code,
                examples.join(", ")
            ),
        });
    }
    Ok(Deleted {
        deleted_objects: report.deleted,
        deleted_bytes: objects.iter().map(|o| o.size).sum(),
    })
}
