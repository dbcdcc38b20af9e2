//! The standard formats other catalogues read, written from the answers of
//! fixed GraphQL documents (each format's document is beside its writer):
//! CSV for spreadsheets, schema.org JSON-LD for search engines,
//! publiccode.yml drafts for code.gouv.fr and Developers Italia, DCAT-AP
//! (JSON-LD and Turtle) for data.gouv.fr. Nothing here reads the database:
//! every fact is one GraphQL states, so each format says what GraphQL says.

pub mod csv;
pub mod dcat;
pub mod licences;
pub mod publiccode;
pub mod rdf;
pub mod schema_org;
