//! The plain answers fast path (src/graphql/plain/) against the resolvers,
//! on SQLite and PostgreSQL: each query is asked of the gateway as served
//! and of a second one on the same database with the fast path off
//! (`CATALOGUE_PLAIN_ANSWERS=false`), the answers compared byte for byte,
//! and the fast path's counters in /metrics checked to show which path
//! answered: a selection that should be answered plainly and is not fails,
//! even when the answers agree.

use crate::common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use common::{Backend, PlainCounts, TestApp, TestDatabase, first_places};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

/// The gateway as served, and the gateway without the fast path, on one
/// database; neither caches answers nor limits its callers' rate.
struct PlainAndResolvers {
    /// Stopped first: the other one's handle drops the database.
    resolvers: TestApp,
    plain: TestApp,
}

impl PlainAndResolvers {
    /// Both gateways, on a new database seeded from `catalogue`.
    async fn spawn(backend: Backend, catalogue: &Path) -> Self {
        let database = TestDatabase::create(backend).await;
        let shared = database.shared();
        let configure = |plain_answers: bool| {
            move |config: &mut catalogue_gateway::Config| {
                config.cache.cache_answers = false;
                config.limits.rate_limit_per_minute = 0;
                // Some questions ask every field of every project at once.
                config.limits.max_complexity = 10_000;
                config.execution.plain_answers = plain_answers;
                // The tests change rows behind the journal's back, which
                // the read model would not see (decision 0031).
                config.execution.read_model = false;
            }
        };
        let plain =
            TestApp::spawn_configured(database, Some(catalogue.to_path_buf()), configure(true))
                .await;
        let resolvers = TestApp::spawn_configured(shared, None, configure(false)).await;
        Self { resolvers, plain }
    }

    /// The answer to `query`, the same bytes from both gateways, and what
    /// the fast path did for it (the gateway without it never counts).
    async fn answer(&self, query: &str) -> (String, PlainCounts) {
        let before = self.plain.plain_counts().await;
        let plain = self.plain.answer_text(query).await;
        let counts = self.plain.plain_counts().await - before;
        let through_resolvers = self.resolvers.answer_text(query).await;
        assert_eq!(
            plain, through_resolvers,
            "the fast path and the resolvers answer differently: {query}"
        );
        assert_eq!(
            self.resolvers.plain_counts().await,
            PlainCounts::default(),
            "the gateway without the fast path took it: {query}"
        );
        (plain, counts)
    }

    /// The answer to `query`, which must succeed (see `answer`).
    async fn data(&self, query: &str) -> (Value, PlainCounts) {
        let (text, counts) = self.answer(query).await;
        let answer: Value = serde_json::from_str(&text).expect("a JSON answer");
        assert!(answer.get("errors").is_none(), "{query}: {answer:#}");
        (answer["data"].clone(), counts)
    }

    /// The slugs of every project anyone may see.
    async fn slugs(&self) -> Vec<String> {
        let (data, _) = self
            .data("{ projects(first: 100) { edges { node { slug } } } }")
            .await;
        data["projects"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|edge| edge["node"]["slug"].as_str().expect("a slug").to_owned())
            .collect()
    }
}

fn plain(answers: u64) -> PlainCounts {
    PlainCounts {
        answers,
        fallbacks: 0,
    }
}

/// A copy of the catalogue with a value in every optional column of an
/// organization (INSEE's: the file gives its acronym, SIRET and SIREN, the
/// copy adds a website), so that a column left out shows as null.
fn catalogue_with_every_optional_column() -> tempfile::TempDir {
    let catalogue = common::catalogue_copy();
    common::edit(
        catalogue.path(),
        "organizations.yaml",
        "    siren: \"120027016\"\n",
        "    siren: \"120027016\"\n    website: https://www.insee.fr/\n",
    );
    catalogue
}

/// `p0: project(slug: …) { selection } p1: …` for each of `slugs`.
fn each_project(slugs: &[String], selection: &str) -> String {
    let projects: String = slugs
        .iter()
        .enumerate()
        .map(|(index, slug)| format!("p{index}: project(slug: \"{slug}\") {{ {selection} }}\n"))
        .collect();
    format!("{{ {projects} }}")
}

/// Of `nodes`, some have repositories, some datasets, links and
/// organizations: else a comparison of them would compare nothing.
fn with_every_relation(nodes: &[&Value]) {
    for list in ["repositories", "datasets", "links", "organizations"] {
        assert!(
            nodes
                .iter()
                .any(|node| !node[list].as_array().expect(list).is_empty()),
            "no project has {list}: the comparison compared nothing"
        );
    }
}

