//! HTTP behaviour: coded errors for bad input, GET and GraphiQL, schema
//! (and its caching), health probes.

use crate::common;

use common::{Backend, TestApp};
use serde_json::{Value, json};

fn code_of(answer: &Value) -> &str {
    answer["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {answer:#}"))
}

async fn bad_graphql_input_answers_coded_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (
            "{ projects(first: 3 { totalCount } }",
            json!({}),
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            "{ projects { nope } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ projects(first: \"three\") { totalCount } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "query($n: Int) { projects(first: $n) { totalCount } }",
            json!({"n": "x"}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ projects(first: -1) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(first: 101) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(last: 1000) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(first: 2, last: 2) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(first: 2, before: \"x\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(after: \"not-a-cursor\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(filter: {season: 0}) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ repositories(after: \"eyJvIjoieCIsImkiOjF9\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ node(id: \"garbage\") { id } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        ("{ nodes(ids: []) { id } __typename }", json!({}), ""),
        // Cursors whose value does not fit their ordering (hand-made): refused, never a 500.
        (
            "{ projects(orderBy: {field: CREATED_AT}, after: \"eyJvIjoicHJvamVjdHM6Y3JlYXRlZDphc2MiLCJ0Ijoienp6IiwiaSI6M30\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "{ projects(after: \"eyJvIjoicHJvamVjdHM6bmFtZTphc2MiLCJpIjozfQ\") { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
        (
            "query A { __typename } query B { __typename }",
            json!({}),
            "OPERATION_RESOLUTION_FAILURE",
        ),
        // Organizations and projects lead to each other: deep or costly selections are refused.
        (
            "{ organizations { edges { node { projects { organizations { organization { projects { organizations { organization { projects { slug } } } } } } } } } } }",
            json!({}),
            "OPERATION_LIMIT_EXCEEDED",
        ),
    ];
    for (query, variables, expected) in cases {
        let answer = app.query(query, variables).await;
        if expected.is_empty() {
            assert!(answer.get("errors").is_none(), "{query}: {answer:#}");
            continue;
        }
        assert_eq!(code_of(&answer), expected, "{query}: {answer:#}");
        let message = answer["errors"][0]["message"].as_str().unwrap();
        assert!(!message.is_empty());
    }

    // A cursor from one ordering is refused by another, with a message saying so.
    let data = app
        .data(
            "{ projects(first: 1) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await;
    let cursor = data["projects"]["pageInfo"]["endCursor"].clone();
    let answer = app
        .query(
            "query($c: String) { projects(first: 1, after: $c, orderBy: {field: CREATED_AT}) { totalCount } }",
            json!({"c": cursor}),
        )
        .await;
    assert_eq!(code_of(&answer), "BAD_USER_INPUT");
    assert!(
        answer["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("another ordering")
    );
}

async fn malformed_requests_get_4xx_with_a_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let post = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let mixed_case = post(
        "{\"query\": \"{ __typename }\"}",
        "Application/JSON; charset=utf-8",
    )
    .await
    .unwrap();
    assert_eq!(mixed_case.status(), 200, "media types are case-insensitive");
    for (body, content_type, status) in [
        ("{not json", "application/json", 400),
        ("{\"variables\": {}}", "application/json", 400),
        ("{ projects { totalCount } }", "application/graphql", 415),
    ] {
        let response = post(body, content_type).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        let answer: Value = response.json().await.unwrap();
        assert_eq!(code_of(&answer), "BAD_REQUEST");
    }
    let huge = format!(
        "{{\"query\": \"{{ __typename }}\", \"x\": \"{}\"}}",
        "a".repeat(300 * 1024)
    );
    let response = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
}

async fn get_graphiql_schema_and_health(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[
            (
                "query",
                "query Names { projects(first: 2) { edges { node { name } } } }",
            ),
            ("operationName", "Names"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer["data"]["projects"]["edges"][0]["node"]["name"],
        "Cartiflette"
    );

    let page = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        page.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );

    let sdl = app.get_text("/schema.graphql").await;
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .unwrap();
    assert_eq!(
        sdl, committed,
        "GET /schema.graphql serves the committed schema"
    );

    for (path, status) in [("/health/live", "live"), ("/health/ready", "ready")] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], status);
    }
    let metrics = app.get_text("/metrics").await;
    for family in [
        "catalogue_http_requests_total{operation=\"-\",status=\"200\"}",
        "catalogue_http_request_duration_seconds_bucket{le=\"+Inf\"}",
        "catalogue_cache_requests_total{store=\"memory\",outcome=\"hit\"}",
        "catalogue_rate_limited_requests_total 0",
        "catalogue_db_pool_connections{state=\"idle\"}",
    ] {
        assert!(metrics.contains(family), "{family} in {metrics}");
    }
}

/// A page of 50 projects with their organizations, tags, code, data and
/// links costs as many SQL statements as a page of 5.
async fn statement_count_of_a_page_does_not_grow_with_its_size(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    common::write_generated_catalogue(dir.path(), 60);
    let app = TestApp::spawn_with_seed(backend, Some(dir.path().to_owned())).await;
    let query = "query($n: Int) { projects(first: $n) { totalCount edges { node { slug seasons
        tags { slug } organizations { role organization { slug projects { slug } } }
        repositories { url project { slug } } datasets { url } links { url } sources { title } } } } }";
    let mut counts = Vec::new();
    for size in [5, 50, 50] {
        let before = app.statements_executed().await;
        let data = app.data(query, json!({"n": size})).await;
        let after = app.statements_executed().await;
        assert_eq!(data["projects"]["edges"].as_array().unwrap().len(), size);
        assert_eq!(data["projects"]["totalCount"], 60);
        counts.push(after - before);
    }
    println!(
        "SQL statements per page ({backend:?}): 5 projects: {}, 50 projects: {}",
        counts[0], counts[1]
    );
    // The second page's count is kept from the first (same revision).
    assert!(
        counts[1] <= counts[0],
        "statements for 5 vs 50 projects: {counts:?}"
    );
    assert_eq!(
        counts[2], 0,
        "a repeated page comes from the response cache"
    );
    assert!(counts[1] <= 12, "{} statements for one page", counts[1]);
}

