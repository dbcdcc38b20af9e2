//! The index's documents: one per project, repository, dataset and
//! organization, with the text that is searched and the values facets count.

use std::collections::HashSet;

use tantivy::TantivyDocument;
use tantivy::schema::Field;

use super::schema::{Dimension, Fields, LABEL_SEPARATOR};
use crate::catalogue::{Access, Audience, RepositoryRole};
use crate::facts::{
    DatasetFacts, LinkCheckStatus, PublicCode, RepositoryFacts, checks_dataset, checks_link,
};
use crate::store::{OrganizationRecord, ProjectBundle, RepositoryRecord};

/// What a hit is. The order is the order of hits whose scores tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HitKind {
    Project = 0,
    Organization = 1,
    Repository = 2,
    Dataset = 3,
}

impl HitKind {
    pub const fn as_value(self) -> &'static str {
        match self {
            Self::Project => "PROJECT",
            Self::Organization => "ORGANIZATION",
            Self::Repository => "REPOSITORY",
            Self::Dataset => "DATASET",
        }
    }
}

/// A hit's identity packed in one `u64`: kind in the top byte, id below.
/// Ties in score are broken by it, so every replica orders hits alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HitKey(pub u64);

const ID_BITS: u32 = 56;

impl HitKey {
    pub fn new(kind: HitKind, id: i64) -> Self {
        let id = u64::try_from(id).unwrap_or(0) & ((1 << ID_BITS) - 1);
        Self(((kind as u64) << ID_BITS) | id)
    }

    pub fn kind(self) -> HitKind {
        match self.0 >> ID_BITS {
            0 => HitKind::Project,
            1 => HitKind::Organization,
            2 => HitKind::Repository,
            _ => HitKind::Dataset,
        }
    }

    pub fn id(self) -> i64 {
        i64::try_from(self.0 & ((1 << ID_BITS) - 1)).unwrap_or_default()
    }
}

/// The subject term of a project's documents (itself, its repositories and datasets).
pub fn project_subject(id: i64) -> String {
    format!("project:{id}")
}

pub fn organization_subject(id: i64) -> String {
    format!("organization:{id}")
}

/// One document being put together.
struct Draft<'a> {
    fields: &'a Fields,
    doc: TantivyDocument,
    /// Facet values already added: a document counts once per value.
    values: HashSet<(Field, String)>,
}

impl<'a> Draft<'a> {
    fn new(fields: &'a Fields, kind: HitKind, id: i64, subject: &str, access: Access) -> Self {
        let mut doc = TantivyDocument::default();
        doc.add_text(fields.subject, subject);
        doc.add_u64(fields.key, HitKey::new(kind, id).0);
        doc.add_text(fields.access, access.as_db());
        let mut draft = Self {
            fields,
            doc,
            values: HashSet::new(),
        };
        draft.value(Dimension::Kind, kind.as_value(), kind.as_value());
        draft.value(Dimension::Access, access.as_db(), access.as_db());
        draft
    }

    /// Searched text: `name` counts most, then `tags`, then `body`, then `context`.
    fn text(&mut self, weight: TextWeight, text: &str) {
        if text.trim().is_empty() {
            return;
        }
        let (stemmed, words) = match weight {
            TextWeight::Name => (self.fields.name, Some(self.fields.name_words)),
            TextWeight::Tags => (self.fields.tags, Some(self.fields.tags_words)),
            TextWeight::Body => (self.fields.body, Some(self.fields.body_words)),
            TextWeight::Context => (self.fields.context, None),
        };
        self.doc.add_text(stemmed, text);
        if let Some(words) = words {
            self.doc.add_text(words, text);
        }
    }

    /// A value of `dimension` that everyone who reads the document sees.
    fn value(&mut self, dimension: Dimension, value: &str, label: &str) {
        self.value_for(dimension, value, label, Audience::Public);
        let agents = self.fields.dimension(dimension, Audience::Agents);
        if agents.filter != self.fields.dimension(dimension, Audience::Public).filter {
            self.value_for(dimension, value, label, Audience::Agents);
        }
    }

    /// A value of `dimension` as `audience` reads it.
    fn value_for(&mut self, dimension: Dimension, value: &str, label: &str, audience: Audience) {
        let fields = self.fields.dimension(dimension, audience);
        if !self.values.insert((fields.filter, value.to_owned())) {
            return;
        }
        self.doc.add_text(fields.filter, value);
        self.doc
            .add_text(fields.facet, format!("{value}{LABEL_SEPARATOR}{label}"));
    }

    fn finish(self) -> TantivyDocument {
        self.doc
    }
}

