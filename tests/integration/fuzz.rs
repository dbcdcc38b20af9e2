//! Property tests over what clients may send to `/graphql`: documents built
//! from the schema's own fields with arbitrary arguments, variables of any
//! JSON shape, plain garbage, graphs of fragments spreading fragments, and
//! wide selections. Whatever comes in, the gateway answers without a panic
//! or a 500, every GraphQL error carries a code, and a document is refused
//! for its size exactly when its fragments, expanded, pass the limits.

use crate::common;

use common::{Backend, TestApp};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A GraphQL string literal holding `text` (JSON's escapes are GraphQL's).
fn literal(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z ]{1,30}",
        any::<String>(),
        Just("carte des communes".to_owned()),
        Just("a".repeat(300)),
        // Search cursors past the end, past usize and past the paging cap.
        Just("c2VhcmNoOjk5OTk5OTk5OTk5OTk5OTk5OTk5".to_owned()),
        Just("c2VhcmNoOjEwMDAwMDAwMDAwMDA".to_owned()),
    ]
}

/// Mostly in range, so that most documents reach the resolvers.
fn any_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => -5i64..120,
        1 => Just(i64::from(i32::MAX)),
        1 => Just(i64::from(i32::MIN)),
        1 => Just(1_000_000_000_000),
    ]
}

fn any_enum(values: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(values).prop_map(str::to_owned),
        1 => "[A-Z_]{1,12}",
    ]
}

/// One root field with arguments, valid or not, and a small selection.
fn root_field() -> impl Strategy<Value = String> {
    let kinds = &["PROJECT", "REPOSITORY", "DATASET", "ORGANIZATION"];
    prop_oneof![
        (any_text(), any_int(), proptest::option::of(any_text()), any_enum(kinds), any_text())
            .prop_map(|(q, first, after, kind, language)| format!(
                "search(query: {}, first: {first}{}, kinds: [{kind}], filter: {{languages: [{}], seasons: [2]}}) \
                 {{ totalCount edges {{ cursor node {{ score snippets {{ html }} object {{ __typename }} }} }} }}",
                literal(&q),
                after.map(|a| format!(", after: {}", literal(&a))).unwrap_or_default(),
                literal(&language),
            )),
        (proptest::option::of(any_text()), any_int(), any::<bool>(), any_enum(&["GITHUB", "GITLAB", "OTHER"]))
            .prop_map(|(q, limit, disjunctive, forge)| format!(
                "facets({}limit: {limit}, disjunctive: {disjunctive}, filter: {{forges: [{forge}]}}) \
                 {{ totalCount kinds {{ value count }} tags {{ label count }} }}",
                q.map(|q| format!("query: {}, ", literal(&q))).unwrap_or_default(),
            )),
        (any_int(), proptest::option::of(any_text()), any_text(), any_enum(&["NAME", "CREATED_AT", "UPDATED_AT"]))
            .prop_map(|(first, after, text, field)| format!(
                "projects(first: {first}{}, filter: {{text: {}}}, orderBy: {{field: {field}}}) \
                 {{ totalCount edges {{ cursor node {{ slug organizations {{ organization {{ name }} }} }} }} }}",
                after.map(|a| format!(", after: {}", literal(&a))).unwrap_or_default(),
                literal(&text),
            )),
        any_text().prop_map(|slug| format!("project(slug: {}) {{ name repositories {{ url }} }}", literal(&slug))),
        any_text().prop_map(|id| format!("node(id: {}) {{ id }}", literal(&id))),
        (any_int(), any_int()).prop_map(|(first, last)| format!(
            "organizations(first: {first}, last: {last}) {{ edges {{ node {{ slug }} }} }}"
        )),
        Just("tags { projectCount tag { slug } }".to_owned()),
        Just("me { email }".to_owned()),
    ]
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(root_field(), 1..4).prop_map(|fields| {
            let body: Vec<String> = fields
                .iter()
                .enumerate()
                .map(|(n, field)| format!("f{n}: {field}"))
                .collect();
            format!("{{ {} }}", body.join(" "))
        }),
        1 => any::<String>(),
        1 => "[{}()a-z:$!@ \"]{0,80}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        any::<String>().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// Checks one answer: no 500, and GraphQL errors with a code.
fn check(status: u16, body: &str) -> Result<(), TestCaseError> {
    prop_assert!(status != 500 && status < 600, "answered {status}: {body}");
    if status == 200 {
        let answer: Value = serde_json::from_str(body)
            .map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {body}")))?;
        for error in answer["errors"].as_array().into_iter().flatten() {
            prop_assert!(
                error["extensions"]["code"].is_string(),
                "error without a code: {error}"
            );
        }
    }
    Ok(())
}

struct Target {
    runtime: tokio::runtime::Runtime,
    app: TestApp,
}

impl Target {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let app = runtime.block_on(TestApp::spawn_configured(
            runtime.block_on(common::TestDatabase::create(Backend::Sqlite)),
            Some(common::catalogue_dir()),
            |config| {
                config.limits.rate_limit_per_minute = 0;
                // Every case reaches the resolvers, not a cached answer.
                config.cache.cache_answers = false;
            },
        ));
        Self { runtime, app }
    }

    fn post(&self, body: Value) -> (u16, String) {
        self.runtime.block_on(async {
            let response = self
                .app
                .client
                .post(self.app.url("/graphql"))
                .json(&body)
                .send()
                .await
                .expect("POST /graphql");
            (
                response.status().as_u16(),
                response.text().await.unwrap_or_default(),
            )
        })
    }
}

