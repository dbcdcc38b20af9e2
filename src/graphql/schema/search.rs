//! `search` and `facets`: ranked, French-aware full-text search over
//! projects, repositories, datasets and organizations, and the counts a
//! portal's filter sidebar shows.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::dataloader::DataLoader;
use async_graphql::{
    Context, Enum, InputObject, InputValueError, InputValueResult, Object, Scalar, ScalarType,
    SimpleObject, Union, Value,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::catalogue;
use crate::facts;
use crate::graphql::execution::context::{audience, loader};
use crate::graphql::execution::errors::{OrInternal, bad_input, internal};
use crate::graphql::plain::{PlainList, PlainValue, plain_fields};
use crate::graphql::schema::enums::{Access, Forge, LinkCheckStatus, ProjectStatus};
use crate::graphql::schema::links::{Dataset, Repository};
use crate::graphql::schema::loaders::{
    CatalogueLoader, DatasetById, OrganizationById, ProjectById, RepositoryById,
};
use crate::graphql::schema::organization::Organization;
use crate::graphql::schema::paging::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::graphql::schema::project::Project;
use crate::search::{self, Dimension, HitKind, SearchIndex, Selection};

/// The longest query accepted, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// The most words a query may count (each word is matched several ways).
const MAX_QUERY_WORDS: usize = 12;
/// How deep a client may page into one ranking (results beyond are not
/// worth reading; refine the query).
const MAX_OFFSET: usize = 10_000;
/// The most values one filter may list.
const MAX_FILTER_VALUES: usize = 50;
/// Facet values per dimension when `limit` is not given, and at most.
const DEFAULT_FACET_VALUES: i32 = 50;
const MAX_FACET_VALUES: i32 = 500;

/// What a search hit can be.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SearchKind {
    /// A project of the programme.
    Project,
    /// A code repository.
    Repository,
    /// A dataset.
    Dataset,
    /// A public body.
    Organization,
}

impl SearchKind {
    fn hit_kind(self) -> HitKind {
        match self {
            Self::Project => HitKind::Project,
            Self::Repository => HitKind::Repository,
            Self::Dataset => HitKind::Dataset,
            Self::Organization => HitKind::Organization,
        }
    }
}

/// Restricts a search or a facet count; every filter given must hold, and
/// a filter holds when the hit has any of its values. Repositories, datasets
/// and organizations take the organizations, tags, seasons and status of
/// their project; a project has the languages, licences and forges of its
/// repositories.
#[derive(InputObject, Default)]
pub struct SearchFilter {
    /// Programming languages, as the facets spell them (`Python`).
    languages: Option<Vec<String>>,
    /// SPDX licence identifiers (`MIT`, `EUPL-1.2`).
    licenses: Option<Vec<String>>,
    /// Where the code lives.
    forges: Option<Vec<Forge>>,
    /// Organization slugs.
    organizations: Option<Vec<String>>,
    /// Tag slugs.
    tags: Option<Vec<String>>,
    /// Programme seasons: their numbers, or a season facet's values as given.
    seasons: Option<Vec<SeasonNumber>>,
    /// Project statuses.
    statuses: Option<Vec<ProjectStatus>>,
    /// Who may read the hit (agents-only hits are found by agents only).
    access: Option<Vec<Access>>,
    /// What the link checks found: for a project, its worst checked link
    /// the caller may read; for a dataset, its own URL.
    link_health: Option<Vec<LinkCheckStatus>>,
    /// Slugs of organizations that use the project (declared, harvested or
    /// in the catalogue files).
    used_by: Option<Vec<String>>,
}

/// A programme season, as search filters take it.
///
/// The facets give every value as a String, which goes back into the filter
/// as is; a season's (`"2"`) could not while the filter took Ints. Taking
/// both keeps the Ints clients already send working (only a variable
/// declared `[Int!]` for `seasons` itself needs redeclaring), where turning
/// the facet's value into an Int would have changed `FacetValue` for every
/// client that reads it.
#[derive(Clone, Copy)]
pub struct SeasonNumber(i32);

impl SeasonNumber {
    fn read(value: &Value) -> Option<Self> {
        match value {
            Value::Number(number) => i32::try_from(number.as_i64()?).ok(),
            Value::String(digits)
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                digits.parse().ok()
            }
            _ => None,
        }
        .map(Self)
    }
}