/// A project's lists of repositories, datasets, links and organizations
/// whose selection asks only stored fields are written plainly
/// (`PlainList`), one list at a time: the bytes the resolvers give;
/// aliases, repeated keys, `__typename`, `@include`, fragments on the
/// list's type and the organizations held in participations included. A
/// harvested field, or an object selected twice, leaves lists to the
/// resolvers, which answer them.
async fn plain_lists_answer_like_their_resolvers(backend: Backend) {
    let apps = PlainAndResolvers::spawn(backend, &common::catalogue_dir()).await;
    let slugs = apps.slugs().await;
    let query = format!(
        "{}
         fragment Lists on Project {{
           repositories {{ __typename id url forge owner name role access link: url
             ... on Repository {{ name url }} ...Code role @include(if: false) }}
           datasets {{ __typename id url provider title description access }}
           links {{ __typename id url kind title access }}
           organizations {{ role organization {{ __typename id slug name acronym kind
             siret siren website }} }} }}
         fragment Code on Repository {{ role forge @include(if: true) }}",
        each_project(&slugs, "slug ...Lists")
    );
    let (plain_text, counts) = apps.answer(&query).await;
    assert_eq!(
        counts,
        plain(4 * slugs.len() as u64),
        "four lists a project"
    );
    let answer: Value = serde_json::from_str(&plain_text).expect("JSON");
    assert!(answer.get("errors").is_none(), "{answer}");
    let nodes: Vec<&Value> = answer["data"].as_object().expect("data").values().collect();
    with_every_relation(&nodes);
    let repository = nodes
        .iter()
        .find_map(|node| node["repositories"].as_array().and_then(|r| r.first()))
        .expect("a repository");
    let first_repository = &plain_text[plain_text
        .find("\"repositories\":[{")
        .expect("a repository")..];
    let first_repository = &first_repository[..first_repository.find('}').expect("its end")];
    let keys = [
        "__typename",
        "id",
        "url",
        "forge",
        "owner",
        "name",
        "role",
        "access",
        "link",
    ];
    let places = first_places(first_repository, &keys);
    assert!(places.is_sorted(), "keys out of order: {first_repository}");
    assert_eq!(repository["link"], repository["url"]);

    // A harvested field: its list goes to the resolvers, the other does not.
    let (mixed, counts) = apps
        .data(
            "{ project(slug: \"cartiflette\") { repositories { url stars }
               organizations { role } } }",
        )
        .await;
    assert_eq!(
        counts,
        PlainCounts {
            answers: 1,
            fallbacks: 1
        }
    );
    let repositories = mixed["project"]["repositories"]
        .as_array()
        .expect("repositories");
    assert!(!repositories.is_empty(), "{mixed}");
    for repository in repositories {
        assert!(repository["url"].is_string());
        assert!(repository.get("stars").is_some(), "{mixed}");
    }

    // An object selected twice: the answer merges objects, every list of
    // the request goes to the resolvers.
    let (merged, counts) = apps
        .data(
            "{ project(slug: \"cartiflette\") { repositories { url }
               organizations { organization { slug } organization { name } } } }",
        )
        .await;
    assert_eq!(
        counts,
        PlainCounts {
            answers: 0,
            fallbacks: 2
        }
    );
    let organizations = merged["project"]["organizations"]
        .as_array()
        .expect("organizations");
    assert!(!organizations.is_empty(), "{merged}");
    for participation in organizations {
        let organization = &participation["organization"];
        assert!(organization["slug"].is_string() && organization["name"].is_string());
    }
}

/// An organization's projects and each facet's values are lists of stored
/// fields too: written plainly, the bytes their resolvers give.
async fn organization_projects_and_facet_values_answer_like_their_resolvers(backend: Backend) {
    let apps = PlainAndResolvers::spawn(backend, &common::catalogue_dir()).await;
    let (data, counts) = apps
        .data(
            "{ organization(slug: \"insee\") { name
               projects { __typename id slug name summary website visibility } } }",
        )
        .await;
    assert_eq!(counts, plain(1), "the organization's projects");
    let projects = data["organization"]["projects"]
        .as_array()
        .expect("projects");
    assert!(projects.len() > 1, "{data}");

    let (data, counts) = apps
        .data(
            "{ facets(query: \"\", disjunctive: true) { totalCount
               kinds { __typename value label count } organizations { label value count }
               tags { value count } languages { count } licenses { value } forges { value }
               seasons { label } statuses { value label } access { count value }
               linkHealth { value count } usedBy { value label count } } }",
        )
        .await;
    assert_eq!(counts, plain(11), "a list a dimension");
    for dimension in ["kinds", "organizations", "tags", "forges"] {
        assert!(
            !data["facets"][dimension]
                .as_array()
                .expect(dimension)
                .is_empty(),
            "no {dimension}: the comparison compared nothing: {data}"
        );
    }
}

