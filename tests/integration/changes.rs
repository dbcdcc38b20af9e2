//! The journal of changes as a feed: what each write records (kind,
//! fields, audience), the two sequences readers follow, and pruning.

use crate::common;

use catalogue_gateway::catalogue::{Access, Audience};
use catalogue_gateway::store::{
    ChangeFeed, ChangeFilter, ChangeKind, ChangedField, FeedPosition, RecordedChange, Store,
};
use common::issuer::{SigningKey, TestIssuer};
use common::{Backend, TestApp};
use serde_json::{Value, json};

const ADMIN: &str = "admin@numerique.gouv.fr";

struct Setup {
    app: TestApp,
    _issuer: TestIssuer,
    admin: String,
    store: Store,
}

impl Setup {
    async fn new(backend: Backend) -> Self {
        let key = SigningKey::ec("ec-1");
        let issuer = TestIssuer::start(&[&key]).await;
        let app = common::issuer::gateway_trusting(backend, &issuer, &[ADMIN]).await;
        let store = Store::connect(&app.database.url).await.unwrap();
        Self {
            admin: key.sign(&issuer.claims(ADMIN)),
            app,
            _issuer: issuer,
            store,
        }
    }

    async fn write(&self, mutation: &str) -> Value {
        let (status, _, answer) = self.app.query_as(&self.admin, mutation, json!({})).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer.get("errors").is_none(), "{mutation}: {answer:#}");
        answer["data"].clone()
    }

    /// Every change `after`'s reader may read after it, in one page.
    async fn read(&self, after: FeedPosition) -> Vec<RecordedChange> {
        match self
            .store
            .changes_after(after, 1000, &ChangeFilter::default())
            .await
            .unwrap()
        {
            ChangeFeed::Page {
                changes, has_more, ..
            } => {
                assert!(!has_more);
                changes
            }
            ChangeFeed::Pruned => panic!("pruned after {after:?}"),
        }
    }
}

fn described(changes: &[RecordedChange]) -> Vec<(ChangeKind, Vec<ChangedField>, Access)> {
    changes
        .iter()
        .map(|change| (change.kind, change.fields.clone(), change.audience))
        .collect()
}

async fn each_write_records_its_kind_fields_and_audience(backend: Backend) {
    let setup = Setup::new(backend).await;
    let all = setup.store.feed_head(Audience::Agents).await.unwrap();
    let public = setup.store.feed_head(Audience::Public).await.unwrap();
    setup
        .write("mutation { createProject(input: {slug: \"interne\", name: \"Interne\", summary: \"Pour les agents.\", visibility: AGENTS}) { project { slug } } }")
        .await;
    setup
        .write("mutation { createProject(input: {slug: \"nouveau\", name: \"Nouveau\", summary: \"Un projet.\"}) { project { slug } } }")
        .await;
    setup
        .write("mutation { addRepository(input: {projectSlug: \"nouveau\", url: \"https://github.com/example/interne\", access: AGENTS}) { repository { url } } }")
        .await;
    setup
        .write("mutation { updateProject(slug: \"nouveau\", expectedVersion: 2, input: {name: \"Renommé\"}) { project { name } } }")
        .await;
    setup
        .write("mutation { updateProject(slug: \"nouveau\", expectedVersion: 3, input: {status: ARCHIVED}) { project { name } } }")
        .await;
    setup
        .write("mutation { updateProject(slug: \"interne\", expectedVersion: 1, input: {visibility: PUBLIC}) { project { name } } }")
        .await;

    let changes = setup.read(all).await;
    assert_eq!(
        described(&changes),
        [
            (ChangeKind::ProjectCreated, vec![], Access::Agents),
            (ChangeKind::ProjectCreated, vec![], Access::Public),
            (
                ChangeKind::LinkAdded,
                vec![ChangedField::Repositories],
                Access::Agents
            ),
            (
                ChangeKind::ProjectUpdated,
                vec![ChangedField::Name],
                Access::Public
            ),
            (
                ChangeKind::ProjectArchived,
                vec![ChangedField::Status],
                Access::Public
            ),
            // Leaving the agents' view for everyone's: public.
            (
                ChangeKind::ProjectUpdated,
                vec![ChangedField::Visibility],
                Access::Public
            ),
        ]
    );
    let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
    assert_eq!(
        seqs,
        (all.ordinal + 1..=all.ordinal + 6).collect::<Vec<_>>()
    );

    // Public readers see the public changes under positions without gaps.
    let seen = setup.read(public).await;
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|c| c.audience == Access::Public));
    let positions: Vec<i64> = seen
        .iter()
        .map(|c| c.position(Audience::Public).unwrap().ordinal)
        .collect();
    assert_eq!(
        positions,
        (public.ordinal + 1..=public.ordinal + 4).collect::<Vec<_>>()
    );
    assert_eq!(
        setup
            .store
            .feed_head(Audience::Public)
            .await
            .unwrap()
            .ordinal,
        public.ordinal + 4
    );
}

