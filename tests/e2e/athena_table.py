"""The columns of AWS's Athena table for S3 server access logs, written out
here (not read from s3la) so that tests check s3la against them."""

ATHENA_COLUMNS = [
    "bucketowner", "bucket_name", "requestdatetime", "remoteip", "requester", "requestid",
    "operation", "key", "request_uri", "httpstatus", "errorcode", "bytessent", "objectsize",
    "totaltime", "turnaroundtime", "referrer", "useragent", "versionid", "hostid", "sigv",
    "ciphersuite", "authtype", "endpoint", "tlsversion", "accesspointarn", "aclrequired",
    "sourceregion",
]