/// Pages of projects whose selection asks only `totalCount`, `edges {
/// cursor node }` and `pageInfo`, and of the nodes only plain fields and
/// lists, are written plainly (`ProjectConnection`), the whole page at
/// once: the bytes the resolvers give; first, next, last, empty, whole and
/// filtered pages, aliases, `__typename` and fragments at every level,
/// `totalCount`, every relation.
async fn project_pages_answer_like_their_resolvers(backend: Backend) {
    // A copy where DINUM uses Cartiflette, for the `usedBy` filter and ordering.
    let catalogue = common::catalogue_copy();
    common::edit(
        catalogue.path(),
        "cartiflette.yaml",
        "\nsources:",
        "\nuses:\n  - { organization: dinum, kind: user }\nsources:",
    );
    let apps = PlainAndResolvers::spawn(backend, catalogue.path()).await;
    let query = |arguments: &str| {
        format!(
            "{{ projects({arguments}) {{ __typename totalCount
                 pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }}
                 edges {{ __typename cursor node {{ __typename id slug name summary website
                   documentation visibility ...Links
                   repositories {{ __typename id url forge owner name role access }}
                   datasets {{ url provider title description access }}
                   organizations {{ role organization {{ slug name acronym kind siret siren website }} }} }} }}
                 again: edges {{ ... on ProjectEdge {{ node {{ slug repositories {{ url }} }} }} }} }} }}
             fragment Links on Project {{ links {{ url kind title access }} }}"
        )
    };
    let (first, _) = apps.data(&query("first: 3")).await;
    let end_cursor = first["projects"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let pages = [
        "first: 3".to_owned(),
        format!("first: 3, after: \"{end_cursor}\""),
        "last: 2".to_owned(),
        "first: 0".to_owned(),
        "first: 50".to_owned(),
        "first: 2, filter: { hasCode: true, season: 2 }".to_owned(),
        "first: 3, filter: { usedBy: { atLeast: 1, organizationKind: DIRECTORATE } }".to_owned(),
        "first: 3, orderBy: { field: USED_BY, direction: DESC }".to_owned(),
    ];
    for arguments in &pages {
        let (_, counts) = apps.data(&query(arguments)).await;
        assert_eq!(counts, plain(1), "one page: {arguments}");
    }
    let (whole, _) = apps.data(&query("first: 50")).await;
    let nodes = nodes_of_page(&whole["projects"]);
    assert_eq!(nodes.len(), 8, "{whole}");
    with_every_relation(&nodes);
}

/// The nodes of a page of a connection.
fn nodes_of_page(page: &Value) -> Vec<&Value> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| &edge["node"])
        .collect()
}

/// How to ask a selection of what a start of the fast path answers.
type Ask<'a> = &'a dyn Fn(&str) -> String;

/// Where the fast path starts, for `every_field_of_the_plain_types_…`.
struct Start<'a> {
    /// The type answered.
    type_name: &'a str,
    ask: Ask<'a>,
    /// Whether the fast path answers the type itself, or only objects under it.
    answered_plainly: bool,
    /// The types below which the objects are left to the resolvers.
    stops_at: &'a [&'a str],
    /// The fields it answers plainly beyond those listed plain (loaded with
    /// the page), by type.
    loaded: &'a [(&'a str, &'a str)],
}

impl<'a> Start<'a> {
    fn of(type_name: &'a str, ask: Ask<'a>, answered_plainly: bool) -> Self {
        Self {
            type_name,
            ask,
            answered_plainly,
            stops_at: &[],
            loaded: &[],
        }
    }
}

/// A field of a type of the schema, as introspection describes it.
struct SchemaField {
    name: String,
    takes_arguments: bool,
    /// Its type, lists and non-null taken off.
    type_name: String,
    /// Whether that is a scalar or an enum.
    leaf: bool,
}