/// A programme season's number: an Int (`2`), or the same number written as
/// a String (`"2"`), as a season facet's `value` gives it.
#[Scalar]
impl ScalarType for SeasonNumber {
    fn parse(value: Value) -> InputValueResult<Self> {
        Self::read(&value).ok_or_else(|| {
            InputValueError::custom("a season's number, as an Int or as a String of digits")
        })
    }

    fn is_valid(value: &Value) -> bool {
        Self::read(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

fn values<T>(
    name: &str,
    given: Option<Vec<T>>,
    spell: impl Fn(T) -> String,
) -> async_graphql::Result<Option<Vec<String>>> {
    let Some(given) = given else {
        return Ok(None);
    };
    if given.len() > MAX_FILTER_VALUES {
        return Err(bad_input(format!(
            "filter.{name}: at most {MAX_FILTER_VALUES} values"
        )));
    }
    Ok(Some(given.into_iter().map(spell).collect()))
}

/// What `query`, `kinds` and `filter` select, checked.
fn selection(
    query: Option<&str>,
    kinds: Option<Vec<SearchKind>>,
    filter: Option<SearchFilter>,
) -> async_graphql::Result<Selection> {
    let query = query.unwrap_or_default();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(bad_input(format!(
            "query: at most {MAX_QUERY_CHARS} characters"
        )));
    }
    let words = search::query_words(query);
    if words.len() > MAX_QUERY_WORDS {
        return Err(bad_input(format!("query: at most {MAX_QUERY_WORDS} words")));
    }
    let filter = filter.unwrap_or_default();
    let same = |value: String| value;
    let candidates = [
        (
            Dimension::Kind,
            values("kinds", kinds, |k| k.hit_kind().as_value().to_owned())?,
        ),
        (
            Dimension::Language,
            values("languages", filter.languages, same)?,
        ),
        (
            Dimension::License,
            values("licenses", filter.licenses, same)?,
        ),
        (
            Dimension::Forge,
            values("forges", filter.forges, |f| {
                catalogue::Forge::from(f).as_db().to_owned()
            })?,
        ),
        (
            Dimension::Organization,
            values("organizations", filter.organizations, same)?,
        ),
        (Dimension::Tag, values("tags", filter.tags, same)?),
        (
            Dimension::Season,
            values("seasons", filter.seasons, |s| s.0.to_string())?,
        ),
        (
            Dimension::Status,
            values("statuses", filter.statuses, |s| {
                catalogue::ProjectStatus::from(s).as_db().to_owned()
            })?,
        ),
        (
            Dimension::Access,
            values("access", filter.access, |a| {
                catalogue::Access::from(a).as_db().to_owned()
            })?,
        ),
        (
            Dimension::LinkHealth,
            values("linkHealth", filter.link_health, |h| {
                facts::LinkCheckStatus::from(h).as_db().to_owned()
            })?,
        ),
        (Dimension::UsedBy, values("usedBy", filter.used_by, same)?),
    ];
    Ok(Selection {
        words,
        filters: candidates
            .into_iter()
            .filter_map(|(dimension, values)| Some((dimension, values?)))
            .collect(),
    })
}

fn index<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Arc<SearchIndex>> {
    ctx.data::<Arc<SearchIndex>>()
        .map_err(|_| internal(&"the search index is not set up"))
}

fn encode_offset(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("search:{offset}"))
}

fn decode_offset(cursor: &str) -> async_graphql::Result<usize> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("search:")?.parse().ok())
        .ok_or_else(|| bad_input("after: not a cursor of a search"))
}

/// What a hit is: the project, repository, dataset or organization itself.
#[derive(Union)]
pub enum SearchResult {
    Project(Project),
    Repository(Repository),
    Dataset(Dataset),
    Organization(Organization),
}

/// An extract of a field where the hit matched.
#[derive(SimpleObject)]
pub struct Snippet {
    /// `name`, `tags` or `description`.
    field: &'static str,
    /// The extract as plain text (`…` where it was cut).
    text: String,
    /// The same, HTML-escaped, the matched words in `<mark>`: safe to insert as HTML.
    html: String,
}

/// One search result: what matched, how well, and where.
#[derive(SimpleObject)]
pub struct SearchHit {
    /// The matched project, repository, dataset or organization.
    object: SearchResult,
    /// Relevance: higher is better; comparable within one search only.
    score: f64,
    /// Where the query's words were found, best fields first.
    snippets: Vec<Snippet>,
}

/// The whole result set's size, alongside a page of it.
#[derive(SimpleObject)]
pub struct SearchTotal {
    /// How many hits the search has, across all pages.
    total_count: u64,
}

