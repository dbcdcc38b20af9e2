//! The closed vocabularies of the catalogue. Each has one spelling in the
//! catalogue files (kebab-case), one in the database and GraphQL
//! (SCREAMING_SNAKE_CASE).

/// Declares a catalogue vocabulary: a GraphQL enum, readable from YAML,
/// with its database spelling.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $db:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, serde::Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// The spelling stored in the database.
            pub const fn as_db(self) -> &'static str {
                match self {
                    $(Self::$variant => $db,)+
                }
            }

            /// Reads the database spelling back; `None` for a value this
            /// version does not know.
            pub fn from_db(value: &str) -> Option<Self> {
                match value {
                    $($db => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

vocabulary! {
    /// Who may read a project or a link.
    Access {
        /// Anyone, without signing in.
        Public = "PUBLIC",
        /// Public agents signed in through ProConnect (or another trusted issuer).
        Agents = "AGENTS",
    }
}

vocabulary! {
    /// Where a project stands.
    ProjectStatus {
        /// Being built or improved.
        Active = "ACTIVE",
        /// Delivered; kept available but no longer developed.
        Completed = "COMPLETED",
        /// Stopped; kept for reference.
        Archived = "ARCHIVED",
    }
}

vocabulary! {
    /// What kind of public body an organization is.
    OrganizationKind {
        /// A ministry.
        Ministry = "MINISTRY",
        /// A central or interministerial directorate (DINUM, INSEE, DITP, …).
        Directorate = "DIRECTORATE",
        /// A public agency or operator of the State (établissement public, …).
        Agency = "AGENCY",
        /// An independent public authority.
        IndependentAuthority = "INDEPENDENT_AUTHORITY",
        /// A parliamentary assembly.
        Parliament = "PARLIAMENT",
        /// A deconcentrated State service (préfecture de région, DREAL, …).
        DeconcentratedService = "DECONCENTRATED_SERVICE",
        /// Any other body.
        Other = "OTHER",
    }
}

vocabulary! {
    /// The part an organization plays in a project.
    ParticipationRole {
        /// Leads or funds the project.
        Sponsor = "SPONSOR",
        /// Contributes people or use cases.
        Contributor = "CONTRIBUTOR",
    }
}

vocabulary! {
    /// The forge that hosts a code repository.
    Forge {
        /// github.com.
        Github = "GITHUB",
        /// gitlab.com or a self-hosted GitLab instance.
        Gitlab = "GITLAB",
        /// Any other forge.
        Other = "OTHER",
    }
}

vocabulary! {
    /// What a repository is to its project.
    RepositoryRole {
        /// The project's own code.
        Main = "MAIN",
        /// A copy of the main repository kept in sync elsewhere.
        Mirror = "MIRROR",
        /// A companion repository (client in another language, website, …).
        Companion = "COMPANION",
        /// Code of an earlier project this one continues.
        Predecessor = "PREDECESSOR",
    }
}

vocabulary! {
    /// Who serves a dataset.
    DataProvider {
        /// The national open data portal, data.gouv.fr.
        DataGouv = "DATA_GOUV",
        /// An S3-compatible object store.
        ObjectStorage = "OBJECT_STORAGE",
        /// A web API.
        Api = "API",
        /// A file published at a URL.
        File = "FILE",
        /// Anything else.
        Other = "OTHER",
    }
}

vocabulary! {
    /// What another link points to.
    LinkKind {
        /// The project's own website or page.
        Website = "WEBSITE",
        /// Documentation.
        Documentation = "DOCUMENTATION",
        /// A running demonstration.
        Demo = "DEMO",
        /// A published package (PyPI, npm, …).
        Package = "PACKAGE",
        /// A container image.
        ContainerImage = "CONTAINER_IMAGE",
        /// A video.
        Video = "VIDEO",
        /// Presentation slides.
        Slides = "SLIDES",
        /// A discussion room (Tchap, …).
        Chat = "CHAT",
        /// A tool the project uses but does not develop.
        Tool = "TOOL",
        /// Anything else.
        Other = "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::resolver_utils::EnumType;

    #[test]
    fn database_spelling_matches_graphql_and_reads_back() {
        for item in LinkKind::items() {
            assert_eq!(item.value.as_db(), item.name);
            assert_eq!(LinkKind::from_db(item.name), Some(item.value));
        }
        assert_eq!(Forge::from_db("SOURCEFORGE"), None);
    }
}
