//! StartQuery Lambda: period -> Athena UNLOAD query started once.

s3la_lambdas::step_lambda!(StartQuery);
