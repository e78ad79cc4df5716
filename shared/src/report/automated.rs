//! Which requests came from a crawler or another automated client, by their
//! user agent: the patterns are data (`shared/data/automated-user-agents.json`,
//! with their sources and dates in `shared/data/SOURCE.md`), so the rule can
//! be read, tested independently and updated without touching the code.
//!
//! The rule: a request is automated when its user agent matches one of the
//! crawler patterns (search engines, SEO and AI crawlers, monitors) or one of
//! the HTTP-library patterns (curl, Wget, python-requests, Go's net/http,
//! ...). AWS's own SDKs and CLI are not in the list: they are how people and
//! their applications use a bucket on purpose, and the report shows them in
//! the top user agents instead. A request without a user agent is not
//! counted as automated.

use std::sync::OnceLock;

use regex::Regex;
use serde::Deserialize;

/// Where the rule comes from, for the report.
pub const RULE_SOURCE: &str = "user agent matches a crawler pattern of crawler-user-agents \
     (see shared/data/SOURCE.md) or an HTTP-library pattern of this project; AWS SDKs and CLI are \
     not counted";

/// The pattern list, as shipped.
pub const PATTERNS_JSON: &str = include_str!("../../data/automated-user-agents.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Patterns {
    crawlers: Vec<String>,
    http_libraries: Vec<String>,
}

/// One regular expression for every pattern: one scan per user agent.
fn rule() -> &'static Regex {
    static RULE: OnceLock<Regex> = OnceLock::new();
    RULE.get_or_init(|| {
        // Shipped with the binary and checked by a test: it cannot fail here.
        let p: Patterns = serde_json::from_str(PATTERNS_JSON).expect("the pattern list reads");
        let alternation = p
            .crawlers
            .iter()
            .chain(&p.http_libraries)
            .map(|pattern| format!("(?:{pattern})"))
            .collect::<Vec<_>>()
            .join("|");
        Regex::new(&alternation).expect("the patterns compile")
    })
}

/// Whether `user_agent` is a crawler's or another automated client's. The
/// tally asks once per distinct user agent (a month of logs has millions of
/// requests and a few thousand user agents).
pub fn is_automated(user_agent: &str) -> bool {
    rule().is_match(user_agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_patterns_compile_and_classify() {
        for bot in [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
            "curl/8.5.0",
            "Wget/1.21.4",
            "python-requests/2.32.3",
            "Go-http-client/1.1",
        ] {
            assert!(is_automated(bot), "{bot}");
        }
        for person in [
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
            "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0",
            "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.0",
            "S3Console/0.4",
        ] {
            assert!(!is_automated(person), "{person}");
        }
    }
}
