//! SendReport Lambda: the period's report by email, through SES v2, or over
//! SMTP when SMTP_HOST is set; with a link to the csv.gz: a CloudFront signed
//! URL for a week when LINK_BASE_URL, LINK_KEY_PAIR_ID and
//! LINK_PRIVATE_KEY_SECRET are set (the key read from Secrets Manager once,
//! at start), else a presigned S3 URL that lives no longer than the role's
//! credentials (an hour when their expiry is unknown).

s3la_lambdas::step_lambda!(SendReport);
