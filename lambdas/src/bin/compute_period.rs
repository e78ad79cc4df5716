//! ComputePeriod Lambda: execution input -> period, options, execution.

s3la_lambdas::step_lambda!(ComputePeriod);