/// The fields of every object type of the schema, by type.
async fn schema_fields(app: &TestApp) -> BTreeMap<String, Vec<SchemaField>> {
    let data = app
        .data(
            "{ __schema { types { name kind fields { name args { name }
               type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }",
            json!({}),
        )
        .await;
    let mut types = BTreeMap::new();
    for object in data["__schema"]["types"].as_array().expect("types") {
        if object["kind"] != "OBJECT" {
            continue;
        }
        let fields = object["fields"].as_array().expect("fields");
        let fields = fields.iter().map(|field| {
            let mut named = &field["type"];
            while ["NON_NULL", "LIST"].contains(&named["kind"].as_str().expect("kind")) {
                named = &named["ofType"];
            }
            SchemaField {
                name: field["name"].as_str().expect("name").to_owned(),
                takes_arguments: !field["args"].as_array().expect("args").is_empty(),
                type_name: named["name"].as_str().expect("a type name").to_owned(),
                leaf: matches!(named["kind"].as_str(), Some("SCALAR" | "ENUM")),
            }
        });
        types.insert(
            object["name"].as_str().expect("name").to_owned(),
            fields.collect(),
        );
    }
    types
}

/// `selection` under the fields of `path`, outermost first.
fn nest(path: &[String], selection: &str) -> String {
    path.iter()
        .rev()
        .fold(selection.to_owned(), |inner, field| {
            format!("{field} {{ {inner} }}")
        })
}

/// A selection set being built from paths.
#[derive(Default)]
struct Selection {
    fields: Vec<String>,
    objects: BTreeMap<String, Selection>,
}

impl Selection {
    fn add(&mut self, path: &[String], fields: &[&str]) {
        match path.split_first() {
            None => self
                .fields
                .extend(fields.iter().map(|&field| field.to_owned())),
            Some((first, rest)) => self
                .objects
                .entry(first.clone())
                .or_default()
                .add(rest, fields),
        }
    }

    fn text(&self) -> String {
        let mut text = self.fields.join(" ");
        for (name, nested) in &self.objects {
            text.push_str(&format!(" {name} {{ __typename {} }}", nested.text()));
        }
        text
    }
}