async fn pages_continue_where_they_stop_and_pruned_cursors_say_so(backend: Backend) {
    let setup = Setup::new(backend).await;
    let start = setup.store.feed_head(Audience::Public).await.unwrap();
    for slug in ["un", "deux", "trois"] {
        setup
            .write(&format!("mutation {{ createProject(input: {{slug: \"{slug}\", name: \"Projet {slug}\", summary: \"Un projet.\"}}) {{ project {{ slug }} }} }}"))
            .await;
    }
    let filter = ChangeFilter::default();
    let ChangeFeed::Page {
        changes,
        next,
        has_more,
    } = setup.store.changes_after(start, 2, &filter).await.unwrap()
    else {
        panic!("pruned")
    };
    assert_eq!(changes.len(), 2);
    assert!(has_more);
    let ChangeFeed::Page {
        changes: rest,
        next: end,
        has_more,
    } = setup.store.changes_after(next, 2, &filter).await.unwrap()
    else {
        panic!("pruned")
    };
    assert_eq!(rest.len(), 1);
    assert!(!has_more);
    assert_eq!(end, setup.store.feed_head(Audience::Public).await.unwrap());

    // A filter skips changes without holding the reader back.
    let only_organizations = ChangeFilter {
        kinds: Some(vec![ChangeKind::OrganizationUpdated]),
        subjects: None,
    };
    assert_eq!(
        setup
            .store
            .changes_after(start, 10, &only_organizations)
            .await
            .unwrap(),
        ChangeFeed::Page {
            changes: vec![],
            next: end,
            has_more: false
        }
    );

    setup
        .store
        .prune_changes(chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        setup.store.changes_after(start, 10, &filter).await.unwrap(),
        ChangeFeed::Pruned
    );
    assert_eq!(
        setup.store.changes_after(end, 10, &filter).await.unwrap(),
        ChangeFeed::Page {
            changes: vec![],
            next: end,
            has_more: false
        }
    );
    // A position the journal never reached.
    let beyond = FeedPosition {
        ordinal: end.ordinal + 1,
        ..end
    };
    assert_eq!(
        setup
            .store
            .changes_after(beyond, 10, &filter)
            .await
            .unwrap(),
        ChangeFeed::Pruned
    );
}

/// An import records each project's changes for their audience: an
/// agents-only link added at the end of a public project's links is an
/// agents-only change (one added before public links moves them: public).
async fn an_import_records_what_it_changed_for_whom(backend: Backend) {
    let setup = Setup::new(backend).await;
    let all = setup.store.feed_head(Audience::Agents).await.unwrap();
    let dir = common::catalogue_copy();
    common::edit(
        dir.path(),
        "cartiflette.yaml",
        "      cite plus et renvoie au site du projet.\n",
        "      cite plus et renvoie au site du projet.\n  - url: https://example.org/interne\n    kind: demo\n    title: Démo interne\n    access: agents\n",
    );
    let (imported, _, stderr) = common::run_import(&setup.app.database.url, dir.path());
    assert!(imported, "{stderr}");
    assert_eq!(
        described(&setup.read(all).await),
        [(
            ChangeKind::ProjectUpdated,
            vec![ChangedField::Links],
            Access::Agents
        )]
    );
}

