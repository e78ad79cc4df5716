//! QueryStatus Lambda: query id -> state, data scanned, cost.

s3la_lambdas::step_lambda!(QueryStatus);
