//! The projects connection, answered without resolvers when its selection
//! allows.
//!
//! Resolved through async-graphql's objects, a page of projects costs a
//! future per field of every edge and project, and a DataLoader request per
//! project and relation (each with its own key sets, channel and map of
//! values): for the benchmarks' 3-level query, 20 projects with their
//! organizations, repositories and datasets, more than the plain lists
//! inside it. When the connection's selection asks only `totalCount`,
//! `edges { cursor node }` and `pageInfo`, and its nodes only fields read
//! from the project's record and the plain lists of `plain`,
//! `ProjectConnection` loads each relation it shows for the whole page with
//! one DataLoader request (and the count, when shown, beside them) and
//! writes the answer as JSON text, in the selection's order:
//! the bytes the resolvers give (a test compares them). Whether it can is
//! decided from the selection alone, before anything is loaded; any other
//! selection goes through the resolvers, as before.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge, EmptyFields, PageInfo};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::parser::types::{Field, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    Context, ContextSelectionSet, OutputType, Positioned, SelectionField, ServerResult, Value,
};

use crate::graphql::execution::context::{audience, loader, store};
use crate::graphql::plain::json::JsonText;
use crate::graphql::plain::{
    MergedObjects, Nested, PlainFields, PlainValue, answers_plainly, plain_answer, plain_enum,
    plain_fields,
};
use crate::graphql::schema::ids::{NodeType, global_id};
use crate::graphql::schema::links::{Dataset, Link, Repository};
use crate::graphql::schema::loaders::{
    CatalogueLoader, Children, DatasetsOf, LinksOf, ParticipationsOf, RepositoriesOf,
    columns_of_all,
};
use crate::graphql::schema::paging::ListTotal;
use crate::graphql::schema::project::{Participation, Project};
use crate::store::{Columns, OrganizationRecord, ProjectRecord, RepositoryRecord, StoreError};

type ProjectPage = Connection<String, Project, ListTotal, EmptyFields>;

/// A page of projects: a `ProjectConnection` in the schema.
pub struct ProjectConnection(pub ProjectPage);

impl OutputType for ProjectConnection {
    fn type_name() -> Cow<'static, str> {
        ProjectPage::type_name()
    }

    fn qualified_type_name() -> String {
        ProjectPage::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        ProjectPage::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let set = &field.node.selection_set.node;
        if ctx.data_opt::<MergedObjects>().is_none() && answers_plainly::<PlainPage<'_>>(ctx, set) {
            let field_ctx = ctx.with_field(field);
            let shown = Shown::of(field_ctx.field());
            // What cannot be loaded is left to the resolvers, which load it
            // again and answer its error where it belongs.
            if let Some(loaded) = Loaded::load(&field_ctx, &self.0, &shown).await {
                let page = PlainPage {
                    page: &self.0,
                    loaded: &loaded,
                };
                // Room for a few fields of each project and child, so
                // that the text is seldom copied to grow.
                let expected_len = 256 * self.0.edges.len() + 128 * loaded.children();
                if let Some(answer) = plain_answer(ctx, set, &page, expected_len) {
                    return Ok(answer);
                }
            }
        }
        self.0.resolve(ctx, field).await
    }
}

/// What the selection shows beyond the page's projects: its `totalCount`,
/// and the relations of the nodes with the columns of each (None: not
/// shown, not loaded).
#[derive(Default)]
struct Shown {
    total_count: bool,
    repositories: Option<Columns<RepositoryRecord>>,
    organizations: Option<Columns<OrganizationRecord>>,
    datasets: bool,
    links: bool,
}

impl Shown {
    /// What the selection of `connection` shows, under every alias (the
    /// columns of them all, as the resolvers read for each).
    fn of(connection: SelectionField<'_>) -> Self {
        let mut shown = Self::default();
        for field in connection.selection_set() {
            match field.name() {
                "totalCount" => shown.total_count = true,
                "edges" => {
                    for node in field.selection_set().filter(|f| f.name() == "node") {
                        for field in node.selection_set() {
                            shown.add_relation(field);
                        }
                    }
                }
                _ => {}
            }
        }
        shown
    }

