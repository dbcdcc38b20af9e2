//! sea-orm entities: one module per table, the shape of the rows and nothing more.

pub mod audit_entry;
pub mod catalogue_change;
pub mod catalogue_revision;
pub mod dataset;
pub mod harvest_lease;
pub mod harvest_result;
pub mod link;
pub mod link_check;
pub mod organization;
pub mod organization_source;
pub mod person_binding;
pub mod project;
pub mod project_maintainer;
pub mod project_organization;
pub mod project_season;
pub mod project_source;
pub mod project_tag;
pub mod project_use;
pub mod repository;
pub mod signin_attempt;
pub mod signing_key;
pub mod tag;
pub mod webhook;
pub mod webhook_delivery;
