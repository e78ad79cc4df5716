//! What each figure means, shown under the report (HTML and text).

pub const TERMS: [(&str, &str); 19] = [
    (
        "Requests",
        "Every logged request whose time lies in the period (S3 delivers logs late: records delivered the day after are counted).",
    ),
    (
        "Interactions",
        "Requests other than PUT, POST and DELETE: reads, lists, HEADs.",
    ),
    (
        "Downloads",
        "Object GETs (REST or website endpoint) answered 200 or 206. A ranged download counts once per request.",
    ),
    ("Downloaded", "Bytes sent by those downloads."),
    (
        "Download sessions",
        "Downloads grouped per client IP and object: a new session starts when more than 8 hours passed since that IP's previous download of that object. A video watched with 40 range requests is 40 downloads and 1 session. The closest figure to 'how many times was it downloaded'.",
    ),
    (
        "Whole-object equivalents",
        "The bytes each download sent divided by the object's size, summed: 4 quarter ranges make 1 whole file. Downloads with no object size add nothing.",
    ),
    (
        "Automated clients",
        "Requests whose user agent matches a crawler pattern of the crawler-user-agents list or a known HTTP library (curl, Wget, python-requests...). AWS SDKs, the AWS CLI and the S3 console are not counted. The headline counts everyone; 'people only' leaves these out.",
    ),
    (
        "Distinct clients",
        "Client IP addresses that made at least one request that day.",
    ),
    (
        "Where the bytes went",
        "Bytes sent to CloudFront (its user agent, or its published address ranges) and to AWS addresses in the bucket's region are free; the rest went to the internet and is priced as transfer out. Addresses are AWS's published ranges shipped with this version, dated in report.json.",
    ),
    (
        "Who costs what",
        "Each requester's (IAM principal, or anonymous) and each top-level prefix's requests and internet transfer at list prices.",
    ),
    (
        "Across periods",
        "This period beside the twelve before it, from their report.json under the results path; a period without one is a gap, not a zero.",
    ),
    (
        "Unique IPs",
        "Distinct client IP addresses, over all requests; downloader IPs over downloads only.",
    ),
    (
        "Uploads",
        "Distinct keys written by PUT, POST, a completed multipart upload or a copy, answered 2xx. Uploaded bytes are the object sizes of PUTs, POSTs and multipart parts.",
    ),
    (
        "Countries",
        "The country of each download's IP, from the configured GeoIP database; 'unknown' when it has none.",
    ),
    (
        "Referrers",
        "The host of the Referer header, over all requests that sent one.",
    ),
    (
        "Anonymous",
        "Requests made without AWS credentials (the log's requester is '-').",
    ),
    (
        "Download time",
        "S3's total time of a download, first byte received to last byte sent, in milliseconds.",
    ),
    (
        "Security signals",
        "Requests signed with Signature Version 2, over TLS older than 1.2, anonymous writes that succeeded, requests that needed an ACL to be allowed, and 403 responses.",
    ),
    (
        "Estimated cost",
        "Request and transfer-out charges at S3 Standard list prices plus this report's Athena query: an estimate, not your bill. DELETE requests are free and lifecycle actions are not requests; both are listed, not priced.",
    ),
];
