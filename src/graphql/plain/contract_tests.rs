//! The fast path's contract, checked on every field `plain_fields!` lists:
//! a plain field is a leaf without arguments that every request sees, and
//! its resolver, run with nothing in the request's context (no caller, no
//! store, no DataLoader), answers the bytes the fast path writes. A guard
//! added to a plain field refuses that anonymous request, and a resolver
//! that reads the store or the caller fails or answers otherwise: the
//! field has to leave `plain_fields!` (the fast path would bypass them).

use std::sync::Arc;

use async_graphql::registry::{MetaType, MetaTypeName, Registry};
use async_graphql::{EmptyMutation, EmptySubscription, Object, OutputType, Request, Schema};
use chrono::{TimeZone, Utc};

use super::{PlainCounters, PlainList, plain_fields_by_type};
use crate::catalogue::{
    Access, Confidence, DataProvider, Forge, LinkKind, OrganizationKind, ParticipationRole,
    RepositoryRole,
};
use crate::graphql::Query;
use crate::graphql::plain::json::answer_body;
use crate::graphql::schema::links::{Dataset, Link, Repository};
use crate::graphql::schema::organization::Organization;
use crate::graphql::schema::project::{Participation, Project};
use crate::graphql::schema::search::FacetValue;
use crate::store::{
    DatasetRecord, LinkRecord, OrganizationRecord, ParticipationRecord, ProjectRecord,
    RepositoryRecord,
};

/// Types of `plain_fields_by_type` whose plain fields have no resolver of
/// ours to run on a record: async-graphql's connection types (`cursor`,
/// `pageInfo`'s fields) and the count the connection loads with its
/// resolver's own `ListTotal::count`. The integration tests compare them.
const CONNECTION_TYPES: [&str; 7] = [
    "ProjectConnection",
    "ProjectEdge",
    "RepositoryConnection",
    "RepositoryEdge",
    "DatasetConnection",
    "DatasetEdge",
    "PageInfo",
];

#[test]
fn plain_fields_are_leaves_without_arguments_that_every_request_sees() {
    let mut registry = Registry::default();
    Query::create_type_info(&mut registry);
    for (type_name, fields) in plain_fields_by_type() {
        let Some(MetaType::Object {
            fields: declared, ..
        }) = registry.types.get(type_name.as_ref())
        else {
            panic!("{type_name} has plain fields but is no object type of the schema");
        };
        for name in fields {
            let field = declared.get(*name).unwrap_or_else(|| {
                panic!(
                    "{type_name}.{name} is listed in plain_fields! but the schema has no such field"
                )
            });
            assert!(
                field.args.is_empty(),
                "{type_name}.{name} takes arguments, which the fast path would not read: \
                 take it out of plain_fields!"
            );
            assert!(
                field.visible.is_none(),
                "{type_name}.{name} is visible to some requests only: take it out of plain_fields!"
            );
            let named = MetaTypeName::concrete_typename(&field.ty);
            assert!(
                !field.ty.contains('[')
                    && matches!(
                        registry.types.get(named),
                        Some(MetaType::Scalar { .. } | MetaType::Enum { .. })
                    ),
                "{type_name}.{name} is a {}, not a scalar or an enum: plain_fields! lists leaves",
                field.ty
            );
        }
    }
}

#[tokio::test]
async fn plain_fields_answer_as_their_resolvers_for_a_request_with_nothing_in_its_context() {
    let schema = Schema::new(Samples, EmptyMutation, EmptySubscription);
    for (type_name, fields) in plain_fields_by_type() {
        let Some(list) = sample_list(&type_name) else {
            assert!(
                CONNECTION_TYPES.contains(&type_name.as_ref()),
                "{type_name} has plain fields but no sample list here: add one to `Samples`"
            );
            continue;
        };
        let every_field = fields.join(" ");
        for selection in fields.iter().copied().chain([every_field.as_str()]) {
            let query = format!("{{ {list} {{ {selection} }} }}");
            let counters = Arc::new(PlainCounters::default());
            let plain = schema
                .execute(Request::new(&query).data(Arc::clone(&counters)))
                .await;
            assert_eq!(
                (counters.answers(), counters.fallbacks()),
                (1, 0),
                "{type_name}: `{query}` did not take the fast path"
            );
            let through_resolvers = schema.execute(query.as_str()).await;
            assert!(
                through_resolvers.errors.is_empty(),
                "{type_name} `{selection}`: its resolver fails for a request with nothing in its \
                 context (a guard, a read of the store or of the caller?): the fast path would \
                 bypass it; take it out of plain_fields! ({:?})",
                through_resolvers.errors
            );
            let plain = String::from_utf8(answer_body(&plain).expect("JSON")).expect("UTF-8");
            let through_resolvers =
                String::from_utf8(answer_body(&through_resolvers).expect("JSON")).expect("UTF-8");
            assert_eq!(
                plain, through_resolvers,
                "{type_name} `{selection}`: the fast path and the resolver answer differently"
            );
        }
    }
}

/// The field of `Samples` listing records of `type_name`.
fn sample_list(type_name: &str) -> Option<&'static str> {
    Some(match type_name {
        "Organization" => "organizations",
        "Participation" => "participations",
        "Project" => "projects",
        "Repository" => "repositories",
        "Dataset" => "datasets",
        "Link" => "links",
        "FacetValue" => "facetValues",
        _ => return None,
    })
}

