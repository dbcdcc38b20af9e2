//! Which changes a webhook wants: some kinds, about some projects; empty
//! lists and absent ones want everything. Stored as
//! JSON, bounded in size when registered.

use serde::{Deserialize, Serialize};

use crate::store::{ChangeFilter, ChangeKind, ChangedSubject};

/// A webhook's filter, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFilter {
    /// The kinds wanted, spelled as stored (`PROJECT_UPDATED`…); none: all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<String>,
    /// The ids of the projects wanted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<i64>,
}

/// A stored filter this version cannot read.
#[derive(Debug, thiserror::Error)]
#[error("unreadable webhook filter: {0}")]
pub struct UnreadableFilter(String);

impl WebhookFilter {
    pub fn new(kinds: &[ChangeKind], projects: Vec<i64>) -> Self {
        Self {
            kinds: kinds.iter().map(|kind| kind.as_db().to_owned()).collect(),
            projects,
        }
    }

    /// The kinds wanted, those this version knows.
    pub fn kinds(&self) -> Vec<ChangeKind> {
        self.kinds
            .iter()
            .filter_map(|kind| ChangeKind::from_db(kind))
            .collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a filter serialises")
    }

    pub fn from_json(json: &str) -> Result<Self, UnreadableFilter> {
        serde_json::from_str(json).map_err(|e| UnreadableFilter(e.to_string()))
    }

    /// The journal's filter for the same changes.
    pub fn to_change_filter(&self) -> Result<ChangeFilter, UnreadableFilter> {
        let kinds = self
            .kinds
            .iter()
            .map(|kind| ChangeKind::from_db(kind).ok_or_else(|| UnreadableFilter(kind.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        let subjects: Vec<ChangedSubject> = self
            .projects
            .iter()
            .map(|id| ChangedSubject::Project(*id))
            .collect();
        Ok(ChangeFilter {
            kinds: (!kinds.is_empty()).then_some(kinds),
            subjects: (!subjects.is_empty()).then_some(subjects),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_round_trips_and_an_empty_one_wants_everything() {
        let filter = WebhookFilter::new(&[ChangeKind::ProjectArchived], vec![3]);
        let json = filter.to_json();
        assert_eq!(json, r#"{"kinds":["PROJECT_ARCHIVED"],"projects":[3]}"#);
        assert_eq!(WebhookFilter::from_json(&json).unwrap(), filter);
        let change_filter = filter.to_change_filter().unwrap();
        assert_eq!(change_filter.kinds, Some(vec![ChangeKind::ProjectArchived]));
        assert_eq!(
            change_filter.subjects,
            Some(vec![ChangedSubject::Project(3)])
        );
        assert_eq!(
            WebhookFilter::default().to_change_filter().unwrap(),
            ChangeFilter::default()
        );
        assert!(WebhookFilter::from_json(r#"{"colour":"red"}"#).is_err());
    }
}
