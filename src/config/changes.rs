//! The journal of changes' settings: how long other tools may take between
//! two reads of the feed.

use super::ConfigError;
use super::values::days;

section! {
    /// The journal of changes and the feeds served from it.
    pub struct Changes in changes {
        /// Days a change stays in the journal; a tool whose cursor is older
        /// must read the lists again.
        changes_retention_days: u32 = 30 => days,
    }
}

impl Changes {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.changes_retention_days == 0 {
            return Err(ConfigError::Conflict(
                "changes_retention_days is 0: replicas could not follow the journal; set CATALOGUE_CHANGES_RETENTION_DAYS to 1 or more".to_owned(),
            ));
        }
        Ok(())
    }
}
