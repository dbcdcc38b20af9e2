//! Which changes a webhook wants: the journal's [`ChangeFilter`] (the one
//! the `changes` feed takes), stored as JSON and bounded in size when
//! registered. An absent list wants everything; an empty one (slugs the
//! owner cannot see) wants nothing, as in the feed.

use serde::{Deserialize, Serialize};

use crate::store::{ChangeFilter, ChangeKind, ChangedSubject};

/// A webhook's filter, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookFilter {
    /// The kinds wanted, spelled as stored (`PROJECT_UPDATED`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kinds: Option<Vec<String>>,
    /// The projects and organizations wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subjects: Option<Vec<Subject>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Subject {
    Project(i64),
    Organization(i64),
}

/// A stored filter this version cannot read.
#[derive(Debug, thiserror::Error)]
#[error("unreadable webhook filter: {0}")]
pub struct UnreadableFilter(String);

impl From<&ChangeFilter> for WebhookFilter {
    fn from(filter: &ChangeFilter) -> Self {
        Self {
            kinds: filter
                .kinds
                .as_ref()
                .map(|kinds| kinds.iter().map(|kind| kind.as_db().to_owned()).collect()),
            subjects: filter.subjects.as_ref().map(|subjects| {
                subjects
                    .iter()
                    .map(|subject| match *subject {
                        ChangedSubject::Project(id) => Subject::Project(id),
                        ChangedSubject::Organization(id) => Subject::Organization(id),
                    })
                    .collect()
            }),
        }
    }
}

impl WebhookFilter {
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
            .as_ref()
            .map(|kinds| {
                kinds
                    .iter()
                    .map(|kind| {
                        ChangeKind::from_db(kind).ok_or_else(|| UnreadableFilter(kind.clone()))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let subjects = self.subjects.as_ref().map(|subjects| {
            subjects
                .iter()
                .map(|subject| match *subject {
                    Subject::Project(id) => ChangedSubject::Project(id),
                    Subject::Organization(id) => ChangedSubject::Organization(id),
                })
                .collect()
        });
        Ok(ChangeFilter { kinds, subjects })
    }

    /// The ids of the projects it names.
    pub fn projects(&self) -> Vec<i64> {
        self.subject_ids(|subject| match subject {
            Subject::Project(id) => Some(id),
            Subject::Organization(_) => None,
        })
    }

    /// The ids of the organizations it names.
    pub fn organizations(&self) -> Vec<i64> {
        self.subject_ids(|subject| match subject {
            Subject::Organization(id) => Some(id),
            Subject::Project(_) => None,
        })
    }

    fn subject_ids(&self, id: fn(Subject) -> Option<i64>) -> Vec<i64> {
        self.subjects
            .iter()
            .flatten()
            .filter_map(|subject| id(*subject))
            .collect()
    }

    /// The kinds it wants, `None` for all.
    pub fn kinds(&self) -> Option<Vec<ChangeKind>> {
        self.kinds.as_ref().map(|kinds| {
            kinds
                .iter()
                .filter_map(|kind| ChangeKind::from_db(kind))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_round_trips_and_keeps_all_apart_from_none() {
        let wanted = ChangeFilter {
            kinds: Some(vec![ChangeKind::ProjectArchived]),
            subjects: Some(vec![
                ChangedSubject::Project(3),
                ChangedSubject::Organization(4),
            ]),
        };
        let filter = WebhookFilter::from(&wanted);
        let json = filter.to_json();
        assert_eq!(
            json,
            r#"{"kinds":["PROJECT_ARCHIVED"],"subjects":[{"project":3},{"organization":4}]}"#
        );
        assert_eq!(WebhookFilter::from_json(&json).unwrap(), filter);
        assert_eq!(filter.to_change_filter().unwrap(), wanted);
        assert_eq!(
            (filter.projects(), filter.organizations()),
            (vec![3], vec![4])
        );
        for kept in [
            ChangeFilter::default(),
            ChangeFilter {
                kinds: None,
                subjects: Some(Vec::new()),
            },
        ] {
            let json = WebhookFilter::from(&kept).to_json();
            let back = WebhookFilter::from_json(&json).unwrap();
            assert_eq!(back.to_change_filter().unwrap(), kept, "{json}");
        }
        assert!(WebhookFilter::from_json(r#"{"colour":"red"}"#).is_err());
    }
}
