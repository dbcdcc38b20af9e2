//! The harvest's settings: the upstream services and the only hosts it may
//! ask, their tokens, bounds on its requests and how often it runs, and the
//! link checks that run with it.

use super::ConfigError;
use super::values::{
    Secret, bytes, count, flag, is_http_url, list, origin, seconds, secret, trimmed,
};

section! {
    /// The harvester.
    pub struct Harvest in harvest {
        /// GitHub's REST API.
        github_api_url: String = "https://api.github.com".to_owned() => trimmed,
        /// gitlab.com's API v4.
        gitlab_api_url: String = "https://gitlab.com/api/v4".to_owned() => trimmed,
        /// Base URLs (`scheme://host[:port]`) of the self-hosted GitLab instances
        /// the harvest may ask (at `<url>/api/v4`); no other host is taken for a GitLab.
        gitlab_instances: Vec<String> = Vec::new() => list,
        /// data.gouv.fr (its API is under `/api/1`).
        datagouv_api_url: String = "https://www.data.gouv.fr".to_owned() => trimmed,
        /// PyPI (its JSON API is under `/pypi`).
        pypi_url: String = "https://pypi.org".to_owned() => trimmed,
        /// A GitHub token, for a higher rate limit.
        github_token: Option<Secret> = None => secret,
        /// A GitLab token.
        gitlab_token: Option<Secret> = None => secret,
        /// Requests at once to one upstream host.
        harvest_concurrency_per_host: usize = 4 => count,
        /// Time an upstream request may take, in seconds.
        harvest_timeout_seconds: u64 = 10 => seconds,
        /// Longest wait a rate limit may impose before a link is deferred, in seconds.
        harvest_max_wait_seconds: u64 = 30 => seconds,
        /// Largest upstream answer read, in bytes; a larger one fails its link.
        harvest_max_body_bytes: u64 = 8 * 1024 * 1024 => bytes,
        /// Pages of data.gouv.fr reuses read per dataset (20 reuses a page);
        /// the reuses beyond are not harvested.
        datagouv_reuse_pages: usize = 10 => count,
        /// Organizations read from one `publiccode.yml`'s `usedBy`; those beyond are not harvested.
        publiccode_used_by_max: usize = 100 => count,
        /// How often `serve` harvests, in seconds (with up to 10% jitter); 0: never.
        harvest_interval_seconds: u64 = 6 * 3600 => seconds,
        /// Whether each harvest also checks that the catalogue's links answer.
        check_links: bool = true => flag,
        /// Checks in a row a link must fail to be flagged dead.
        link_check_dead_after: u32 = 3 => count,
        /// Origins (`scheme://host[:port]`) link checks reach as written, private
        /// addresses included; every other URL only at a public address.
        link_check_trusted_origins: Vec<String> = Vec::new() => list,
    }
}

impl Harvest {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        for (name, url) in [
            ("github_api_url", &self.github_api_url),
            ("gitlab_api_url", &self.gitlab_api_url),
            ("datagouv_api_url", &self.datagouv_api_url),
            ("pypi_url", &self.pypi_url),
        ] {
            if !is_http_url(url) {
                return Err(ConfigError::Conflict(format!(
                    "{name} `{url}` is not an http(s) URL"
                )));
            }
        }
        self.check_gitlab_instances()?;
        self.check_link_check_settings()?;
        if self.harvest_max_body_bytes < 1024 {
            return Err(ConfigError::Conflict(format!(
                "harvest_max_body_bytes = {} leaves no room for an upstream answer; use at least 1024",
                self.harvest_max_body_bytes
            )));
        }
        Ok(())
    }

    fn check_link_check_settings(&self) -> Result<(), ConfigError> {
        if self.link_check_dead_after == 0 {
            return Err(ConfigError::Conflict(
                "link_check_dead_after = 0 would call every link dead; use at least 1".to_owned(),
            ));
        }
        for trusted in &self.link_check_trusted_origins {
            if origin(trusted).is_none() {
                return Err(ConfigError::Conflict(format!(
                    "link_check_trusted_origins: `{trusted}` is not an origin like https://intranet.example.gouv.fr (scheme, host and optional port; no path)"
                )));
            }
        }
        Ok(())
    }

    /// Each named GitLab instance is a base URL, named once: links are matched
    /// to it by host (and port, when it names one), and its API read below it.
    fn check_gitlab_instances(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::HashSet::new();
        for instance in &self.gitlab_instances {
            let Some(url) = origin(instance) else {
                return Err(ConfigError::Conflict(format!(
                    "gitlab_instances: `{instance}` is not a base URL like https://gitlab.example.gouv.fr (scheme, host and optional port; no path)"
                )));
            };
            if !seen.insert((url.host_str().map(str::to_owned), url.port())) {
                return Err(ConfigError::Conflict(format!(
                    "gitlab_instances: `{instance}` is named twice"
                )));
            }
        }
        Ok(())
    }
}