/// Every field without arguments of every type with plain fields, found
/// from the schema (introspection) and from the gateway's own list of
/// plain fields (`plain_fields_by_type`): where the fast path starts
/// (the projects, repositories and datasets connections, a project's
/// lists, the facets), the objects it answers
/// plainly are found by asking each object field of the types reached so
/// far, alone; every type with plain fields the schema leads to from a
/// start must be answered plainly from it. Then every field of each type
/// reached is asked alone, where the fast path reaches it, and all the
/// plain fields together: the same bytes with the fast path on and off,
/// answered plainly exactly when the field is listed plain. A field added
/// to the schema later is compared too; one added to `plain_fields!` is
/// checked to be answered plainly.
async fn every_field_of_the_plain_types_answers_like_its_resolver(backend: Backend) {
    let catalogue = catalogue_with_every_optional_column();
    let apps = PlainAndResolvers::spawn(backend, catalogue.path()).await;
    let schema = schema_fields(&apps.plain).await;
    let plain_fields: BTreeMap<String, BTreeSet<&str>> =
        catalogue_gateway::graphql::plain_fields_by_type()
            .into_iter()
            .map(|(type_name, fields)| (type_name.into_owned(), fields.iter().copied().collect()))
            .collect();
    for (type_name, fields) in &plain_fields {
        let leaves: BTreeSet<&str> = schema[type_name]
            .iter()
            .filter(|field| field.leaf && !field.takes_arguments)
            .map(|field| field.name.as_str())
            .collect();
        assert!(
            fields.is_subset(&leaves),
            "{type_name}: plain fields {fields:?} beyond its leaves {leaves:?}"
        );
    }
    let slugs = apps.slugs().await;

    let connection = |selection: &str| format!("{{ projects(first: 50) {{ {selection} }} }}");
    let projects = |selection: &str| each_project(&slugs, selection);
    let facets = |selection: &str| format!("{{ facets(query: \"\") {{ {selection} }} }}");
    let repositories =
        |selection: &str| format!("{{ repositories(first: 100) {{ {selection} }} }}");
    let datasets = |selection: &str| format!("{{ datasets(first: 100) {{ {selection} }} }}");
    // The item connections load their items' projects, not what hangs off
    // those; and a repository's language and licence, which are plain in
    // that connection only.
    let loaded_by_repositories = [("Repository", "language"), ("Repository", "license")];
    let starts: [Start<'_>; 5] = [
        Start::of("ProjectConnection", &connection, true),
        Start::of("Project", &projects, false),
        Start::of("SearchFacets", &facets, false),
        Start {
            stops_at: &["Project"],
            loaded: &loaded_by_repositories,
            ..Start::of("RepositoryConnection", &repositories, true)
        },
        Start {
            stops_at: &["Project"],
            ..Start::of("DatasetConnection", &datasets, true)
        },
    ];
    let mut reached_anywhere = BTreeSet::new();
    for start in starts {
        let Start {
            type_name: start_type,
            ask,
            answered_plainly,
            stops_at,
            loaded,
        } = start;
        // The objects the fast path answers, by their path from the start.
        let mut reached: Vec<(Vec<String>, &str)> = Vec::new();
        if answered_plainly {
            reached.push((Vec::new(), start_type));
        }
        let mut seen = BTreeSet::from([start_type]);
        let mut to_visit = VecDeque::from([(Vec::<String>::new(), start_type)]);
        while let Some((path, type_name)) = to_visit.pop_front() {
            if stops_at.contains(&type_name) {
                continue;
            }
            for field in &schema[type_name] {
                let object = field.type_name.as_str();
                if field.leaf
                    || field.takes_arguments
                    || !plain_fields.contains_key(object)
                    || seen.contains(object)
                {
                    continue;
                }
                let mut inner = path.clone();
                inner.push(field.name.clone());
                let (_, counts) = apps.data(&ask(&nest(&inner, "__typename"))).await;
                if counts.answers > 0 && counts.fallbacks == 0 {
                    seen.insert(object);
                    reached.push((inner.clone(), object));
                    to_visit.push_back((inner, object));
                }
            }
        }

        // Every type with plain fields the schema leads to from the start
        // is answered plainly from it, however it is reached.
        let mut below = BTreeSet::new();
        let mut to_visit = vec![start_type];
        while let Some(type_name) = to_visit.pop() {
            for field in &schema[type_name] {
                let object = field.type_name.as_str();
                if !field.leaf
                    && !field.takes_arguments
                    && plain_fields.contains_key(object)
                    && below.insert(object)
                    && !stops_at.contains(&object)
                {
                    to_visit.push(object);
                }
            }
        }
        if answered_plainly {
            below.insert(start_type);
        } else {
            below.remove(start_type);
        }
        let reached_types: BTreeSet<&str> =
            reached.iter().map(|(_, type_name)| *type_name).collect();
        assert_eq!(
            reached_types, below,
            "from {start_type}: the types with plain fields answered plainly"
        );

        let mut every_plain_field = Selection::default();
        for (path, type_name) in &reached {
            reached_anywhere.insert(type_name.to_string());
            let listed = &plain_fields[*type_name];
            for field in schema[*type_name].iter().filter(|f| !f.takes_arguments) {
                let selection = if field.leaf {
                    field.name.clone()
                } else {
                    format!("{} {{ __typename }}", field.name)
                };
                let query = ask(&nest(path, &selection));
                let (_, counts) = apps.data(&query).await;
                if !field.leaf {
                    continue;
                }
                let is_loaded = loaded.contains(&(*type_name, field.name.as_str()));
                if listed.contains(field.name.as_str()) || is_loaded {
                    assert!(
                        counts.answers > 0 && counts.fallbacks == 0,
                        "{type_name}.{} is listed plain but was not answered plainly \
                         ({counts:?}): {query}",
                        field.name
                    );
                } else {
                    assert!(
                        counts.answers == 0 && counts.fallbacks > 0,
                        "{type_name}.{} is not listed plain but was answered plainly \
                         ({counts:?}): {query}",
                        field.name
                    );
                }
            }
            let loaded_here = (loaded.iter()).filter(|(of, _)| of == type_name);
            let listed: Vec<&str> = (listed.iter().copied())
                .chain(loaded_here.map(|(_, field)| *field))
                .collect();
            every_plain_field.add(path, &listed);
        }
        let query = ask(&every_plain_field.text());
        let (data, counts) = apps.data(&query).await;
        assert!(
            counts.answers > 0 && counts.fallbacks == 0,
            "every plain field at once ({counts:?}): {query}"
        );
        let nodes = match start_type {
            "ProjectConnection" => nodes_of_page(&data["projects"]),
            "Project" => data.as_object().expect("data").values().collect(),
            // No project there to compare with the catalogue's.
            _ => continue,
        };
        assert_eq!(nodes.len(), slugs.len(), "{data}");
        with_every_relation(&nodes);
    }
    let with_plain_fields: BTreeSet<String> = plain_fields.keys().cloned().collect();
    assert_eq!(
        reached_anywhere, with_plain_fields,
        "types with plain fields the fast path never answered"
    );
}

