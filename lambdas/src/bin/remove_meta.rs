//! RemoveMeta Lambda: this query's staging data, Athena metadata and
//! manifest, deleted — nothing else.

s3la_lambdas::step_lambda!(RemoveMeta);
