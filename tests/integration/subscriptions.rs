//! `catalogueChanged` over WebSocket and Server-Sent Events, driven by the
//! protocols' reference clients (graphql-ws, graphql-sse): resumed from a
//! cursor, fed live from the journal on whichever replica, bounded per
//! client, and blind to agents-only changes for anonymous subscribers.

use crate::common;

use common::issuer::{SigningKey, TestIssuer};
use common::{Backend, TestApp, TestDatabase};
use serde_json::{Value, json};

const ADMIN: &str = "admin@numerique.gouv.fr";

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

fn create_project(slug: &str, visibility: &str) -> String {
    format!(
        "mutation {{ createProject(input: {{slug: \"{slug}\", name: \"Projet {slug}\", summary: \"Un projet.\", visibility: {visibility}}}) {{ project {{ slug }} }} }}"
    )
}

async fn write(app: &TestApp, token: &str, mutation: &str) {
    let (status, _, answer) = app.query_as(token, mutation, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer:#}");
}

/// Where a reference client subscribes and where it writes once it has
/// heard the first change.
struct Follow<'a> {
    protocol: &'a str,
    subscribe_to: &'a TestApp,
    token: Option<&'a str>,
    after: String,
    write_to: &'a TestApp,
    writer_token: &'a str,
    mutation: String,
    count: usize,
}

