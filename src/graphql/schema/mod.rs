//! The GraphQL types: one file per type or root field group, with the
//! DataLoaders and paging they share.

pub(crate) mod audit;
pub(crate) mod changes;
pub(crate) mod enums;
pub(crate) mod federation;
pub(crate) mod guards;
pub(crate) mod harvest;
pub(crate) mod ids;
pub(crate) mod link_checks;
pub(crate) mod links;
pub(crate) mod loaders;
pub(crate) mod me;
pub(crate) mod mutations;
pub(crate) mod node;
pub(crate) mod organization;
pub(crate) mod paging;
pub(crate) mod project;
pub(crate) mod search;
pub(crate) mod uses;
pub(crate) mod webhooks;