/// Lists of records of each type with plain fields: one with every
/// optional column set (in text that needs escaping), one with none.
struct Samples;

#[Object]
impl Samples {
    async fn organizations(&self) -> PlainList<Organization> {
        PlainList(organizations().into_iter().map(Organization).collect())
    }

    async fn participations(&self) -> PlainList<Participation> {
        let roles = [ParticipationRole::Sponsor, ParticipationRole::Contributor];
        PlainList(
            organizations()
                .into_iter()
                .zip(roles)
                .zip([Confidence::Unsure, Confidence::Confirmed])
                .map(|((organization, role), confidence)| {
                    ParticipationRecord {
                        role,
                        confidence,
                        note: unsure_note(confidence),
                        organization,
                    }
                    .into()
                })
                .collect(),
        )
    }

    async fn projects(&self) -> PlainList<Project> {
        let at = Utc.with_ymd_and_hms(2024, 5, 6, 7, 8, 9).unwrap();
        let project = |id, optional: Option<&str>, visibility| {
            Project(ProjectRecord {
                id,
                slug: format!("projet-{id}"),
                name: "Projet \"éclair\"\n".to_owned(),
                sort_key: "projet eclair".to_owned(),
                summary: "Ce qu'il fait\t\\ en bref".to_owned(),
                description: String::new(),
                status: None,
                website: optional.map(|text| format!("https://example.org/{text}")),
                documentation: optional.map(str::to_owned),
                visibility,
                created_at: at,
                updated_at: at,
                version: 3,
                used_by: 2,
            })
        };
        PlainList(vec![
            project(1, Some("doc \"1\""), Access::Agents),
            project(2, None, Access::Public),
        ])
    }

    async fn repositories(&self) -> PlainList<Repository> {
        let repository = |id, optional: Option<&str>, forge, role, access| {
            Repository(RepositoryRecord {
                id,
                project_id: 1,
                url: format!("https://example.org/code/{id}?q=\"x\""),
                forge,
                owner: optional.map(|text| format!("owner {text}")),
                name: optional.map(|text| format!("name {text}")),
                role,
                language: optional.map(str::to_owned),
                license: optional.map(str::to_owned),
                access,
                confidence: Confidence::Confirmed,
                note: optional.map(str::to_owned),
            })
        };
        PlainList(vec![
            repository(
                1,
                Some("\u{1}é\\"),
                Forge::Gitlab,
                RepositoryRole::Mirror,
                Access::Agents,
            ),
            repository(2, None, Forge::Github, RepositoryRole::Main, Access::Public),
        ])
    }

    async fn datasets(&self) -> PlainList<Dataset> {
        let dataset = |id, description: Option<&str>, provider, access| {
            Dataset(DatasetRecord {
                id,
                project_id: 1,
                url: format!("https://example.org/data/{id}"),
                provider,
                title: "Données \"ouvertes\"".to_owned(),
                description: description.map(str::to_owned),
                access,
                confidence: Confidence::Unsure,
                note: unsure_note(Confidence::Unsure),
            })
        };
        PlainList(vec![
            dataset(
                1,
                Some("ligne 1\nligne 2"),
                DataProvider::ObjectStorage,
                Access::Agents,
            ),
            dataset(2, None, DataProvider::DataGouv, Access::Public),
        ])
    }

    async fn links(&self) -> PlainList<Link> {
        let link = |id, kind, access| {
            Link(LinkRecord {
                id,
                project_id: 1,
                url: format!("https://example.org/link/{id}"),
                kind,
                title: "Lien \\ \"titre\"".to_owned(),
                access,
                confidence: Confidence::Confirmed,
                note: None,
            })
        };
        PlainList(vec![
            link(1, LinkKind::ContainerImage, Access::Agents),
            link(2, LinkKind::Documentation, Access::Public),
        ])
    }

    async fn facet_values(&self) -> PlainList<FacetValue> {
        let facet = |value: &str, label: &str, count| FacetValue {
            value: value.to_owned(),
            label: label.to_owned(),
            count,
        };
        PlainList(vec![
            facet("direction-interministerielle", "DI\tNUM \"numérique\"", 12),
            facet("GITHUB", "GITHUB", u64::from(u32::MAX) + 1),
        ])
    }
}

/// A note in text that needs escaping, for an unsure fact.
fn unsure_note(confidence: Confidence) -> Option<String> {
    (confidence == Confidence::Unsure).then(|| "déduit d'une \"autre\" page\n".to_owned())
}

fn organizations() -> Vec<OrganizationRecord> {
    let organization = |id, optional: Option<&str>, kind| OrganizationRecord {
        id,
        slug: format!("organisation-{id}"),
        name: "Direction \"interministérielle\"".to_owned(),
        sort_key: "direction".to_owned(),
        acronym: optional.map(str::to_owned),
        kind,
        verified: true,
        siret: optional.map(|_| "13002526500013".to_owned()),
        siren: optional.map(|_| "130025265".to_owned()),
        website: optional.map(|text| format!("https://example.org/{text}")),
    };
    vec![
        organization(1, Some("DI\tNUM"), OrganizationKind::Directorate),
        organization(2, None, OrganizationKind::Agency),
    ]
}
