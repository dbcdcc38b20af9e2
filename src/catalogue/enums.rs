//! The closed vocabularies of the catalogue. Each has one spelling in the
//! catalogue files (kebab-case) and one in the database (SCREAMING_SNAKE_CASE);
//! the API exposes them through `graphql::schema::enums`.

/// Declares a closed set of words the gateway stores: an enum with the
/// spelling of each variant in the database. Other modules that store
/// words of their own declare them with it too.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $vis:vis $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $db:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
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
pub(crate) use vocabulary;

vocabulary! {
    /// Who may read a project or a link.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub Access {
        /// Anyone, without signing in.
        Public = "PUBLIC",
        /// Public agents signed in through ProConnect (or another trusted issuer).
        Agents = "AGENTS",
    }
}

vocabulary! {
    /// Where a project stands.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub ProjectStatus {
        /// Being built or improved.
        Active = "ACTIVE",
        /// Delivered; kept available but no longer developed.
        Completed = "COMPLETED",
        /// Stopped; kept for reference.
        Archived = "ARCHIVED",
    }
}

vocabulary! {
    /// How sure the catalogue is of a fact: an unsure one says why in its note.
    #[derive(serde::Deserialize, Default)]
    #[serde(rename_all = "kebab-case")]
    pub Confidence {
        /// Read in a source the entry lists.
        #[default]
        Confirmed = "CONFIRMED",
        /// Inferred or contradicted by another source; its note says why.
        Unsure = "UNSURE",
    }
}

vocabulary! {
    /// What kind of public body an organization is.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub OrganizationKind {
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
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub ParticipationRole {
        /// Leads or funds the project.
        Sponsor = "SPONSOR",
        /// Contributes people or use cases.
        Contributor = "CONTRIBUTOR",
    }
}

vocabulary! {
    /// The forge that hosts a code repository.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub Forge {
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
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub RepositoryRole {
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
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub DataProvider {
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
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub LinkKind {
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

    #[test]
    fn database_spellings_read_back() {
        for kind in [LinkKind::Website, LinkKind::ContainerImage, LinkKind::Other] {
            assert_eq!(LinkKind::from_db(kind.as_db()), Some(kind));
        }
        assert_eq!(Forge::from_db("SOURCEFORGE"), None);
    }

    #[test]
    fn catalogue_files_spell_words_in_kebab_case() {
        let kind: OrganizationKind = serde_yaml_ng::from_str("independent-authority").unwrap();
        assert_eq!(kind, OrganizationKind::IndependentAuthority);
    }
}

vocabulary! {
    /// How an organization uses a project.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    pub UseKind {
        /// Runs or uses it.
        User = "USER",
        /// Contributes back to it.
        Contributor = "CONTRIBUTOR",
        /// Answers other administrations' questions about it.
        Referent = "REFERENT",
        /// Runs an instance of it for others.
        Deploys = "DEPLOYS",
    }
}

vocabulary! {
    /// Where the fact that an organization uses a project comes from.
    pub UseSource {
        /// Declared by one of the organization's agents, signed in.
        Declared = "DECLARED",
        /// The `usedBy` list of the project's `publiccode.yml`.
        Publiccode = "PUBLICCODE",
        /// A reuse, on data.gouv.fr, of one of the project's datasets.
        DatagouvReuse = "DATAGOUV_REUSE",
        /// A catalogue file.
        Catalogue = "CATALOGUE",
    }
}