const FOLLOW: &str = "query($after: String) { changes(after: $after, first: 3) { cursor edges { cursor node { kind fields nodeId node { ... on Project { slug } } } } } }";

/// What a tool following `changes` with `token` (anonymous without) sees
/// from `cursor` until it has seen `wanted` changes to the `suivi-` projects:
/// their slugs and cursors, in the order read.
async fn follow(
    app: &TestApp,
    token: Option<&str>,
    mut cursor: String,
    wanted: usize,
) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut seen = Vec::new();
    while seen.len() < wanted {
        assert!(
            std::time::Instant::now() < deadline,
            "saw only {seen:?} of {wanted}"
        );
        let variables = json!({ "after": cursor });
        let answer = match token {
            Some(token) => app.query_as(token, FOLLOW, variables).await.2,
            None => app.query(FOLLOW, variables).await,
        };
        assert!(answer.get("errors").is_none(), "{answer:#}");
        let page = &answer["data"]["changes"];
        for edge in page["edges"].as_array().unwrap() {
            assert_eq!(edge["node"]["kind"], "PROJECT_CREATED", "{edge}");
            let slug = edge["node"]["node"]["slug"].as_str().unwrap_or_default();
            if slug.starts_with("suivi-") {
                seen.push((slug.to_owned(), edge["cursor"].as_str().unwrap().to_owned()));
            }
        }
        cursor = page["cursor"].as_str().unwrap().to_owned();
    }
    seen
}

/// The ordinal a `changes` cursor names (tests only: cursors are opaque).
fn ordinal(cursor: &str) -> i64 {
    use base64::Engine;
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .unwrap();
    let text = String::from_utf8(text).unwrap();
    text.rsplit(':').next().unwrap().parse().unwrap()
}

