//! The projects connection, answered without resolvers when its selection
//! allows.
//!
//! Resolved through async-graphql's objects, a page of projects costs a
//! future per field of every edge and project, and a DataLoader request per
//! project and relation (each with its own key sets, channel and map of
//! values): for the benchmarks' 3-level query, 20 projects with their
//! organizations, repositories and datasets, more than the plain lists
//! inside it. When the connection's selection asks only `totalCount`,
//! `edges { cursor node }` and `pageInfo`, and its nodes only the fields
//! `Project` declares plain and the plain lists of `plain`, the
//! `ProjectConnection` loads each relation it shows for the whole page with
//! one DataLoader request, with the keys `Project`'s resolvers load one
//! project's with (`ProjectChildren`; the count, when shown, beside them),
//! and writes the answer as JSON text, in the selection's order: the bytes
//! the resolvers give (tests compare them). Whether it can is decided from
//! the selection alone, before anything is loaded; any other selection
//! goes through the resolvers.

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::parser::types::{Field, SelectionSet};
use async_graphql::{Context, ContextSelectionSet, Positioned, SelectionField, Value};

use crate::graphql::execution::context::loader;
use crate::graphql::plain::connection::{
    Page, PlainNode, PlainPage, PlainPaged, plain_fields_of_connection, walk_page_selection,
};
use crate::graphql::plain::json::JsonText;
use crate::graphql::plain::{Nested, PlainFields, PlainValue, answers_plainly, plain_answer};
use crate::graphql::schema::links::{Dataset, Link, Repository};
use crate::graphql::schema::loaders::{
    CatalogueLoader, Children, ProjectChildren, children_of_projects,
};
use crate::graphql::schema::project::{Participation, Project};
use crate::store::StoreError;

impl PlainPaged for Project {
    async fn plain_page(
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
        page: &Page<Self>,
    ) -> Option<Value> {
        let set = &field.node.selection_set.node;
        if !answers_plainly::<PlainPage<'_, ProjectNode<'_>>>(ctx, set) {
            return None;
        }
        let field_ctx = ctx.with_field(field);
        let shown = Shown::of(field_ctx.field());
        let loaded = Loaded::load(&field_ctx, page, &shown).await?;
        let answer = PlainPage::new(page, loaded.total_count, |index, project| ProjectNode {
            project,
            index,
            loaded: &loaded,
        });
        // Room for a few fields of each project and child, so that the
        // text is seldom copied to grow.
        let expected_len = 256 * page.edges.len() + 128 * loaded.children();
        plain_answer(ctx, set, &answer, expected_len)
    }
}

