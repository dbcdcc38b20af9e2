//! Typed configuration in sections (http, database, auth, proconnect, cache,
//! limits, execution, harvest, changes, webhooks): defaults < TOML file named by `CATALOGUE_CONFIG` <
//! `CATALOGUE_*` environment variables. Each section declares each of its
//! settings once, in a `section!` line: its field, type, default and how a
//! variable's text is read. The TOML key is the field's name, the variable
//! `CATALOGUE_` and the key in upper case, and the names refused as unknown
//! come from the same declarations, so a typo never silently falls back to a
//! default. Depends on nothing else of the crate.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Declares a section of the configuration: its struct, its defaults and
/// its [`Setting`]s, one line per setting:
///
/// ```text
/// /// What it is, in what unit.
/// field_name: Type = default => parser,
/// ```
///
/// `parser` reads the variable's text (`fn(&str) -> Result<Type, String>`,
/// the message naming what the value should be); without `=> parser` the
/// setting is read from the TOML file only. The TOML value is read with the
/// type's `Deserialize`.
macro_rules! section {
    (
        $(#[$section_meta:meta])*
        pub struct $section:ident in $path:ident {
            $(
                $(#[$meta:meta])*
                $field:ident: $ty:ty = $default:expr $(=> $parse:expr)?,
            )*
        }
    ) => {
        $(#[$section_meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $section {
            $( $(#[$meta])* pub $field: $ty, )*
        }

        impl Default for $section {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $section {
            /// This section's settings, as declared.
            pub(super) const SETTINGS: &'static [$crate::config::Setting] = &[$(
                $crate::config::Setting {
                    key: stringify!($field),
                    from_variable: section!(@variable $path $field $($parse)?),
                    from_file: |config, value| {
                        config.$path.$field = value
                            .try_into()
                            .map_err(|e: toml::de::Error| e.message().to_owned())?;
                        Ok(())
                    },
                },
            )*];
        }
    };
    (@variable $path:ident $field:ident) => {
        None
    };
    (@variable $path:ident $field:ident $parse:expr) => {
        Some(|config, value| {
            config.$path.$field = ($parse)(value)?;
            Ok(())
        })
    };
}

mod auth;
mod cache;
mod changes;
mod clients;
mod database;
mod execution;
mod harvest;
mod http;
mod limits;
mod proconnect;
mod values;
mod webhooks;

pub use auth::{Auth, IssuerConfig};
pub use cache::Cache;
pub use changes::Changes;
pub use clients::{AddressBlock, ClientConfig, ClientId, ClientKey, RateLimitedStatus};
pub use database::Database;
pub use execution::Execution;
pub use harvest::Harvest;
pub use http::{Http, LogFormat};
pub use limits::Limits;
pub use proconnect::{PROCONNECT_SCOPES, ProConnect};
pub use values::{EncryptionKey, Secret};
pub use webhooks::Webhooks;

/// Everything the gateway needs to run, section by section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub http: Http,
    pub database: Database,
    pub auth: Auth,
    pub proconnect: ProConnect,
    pub cache: Cache,
    pub limits: Limits,
    pub execution: Execution,
    pub harvest: Harvest,
    pub changes: Changes,
    pub webhooks: Webhooks,
}

/// Sets a setting from a variable's text; the message says what the value
/// should be.
type FromVariable = fn(&mut Config, &str) -> Result<(), String>;

/// One setting, as its section declares it.
pub struct Setting {
    /// Its key in the TOML file; its variable is `CATALOGUE_` and the key in
    /// upper case.
    pub key: &'static str,
    /// Sets it from a variable's text; `None` for a setting of the TOML file only.
    from_variable: Option<FromVariable>,
    /// Sets it from a TOML value.
    from_file: fn(&mut Config, toml::Value) -> Result<(), String>,
}

impl Setting {
    /// Its environment variable, unless the TOML file alone sets it.
    pub fn variable(&self) -> Option<String> {
        self.from_variable
            .map(|_| format!("{PREFIX}{}", self.key.to_ascii_uppercase()))
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
    /// Every setting, section by section.
    pub fn settings() -> impl Iterator<Item = &'static Setting> {
        [
            Http::SETTINGS,
            Database::SETTINGS,
            Auth::SETTINGS,
            ProConnect::SETTINGS,
            Cache::SETTINGS,
            Limits::SETTINGS,
            Execution::SETTINGS,
            Harvest::SETTINGS,
            Changes::SETTINGS,
            Webhooks::SETTINGS,
        ]
        .into_iter()
        .flatten()
    }

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
        let bad = |message: String| ConfigError::BadFile {
            path: path.clone(),
            message,
        };
        let table: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let mut config = Self::default();
        for (key, value) in table {
            let Some(setting) = Self::settings().find(|setting| setting.key == key) else {
                let known: Vec<&str> = Self::settings().map(|setting| setting.key).collect();
                return Err(bad(format!(
                    "unknown key `{key}`; known: {}",
                    known.join(", ")
                )));
            };
            (setting.from_file)(&mut config, value)
                .map_err(|message| bad(format!("{key}: {message}")))?;
        }
        Ok(config)
    }

    fn set(&mut self, variable: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::BadVariable {
            variable: variable.to_owned(),
            message,
        };
        let from_variable = Self::settings()
            .find(|setting| setting.variable().as_deref() == Some(variable))
            .and_then(|setting| setting.from_variable);
        match from_variable {
            Some(from_variable) => from_variable(self, value).map_err(bad),
            None => {
                let known: Vec<String> = std::iter::once(FILE_VARIABLE.to_owned())
                    .chain(Self::settings().filter_map(Setting::variable))
                    .collect();
                Err(bad(format!("unknown setting; known: {}", known.join(", "))))
            }
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.http.check()?;
        self.database.check()?;
        self.auth.check()?;
        self.proconnect.check()?;
        self.cache.check()?;
        self.limits.check()?;
        self.harvest.check()?;
        self.changes.check()?;
        self.webhooks.check()
    }
}

#[cfg(test)]
mod tests;