/// Each stored column is read into its own field (the records' readers
/// read by position, `store::record!`), and lists read only the optional
/// columns their selection shows (`store::Columns`): every field asked
/// alone, or beside another selection of the same list, answers what it
/// answers when every column is read, and the fields listed plain are
/// answered plainly. Each text column of FormIAble, of its first
/// repository, its dataset, its website link and INSEE holds its own name
/// first, so that a column left out would show as null, and a field read
/// from another column as that column's name.
async fn each_field_alone_answers_as_when_every_column_is_read(backend: Backend) {
    let apps = PlainAndResolvers::spawn(backend, &common::catalogue_dir()).await;
    let db = apps.plain.database.connect().await;
    let formiable = "project_id = (SELECT id FROM project WHERE slug = 'formiable')";
    for update in [
        "UPDATE organization SET slug = 'slug', name = 'name', acronym = 'acronym', \
         siret = 'siret', siren = 'siren', website = 'website' WHERE slug = 'insee'"
            .to_owned(),
        "UPDATE project SET name = 'name', summary = 'summary', description = 'description', \
         website = 'website', documentation = 'documentation' WHERE slug = 'formiable'"
            .to_owned(),
        format!(
            "UPDATE repository SET url = 'url', owner = 'owner', name = 'name', \
             language = 'language', license = 'license' WHERE position = 0 AND {formiable}"
        ),
        format!(
            "UPDATE dataset SET url = 'url', title = 'title', description = 'description', \
             access = 'PUBLIC' WHERE {formiable}"
        ),
        format!(
            "UPDATE link SET url = 'url', title = 'title' WHERE kind = 'WEBSITE' AND {formiable}"
        ),
    ] {
        let updated = db.execute_unprepared(&update).await.expect(&update);
        assert_eq!(updated.rows_affected(), 1, "{update}");
    }
    let plain_fields: BTreeSet<(String, String)> =
        catalogue_gateway::graphql::plain_fields_by_type()
            .into_iter()
            .flat_map(|(type_name, fields)| {
                fields
                    .iter()
                    .map(move |field| (type_name.to_string(), (*field).to_owned()))
            })
            .collect();
    let is_plain = |type_name: &str, field: &str| {
        plain_fields.contains(&(type_name.to_owned(), field.to_owned()))
    };

    let repository_fields = every_field_of(&apps.plain, "Repository").await;
    let organization_fields = every_field_of(&apps.plain, "Organization").await;
    let in_formiable =
        |selection: &str| format!("{{ project(slug: \"formiable\") {{ {selection} }} }}");
    let (full, _) = apps
        .data(&in_formiable(&format!(
            "name summary description website documentation
             datasets {{ url title description }} links {{ kind url title }}
             repositories {{ {} }} organizations {{ organization {{ {} }} }}",
            repository_fields.join(" "),
            organization_fields.join(" ")
        )))
        .await;
    // Each item of a list, where the object is in it.
    let items = |data: &Value, list: &str, object: &str| -> Vec<Value> {
        let list = data.pointer(list).and_then(Value::as_array).expect(list);
        list.iter()
            .map(|item| item.pointer(object).expect(object).clone())
            .collect()
    };
    let own_names = |object: &Value, fields: &[&str]| {
        for field in fields {
            assert_eq!(object[field], *field, "{field}: {object}");
        }
    };
    let project = &full["project"];
    own_names(
        project,
        &["name", "summary", "description", "website", "documentation"],
    );
    own_names(&project["datasets"][0], &["url", "title", "description"]);
    let website = items(&full, "/project/links", "")
        .into_iter()
        .find(|link| link["kind"] == "WEBSITE")
        .expect("FormIAble's website");
    own_names(&website, &["url", "title"]);
    let repositories = items(&full, "/project/repositories", "");
    own_names(
        &repositories[0],
        &["url", "owner", "name", "language", "license"],
    );
    let organizations = items(&full, "/project/organizations", "/organization");
    let insee = organizations
        .iter()
        .find(|organization| organization["slug"] == "slug")
        .expect("INSEE takes part in FormIAble");
    own_names(
        insee,
        &["slug", "name", "acronym", "siret", "siren", "website"],
    );

    // (type, its fields, the full read, where the objects are, the field
    // alone, the field beside other selections of the list)
    let cases = [
        (
            "Repository",
            &repository_fields,
            &repositories,
            ("/project/repositories", ""),
            "repositories { FIELD }",
            "some: repositories { url } repositories { url } repositories { FIELD }",
        ),
        (
            "Organization",
            &organization_fields,
            &organizations,
            ("/project/organizations", "/organization"),
            "organizations { organization { FIELD } }",
            "organizations { role organization { slug } } organizations { organization { FIELD } }",
        ),
    ];
    for (type_name, fields, full_read, (list, object), alone, beside) in cases {
        for selection in fields {
            let key = selection.split(' ').next().expect("a field");
            for template in [alone, beside] {
                let query = in_formiable(&template.replace("FIELD", selection));
                let (data, counts) = apps.data(&query).await;
                let answered = items(&data, list, object);
                assert_eq!(answered.len(), full_read.len(), "{query}");
                for (object, read_in_full) in answered.iter().zip(full_read) {
                    assert_eq!(object[key], read_in_full[key], "{type_name}.{key}: {query}");
                }
                if template == alone && is_plain(type_name, key) {
                    assert_eq!(counts, plain(1), "{type_name}.{key} alone: {query}");
                }
            }
        }
    }
}

