//! What each figure means, shown under the report (HTML and text).

pub const TERMS: [(&str, &str); 12] = [
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
        "Request and transfer-out charges at S3 Standard list prices plus this report's Athena query: an estimate, not your bill.",
    ),
];
