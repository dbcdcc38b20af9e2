//! The journal of changes as a feed: what each write records (kind,
//! fields, audience), the two sequences readers follow, and pruning.

use crate::common;

use catalogue_gateway::catalogue::Access;
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
    let all = setup.store.feed_head(Access::Agents).await.unwrap();
    let public = setup.store.feed_head(Access::Public).await.unwrap();
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
        .map(|c| c.position(Access::Public).unwrap().ordinal)
        .collect();
    assert_eq!(
        positions,
        (public.ordinal + 1..=public.ordinal + 4).collect::<Vec<_>>()
    );
    assert_eq!(
        setup.store.feed_head(Access::Public).await.unwrap().ordinal,
        public.ordinal + 4
    );
}

async fn pages_continue_where_they_stop_and_pruned_cursors_say_so(backend: Backend) {
    let setup = Setup::new(backend).await;
    let start = setup.store.feed_head(Access::Public).await.unwrap();
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
    assert_eq!(end, setup.store.feed_head(Access::Public).await.unwrap());

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

on_both_backends!(
    each_write_records_its_kind_fields_and_audience,
    pages_continue_where_they_stop_and_pruned_cursors_say_so,
);
