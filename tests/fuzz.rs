//! Property tests over what clients may send to `/graphql`: documents built
//! from the schema's own fields with arbitrary arguments, variables of any
//! JSON shape, and plain garbage. Whatever comes in, the gateway answers
//! without a panic or a 500, and every GraphQL error carries a code.

mod common;

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
                config.rate_limit_per_minute = 0;
                // Every case reaches the resolvers, not a cached answer.
                config.cache_answers = false;
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
