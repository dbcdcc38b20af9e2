//! The catalogue's domain: organizations, projects and where their code and
//! data live, as plain Rust types that are valid once built.

mod enums;
pub mod files;
mod project;
mod values;

pub(crate) use enums::vocabulary;
pub use enums::{
    Access, Confidence, DataProvider, Forge, LinkKind, OrganizationKind, ParticipationRole,
    ProjectStatus, RepositoryRole, UseKind, UseSource,
};
pub use project::{
    Catalogue, CatalogueUse, CodeLink, DataLink, Organization, OtherLink, Participation, Project,
    Source,
};
pub use values::{HttpUrl, Label, Season, Siren, Siret, Slug, ValueError, folded};

/// Who a read is for: what a caller may see follows from it. The one word
/// for who is asking, from `auth::Principal::audience` to the cache key:
/// every place that treats audiences apart matches it exhaustively, so an
/// audience added here is handled everywhere before it compiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Anyone: public material only.
    Public,
    /// An authenticated public agent: public and agents-only material.
    Agents,
}

impl Audience {
    /// The access levels this audience may read.
    pub fn readable(self) -> &'static [Access] {
        match self {
            Audience::Public => &[Access::Public],
            Audience::Agents => &[Access::Public, Access::Agents],
        }
    }
}
