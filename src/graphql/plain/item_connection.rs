//! The repositories and datasets connections (across projects), answered
//! without resolvers when their selection allows.
//!
//! A portal lists code and data with each item's project (`repositories(
//! filter: …) { edges { node { url language project { slug name } } } }`).
//! Through the resolvers that is a future per field of every edge, item and
//! project, and a DataLoader request per item for its project and, for a
//! repository whose language or licence the catalogue leaves empty, for the
//! forge's facts. When the nodes ask only their type's plain fields, the
//! language and licence, and their project's plain fields, the connection
//! loads the page's projects with one DataLoader request (`ProjectById`,
//! the key the `project` resolver loads), the facts it needs with one more
//! (`HarvestOf`) and the count beside them, then writes the answer as JSON
//! text: the bytes the resolvers give (tests compare them).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::parser::types::{Field, SelectionSet};
use async_graphql::{Context, ContextSelectionSet, OutputType, Positioned, SelectionField, Value};

use crate::facts::RepositoryFacts;
use crate::graphql::execution::context::loader;
use crate::graphql::plain::connection::{
    Page, PlainNode, PlainPage, PlainPaged, plain_fields_of_connection, walk_page_selection,
};
use crate::graphql::plain::json::JsonText;
use crate::graphql::plain::{Nested, PlainFields, PlainValue, answers_plainly, plain_answer};
use crate::graphql::schema::harvest::facts_in;
use crate::graphql::schema::links::{Dataset, Repository};
use crate::graphql::schema::loaders::{HarvestOf, ProjectById};
use crate::graphql::schema::project::Project;

/// The fast path's types of the repositories and datasets connections, with
/// their plain fields (see `plain::plain_fields_by_type`).
pub(super) fn plain_fields_by_type() -> [(Cow<'static, str>, &'static [&'static str]); 4] {
    let [repositories, repository_edges] = plain_fields_of_connection::<ItemNode<'_, Repository>>();
    let [datasets, dataset_edges] = plain_fields_of_connection::<ItemNode<'_, Dataset>>();
    [repositories, repository_edges, datasets, dataset_edges]
}

/// An item listed across projects: a repository or a dataset.
trait ListedItem: PlainFields + OutputType + Sync {
    fn project_id(&self) -> i64;

    /// Whether `name` is a field answered from the record, else from the
    /// forge's facts (`fact_field`).
    fn has_fact_field(_name: &str) -> bool {
        false
    }

    /// The subject of the harvest whose facts the fields `shown` need for
    /// this item, if any.
    fn facts_needed(&self, _shown: &[&str]) -> Option<String> {
        None
    }

    /// The value of the field `name` read from the record, else from
    /// `facts`, as its resolver gives it.
    fn fact_field<'a>(
        &'a self,
        _name: &str,
        _facts: Option<&'a RepositoryFacts>,
    ) -> Option<PlainValue<'a>> {
        None
    }
}

impl ListedItem for Repository {
    fn project_id(&self) -> i64 {
        self.0.project_id
    }

    fn has_fact_field(name: &str) -> bool {
        matches!(name, "language" | "license")
    }

    fn facts_needed(&self, shown: &[&str]) -> Option<String> {
        let empty = |name: &str| match name {
            "language" => self.0.language.is_none(),
            "license" => self.0.license.is_none(),
            _ => false,
        };
        shown.iter().any(|name| empty(name)).then(|| self.subject())
    }

    fn fact_field<'a>(
        &'a self,
        name: &str,
        facts: Option<&'a RepositoryFacts>,
    ) -> Option<PlainValue<'a>> {
        let (recorded, harvested) = match name {
            "language" => (&self.0.language, facts.and_then(|f| f.language.as_deref())),
            "license" => (&self.0.license, facts.and_then(|f| f.license.as_deref())),
            _ => return None,
        };
        Some(recorded.as_deref().or(harvested).into())
    }
}

impl ListedItem for Dataset {
    fn project_id(&self) -> i64 {
        self.0.project_id
    }
}

impl<T: ListedItem> PlainPaged for T {
    async fn plain_page(
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
        page: &Page<Self>,
    ) -> Option<Value> {
        plain_page(ctx, field, page).await
    }
}

/// `page`'s answer to `field`'s selection, as raw JSON; None when it needs
/// resolvers.
async fn plain_page<T: ListedItem>(
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
    page: &Page<T>,
) -> Option<Value> {
    let set = &field.node.selection_set.node;
    if !answers_plainly::<PlainPage<'_, ItemNode<'_, T>>>(ctx, set) {
        return None;
    }
    let field_ctx = ctx.with_field(field);
    let shown = Shown::of::<T>(field_ctx.field());
    let loaded = Loaded::load(&field_ctx, page, &shown).await?;
    let answer = PlainPage::new(page, loaded.total_count, |index, item: &T| ItemNode {
        item,
        project: loaded.projects.get(&item.project_id()),
        facts: loaded.facts.get(&index),
    });
    // Room for a few fields of each item and its project.
    let expected_len = 384 * page.edges.len();
    plain_answer(ctx, set, &answer, expected_len)
}