/// One value of a facet and how many hits carry it.
#[derive(SimpleObject)]
pub struct FacetValue {
    /// What to pass back in the filter (`GITHUB`, an organization's slug, `2`).
    pub(crate) value: String,
    /// What to show: an organization's or a tag's name; else the value.
    pub(crate) label: String,
    /// How many hits carry it.
    pub(crate) count: u64,
}

plain_fields!(FacetValue, |facet| {
    "value" => facet.value.as_str(),
    "label" => facet.label.as_str(),
    "count" => PlainValue::Integer(facet.count),
});

/// Counts of the hits by each dimension, on the same filtered set as `search`.
/// A hit with several values (a project with Python and R repositories)
/// counts once under each.
#[derive(SimpleObject)]
pub struct SearchFacets {
    /// How many hits there are in all.
    total_count: u64,
    /// By kind of hit (`PROJECT`, `REPOSITORY`, `DATASET`, `ORGANIZATION`).
    kinds: PlainList<FacetValue>,
    /// By programming language.
    languages: PlainList<FacetValue>,
    /// By licence (SPDX).
    licenses: PlainList<FacetValue>,
    /// By forge (`GITHUB`, `GITLAB`, `OTHER`).
    forges: PlainList<FacetValue>,
    /// By organization (value: slug; label: name).
    organizations: PlainList<FacetValue>,
    /// By tag (value: slug; label: the tag as written).
    tags: PlainList<FacetValue>,
    /// By programme season.
    seasons: PlainList<FacetValue>,
    /// By project status.
    statuses: PlainList<FacetValue>,
    /// By who may read the hit.
    access: PlainList<FacetValue>,
    /// By what the link checks found (`OK`, `MOVED`, `BROKEN`,
    /// `NOT_ALLOWED`, `UNCHECKED`): a project counts under its worst checked
    /// link the caller may read (its website, documentation, datasets and
    /// other links but discussion rooms; UNCHECKED when none is checked yet),
    /// a dataset under its own URL (data.gouv.fr's are not checked);
    /// repositories and organizations under none.
    link_health: PlainList<FacetValue>,
    /// By the catalogue's organizations using the project (value: slug;
    /// label: name); an organization a harvested source names that the
    /// catalogue does not have counts in `usedByCount`, not here.
    used_by: PlainList<FacetValue>,
}

/// The catalogue revision the request's read model snapshot was read at
/// (the revision read that snapshot's queries share with other requests),
/// for the search index to skip a read of its own when it has replayed it.
async fn revision_read(ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
    loader(ctx)?.loader().revision_read().await.or_internal()
}