#[derive(Clone, Copy)]
enum TextWeight {
    Name,
    Tags,
    Body,
    /// Counts least, tolerates no typo.
    Context,
}

/// What a repository is, the catalogue's values first, then the forge's.
struct RepositoryView<'a> {
    record: &'a RepositoryRecord,
    facts: Option<RepositoryFacts>,
}

impl RepositoryView<'_> {
    fn language(&self) -> Option<String> {
        self.record
            .language
            .clone()
            .or_else(|| self.facts.as_ref()?.language.clone())
    }

    fn license(&self) -> Option<String> {
        self.record
            .license
            .clone()
            .or_else(|| self.facts.as_ref()?.license.clone())
    }

    fn publiccode(&self) -> Option<&PublicCode> {
        self.facts.as_ref()?.publiccode.as_ref()
    }
}

fn facts<T: serde::de::DeserializeOwned>(bundle: &ProjectBundle, subject: String) -> Option<T> {
    let json = bundle.harvested.get(&subject)?.facts.as_deref()?;
    serde_json::from_str(json).ok()
}

/// The stricter of two access levels.
fn stricter(a: Access, b: Access) -> Access {
    if a == Access::Agents || b == Access::Agents {
        Access::Agents
    } else {
        Access::Public
    }
}

/// What the last check of `url` found (UNCHECKED before the first).
fn health_of(bundle: &ProjectBundle, url: &str) -> LinkCheckStatus {
    bundle
        .checks
        .get(url)
        .map_or(LinkCheckStatus::Unchecked, |check| check.status)
}

/// A project's link health as `audience` sees it: that of the worst of the
/// checked URLs it may read (its own website and documentation, its
/// datasets and other links that link checks cover), UNCHECKED when none
/// has been checked yet; none when it has no such URL.
fn project_health(bundle: &ProjectBundle, audience: Audience) -> Option<LinkCheckStatus> {
    let readable = |access: Access| audience.readable().contains(&access);
    let project = &bundle.project;
    [&project.website, &project.documentation]
        .into_iter()
        .flatten()
        .chain(
            bundle
                .datasets
                .iter()
                .filter(|d| checks_dataset(d.provider) && readable(d.access))
                .map(|d| &d.url),
        )
        .chain(
            bundle
                .links
                .iter()
                .filter(|l| checks_link(l.kind) && readable(l.access))
                .map(|l| &l.url),
        )
        .map(|url| health_of(bundle, url))
        .max_by_key(|status| status.severity())
}