    fn add_relation(&mut self, field: SelectionField<'_>) {
        match field.name() {
            "repositories" => {
                let columns = columns_of_all(field.selection_set(), Repository::columns_of_field);
                self.repositories = Some(columns.and(self.repositories.unwrap_or(columns)));
            }
            "organizations" => {
                let columns =
                    columns_of_all(field.selection_set(), Participation::columns_of_field);
                self.organizations = Some(columns.and(self.organizations.unwrap_or(columns)));
            }
            "datasets" => self.datasets = true,
            "links" => self.links = true,
            _ => {}
        }
    }
}

/// What was loaded for the page's answer: the number of items in the
/// whole list, and the children of the page's projects by project id; None
/// for what the selection does not show.
struct Loaded {
    total_count: Option<u64>,
    repositories: Option<HashMap<i64, Vec<Repository>>>,
    organizations: Option<HashMap<i64, Vec<Participation>>>,
    datasets: Option<HashMap<i64, Vec<Dataset>>>,
    links: Option<HashMap<i64, Vec<Link>>>,
}

impl Loaded {
    /// How many children were loaded, in all relations.
    fn children(&self) -> usize {
        fn count<T>(relation: Option<&HashMap<i64, Vec<T>>>) -> usize {
            relation.map_or(0, |by_project| by_project.values().map(Vec::len).sum())
        }
        count(self.repositories.as_ref())
            + count(self.organizations.as_ref())
            + count(self.datasets.as_ref())
            + count(self.links.as_ref())
    }

    /// What `shown` asks of `page`; None when some of it could not be
    /// loaded.
    async fn load(ctx: &Context<'_>, page: &ProjectPage, shown: &Shown) -> Option<Self> {
        let loader = loader(ctx).ok()?;
        let store = store(ctx).ok()?;
        let ids: Vec<i64> = page.edges.iter().map(|edge| edge.node.0.id).collect();
        let repositories = shown
            .repositories
            .map(|columns| move |id| RepositoriesOf(id, columns));
        let organizations = shown
            .organizations
            .map(|columns| move |id| ParticipationsOf(id, columns));
        let total_count = async {
            if !shown.total_count {
                return Ok(None);
            }
            let count = page.additional_fields.count(store, audience(ctx)).await;
            count.map(Some).map_err(Arc::new)
        };
        let (total_count, repositories, organizations, datasets, links) = futures_util::try_join!(
            total_count,
            children_of(loader, &ids, repositories, Repository),
            children_of(loader, &ids, organizations, Participation::from),
            children_of(loader, &ids, shown.datasets.then_some(DatasetsOf), Dataset),
            children_of(loader, &ids, shown.links.then_some(LinksOf), Link),
        )
        .ok()?;
        Some(Self {
            total_count,
            repositories,
            organizations,
            datasets,
            links,
        })
    }
}

/// The children of the projects `ids` under the keys `key` makes (one
/// DataLoader request for them all), each made a `T` by `wrap`; None when
/// there is no `key` (the relation is not shown).
async fn children_of<K, R, T>(
    loader: &DataLoader<CatalogueLoader>,
    ids: &[i64],
    key: Option<impl Fn(i64) -> K>,
    wrap: impl Fn(R) -> T,
) -> Result<Option<HashMap<i64, Vec<T>>>, Arc<StoreError>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    R: Clone + Send + Sync + 'static,
    CatalogueLoader: Loader<K, Value = Children<R>, Error = Arc<StoreError>>,
{
    let Some(key) = key else {
        return Ok(None);
    };
    let mut loaded = loader.load_many(ids.iter().map(|&id| key(id))).await?;
    Ok(Some(
        ids.iter()
            .map(|&id| {
                let children = loaded.remove(&key(id)).map(Arc::unwrap_or_clone);
                (
                    id,
                    children
                        .unwrap_or_default()
                        .into_iter()
                        .map(&wrap)
                        .collect(),
                )
            })
            .collect(),
    ))
}

/// The page, as the connection's plain answer sees it.
struct PlainPage<'a> {
    page: &'a ProjectPage,
    loaded: &'a Loaded,
}