/// The fast path's types of the projects connection, with their plain
/// fields (see `plain::plain_fields_by_type`).
pub(super) fn plain_fields_by_type() -> [(Cow<'static, str>, &'static [&'static str]); 2] {
    plain_fields_of_connection::<ProjectNode<'_>>()
}

/// What the selection shows beyond the page's projects: its `totalCount`,
/// and the selections of each relation of the nodes, under every alias
/// (each relation is loaded once, for them all; empty: not shown, not
/// loaded).
#[derive(Default)]
struct Shown<'a> {
    total_count: bool,
    organizations: Vec<SelectionField<'a>>,
    repositories: Vec<SelectionField<'a>>,
    datasets: Vec<SelectionField<'a>>,
    links: Vec<SelectionField<'a>>,
}

impl<'a> Shown<'a> {
    /// What the selection of `connection` shows.
    fn of(connection: SelectionField<'a>) -> Self {
        let mut shown = Self::default();
        shown.total_count = walk_page_selection(connection, |field| shown.add_relation(field));
        shown
    }

    fn add_relation(&mut self, field: SelectionField<'a>) {
        match field.name() {
            "organizations" => self.organizations.push(field),
            "repositories" => self.repositories.push(field),
            "datasets" => self.datasets.push(field),
            "links" => self.links.push(field),
            _ => {}
        }
    }
}

/// What was loaded for the page's answer: the number of items in the
/// whole list, and the children of the page's projects, in the page's
/// order; None for what the selection does not show.
struct Loaded {
    total_count: Option<u64>,
    organizations: Option<Vec<Vec<Participation>>>,
    repositories: Option<Vec<Vec<Repository>>>,
    datasets: Option<Vec<Vec<Dataset>>>,
    links: Option<Vec<Vec<Link>>>,
}

impl Loaded {
    /// How many children were loaded, in all relations.
    fn children(&self) -> usize {
        fn count<T>(relation: Option<&Vec<Vec<T>>>) -> usize {
            relation.map_or(0, |by_project| by_project.iter().map(Vec::len).sum())
        }
        count(self.organizations.as_ref())
            + count(self.repositories.as_ref())
            + count(self.datasets.as_ref())
            + count(self.links.as_ref())
    }

    /// What `shown` asks of `page`; None when some of it could not be
    /// loaded.
    async fn load(ctx: &Context<'_>, page: &Page<Project>, shown: &Shown<'_>) -> Option<Self> {
        let loader = loader(ctx).ok()?;
        let ids: Vec<i64> = page.edges.iter().map(|edge| edge.node.0.id).collect();
        let total_count = async {
            if !shown.total_count {
                return Ok(None);
            }
            let count = page.additional_fields.count(loader.loader()).await;
            count.map(Some).map_err(Arc::new)
        };
        let (total_count, organizations, repositories, datasets, links) = futures_util::try_join!(
            total_count,
            relation(loader, &ids, &shown.organizations),
            relation(loader, &ids, &shown.repositories),
            relation(loader, &ids, &shown.datasets),
            relation(loader, &ids, &shown.links),
        )
        .ok()?;
        Some(Self {
            total_count,
            organizations,
            repositories,
            datasets,
            links,
        })
    }
}

/// The children `T` of the projects `ids` for the selections `fields` of
/// their list, as `Project`'s resolver loads them for one (one DataLoader
/// request for all); None when no selection shows them.
async fn relation<T: ProjectChildren>(
    loader: &DataLoader<CatalogueLoader>,
    ids: &[i64],
    fields: &[SelectionField<'_>],
) -> Result<Option<Vec<Vec<T>>>, Arc<StoreError>>
where
    CatalogueLoader: Loader<T::Key, Value = Children<T::Record>, Error = Arc<StoreError>>,
{
    if fields.is_empty() {
        return Ok(None);
    }
    children_of_projects(loader, ids, fields).await.map(Some)
}

/// A project of the page, with its loaded children: the fields of
/// `Project`'s record as `Project` answers them, its lists from `Loaded`.
struct ProjectNode<'a> {
    project: &'a Project,
    /// Where the project is in the page (and its children in `Loaded`).
    index: usize,
    loaded: &'a Loaded,
}

impl ProjectNode<'_> {
    /// Writes the project's children in `relation` for `nested`; false when
    /// the relation was not loaded.
    fn write_children<T: PlainFields>(
        &self,
        relation: Option<&Vec<Vec<T>>>,
        nested: &Nested<'_, '_>,
        out: &mut JsonText,
    ) -> bool {
        relation
            .and_then(|by_project| by_project.get(self.index))
            .is_some_and(|children| nested.answer_list(children, out))
    }
}

impl PlainNode for ProjectNode<'_> {
    type Item = Project;
}

impl PlainFields for ProjectNode<'_> {
    fn type_name() -> Cow<'static, str> {
        <Project as PlainFields>::type_name()
    }

    const FIELDS: &'static [&'static str] = <Project as PlainFields>::FIELDS;

    fn has_plain_field(name: &str) -> bool {
        Project::has_plain_field(name)
    }

    fn plain_field(&self, name: &str) -> Option<PlainValue<'_>> {
        self.project.plain_field(name)
    }

    fn has_plain_object(name: &str, ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
        match name {
            "organizations" => answers_plainly::<Participation>(ctx, set),
            "repositories" => answers_plainly::<Repository>(ctx, set),
            "datasets" => answers_plainly::<Dataset>(ctx, set),
            "links" => answers_plainly::<Link>(ctx, set),
            _ => false,
        }
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>, out: &mut JsonText) -> bool {
        let children = self.loaded;
        match name {
            "organizations" => self.write_children(children.organizations.as_ref(), nested, out),
            "repositories" => self.write_children(children.repositories.as_ref(), nested, out),
            "datasets" => self.write_children(children.datasets.as_ref(), nested, out),
            "links" => self.write_children(children.links.as_ref(), nested, out),
            _ => false,
        }
    }
}