/// What the selection shows beyond the page's items, under every alias:
/// its `totalCount`, their project, their fields read from the forge's
/// facts.
struct Shown<'a> {
    total_count: bool,
    project: bool,
    fact_fields: Vec<&'a str>,
}

impl<'a> Shown<'a> {
    fn of<T: ListedItem>(connection: SelectionField<'a>) -> Self {
        let mut project = false;
        let mut fact_fields = Vec::new();
        let total_count = walk_page_selection(connection, |field| match field.name() {
            "project" => project = true,
            name if T::has_fact_field(name) => fact_fields.push(name),
            _ => {}
        });
        Self {
            total_count,
            project,
            fact_fields,
        }
    }
}

/// What was loaded for the page's answer: the number of items in the whole
/// list, the projects of the page's items (by id; those the caller may
/// read), and the forge's facts of those that need them (by place in the
/// page).
struct Loaded {
    total_count: Option<u64>,
    projects: HashMap<i64, Project>,
    facts: HashMap<usize, RepositoryFacts>,
}

impl Loaded {
    /// What `shown` asks of `page`; None when some of it could not be loaded.
    async fn load<T: ListedItem>(
        ctx: &Context<'_>,
        page: &Page<T>,
        shown: &Shown<'_>,
    ) -> Option<Self> {
        let loader = loader(ctx).ok()?;
        let items = || page.edges.iter().map(|edge| &edge.node);
        let total_count = async {
            if !shown.total_count {
                return Ok(None);
            }
            let count = page.additional_fields.count(loader.loader()).await;
            count.map(Some).map_err(Arc::new)
        };
        let projects = async {
            if !shown.project {
                return Ok(HashMap::new());
            }
            let keys = items().map(|item| ProjectById(item.project_id()));
            loader.load_many(keys).await
        };
        let needing: Vec<(usize, String)> = (items().enumerate())
            .filter_map(|(index, item)| Some((index, item.facts_needed(&shown.fact_fields)?)))
            .collect();
        let harvests = async {
            if needing.is_empty() {
                return Ok(HashMap::new());
            }
            let keys = needing
                .iter()
                .map(|(_, subject)| HarvestOf(subject.clone()));
            loader.load_many(keys).await
        };
        let (total_count, projects, harvests) =
            futures_util::try_join!(total_count, projects, harvests).ok()?;
        let facts = needing
            .into_iter()
            .filter_map(|(index, subject)| {
                let facts = facts_in(harvests.get(&HarvestOf(subject))?)?;
                Some((index, facts))
            })
            .collect();
        Some(Self {
            total_count,
            projects: (projects.into_iter())
                .map(|(key, record)| (key.0, Project(record)))
                .collect(),
            facts,
        })
    }
}

/// An item of the page with its project (none when not shown, or not one
/// the caller may read) and the forge's facts standing in for what its
/// record leaves empty.
struct ItemNode<'a, T> {
    item: &'a T,
    project: Option<&'a Project>,
    facts: Option<&'a RepositoryFacts>,
}

impl<T: ListedItem> PlainNode for ItemNode<'_, T> {
    type Item = T;
}

impl<T: ListedItem> PlainFields for ItemNode<'_, T> {
    fn type_name() -> Cow<'static, str> {
        <T as PlainFields>::type_name()
    }

    /// The type's own plain fields (those read from facts are plain in
    /// this connection only, which loads them).
    const FIELDS: &'static [&'static str] = T::FIELDS;

    fn has_plain_field(name: &str) -> bool {
        T::has_plain_field(name) || T::has_fact_field(name)
    }

    fn plain_field(&self, name: &str) -> Option<PlainValue<'_>> {
        (self.item.plain_field(name)).or_else(|| self.item.fact_field(name, self.facts))
    }

    fn has_plain_object(name: &str, ctx: &ContextSelectionSet<'_>, set: &SelectionSet) -> bool {
        name == "project" && answers_plainly::<Project>(ctx, set)
    }

    fn plain_object(&self, name: &str, nested: &Nested<'_, '_>, out: &mut JsonText) -> bool {
        if name != "project" {
            return false;
        }
        match self.project {
            Some(project) => nested.answer(project, out),
            None => {
                out.null();
                true
            }
        }
    }
}