impl PlainFields for PlainPage<'_> {
    fn type_name() -> Cow<'static, str> {
        ProjectPage::type_name()
    }

    fn has_plain_field(name: &str) -> bool {
        name == "totalCount"
    }

    /// `totalCount`, which is loaded when the selection shows it.
    fn plain_field(&self, name: &str) -> Option<PlainValue<'_>> {
        match name {
            "totalCount" => self.loaded.total_count.map(PlainValue::Integer),
            _ => None,
        }
    }

    fn has_plain_object(name: &str, ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
        match name {
            "edges" => answers_plainly::<PlainEdge<'_>>(ctx, set),
            "pageInfo" => answers_plainly::<PlainPageInfo<'_>>(ctx, set),
            _ => false,
        }
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>, out: &mut JsonText) -> bool {
        match name {
            "edges" => {
                let edges: Vec<PlainEdge<'_>> = self
                    .page
                    .edges
                    .iter()
                    .map(|edge| PlainEdge {
                        cursor: &edge.cursor,
                        node: ProjectNode {
                            project: &edge.node.0,
                            loaded: self.loaded,
                        },
                    })
                    .collect();
                nested.answer_list(&edges, out)
            }
            "pageInfo" => {
                let info = PlainPageInfo {
                    has_previous_page: self.page.has_previous_page,
                    has_next_page: self.page.has_next_page,
                    start_cursor: self.page.edges.first().map(|edge| edge.cursor.as_str()),
                    end_cursor: self.page.edges.last().map(|edge| edge.cursor.as_str()),
                };
                nested.answer(&info, out)
            }
            _ => false,
        }
    }
}

struct PlainEdge<'a> {
    cursor: &'a str,
    node: ProjectNode<'a>,
}

plain_fields!(PlainEdge<'_> as Edge<String, Project, EmptyFields>, |edge| {
    "cursor" => edge.cursor,
}
    fn has_plain_object(name: &str, ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
        name == "node" && answers_plainly::<ProjectNode<'_>>(ctx, set)
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>, out: &mut JsonText) -> bool {
        name == "node" && nested.answer(&self.node, out)
    }
);

struct PlainPageInfo<'a> {
    has_previous_page: bool,
    has_next_page: bool,
    start_cursor: Option<&'a str>,
    end_cursor: Option<&'a str>,
}

plain_fields!(PlainPageInfo<'_> as PageInfo, |info| {
    "hasPreviousPage" => info.has_previous_page,
    "hasNextPage" => info.has_next_page,
    "startCursor" => info.start_cursor,
    "endCursor" => info.end_cursor,
});

/// A project of the page, with its loaded children.
struct ProjectNode<'a> {
    project: &'a ProjectRecord,
    loaded: &'a Loaded,
}

impl ProjectNode<'_> {
    /// Writes the project's children in `relation` for `nested`; false when
    /// the relation was not loaded.
    fn write_children<T: PlainFields>(
        &self,
        relation: Option<&HashMap<i64, Vec<T>>>,
        nested: &Nested<'_, '_>,
        out: &mut JsonText,
    ) -> bool {
        relation
            .and_then(|by_project| by_project.get(&self.project.id))
            .is_some_and(|children| nested.answer_list(children, out))
    }
}

plain_fields!(ProjectNode<'_> as Project, |node| {
    "id" => global_id(NodeType::Project, node.project.id).0,
    "slug" => node.project.slug.as_str(),
    "name" => node.project.name.as_str(),
    "summary" => node.project.summary.as_str(),
    "website" => node.project.website.as_deref(),
    "documentation" => node.project.documentation.as_deref(),
    "visibility" => plain_enum(node.project.visibility),
}
    fn has_plain_object(name: &str, ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
        match name {
            "repositories" => answers_plainly::<Repository>(ctx, set),
            "organizations" => answers_plainly::<Participation>(ctx, set),
            "datasets" => answers_plainly::<Dataset>(ctx, set),
            "links" => answers_plainly::<Link>(ctx, set),
            _ => false,
        }
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>, out: &mut JsonText) -> bool {
        let children = self.loaded;
        match name {
            "repositories" => self.write_children(children.repositories.as_ref(), nested, out),
            "organizations" => self.write_children(children.organizations.as_ref(), nested, out),
            "datasets" => self.write_children(children.datasets.as_ref(), nested, out),
            "links" => self.write_children(children.links.as_ref(), nested, out),
            _ => false,
        }
    }
);