/// `/health/ready`'s status and body, within the readiness probe's patience.
async fn readiness(app: &TestApp) -> Option<(u16, Value)> {
    let response = app
        .client
        .get(app.url("/health/ready"))
        // deploy/kubernetes gives the probe 3 s; a hanging check is no answer.
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    Some((status, response.json().await.ok()?))
}

/// Polls readiness until it answers `status`; returns the body.
async fn wait_for_readiness(app: &TestApp, status: u16) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let answer = readiness(app).await;
        if let Some((answered, body)) = &answer
            && *answered == status
        {
            return body.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "readiness never answered {status}; last: {answer:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Forwards TCP connections to `upstream` until cut: then every connection,
/// open or new, is held open in silence (a network partition), and dropped
/// once restored.
struct Partition {
    address: std::net::SocketAddr,
    cut: tokio::sync::watch::Sender<bool>,
    _task: tokio::task::JoinHandle<()>,
}

impl Partition {
    async fn start(upstream: std::net::SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (cut, watching) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut cut = watching.clone();
                tokio::spawn(async move {
                    if !*cut.borrow() {
                        let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
                            _ = cut.wait_for(|cut| *cut) => {}
                        }
                    }
                    let _ = cut.wait_for(|cut| !*cut).await;
                });
            }
        });
        Self {
            address,
            cut,
            _task: task,
        }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.send_replace(cut);
    }
}

/// Readiness reflects a database that cannot serve the gateway: SQLite whose
/// write lock another connection holds (reads still work then: a read-only
/// check would say ready while every write fails), PostgreSQL cut off by a
/// network partition (a ping would hang). It answers 503 with the reason,
/// and 200 again once the database is back.
async fn readiness_reflects_a_database_that_cannot_answer(backend: Backend) {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    let database = common::TestDatabase::create(backend).await;
    let partition = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let url = url::Url::parse(&database.url).unwrap();
            let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
            let upstream = tokio::net::lookup_host(upstream)
                .await
                .unwrap()
                .next()
                .unwrap();
            Some(Partition::start(upstream).await)
        }
    };
    let through_partition = partition.as_ref().map(|partition| {
        let mut url = url::Url::parse(&database.url).unwrap();
        url.set_port(Some(partition.address.port())).unwrap();
        url.to_string()
    });
    let app = TestApp::spawn_configured(database, Some(common::catalogue_dir()), move |config| {
        if let Some(url) = through_partition {
            config.database.database_url = url;
        }
    })
    .await;
    let ready = wait_for_readiness(&app, 200).await;
    assert_eq!(ready["status"], "ready");

    let (expected, lock) = match &partition {
        None => {
            let other_writer = app.database.connect().await;
            let lock = other_writer
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..TransactionOptions::default()
                })
                .await
                .unwrap();
            ("locked", Some(lock))
        }
        Some(partition) => {
            partition.set_cut(true);
            ("timed_out", None)
        }
    };
    let unready = wait_for_readiness(&app, 503).await;
    assert_eq!(unready["status"], "unavailable");
    assert_eq!(unready["reason"], "database");
    assert_eq!(unready["database"], expected, "{unready}");
    let live = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200, "the process itself is alive");
    if lock.is_some() {
        let read = app
            .query("{ stillReadable: projects { totalCount } }", json!({}))
            .await;
        assert_eq!(read["data"]["stillReadable"]["totalCount"], 8);
    }

    match (lock, &partition) {
        (Some(lock), _) => lock.rollback().await.unwrap(),
        (None, Some(partition)) => partition.set_cut(false),
        (None, None) => unreachable!("either a lock or a partition"),
    }
    let ready = wait_for_readiness(&app, 200).await;
    assert_eq!(ready["status"], "ready");
}

