//! The journal of changes' settings: how long other tools may take between
//! two reads of the feed, and what a subscriber may hold.

use super::ConfigError;
use super::values::{count, days, milliseconds};

section! {
    /// The journal of changes and the feeds served from it.
    pub struct Changes in changes {
        /// Days a change stays in the journal; a tool whose cursor is older
        /// must read the lists again.
        changes_retention_days: u32 = 30 => days,
        /// How often each replica reads the journal for its subscribers, in
        /// milliseconds: the longest wait before a change reaches them.
        changes_poll_milliseconds: u64 = 500 => milliseconds,
        /// Subscriptions one client (configured client, agent or address)
        /// may hold at once on one replica.
        subscriptions_per_client: usize = 20 => count,
        /// Changes a replica keeps for its slowest subscriber; a subscriber
        /// further behind is ended with an error and resumes from its cursor.
        subscription_buffer: usize = 1024 => count,
    }
}

impl Changes {
    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if self.changes_retention_days == 0 {
            return Err(ConfigError::Conflict(
                "changes_retention_days is 0: replicas could not follow the journal; set CATALOGUE_CHANGES_RETENTION_DAYS to 1 or more".to_owned(),
            ));
        }
        for (name, value) in [
            ("changes_poll_milliseconds", self.changes_poll_milliseconds),
            (
                "subscriptions_per_client",
                self.subscriptions_per_client as u64,
            ),
            ("subscription_buffer", self.subscription_buffer as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Conflict(format!(
                    "{name} is 0; set CATALOGUE_{} to 1 or more",
                    name.to_ascii_uppercase()
                )));
            }
        }
        Ok(())
    }
}