async fn latest_cursor(app: &TestApp, token: Option<&str>) -> String {
    let query = "{ latestChangeCursor }";
    let answer = match token {
        Some(token) => app.query_as(token, query, json!({})).await.2,
        None => app.query(query, json!({})).await,
    };
    answer["data"]["latestChangeCursor"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_tool_following_changes_sees_every_write_once_in_order(backend: Backend) {
    const WRITES: usize = 12;
    let setup = Setup::new(backend).await;
    let anonymous_start = latest_cursor(&setup.app, None).await;
    let agent_start = latest_cursor(&setup.app, Some(&setup.admin)).await;
    // Every third project is for agents only.
    let agents_only = |i: usize| i % 3 == 2;
    let writer = {
        let app_url = setup.app.base_url.clone();
        let admin = setup.admin.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..WRITES {
                let visibility = if agents_only(i) { "AGENTS" } else { "PUBLIC" };
                let mutation = format!(
                    "mutation {{ createProject(input: {{slug: \"suivi-{i}\", name: \"Suivi {i}\", summary: \"Un projet suivi.\", visibility: {visibility}}}) {{ project {{ slug }} }} }}"
                );
                let answer: Value = client
                    .post(format!("{app_url}/graphql"))
                    .bearer_auth(&admin)
                    .json(&json!({ "query": mutation }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert!(answer.get("errors").is_none(), "{answer:#}");
            }
        })
    };
    let public_writes: Vec<String> = (0..WRITES)
        .filter(|&i| !agents_only(i))
        .map(|i| format!("suivi-{i}"))
        .collect();
    let all_writes: Vec<String> = (0..WRITES).map(|i| format!("suivi-{i}")).collect();
    let (anonymous, agent) = tokio::join!(
        follow(&setup.app, None, anonymous_start, public_writes.len()),
        follow(&setup.app, Some(&setup.admin), agent_start, WRITES),
    );
    writer.await.unwrap();

    let slugs = |seen: &[(String, String)]| -> Vec<String> {
        seen.iter().map(|(slug, _)| slug.clone()).collect()
    };
    assert_eq!(slugs(&agent), all_writes);
    assert_eq!(slugs(&anonymous), public_writes);
    // Anonymous cursors count public changes only: no gap where the
    // agents-only projects were created.
    let ordinals: Vec<i64> = anonymous
        .iter()
        .map(|(_, cursor)| ordinal(cursor))
        .collect();
    let first = ordinals[0];
    assert_eq!(
        ordinals,
        (first..first + ordinals.len() as i64).collect::<Vec<_>>()
    );
    // Nothing more, nothing twice: asking again from the last cursor reads nothing.
    let last = &anonymous.last().unwrap().1;
    let again = setup.app.data(FOLLOW, json!({ "after": last })).await;
    assert_eq!(again["changes"]["edges"], json!([]));
}

async fn anonymous_callers_see_no_agents_only_change(backend: Backend) {
    let setup = Setup::new(backend).await;
    let anonymous_start = latest_cursor(&setup.app, None).await;
    setup
        .write("mutation { createProject(input: {slug: \"interne\", name: \"Interne\", summary: \"Pour les agents.\", visibility: AGENTS}) { project { slug } } }")
        .await;
    setup
        .write("mutation { addRepository(input: {projectSlug: \"cartiflette\", url: \"https://github.com/example/interne\", access: AGENTS}) { repository { url } } }")
        .await;
    let query = "query($after: String) { changes(after: $after) { cursor edges { cursor } } }";
    let page = setup
        .app
        .data(query, json!({ "after": anonymous_start }))
        .await;
    assert_eq!(page["changes"]["edges"], json!([]));
    // The cursor does not move either: nothing betrays the two changes.
    assert_eq!(page["changes"]["cursor"], json!(anonymous_start));
    assert_eq!(latest_cursor(&setup.app, None).await, anonymous_start);

    // An agent's cursor is refused to an anonymous caller, and the other way round.
    let agent_cursor = latest_cursor(&setup.app, Some(&setup.admin)).await;
    let refused = setup
        .app
        .query(query, json!({ "after": agent_cursor }))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "RESYNC_REQUIRED"
    );
    let (_, _, refused) = setup
        .app
        .query_as(&setup.admin, query, json!({ "after": anonymous_start }))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"],
        "RESYNC_REQUIRED"
    );
}

async fn old_cursors_and_large_pages_are_refused_with_codes(backend: Backend) {
    let setup = Setup::new(backend).await;
    let start = latest_cursor(&setup.app, None).await;
    setup
        .write("mutation { createProject(input: {slug: \"nouveau\", name: \"Nouveau\", summary: \"Un projet.\"}) { project { slug } } }")
        .await;
    let query = "query($after: String, $first: Int) { changes(after: $after, first: $first) { cursor edges { cursor } } }";
    let too_many = setup
        .app
        .query(query, json!({ "after": start, "first": 101 }))
        .await;
    assert_eq!(
        too_many["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    let forged = setup
        .app
        .query(query, json!({ "after": "bm90IGEgY3Vyc29y" }))
        .await;
    assert_eq!(forged["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    setup
        .store
        .prune_changes(chrono::Utc::now() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    let pruned = setup.app.query(query, json!({ "after": start })).await;
    assert_eq!(pruned["errors"][0]["extensions"]["code"], "RESYNC_REQUIRED");
    assert_eq!(pruned["data"], Value::Null);
    // Without a cursor, a tool starts from what the journal keeps.
    let fresh = setup.app.data(query, json!({})).await;
    assert_eq!(fresh["changes"]["edges"], json!([]));
    assert_eq!(
        fresh["changes"]["cursor"],
        json!(latest_cursor(&setup.app, None).await)
    );
}

on_both_backends!(
    each_write_records_its_kind_fields_and_audience,
    an_import_records_what_it_changed_for_whom,
    pages_continue_where_they_stop_and_pruned_cursors_say_so,
    a_tool_following_changes_sees_every_write_once_in_order,
    anonymous_callers_see_no_agents_only_change,
    old_cursors_and_large_pages_are_refused_with_codes,
);