/// The generated documents are not all refused before execution: most reach
/// the resolvers, or the property above would test little.
#[test]
fn most_generated_documents_are_executed() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let target = TARGET.with(|t| t.clone());
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(root_field(), 1..3);
    let mut executed = 0;
    for _ in 0..100 {
        let fields = strategy.new_tree(&mut runner).unwrap().current();
        let document = format!(
            "{{ {} }}",
            fields
                .iter()
                .enumerate()
                .map(|(n, f)| format!("f{n}: {f}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let (status, body) = target.post(json!({ "query": document }));
        check(status, &body).unwrap();
        if body.contains("\"data\":{") {
            executed += 1;
        }
    }
    assert!(
        executed >= 50,
        "only {executed} of 100 documents reached the resolvers"
    );
}

/// The default limits on a document expanded, and on its cost (config/limits.rs).
const MAX_SELECTIONS: usize = 2000;
const MAX_COMPLEXITY: usize = 1000;
const MAX_FRAGMENT_DEPTH: usize = 16;

/// A graph of fragments: fragment `k` selects `__typename` (under an alias
/// of its own, or not) and spreads some fragments below it, any number of
/// times each; the operation spreads some of them. No cycles: those are
/// validation's, and `documents_never_crash_the_gateway` covers garbage.
#[derive(Debug, Clone)]
struct FragmentGraph {
    /// For each fragment, whether its `__typename` has an alias, and the
    /// fragments (below it) it spreads.
    fragments: Vec<(bool, Vec<usize>)>,
    spread_by_operation: Vec<usize>,
}

fn fragment_graph() -> impl Strategy<Value = FragmentGraph> {
    // At most 19 fragments: each selects a root field of its own, and an
    // operation may select 20.
    (1usize..20)
        .prop_flat_map(|count| {
            let fragment = |k: usize| {
                (
                    any::<bool>(),
                    if k == 0 {
                        Just(Vec::new()).boxed()
                    } else {
                        proptest::collection::vec(0..k, 0..4).boxed()
                    },
                )
            };
            (
                (0..count).map(fragment).collect::<Vec<_>>(),
                proptest::collection::vec(0..count, 1..4),
            )
        })
        .prop_map(|(fragments, spread_by_operation)| FragmentGraph {
            fragments,
            spread_by_operation,
        })
}

impl FragmentGraph {
    /// The fragments the operation spreads: those it was given, and every
    /// fragment no other spreads (an unused fragment is a validation error).
    fn operation_spreads(&self) -> Vec<usize> {
        let spread: std::collections::HashSet<usize> = self
            .fragments
            .iter()
            .flat_map(|(_, list)| list.iter().copied())
            .collect();
        let mut roots = self.spread_by_operation.clone();
        roots.extend((0..self.fragments.len()).filter(|k| !spread.contains(k)));
        roots
    }

    fn document(&self) -> String {
        let spreads = |list: &[usize]| list.iter().map(|k| format!("...F{k} ")).collect::<String>();
        let mut text = format!(
            "query {{ __typename {}}}",
            spreads(&self.operation_spreads())
        );
        for (k, (aliased, spread)) in self.fragments.iter().enumerate() {
            let own = if *aliased {
                format!("t{k}: __typename ")
            } else {
                "__typename ".to_owned()
            };
            text += &format!(" fragment F{k} on Query {{ {own}{}}}", spreads(spread));
        }
        text
    }

    /// (fields selected once expanded, deepest chain of spreads), counted
    /// the slow way, for the graphs this strategy makes (small enough).
    fn expanded(&self) -> (usize, usize) {
        let mut sizes: Vec<(usize, usize)> = Vec::new();
        for (_, spread) in &self.fragments {
            let fields = 1 + spread
                .iter()
                .map(|k| sizes[*k].0)
                .fold(0usize, usize::saturating_add);
            let depth = 1 + spread.iter().map(|k| sizes[*k].1).max().unwrap_or(0);
            sizes.push((fields, depth));
        }
        let roots = self.operation_spreads();
        let fields = 1 + roots
            .iter()
            .map(|k| sizes[*k].0)
            .fold(0usize, usize::saturating_add);
        let depth = roots.iter().map(|k| sizes[*k].1).max().unwrap_or(0);
        (fields, depth)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    /// However fragments spread each other, the document is answered when
    /// its expansion is within the limits and refused with the limit's code
    /// when not (19 fragments can ask for 3^18 fields).
    #[test]
    fn fragment_graphs_are_refused_exactly_when_their_expansion_is_too_large(
        graph in fragment_graph()
    ) {
        let target = TARGET.with(|t| t.clone());
        let (status, body) = target.post(json!({ "query": graph.document() }));
        check(status, &body)?;
        let answer: Value = serde_json::from_str(&body).unwrap();
        let (fields, depth) = graph.expanded();
        if depth > MAX_FRAGMENT_DEPTH || fields > MAX_SELECTIONS {
            prop_assert_eq!(&answer["errors"][0]["extensions"]["code"], "OPERATION_LIMIT_EXCEEDED", "{}", body);
        } else {
            prop_assert_eq!(&answer["data"]["__typename"], "Query", "{}", body);
        }
    }

    /// A selection of any width, of one field asked again and again or of
    /// distinct unknown names: refused for its size past the limit, for its
    /// cost past the complexity limit (each field costs 1, known or not),
    /// and otherwise answered or refused by validation.
    #[test]
    fn wide_selections_are_refused_by_their_size(width in 1usize..12_000, known in any::<bool>()) {
        let target = TARGET.with(|t| t.clone());
        let fields: String = if known {
            "projectCount ".repeat(width)
        } else {
            (0..width).map(|n| format!("u{n} ")).collect()
        };
        let (status, body) = target.post(json!({ "query": format!("{{ tags {{ {fields}}} }}") }));
        check(status, &body)?;
        let answer: Value = serde_json::from_str(&body).unwrap();
        let code = &answer["errors"][0]["extensions"]["code"];
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        if width + 1 > MAX_SELECTIONS {
            prop_assert_eq!(code, "OPERATION_LIMIT_EXCEEDED", "{}", body);
            prop_assert!(message.contains("fragments are expanded"), "{}", body);
        } else if width + 1 > MAX_COMPLEXITY {
            prop_assert_eq!(code, "OPERATION_LIMIT_EXCEEDED", "{}", body);
            prop_assert!(message.contains("too complex"), "{}", body);
        } else if known {
            prop_assert!(answer["data"]["tags"].is_array(), "{}", body);
        } else {
            prop_assert_eq!(code, "GRAPHQL_VALIDATION_FAILED", "{}", body);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn documents_never_crash_the_gateway(document in document()) {
        let target = TARGET.with(|t| t.clone());
        let (status, body) = target.post(json!({ "query": document }));
        check(status, &body)?;
    }

    #[test]
    fn variables_of_any_shape_are_refused_cleanly(
        q in json_value(), first in json_value(), filter in json_value(), extra in json_value()
    ) {
        let target = TARGET.with(|t| t.clone());
        let document = "query($q: String!, $first: Int, $filter: SearchFilter) {
            search(query: $q, first: $first, filter: $filter) { totalCount }
            facets(query: $q, filter: $filter) { totalCount } }";
        let (status, body) = target.post(json!({
            "query": document,
            "variables": { "q": q, "first": first, "filter": filter, "extra": extra },
        }));
        check(status, &body)?;
    }

    #[test]
    fn request_bodies_of_any_shape_are_refused_cleanly(body in json_value()) {
        let target = TARGET.with(|t| t.clone());
        let (status, answer) = target.post(body);
        check(status, &answer)?;
    }
}

thread_local! {
    /// One gateway per test thread, shared by that test's cases.
    static TARGET: std::rc::Rc<Target> = std::rc::Rc::new(Target::start());
}
