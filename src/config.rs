//! Typed configuration: defaults < TOML file named by `CATALOGUE_CONFIG` <
//! `CATALOGUE_*` environment variables. Unknown keys and variables are
//! refused, so a typo never silently falls back to a default.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything the gateway needs to run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to serve on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// `sqlite://…` (embedded default) or `postgres://…`.
    pub database_url: String,
    /// Directory of catalogue files loaded into an empty database at start;
    /// `None` to start empty.
    pub seed_dir: Option<PathBuf>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM, in seconds.
    pub shutdown_grace_seconds: u64,
    pub log_format: LogFormat,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://data/catalogue.db".to_owned(),
            seed_dir: Some(PathBuf::from("catalogue")),
            max_body_bytes: 256 * 1024,
            shutdown_grace_seconds: 20,
            log_format: LogFormat::Text,
        }
    }
}

/// Why the configuration was refused; each says how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("configuration file {path}: {message}")]
    BadFile { path: PathBuf, message: String },
    #[error("{variable}: {message}")]
    BadVariable { variable: String, message: String },
    #[error("{0}")]
    Conflict(String),
}

const PREFIX: &str = "CATALOGUE_";
/// The variable naming the TOML file; not itself a setting.
const FILE_VARIABLE: &str = "CATALOGUE_CONFIG";

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(std::env::vars().collect())
    }

    /// Reads the configuration from `vars` (the environment, or a test's own).
    pub fn from_vars(vars: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let mut config = match vars.get(FILE_VARIABLE) {
            Some(path) => Self::from_file(PathBuf::from(path))?,
            None => Self::default(),
        };
        for (name, value) in vars.iter().filter(|(name, _)| name.starts_with(PREFIX)) {
            if name != FILE_VARIABLE {
                config.set(name, value)?;
            }
        }
        config.check()?;
        Ok(config)
    }

    fn from_file(path: PathBuf) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Unreadable {
            path: path.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::BadFile {
            path,
            message: e.to_string(),
        })
    }

    fn set(&mut self, variable: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::BadVariable {
            variable: variable.to_owned(),
            message,
        };
        match &variable[PREFIX.len()..] {
            "LISTEN" => {
                self.listen = value.parse().map_err(|e| {
                    bad(format!(
                        "`{value}` is not an address like 127.0.0.1:8080 ({e})"
                    ))
                })?
            }
            "DATABASE_URL" => self.database_url = value.to_owned(),
            "SEED_DIR" => self.seed_dir = (!value.is_empty()).then(|| PathBuf::from(value)),
            "MAX_BODY_BYTES" => {
                self.max_body_bytes = value
                    .parse()
                    .map_err(|e| bad(format!("`{value}` is not a byte count ({e})")))?
            }
            "SHUTDOWN_GRACE_SECONDS" => {
                self.shutdown_grace_seconds = value
                    .parse()
                    .map_err(|e| bad(format!("`{value}` is not a number of seconds ({e})")))?
            }
            "LOG_FORMAT" => {
                self.log_format = match value {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    _ => return Err(bad(format!("`{value}` is neither `text` nor `json`"))),
                }
            }
            _ => {
                return Err(bad(format!(
                    "unknown setting; known: {FILE_VARIABLE}, CATALOGUE_LISTEN, CATALOGUE_DATABASE_URL, \
                     CATALOGUE_SEED_DIR, CATALOGUE_MAX_BODY_BYTES, CATALOGUE_SHUTDOWN_GRACE_SECONDS, CATALOGUE_LOG_FORMAT"
                )));
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        let url = self.database_url.as_str();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Conflict(format!(
                "database_url `{}` is neither sqlite://… nor postgres://…; set CATALOGUE_DATABASE_URL",
                redact_password(url)
            )));
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError::Conflict(format!(
                "max_body_bytes = {} leaves no room for a query; use at least 1024",
                self.max_body_bytes
            )));
        }
        Ok(())
    }
}

/// The URL with its password replaced, fit for messages and logs.
pub fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn environment_overrides_file_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nmax_body_bytes = 4096\n").unwrap();
        let config = Config::from_vars(vars(&[
            ("CATALOGUE_CONFIG", file.to_str().unwrap()),
            ("CATALOGUE_MAX_BODY_BYTES", "8192"),
            ("HOME", "/root"),
        ]))
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(config.max_body_bytes, 8192);
        assert_eq!(config.database_url, Config::default().database_url);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gateway.toml");
        std::fs::write(&file, "listne = \"0.0.0.0:9000\"\n").unwrap();
        let error =
            Config::from_vars(vars(&[("CATALOGUE_CONFIG", file.to_str().unwrap())])).unwrap_err();
        assert!(error.to_string().contains("listne"), "{error}");

        let error = Config::from_vars(vars(&[("CATALOGUE_LISTNE", "x")])).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("CATALOGUE_LISTNE: unknown setting"),
            "{error}"
        );

        let error = Config::from_vars(vars(&[("CATALOGUE_LISTEN", "localhost")])).unwrap_err();
        assert!(
            error.to_string().starts_with("CATALOGUE_LISTEN:"),
            "{error}"
        );

        let error = Config::from_vars(vars(&[("CATALOGUE_DATABASE_URL", "mysql://u:secret@h/db")]))
            .unwrap_err();
        assert!(!error.to_string().contains("secret"), "{error}");
    }
}
