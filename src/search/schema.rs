//! The index's fields: searched text, and the dimensions hits are filtered
//! and counted by.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};

use super::analysis::{STEMMED, WORDS};
use crate::catalogue::Audience;

/// A dimension of the facets and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    Kind,
    Language,
    License,
    Forge,
    Organization,
    Tag,
    Season,
    Status,
    Access,
    /// What the link checks found: a project's worst checked link, a
    /// dataset's own URL.
    LinkHealth,
    /// The catalogue's organizations that use the project.
    UsedBy,
}

impl Dimension {
    pub const ALL: [Dimension; 11] = [
        Self::Kind,
        Self::Language,
        Self::License,
        Self::Forge,
        Self::Organization,
        Self::Tag,
        Self::Season,
        Self::Status,
        Self::Access,
        Self::LinkHealth,
        Self::UsedBy,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Kind => "kind",
            Self::Language => "language",
            Self::License => "license",
            Self::Forge => "forge",
            Self::Organization => "organization",
            Self::Tag => "tag",
            Self::Season => "season",
            Self::Status => "status",
            Self::Access => "access",
            Self::LinkHealth => "link_health",
            Self::UsedBy => "used_by",
        }
    }

    /// Whether a project takes this dimension from its repositories
    /// (language, licence, forge; status from a `publiccode.yml`) or its
    /// links (link health), or uses that may name agents-only ones (used
    /// by): then what the public sees of it must come from public
    /// repositories and links only.
    fn differs_by_audience(self) -> bool {
        matches!(
            self,
            Self::Language
                | Self::License
                | Self::Forge
                | Self::Status
                | Self::LinkHealth
                | Self::UsedBy
        )
    }
}

/// The two fields of one dimension as one audience reads it.
#[derive(Debug, Clone, Copy)]
pub struct DimensionFields {
    /// Indexed value (`GITHUB`, `insee`, `2`): what filters match.
    pub filter: Field,
    /// Fast column of `value` + [`LABEL_SEPARATOR`] + label: what facets count.
    pub facet: Field,
}

/// Separates a facet value from its label in the facet columns.
pub const LABEL_SEPARATOR: char = '\u{1f}';

#[derive(Debug, Clone)]
pub struct Fields {
    pub schema: Schema,
    /// `project:<id>` or `organization:<id>`: what a change replaces.
    pub subject: Field,
    /// Kind rank and id of the hit (see `documents::HitKey`), for identity and ties.
    pub key: Field,
    /// Effective access: `AGENTS` when the item or its project is agents-only.
    pub access: Field,
    pub name: Field,
    pub tags: Field,
    pub body: Field,
    /// The name of a repository's or dataset's project: searched, never shown.
    pub context: Field,
    pub name_words: Field,
    pub tags_words: Field,
    pub body_words: Field,
    /// By `Dimension as usize`: the fields agents read, then those the public reads.
    dimensions: Vec<(DimensionFields, DimensionFields)>,
}

fn stemmed_text() -> TextOptions {
    TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(STEMMED)
            .set_index_option(IndexRecordOption::WithFreqs),
    )
}

/// Accent- and case-folded words, unstemmed: what typo tolerance compares.
fn folded_words() -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::Basic),
    )
}

impl Fields {
    pub fn new() -> Self {
        let mut builder = Schema::builder();
        let subject = builder.add_text_field("subject", STRING);
        let key = builder.add_u64_field("key", INDEXED | FAST);
        let access = builder.add_text_field("access", STRING);
        let name = builder.add_text_field("name", stemmed_text());
        let tags = builder.add_text_field("tags", stemmed_text());
        let body = builder.add_text_field("body", stemmed_text());
        let context = builder.add_text_field(
            "context",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(STEMMED)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        );
        let name_words = builder.add_text_field("name_words", folded_words());
        let tags_words = builder.add_text_field("tags_words", folded_words());
        let body_words = builder.add_text_field("body_words", folded_words());
        let mut add_dimension = |prefix: &str, dimension: Dimension| DimensionFields {
            filter: builder.add_text_field(&format!("{prefix}filter_{}", dimension.name()), STRING),
            facet: builder.add_text_field(
                &format!("{prefix}facet_{}", dimension.name()),
                TextOptions::default().set_fast("raw"),
            ),
        };
        let dimensions = Dimension::ALL
            .iter()
            .map(|&dimension| {
                let all = add_dimension("", dimension);
                let public = if dimension.differs_by_audience() {
                    add_dimension("public_", dimension)
                } else {
                    all
                };
                (all, public)
            })
            .collect();
        Self {
            schema: builder.build(),
            subject,
            key,
            access,
            name,
            tags,
            body,
            context,
            name_words,
            tags_words,
            body_words,
            dimensions,
        }
    }

    /// The fields of `dimension` as `audience` reads it.
    pub fn dimension(&self, dimension: Dimension, audience: Audience) -> DimensionFields {
        let (all, public) = self.dimensions[dimension as usize];
        match audience {
            Audience::Public => public,
            Audience::Agents => all,
        }
    }
}