/// The documents of a project: itself, its repositories and its datasets.
pub fn project_documents(fields: &Fields, bundle: &ProjectBundle) -> Vec<TantivyDocument> {
    let project = &bundle.project;
    let subject = project_subject(project.id);
    let repositories: Vec<RepositoryView> = bundle
        .repositories
        .iter()
        .map(|record| RepositoryView {
            record,
            facts: facts(bundle, format!("repository:{}", record.id)),
        })
        .collect();
    // The `publiccode.yml` of the first main repository `audience` may read.
    let publiccode = |audience: Audience| {
        repositories
            .iter()
            .filter(|r| r.record.role == RepositoryRole::Main)
            .filter(|r| audience.readable().contains(&r.record.access))
            .find_map(RepositoryView::publiccode)
    };
    let status = |audience: Audience| {
        project
            .status
            .or_else(|| publiccode(audience).and_then(PublicCode::project_status))
    };

    // What a project's repositories, datasets and the project itself share.
    let project_context = |draft: &mut Draft| {
        for organization in &bundle.organizations {
            draft.value(
                Dimension::Organization,
                &organization.slug,
                &organization.name,
            );
        }
        for tag in &bundle.tags {
            draft.value(Dimension::Tag, &tag.slug, &tag.label);
        }
        for season in &bundle.seasons {
            let season = season.to_string();
            draft.value(Dimension::Season, &season, &season);
        }
        for audience in [Audience::Public, Audience::Agents] {
            if let Some(status) = status(audience) {
                let status = status.as_db();
                draft.value_for(Dimension::Status, status, status, audience);
            }
            for (user, access) in &bundle.users {
                if audience.readable().contains(access) {
                    draft.value_for(Dimension::UsedBy, &user.slug, &user.name, audience);
                }
            }
        }
    };

    let mut documents = Vec::with_capacity(1 + repositories.len() + bundle.datasets.len());
    let mut draft = Draft::new(
        fields,
        HitKind::Project,
        project.id,
        &subject,
        project.visibility,
    );
    draft.text(TextWeight::Name, &project.name);
    for tag in &bundle.tags {
        draft.text(TextWeight::Tags, &tag.label);
    }
    draft.text(TextWeight::Body, &project.summary);
    draft.text(TextWeight::Body, &project.description);
    // Text is searched by everyone who reads the project: only a public
    // repository's `publiccode.yml` may lend it words.
    if let Some(publiccode) = publiccode(Audience::Public) {
        for text in [&publiccode.short_description, &publiccode.long_description]
            .into_iter()
            .flatten()
        {
            draft.text(TextWeight::Body, text);
        }
    }
    for organization in &bundle.organizations {
        draft.text(TextWeight::Body, &organization.name);
        if let Some(acronym) = &organization.acronym {
            draft.text(TextWeight::Body, acronym);
        }
    }
    project_context(&mut draft);
    for audience in [Audience::Public, Audience::Agents] {
        if let Some(health) = project_health(bundle, audience) {
            let health = health.as_db();
            draft.value_for(Dimension::LinkHealth, health, health, audience);
        }
    }
    // A project has the languages, licences and forges of its repositories:
    // all of them for agents, the public ones for everyone.
    for repository in &repositories {
        let audiences: &[Audience] = match repository.record.access {
            Access::Public => &[Audience::Public, Audience::Agents],
            Access::Agents => &[Audience::Agents],
        };
        for &audience in audiences {
            let forge = repository.record.forge.as_db();
            draft.value_for(Dimension::Forge, forge, forge, audience);
            if let Some(language) = repository.language() {
                draft.value_for(Dimension::Language, &language, &language, audience);
            }
            if let Some(license) = repository.license() {
                draft.value_for(Dimension::License, &license, &license, audience);
            }
        }
    }
    documents.push(draft.finish());

    for repository in &repositories {
        let record = repository.record;
        let access = stricter(project.visibility, record.access);
        let mut draft = Draft::new(fields, HitKind::Repository, record.id, &subject, access);
        let name = match (&record.owner, &record.name) {
            (Some(owner), Some(name)) => format!("{owner}/{name}"),
            _ => record.url.clone(),
        };
        draft.text(TextWeight::Name, &name);
        if let Some(facts) = &repository.facts {
            for topic in &facts.topics {
                draft.text(TextWeight::Tags, topic);
            }
            if let Some(description) = &facts.description {
                draft.text(TextWeight::Body, description);
            }
        }
        if let Some(publiccode) = repository.publiccode() {
            for text in [
                &publiccode.name,
                &publiccode.short_description,
                &publiccode.long_description,
            ]
            .into_iter()
            .flatten()
            {
                draft.text(TextWeight::Body, text);
            }
            for category in &publiccode.categories {
                draft.text(TextWeight::Tags, category);
            }
        }
        draft.text(TextWeight::Context, &project.name);
        let forge = record.forge.as_db();
        draft.value(Dimension::Forge, forge, forge);
        if let Some(language) = repository.language() {
            draft.value(Dimension::Language, &language, &language);
        }
        if let Some(license) = repository.license() {
            draft.value(Dimension::License, &license, &license);
        }
        project_context(&mut draft);
        documents.push(draft.finish());
    }

    for dataset in &bundle.datasets {
        let access = stricter(project.visibility, dataset.access);
        let mut draft = Draft::new(fields, HitKind::Dataset, dataset.id, &subject, access);
        draft.text(TextWeight::Name, &dataset.title);
        if let Some(description) = &dataset.description {
            draft.text(TextWeight::Body, description);
        }
        let harvested: Option<DatasetFacts> = facts(bundle, format!("dataset:{}", dataset.id));
        if let Some(harvested) = &harvested {
            if let Some(title) = harvested.title.as_ref().filter(|t| **t != dataset.title) {
                draft.text(TextWeight::Name, title);
            }
            if let Some(description) = &harvested.description {
                draft.text(TextWeight::Body, description);
            }
            if let Some(license) = &harvested.license {
                draft.value(Dimension::License, license, license);
            }
        }
        draft.text(TextWeight::Context, &project.name);
        if checks_dataset(dataset.provider) {
            let health = health_of(bundle, &dataset.url).as_db();
            draft.value(Dimension::LinkHealth, health, health);
        }
        project_context(&mut draft);
        documents.push(draft.finish());
    }
    documents
}

/// The document of an organization.
pub fn organization_document(
    fields: &Fields,
    organization: &OrganizationRecord,
) -> TantivyDocument {
    let mut draft = Draft::new(
        fields,
        HitKind::Organization,
        organization.id,
        &organization_subject(organization.id),
        Access::Public,
    );
    draft.text(TextWeight::Name, &organization.name);
    if let Some(acronym) = &organization.acronym {
        draft.text(TextWeight::Name, acronym);
    }
    draft.value(
        Dimension::Organization,
        &organization.slug,
        &organization.name,
    );
    draft.finish()
}
