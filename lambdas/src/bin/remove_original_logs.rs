//! RemoveOriginalLogs Lambda: the period's own log objects, deleted after the
//! outputs are verified (never the whole prefix, never the slack days).

s3la_lambdas::step_lambda!(RemoveOriginalLogs);