/// A gateway whose read timeouts are all one second.
async fn impatient_gateway() -> TestApp {
    let database = common::TestDatabase::create(Backend::Sqlite).await;
    TestApp::spawn_configured(database, Some(common::catalogue_dir()), |config| {
        config.http.header_read_timeout_seconds = 1;
        config.http.body_read_timeout_seconds = 1;
        config.http.keep_alive_timeout_seconds = 1;
    })
    .await
}

/// Reads `connection` until the gateway closes it (end of stream, or reset);
/// returns what it sent. Fails if it is still open after a minute.
async fn read_until_closed(connection: &mut tokio::net::TcpStream) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        loop {
            match connection.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), read)
        .await
        .expect("the gateway never closed the connection");
    received
}

/// Half-sent requests do not hold connections: 50 clients that stop in the
/// middle of their headers, one that trickles its headers a byte at a time,
/// one that never sends its whole body (408) and one idle after its request
/// are all disconnected by the gateway, which answers others meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_clients_are_disconnected() {
    use tokio::io::AsyncWriteExt;
    let app = impatient_gateway().await;
    let address = app.base_url.trim_start_matches("http://").to_owned();

    let mut half_sent = Vec::new();
    for i in 0..50 {
        let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
        connection
            .write_all(format!("GET /graphql HTTP/1.1\r\nHost: x\r\nX-Half-{i}: ").as_bytes())
            .await
            .unwrap();
        half_sent.push(connection);
    }
    // Others are answered meanwhile.
    let data = app.data("{ projects { totalCount } }", json!({})).await;
    assert_eq!(data["projects"]["totalCount"], 8);
    let closed = futures_util::future::join_all(half_sent.iter_mut().map(read_until_closed)).await;
    assert_eq!(closed.len(), 50);
    assert!(
        closed
            .iter()
            .all(|received| received.is_empty() || received.starts_with(b"HTTP/1.1 408")),
        "no half-sent request was answered"
    );

    // A byte at a time, each well within the timeout: the head as a whole is late.
    let mut trickle = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "GET /graphql?query=%7B__typename%7D HTTP/1.1\r\nHost: x\r\nX-Slow: {}\r\n\r\n",
        "a".repeat(600)
    );
    let mut sent = 0;
    for byte in head.as_bytes() {
        if trickle.write_all(&[*byte]).await.is_err() {
            break;
        }
        sent += 1;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let answer = read_until_closed(&mut trickle).await;
    assert!(
        sent < head.len() || !answer.starts_with(b"HTTP/1.1 200"),
        "the trickled request was answered: {}",
        String::from_utf8_lossy(&answer)
    );

    // A body that never arrives in full.
    let mut slow_body = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow_body
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\": ",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut slow_body).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"BAD_REQUEST\""), "{answer}");

    // A connection kept alive after its request, then silent.
    let mut idle = tokio::net::TcpStream::connect(&address).await.unwrap();
    idle.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut idle).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );

    let data = app.data("{ projects { totalCount } }", json!({})).await;
    assert_eq!(data["projects"]["totalCount"], 8);
}

/// `/schema.graphql` is revalidated at each use (codegen right after a
/// release sees the release's schema) and an unchanged schema costs a 304.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_is_revalidated_by_its_etag() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app
        .client
        .get(app.url("/schema.graphql"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let header = |response: &reqwest::Response, name: &str| {
        response.headers()[name].to_str().unwrap().to_owned()
    };
    // No media type is registered for GraphQL documents.
    assert_eq!(
        header(&response, "content-type"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let etag = header(&response, "etag");
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    let sdl = response.text().await.unwrap();
    assert!(sdl.contains("type Query"));

    for if_none_match in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
    ] {
        let again = app
            .client
            .get(app.url("/schema.graphql"))
            .header("if-none-match", &if_none_match)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{if_none_match}");
        assert_eq!(header(&again, "etag"), etag);
        assert_eq!(header(&again, "cache-control"), "no-cache");
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let other = app
        .client
        .get(app.url("/schema.graphql"))
        .header("if-none-match", "\"another-schema\"")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(other.text().await.unwrap(), sdl);
}

on_both_backends!(
    readiness_reflects_a_database_that_cannot_answer,
    bad_graphql_input_answers_coded_errors,
    malformed_requests_get_4xx_with_a_code,
    get_graphiql_schema_and_health,
    statement_count_of_a_page_does_not_grow_with_its_size,
);