/// What to select of each field without arguments of the type `name`: the
/// field itself when it is a leaf, else its `__typename`.
async fn every_field_of(app: &TestApp, name: &str) -> Vec<String> {
    let data = app
        .data(
            "query($name: String!) { __type(name: $name) { fields {
               name args { name } type { kind ofType { kind ofType { kind ofType { kind } } } } } } }",
            json!({ "name": name }),
        )
        .await;
    let mut selections = Vec::new();
    for field in data["__type"]["fields"].as_array().expect("fields") {
        if !field["args"].as_array().expect("args").is_empty() {
            continue;
        }
        let mut kind = &field["type"];
        while ["NON_NULL", "LIST"].contains(&kind["kind"].as_str().expect("kind")) {
            kind = &kind["ofType"];
        }
        let field_name = field["name"].as_str().expect("name");
        selections.push(match kind["kind"].as_str() {
            Some("SCALAR" | "ENUM") => field_name.to_owned(),
            _ => format!("{field_name} {{ __typename }}"),
        });
    }
    selections
}

/// Pages of repositories and datasets across projects, with each item's
/// project, are written plainly too (`item_connection`): the bytes the
/// resolvers give; first, next, last, empty, whole and filtered pages,
/// `totalCount`, aliases and fragments. A repository's language and
/// licence come from the catalogue, else from the forge's facts (one with
/// facts, one without, one whose facts cannot be read). A field the
/// connection does not load leaves the page to the resolvers.
async fn repository_and_dataset_pages_answer_like_their_resolvers(backend: Backend) {
    let apps = PlainAndResolvers::spawn(backend, &common::catalogue_dir()).await;
    let db = apps.plain.database.connect().await;
    let first_of = |slug: &str| {
        format!("position = 0 AND project_id = (SELECT id FROM project WHERE slug = '{slug}')")
    };
    let harvested = |slug: &str, facts: &str| {
        format!(
            "INSERT INTO harvest_result (subject, project_id, url, status, harvested_at, facts)
             SELECT 'repository:' || id, project_id, url, 'OK', '2026-01-02T03:04:05+00:00', '{facts}'
             FROM repository WHERE {}",
            first_of(slug)
        )
    };
    let facts = json!({"description": null, "language": "Rust", "license": "MIT", "topics": [],
        "stars": null, "forks": null, "open_issues": null, "default_branch": null,
        "archived": false, "last_activity_at": null, "latest_release": null});
    for statement in [
        format!(
            "UPDATE repository SET language = NULL, license = NULL WHERE {}",
            first_of("cartiflette")
        ),
        format!(
            "UPDATE repository SET language = NULL, license = NULL WHERE {}",
            first_of("formiable")
        ),
        format!(
            "UPDATE repository SET language = NULL WHERE {}",
            first_of("chartsgouv")
        ),
        harvested("cartiflette", &facts.to_string()),
        harvested("chartsgouv", "{not JSON"),
    ] {
        let changed = db.execute_unprepared(&statement).await.expect(&statement);
        assert_eq!(changed.rows_affected(), 1, "{statement}");
    }

    let repositories = |arguments: &str| {
        format!(
            "{{ repositories({arguments}) {{ __typename totalCount
                 pageInfo {{ __typename hasPreviousPage hasNextPage startCursor endCursor }}
                 edges {{ __typename cursor node {{ __typename id url forge owner name role access
                   confidence note language license project {{ __typename id slug name summary }} }} }}
                 again: edges {{ ... on RepositoryEdge {{ node {{ url licence: license ...Owner }} }} }} }} }}
             fragment Owner on Repository {{ owner project {{ slug }} }}"
        )
    };
    let datasets = |arguments: &str| {
        format!(
            "{{ datasets({arguments}) {{ totalCount pageInfo {{ hasNextPage endCursor }}
                 edges {{ cursor node {{ id url provider title description access confidence note
                   of: project {{ slug name visibility }} ... on Dataset {{ title }} }} }} }} }}"
        )
    };
    let (first, _) = apps.data(&repositories("first: 3")).await;
    let end_cursor = first["repositories"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    for arguments in [
        "first: 3".to_owned(),
        format!("first: 3, after: \"{end_cursor}\""),
        "last: 2".to_owned(),
        "first: 0".to_owned(),
        "first: 100".to_owned(),
        "first: 5, filter: { language: \"python\" }".to_owned(),
        "first: 5, filter: { forge: GITLAB, organization: \"insee\" }".to_owned(),
        "first: 5, filter: { project: \"nope\" }".to_owned(),
    ] {
        let (_, counts) = apps.data(&repositories(&arguments)).await;
        assert_eq!(counts, plain(1), "one page of repositories: {arguments}");
    }
    let (whole, _) = apps.data(&repositories("first: 100")).await;
    let nodes = nodes_of_page(&whole["repositories"]);
    // Each project's first repository in its file (`position = 0`).
    for (slug, language, license) in [
        ("cartiflette", json!("Rust"), json!("MIT")),
        ("formiable", Value::Null, Value::Null),
        ("chartsgouv", Value::Null, Value::Null),
    ] {
        let query = format!("{{ project(slug: \"{slug}\") {{ repositories {{ url license }} }} }}");
        let (project, _) = apps.data(&query).await;
        let first = &project["project"]["repositories"][0];
        let node = (nodes.iter())
            .find(|node| node["url"] == first["url"])
            .expect(slug);
        assert_eq!(node["language"], language, "{slug}: {node}");
        if slug != "chartsgouv" {
            assert_eq!(node["license"], license, "{slug}: {node}");
        }
        assert_eq!(node["license"], first["license"], "{slug}: {node}");
    }

    for arguments in [
        "first: 2",
        "last: 1",
        "first: 100",
        "first: 5, filter: { provider: API }",
        "first: 5, filter: { organization: \"insee\", project: \"poufdoc\" }",
    ] {
        let (page, counts) = apps.data(&datasets(arguments)).await;
        assert_eq!(counts, plain(1), "one page of datasets: {arguments}");
        if arguments == "first: 100" {
            assert!(nodes_of_page(&page["datasets"]).len() > 1, "{page}");
        }
    }

    // A project's lists under an item, or an item's uses, are left to the
    // resolvers (the project's lists then answer plainly on their own).
    let (_, counts) = apps
        .data("{ repositories(first: 3) { edges { node { url uses { kind } } } } }")
        .await;
    assert_eq!(
        counts,
        PlainCounts {
            answers: 0,
            fallbacks: 1
        }
    );
    let (_, counts) = apps
        .data("{ datasets(first: 3) { edges { node { project { slug links { url } } } } } }")
        .await;
    assert_eq!(counts.fallbacks, 1, "{counts:?}");
}

on_both_backends!(
    plain_lists_answer_like_their_resolvers,
    organization_projects_and_facet_values_answer_like_their_resolvers,
    project_pages_answer_like_their_resolvers,
    repository_and_dataset_pages_answer_like_their_resolvers,
    every_field_of_the_plain_types_answers_like_its_resolver,
    each_field_alone_answers_as_when_every_column_is_read,
);