/// The objects of `hits` that the request's audience may read, by kind and
/// id, through the request's DataLoader (from the read model when there is
/// one).
async fn load_objects(
    loader: &DataLoader<CatalogueLoader>,
    hits: &[search::SearchHit],
) -> async_graphql::Result<HashMap<(HitKind, i64), SearchResult>> {
    let ids = |kind: HitKind| {
        hits.iter()
            .filter(move |hit| hit.kind == kind)
            .map(|hit| hit.id)
    };
    // Asked together: one wave of the DataLoader for the four kinds.
    let (projects, repositories, datasets, organizations) = tokio::join!(
        loader.load_many(ids(HitKind::Project).map(ProjectById)),
        loader.load_many(ids(HitKind::Repository).map(RepositoryById)),
        loader.load_many(ids(HitKind::Dataset).map(DatasetById)),
        loader.load_many(ids(HitKind::Organization).map(OrganizationById)),
    );
    let mut objects = HashMap::new();
    for (key, record) in projects.or_internal()? {
        objects.insert(
            (HitKind::Project, key.0),
            SearchResult::Project(Project(record)),
        );
    }
    for (key, record) in repositories.or_internal()? {
        let repository = SearchResult::Repository(Repository(record));
        objects.insert((HitKind::Repository, key.0), repository);
    }
    for (key, record) in datasets.or_internal()? {
        objects.insert(
            (HitKind::Dataset, key.0),
            SearchResult::Dataset(Dataset(record)),
        );
    }
    for (key, record) in organizations.or_internal()? {
        let organization = SearchResult::Organization(Organization(record));
        objects.insert((HitKind::Organization, key.0), organization);
    }
    Ok(objects)
}

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Projects, repositories, datasets and organizations matching `query`,
    /// best first. Accents and case are ignored, inflections folded
    /// ("cartes" finds "carte"), words of 5 letters or more tolerate one
    /// typo, and a word in a name or a tag counts more than in a
    /// description. Every word must match. An empty query lists everything
    /// the filters keep.
    async fn search(
        &self,
        ctx: &Context<'_>,
        query: String,
        kinds: Option<Vec<SearchKind>>,
        filter: Option<SearchFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, SearchHit, SearchTotal, EmptyFields>> {
        let selection = selection(Some(&query), kinds, filter)?;
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(0..=MAX_PAGE_SIZE).contains(&first) {
            return Err(bad_input(format!("first: between 0 and {MAX_PAGE_SIZE}")));
        }
        let offset = match after.as_deref() {
            Some(cursor) => decode_offset(cursor)?.saturating_add(1),
            None => 0,
        };
        if offset > MAX_OFFSET {
            return Err(bad_input(format!(
                "after: at most {MAX_OFFSET} hits can be paged through; refine the query"
            )));
        }
        let audience = audience(ctx);
        let revision = revision_read(ctx).await?;
        let page = index(ctx)?
            .search(selection, audience, offset, first as usize, revision)
            .await
            .or_internal()?;
        let mut objects = load_objects(loader(ctx)?, &page.hits).await?;
        let has_next = offset + page.hits.len() < page.total as usize;
        let mut connection = Connection::with_additional_fields(
            offset > 0,
            has_next,
            SearchTotal {
                total_count: page.total,
            },
        );
        for (position, hit) in page.hits.into_iter().enumerate() {
            // A hit deleted since the index last caught up is left out.
            let Some(object) = objects.remove(&(hit.kind, hit.id)) else {
                continue;
            };
            connection.edges.push(Edge::new(
                encode_offset(offset + position),
                SearchHit {
                    object,
                    score: f64::from(hit.score),
                    snippets: hit
                        .snippets
                        .into_iter()
                        .map(|s| Snippet {
                            field: s.field,
                            text: s.text,
                            html: s.html,
                        })
                        .collect(),
                },
            ));
        }
        Ok(connection)
    }

    /// How many of the hits of `search(query, kinds, filter)` carry each
    /// language, licence, forge, organization, tag, season, status, access,
    /// link health and kind: at most `limit` values per dimension (default 50), most
    /// frequent first. With `disjunctive: true`, each dimension that `kinds`
    /// or `filter` restricts is counted as if its own restriction were not
    /// given, so a sidebar can offer the other values of a filter already in
    /// use (any of a filter's values will do) with the hits each would add.
    async fn facets(
        &self,
        ctx: &Context<'_>,
        query: Option<String>,
        kinds: Option<Vec<SearchKind>>,
        filter: Option<SearchFilter>,
        limit: Option<i32>,
        #[graphql(default = false)] disjunctive: bool,
    ) -> async_graphql::Result<SearchFacets> {
        let selection = selection(query.as_deref(), kinds, filter)?;
        let limit = limit.unwrap_or(DEFAULT_FACET_VALUES);
        if !(0..=MAX_FACET_VALUES).contains(&limit) {
            return Err(bad_input(format!(
                "limit: between 0 and {MAX_FACET_VALUES}"
            )));
        }
        let revision = revision_read(ctx).await?;
        let facets = index(ctx)?
            .facets(
                selection,
                audience(ctx),
                limit as usize,
                disjunctive,
                revision,
            )
            .await
            .or_internal()?;
        let mut by_dimension: HashMap<Dimension, Vec<FacetValue>> = facets
            .dimensions
            .into_iter()
            .map(|(dimension, values)| {
                let values = values
                    .into_iter()
                    .map(|v| FacetValue {
                        value: v.value,
                        label: v.label,
                        count: v.count,
                    })
                    .collect();
                (dimension, values)
            })
            .collect();
        let mut take = |dimension| PlainList(by_dimension.remove(&dimension).unwrap_or_default());
        Ok(SearchFacets {
            total_count: facets.total,
            kinds: take(Dimension::Kind),
            languages: take(Dimension::Language),
            licenses: take(Dimension::License),
            forges: take(Dimension::Forge),
            organizations: take(Dimension::Organization),
            tags: take(Dimension::Tag),
            seasons: take(Dimension::Season),
            statuses: take(Dimension::Status),
            access: take(Dimension::Access),
            link_health: take(Dimension::LinkHealth),
            used_by: take(Dimension::UsedBy),
        })
    }
}
