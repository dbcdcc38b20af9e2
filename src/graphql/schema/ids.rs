//! Global object ids (Relay `Node`): opaque to clients, they name a type and
//! a row, e.g. `Project:12` in unpadded URL-safe base64.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::graphql::execution::errors::bad_input;

/// The object types that have a global id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeType {
    Project,
    Organization,
    Repository,
    Dataset,
    Link,
    /// An organization's use of a project: not a `Node`, reached through
    /// its project or organization.
    Use,
    /// Not a `Node`: a webhook is read by its owner only.
    Webhook,
}

impl NodeType {
    fn name(self) -> &'static str {
        match self {
            Self::Project => "Project",
            Self::Organization => "Organization",
            Self::Repository => "Repository",
            Self::Dataset => "Dataset",
            Self::Link => "Link",
            Self::Use => "Use",
            Self::Webhook => "Webhook",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [
            Self::Project,
            Self::Organization,
            Self::Repository,
            Self::Dataset,
            Self::Link,
            Self::Use,
            Self::Webhook,
        ]
        .into_iter()
        .find(|t| t.name() == name)
    }
}

pub fn global_id(node_type: NodeType, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", node_type.name())))
}

/// Reads a global id back; a malformed one is the caller's error.
pub fn parse_global_id(id: &ID) -> async_graphql::Result<(NodeType, i64)> {
    let decoded = URL_SAFE_NO_PAD
        .decode(id.as_str())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    decoded
        .as_deref()
        .and_then(|text| text.split_once(':'))
        .and_then(|(name, number)| Some((NodeType::from_name(name)?, number.parse().ok()?)))
        .ok_or_else(|| bad_input(format!("`{}` is not an id of this API", id.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = global_id(NodeType::Dataset, 42);
        assert_eq!(parse_global_id(&id).unwrap(), (NodeType::Dataset, 42));
        for bad in ["", "not base64!", "UHJvamVjdA", "VXNlcjox"] {
            assert!(parse_global_id(&ID::from(bad)).is_err(), "{bad} accepted");
        }
    }
}
