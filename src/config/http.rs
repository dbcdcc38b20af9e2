//! The HTTP server's settings: where it listens and is reached, bounds on
//! requests and connections, CORS, caching headers for browsers, the address
//! rate limits see, and how logs are written.

use std::net::SocketAddr;

use serde::Deserialize;

use super::ConfigError;
use super::values::{address, bytes, flag, is_http_url, list, non_empty, origin, seconds, trimmed};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

fn log_format(value: &str) -> Result<LogFormat, String> {
    match value {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("`{value}` is neither `text` nor `json`")),
    }
}

section! {
    /// How the gateway serves HTTP.
    pub struct Http in http {
        /// Address to serve on; port 0 picks a free port.
        listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 8080)) => address,
        /// The gateway's public base URL: the `iss` and `aud` of the tokens it
        /// mints and the base of its sign-in URLs. Unset: `http://<listen address>`.
        public_url: Option<String> = None => non_empty,
        /// Largest request body accepted, in bytes.
        max_body_bytes: usize = 256 * 1024 => bytes,
        /// How long in-flight requests may take to finish after SIGTERM, in seconds.
        shutdown_grace_seconds: u64 = 20 => seconds,
        /// Time a client has to send a request's head (request line and
        /// headers) from its first byte (or from connecting), in seconds.
        header_read_timeout_seconds: u64 = 10 => seconds,
        /// Time a client has to send a request's body once its head has arrived, in seconds.
        body_read_timeout_seconds: u64 = 30 => seconds,
        /// How long a connection may wait for its next request, in seconds.
        keep_alive_timeout_seconds: u64 = 75 => seconds,
        /// Origins allowed to read the API from a browser: listed ones with
        /// credentials (cookies), `*` any other without.
        cors_origins: Vec<String> = vec!["*".to_owned()] => list,
        /// `max-age` of public answers to GET requests, for browsers and CDNs, in seconds.
        http_max_age_seconds: u64 = 60 => seconds,
        /// The gateway runs behind one reverse proxy that appends the client's
        /// address to `X-Forwarded-For`: rate limits use that address.
        trust_forwarded_for: bool = false => flag,
        log_format: LogFormat = LogFormat::Text => log_format,
        /// Slug of the organization that publishes the catalogue: the DCAT
        /// catalogue's `dct:publisher`.
        catalog_publisher: String = "dinum".to_owned() => trimmed,
    }
}

impl Http {
    /// The gateway's public base URL, without a trailing slash.
    pub fn public_url_or(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.public_url
            && !is_http_url(url)
        {
            return Err(ConfigError::Conflict(format!(
                "public_url `{url}` is not an http(s) URL"
            )));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::Conflict(format!(
                "max_body_bytes = {} leaves no room for a query; use at least 1024",
                self.max_body_bytes
            )));
        }
        if self.header_read_timeout_seconds == 0
            || self.body_read_timeout_seconds == 0
            || self.keep_alive_timeout_seconds == 0
        {
            return Err(ConfigError::Conflict(
                "header_read_timeout_seconds, body_read_timeout_seconds and keep_alive_timeout_seconds must be at least 1"
                    .into(),
            ));
        }
        for entry in self.cors_origins.iter().filter(|o| o.as_str() != "*") {
            if origin(entry).is_none() {
                return Err(ConfigError::Conflict(format!(
                    "cors_origins: `{entry}` is neither `*` nor an origin like https://portail.example.gouv.fr"
                )));
            }
        }
        Ok(())
    }
}