/// The events the client printed: the project slugs, in order.
async fn follow(follow: Follow<'_>) -> Vec<String> {
    let args = [
        follow.protocol.to_owned(),
        follow.subscribe_to.base_url.clone(),
        follow.token.unwrap_or("-").to_owned(),
        follow.after,
        follow.write_to.base_url.clone(),
        follow.writer_token.to_owned(),
        follow.mutation,
        follow.count.to_string(),
    ];
    let printed = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        common::run_node(
            "subscriptions/follow.cjs",
            &args,
            &["graphql-ws", "graphql-sse", "ws"],
        )
    })
    .await
    .unwrap();
    let events: Value = serde_json::from_str(&printed).unwrap();
    events
        .as_array()
        .unwrap()
        .iter()
        .map(|event| {
            assert_eq!(event["kind"], "PROJECT_CREATED", "{event}");
            event["node"]["slug"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn reference_clients_hear_changes_over_both_protocols(backend: Backend) {
    let key = SigningKey::ec("ec-1");
    let issuer = TestIssuer::start(&[&key]).await;
    let app = common::issuer::gateway_trusting(backend, &issuer, &[ADMIN]).await;
    let admin = key.sign(&issuer.claims(ADMIN));

    // An agent over WebSocket, signed in by connection_init's payload,
    // hears of agents-only projects.
    let after = latest_cursor(&app, Some(&admin)).await;
    write(&app, &admin, &create_project("ws-un", "AGENTS")).await;
    let heard = follow(Follow {
        protocol: "ws",
        subscribe_to: &app,
        token: Some(&admin),
        after,
        write_to: &app,
        writer_token: &admin,
        mutation: create_project("ws-deux", "PUBLIC"),
        count: 2,
    })
    .await;
    assert_eq!(heard, ["ws-un", "ws-deux"]);

    // Anonymous over Server-Sent Events: the agents-only project is not heard of.
    let after = latest_cursor(&app, None).await;
    write(&app, &admin, &create_project("sse-interne", "AGENTS")).await;
    write(&app, &admin, &create_project("sse-un", "PUBLIC")).await;
    let heard = follow(Follow {
        protocol: "sse",
        subscribe_to: &app,
        token: None,
        after: after.clone(),
        write_to: &app,
        writer_token: &admin,
        mutation: create_project("sse-deux", "PUBLIC"),
        count: 2,
    })
    .await;
    assert_eq!(heard, ["sse-un", "sse-deux"]);

    // Anonymous over WebSocket too, from the same cursor: the agents-only
    // projects, created before or live, are skipped as well.
    write(&app, &admin, &create_project("ws-interne", "AGENTS")).await;
    let live = "mutation { interne: createProject(input: {slug: \"ws-interne-direct\", name: \"Interne\", summary: \"Pour les agents.\", visibility: AGENTS}) { project { slug } } public: createProject(input: {slug: \"ws-trois\", name: \"Trois\", summary: \"Un projet.\"}) { project { slug } } }";
    let heard = follow(Follow {
        protocol: "ws",
        subscribe_to: &app,
        token: None,
        after,
        write_to: &app,
        writer_token: &admin,
        mutation: live.to_owned(),
        count: 3,
    })
    .await;
    assert_eq!(heard, ["sse-un", "sse-deux", "ws-trois"]);
}

/// Two replicas on one PostgreSQL database: a subscriber on either hears
/// of a write taken by the other.
async fn replicas_deliver_whichever_took_the_write(_backend: Backend) {
    let key = SigningKey::ec("ec-1");
    let issuer = TestIssuer::start(&[&key]).await;
    let first = common::issuer::gateway_trusting(Backend::Postgres, &issuer, &[ADMIN]).await;
    let second =
        common::issuer::gateway_on(first.database.shared(), &issuer, &[ADMIN], |_| {}).await;
    let admin = key.sign(&issuer.claims(ADMIN));

    for (protocol, subscribed, written) in [("sse", &second, &first), ("ws", &first, &second)] {
        let after = latest_cursor(subscribed, None).await;
        let one = format!("{protocol}-replique-un");
        let two = format!("{protocol}-replique-deux");
        write(written, &admin, &create_project(&one, "PUBLIC")).await;
        let heard = follow(Follow {
            protocol,
            subscribe_to: subscribed,
            token: None,
            after,
            write_to: written,
            writer_token: &admin,
            mutation: create_project(&two, "PUBLIC"),
            count: 2,
        })
        .await;
        assert_eq!(heard, [one, two]);
    }
}

/// A client holding all its subscriptions is refused another, with a code.
async fn subscriptions_per_client_are_bounded(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let app = TestApp::spawn_configured(database, Some(common::catalogue_dir()), |config| {
        config.changes.subscriptions_per_client = 1;
    })
    .await;
    // From before the seed's changes: a subscription that runs answers one
    // at once, a refused one its error.
    let open = || {
        app.client
            .post(app.url("/graphql"))
            .header("accept", "text/event-stream")
            .json(&json!({
                "query": "subscription($after: String) { catalogueChanged(after: $after) { cursor } }",
                "variables": { "after": first_cursor() },
            }))
            .send()
    };
    let first_event = |text: &str| -> Value {
        let data = text
            .lines()
            .find_map(|line| line.strip_prefix("data: "))
            .unwrap_or_else(|| panic!("no event in {text:?}"));
        serde_json::from_str(data).unwrap()
    };
    let mut first = open().await.unwrap();
    assert_eq!(first.status(), 200);
    let chunk = first.chunk().await.unwrap().unwrap();
    let event = first_event(&String::from_utf8_lossy(&chunk));
    assert!(
        event["data"]["catalogueChanged"]["cursor"].is_string(),
        "{event}"
    );

    let mut refused = open().await.unwrap();
    let chunk = refused.chunk().await.unwrap().unwrap();
    let event = first_event(&String::from_utf8_lossy(&chunk));
    assert_eq!(
        event["errors"][0]["extensions"]["code"], "SUBSCRIPTION_LIMIT_EXCEEDED",
        "{event}"
    );
    let rest = refused.text().await.unwrap();
    assert!(rest.contains("event: complete"), "{rest}");

    // Once the first ends, its slot is free again.
    drop(first);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let mut again = open().await.unwrap();
        let chunk = again.chunk().await.unwrap().unwrap();
        let event = first_event(&String::from_utf8_lossy(&chunk));
        if event["data"]["catalogueChanged"]["cursor"].is_string() {
            break;
        }
        assert_eq!(
            event["errors"][0]["extensions"]["code"],
            "SUBSCRIPTION_LIMIT_EXCEEDED"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the slot was never given back"
        );
    }
}

/// The cursor before the first public change (tests only: cursors are opaque).
fn first_cursor() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("changes:public:0")
}

on_both_backends!(
    reference_clients_hear_changes_over_both_protocols,
    subscriptions_per_client_are_bounded,
);

mod replicas {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_replicas_deliver_whichever_took_the_write() {
        super::replicas_deliver_whichever_took_the_write(crate::common::Backend::Postgres).await
    }
}
