//! The fault-and-load suite (`make soak`): the release gateway on a
//! PostgreSQL cluster and a Redis of its own, with the upstream fixture
//! server, under mixed load and a writer changing a project every second
//! for 60 s, while Redis is killed and restarted, PostgreSQL crashes and
//! restarts, and the upstream services answer 500 and then hang; then, in
//! the last fifth, hostile callers beside the same load (fragment bombs,
//! wide selections, a flood of persisted queries, headers sent a byte a
//! second: `hostile.rs`).
//!
//! Reports requests by outcome, writes attempted/acknowledged/committed/lost
//! (every acknowledged write must be in the database afterwards), the
//! gateway's RSS, and the normal load's latency before the faults and
//! during the hostile phase. `cargo bench --bench soak` runs the full 60 s (its report
//! goes to `$SOAK_REPORT` when set); `cargo test` runs a 12 s version.
//! Fails when a write is lost or the gateway does not recover.

#![allow(clippy::unwrap_used)] // a test's or benchmark's unwrap is its assertion

#[path = "../../tests/common/mod.rs"]
mod common;
mod hostile;
mod postgres;
mod traffic;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::redis::TestRedis;
use common::upstream::{Fault, TestUpstream};
use postgres::OwnPostgres;
use std::collections::BTreeMap;
use std::sync::Arc;

use sea_orm::{Database, FromQueryResult, JsonValue, Statement};
use traffic::{Gateway, Latencies, Phase, Tally, Writes};

const READERS: usize = 16;

/// Where the phases the normal load's latency is reported for begin and
/// end, as fractions of the run: calm before the first fault, and hostile
/// once the upstream services answer again.
const CALM: (f64, f64) = (0.0, 0.13);
const HOSTILE: (f64, f64) = (0.8, 1.0);

/// When each fault begins and ends, as fractions of the run.
struct Schedule {
    length: Duration,
}

impl Schedule {
    fn at(&self, fraction: f64) -> Duration {
        self.length.mul_f64(fraction)
    }
}

/// What happened when, for the report.
struct Timeline {
    started: Instant,
    events: Vec<(Duration, String)>,
}

impl Timeline {
    fn note(&mut self, event: &str) {
        self.events.push((self.started.elapsed(), event.to_owned()));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Resident memory of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Where the gateway's log goes (it logs every fault it meets).
fn gateway_log() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("soak-gateway.log")
}

fn start_gateway(port: u16, environment: &[(String, String)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"));
    // Only the settings below: the gateway refuses settings it does not know
    // (such as the tests' CATALOGUE_TEST_POSTGRES_URL).
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("CATALOGUE_")) {
        command.env_remove(name);
    }
    command
        .arg("serve")
        .envs(environment.iter().map(|(name, value)| (name, value)))
        .env("CATALOGUE_LISTEN", format!("127.0.0.1:{port}"))
        .env("CATALOGUE_DEV_AUTH", "1")
        .env("CATALOGUE_RATE_LIMIT_PER_MINUTE", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(gateway_log()).expect("create the gateway's log"))
        .spawn()
        .expect("start the gateway")
}

async fn wait_ready(client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("{url}/health/ready")).send().await
            && response.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "the gateway did not get ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn admin_token() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_catalogue-gateway"))
        .args(["dev-token", "--email", "soak@example.gouv.fr", "--admin"])
        .output()
        .expect("mint a dev token");
    assert!(output.status.success(), "dev-token failed");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// Runs the faults on schedule while the traffic flows.
async fn inject_faults(
    schedule: &Schedule,
    started: Instant,
    redis: &mut TestRedis,
    postgres: &OwnPostgres,
    upstream: &TestUpstream,
    timeline: &mut Timeline,
) {
    let until = |fraction: f64| tokio::time::sleep_until((started + schedule.at(fraction)).into());
    until(0.13).await;
    tokio::task::block_in_place(|| redis.stop());
    timeline.note("Redis killed");
    until(0.27).await;
    tokio::task::block_in_place(|| redis.resume());
    timeline.note("Redis restarted (empty)");
    until(0.35).await;
    tokio::task::block_in_place(|| postgres.crash());
    timeline.note("PostgreSQL crashed (pg_ctl stop -m immediate)");
    until(0.43).await;
    tokio::task::block_in_place(|| postgres.restart());
    timeline.note("PostgreSQL restarted (recovery from its WAL)");
    until(0.53).await;
    upstream.fail(Fault::ServerError, None);
    timeline.note("upstream services answer 500");
    until(0.67).await;
    upstream.heal();
    upstream.hold();
    timeline.note("upstream services hang");
    until(0.8).await;
    upstream.open();
    timeline.note("upstream services answer again");
}

/// Which acknowledged writes are not in the database, and how many of the
/// summaries sent (acknowledged or not) are.
async fn check_writes(database_url: &str, writes: &Writes) -> (Vec<String>, usize) {
    let db = Database::connect(database_url).await.expect("connect");
    let rows = |sql: &str| {
        JsonValue::find_by_statement(Statement::from_string(db.get_database_backend(), sql))
            .all(&db)
    };
    // Each update's audit entry holds the project row after it, as JSON.
    let audited: Vec<String> = rows("SELECT after FROM audit_entry WHERE action = 'updateProject'")
        .await
        .expect("read the audit trail")
        .iter()
        .filter_map(|row| serde_json::from_str::<JsonValue>(row["after"].as_str()?).ok())
        .filter_map(|after| Some(after["summary"].as_str()?.to_owned()))
        .collect();
    let summaries: BTreeMap<String, String> = rows("SELECT slug, summary FROM project")
        .await
        .expect("read the projects")
        .iter()
        .map(|row| {
            (
                row["slug"].as_str().unwrap().to_owned(),
                row["summary"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let committed = writes
        .sent
        .iter()
        .filter(|sent| audited.contains(sent))
        .count();
    let mut lost: Vec<String> = writes
        .acknowledged
        .iter()
        .filter(|write| !audited.contains(&write.summary))
        .map(|write| format!("{}: {} not in the audit trail", write.slug, write.summary))
        .collect();
    // The last acknowledged summary of each project is what it says now,
    // unless a later write committed without its answer arriving.
    let mut last = BTreeMap::new();
    for write in &writes.acknowledged {
        last.insert(write.slug.as_str(), write.summary.as_str());
    }
    for (slug, summary) in last {
        let now = summaries[slug].as_str();
        let later = writes
            .sent
            .iter()
            .skip_while(|sent| *sent != summary)
            .skip(1);
        if now != summary && !later.clone().any(|sent| sent == now) {
            lost.push(format!("{slug} says {now:?}, not {summary:?}"));
        }
    }
    (lost, committed)
}

/// What a run found, for the report.
struct Findings<'a> {
    seconds: u64,
    reads: &'a Tally,
    writer_requests: &'a Tally,
    writes: &'a Writes,
    committed: usize,
    lost: &'a [String],
    rss_mib: (f64, f64),
    /// Highest RSS sampled during the hostile phase.
    hostile_rss_mib: f64,
    /// Bombs and wide selections; the persisted-query flood; the tricklers.
    hostile: [&'a Tally; 3],
    latencies: &'a Latencies,
    timeline: &'a Timeline,
}

fn report(findings: &Findings) -> String {
    let Findings {
        seconds,
        reads,
        writer_requests,
        writes,
        committed,
        lost,
        rss_mib: rss,
        hostile_rss_mib,
        hostile,
        latencies,
        timeline,
    } = findings;
    let mut out = String::new();
    let table = |tally: &Tally, out: &mut String| {
        let causes = tally.causes();
        let total: u64 = causes.values().sum();
        out.push_str(&format!(
            "{total} requests:\n\n| outcome | answers |\n|---|---:|\n"
        ));
        for (cause, count) in causes {
            out.push_str(&format!("| {cause} | {count} |\n"));
        }
        out.push('\n');
    };
    out.push_str(&format!(
        "{seconds} s, {READERS} readers (public list, 3-level list, project page, search; \
         every 5th request as an agent, every 50th a `refreshProject` that calls the upstream \
         services) and one writer (`updateProject`, one a second). Run on {}.\n\n",
        chrono::Utc::now().format("%Y-%m-%d")
    ));
    out.push_str("Faults:\n\n");
    for (at, event) in &timeline.events {
        out.push_str(&format!("- at {:.1} s: {event}\n", at.as_secs_f64()));
    }
    out.push_str("\nReaders: ");
    table(reads, &mut out);
    out.push_str("Writer (version reads and writes): ");
    table(writer_requests, &mut out);
    out.push_str(&format!(
        "Writes: {} attempted, {} acknowledged, {committed} committed (found in the audit \
         trail, acknowledged or not), **{} lost** (acknowledged but not in the database).\n\n",
        writes.attempted,
        writes.acknowledged.len(),
        lost.len()
    ));
    out.push_str(&format!(
        "Hostile callers, from {:.0} % of the run to its end, beside the readers and the \
         writer.\n\nFragment bombs and wide selections in turn, one caller: ",
        HOSTILE.0 * 100.0,
    ));
    table(hostile[0], &mut out);
    out.push_str("New persisted queries (a document and its hash), one caller: ");
    table(hostile[1], &mut out);
    out.push_str(&format!(
        "Headers sent a byte a second, on {} connections: ",
        hostile::TRICKLING_CONNECTIONS
    ));
    table(hostile[2], &mut out);
    out.push_str(
        "Public reads (every reader's requests but the agent's and the refreshes):\n\n\
                  | phase | answers | median | p99 |\n|---|---:|---:|---:|\n",
    );
    for phase in ["calm", "hostile"] {
        if let Some((count, median, p99)) = latencies.summary(phase) {
            out.push_str(&format!(
                "| {phase} | {count} | {:.1} ms | {:.1} ms |\n",
                median.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3
            ));
        }
    }
    out.push_str(&format!(
        "\nGateway RSS: {:.1} MiB at start (after warm-up), at most {hostile_rss_mib:.1} MiB \
         during the hostile phase, {:.1} MiB at the end.\n",
        rss.0, rss.1
    ));
    out
}

#[tokio::main]
async fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    let schedule = Schedule {
        length: Duration::from_secs(if full { 60 } else { 12 }),
    };
    let postgres = tokio::task::block_in_place(OwnPostgres::start);
    let mut redis = TestRedis::start();
    let upstream = TestUpstream::start().await;
    let port = free_port();
    let mut environment = upstream.environment();
    environment.extend([
        ("CATALOGUE_DATABASE_URL".to_owned(), postgres.url()),
        ("CATALOGUE_REDIS_URL".to_owned(), redis.url()),
        (
            "CATALOGUE_SEED_DIR".to_owned(),
            common::catalogue_dir().display().to_string(),
        ),
    ]);
    let mut child = start_gateway(port, &environment);
    let gateway = Gateway {
        url: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap(),
    };
    wait_ready(&gateway.client, &gateway.url).await;
    let token = admin_token();
    let slugs: Vec<String> = ["cartiflette", "chartsgouv", "formiable", "poufdoc"]
        .map(str::to_owned)
        .to_vec();
    let warm_up = Tally::default();
    traffic::read(
        &gateway,
        &token,
        &warm_up,
        (&Latencies::default(), &|_| None),
        0,
        Instant::now() + Duration::from_secs(2),
    )
    .await;
    let rss_start = rss_mib(child.id());

    let started = Instant::now();
    let until = started + schedule.length;
    let at = |fraction: f64| started + schedule.at(fraction);
    let (calm, hostile_phase) = ((at(CALM.0), at(CALM.1)), (at(HOSTILE.0), at(HOSTILE.1)));
    let phase: Arc<Phase> = Arc::new(move |moment: Instant| {
        if moment < calm.1 {
            Some("calm")
        } else if moment >= hostile_phase.0 {
            Some("hostile")
        } else {
            None
        }
    });
    let latencies = Arc::new(Latencies::default());
    let run = format!("{}", std::process::id());
    let reads = Tally::default();
    let writer_requests = Tally::default();
    let mut timeline = Timeline {
        started,
        events: Vec::new(),
    };
    let gateway = Arc::new(gateway);
    let token: Arc<str> = token.into();
    let reads = Arc::new(reads);
    let writer_requests = Arc::new(writer_requests);
    let readers: Vec<_> = (0..READERS)
        .map(|reader| {
            let (gateway, token, reads) = (gateway.clone(), token.clone(), reads.clone());
            let (latencies, phase) = (latencies.clone(), phase.clone());
            tokio::spawn(async move {
                let timing = (latencies.as_ref(), phase.as_ref());
                traffic::read(&gateway, &token, &reads, timing, reader, until).await
            })
        })
        .collect();
    let writer = {
        let (gateway, token, tally) = (gateway.clone(), token.clone(), writer_requests.clone());
        tokio::spawn(
            async move { traffic::write(&gateway, &token, &slugs, &run, &tally, until).await },
        )
    };
    let hostile: Arc<[Tally; 3]> = Arc::default();
    let attackers = {
        let (gateway, hostile) = (gateway.clone(), hostile.clone());
        let address = format!("127.0.0.1:{port}");
        tokio::spawn(async move {
            tokio::time::sleep_until(hostile_phase.0.into()).await;
            tokio::join!(
                hostile::send_heavy_documents(&gateway, &hostile[0], until),
                hostile::flood_persisted_queries(&gateway, &hostile[1], until),
                hostile::trickle_headers(&address, &hostile[2], until),
            );
        })
    };
    inject_faults(
        &schedule,
        started,
        &mut redis,
        &postgres,
        &upstream,
        &mut timeline,
    )
    .await;
    tokio::time::sleep_until(hostile_phase.0.into()).await;
    timeline.note("hostile callers begin");
    let mut hostile_rss_mib = rss_mib(child.id());
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(250)).await;
        hostile_rss_mib = hostile_rss_mib.max(rss_mib(child.id()));
    }
    attackers.await.expect("the hostile callers");
    for reader in readers {
        reader.await.expect("a reader");
    }
    let writes = writer.await.expect("the writer");
    let rss_end = rss_mib(child.id());
    wait_ready(&gateway.client, &gateway.url).await;
    let (lost, committed) = check_writes(&postgres.url(), &writes).await;
    let _ = child.kill();
    let _ = child.wait();

    let text = report(&Findings {
        seconds: schedule.length.as_secs(),
        reads: &reads,
        writer_requests: &writer_requests,
        writes: &writes,
        committed,
        lost: &lost,
        rss_mib: (rss_start, rss_end),
        hostile_rss_mib,
        hostile: [&hostile[0], &hostile[1], &hostile[2]],
        latencies: &latencies,
        timeline: &timeline,
    });
    print!("{text}");
    eprintln!("the gateway's log: {}", gateway_log().display());
    if let Ok(path) = std::env::var("SOAK_REPORT") {
        std::fs::write(path, &text).expect("write the report");
    }
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    let heavy = hostile[0].causes();
    assert!(
        heavy
            .keys()
            .all(|cause| cause.ends_with("OPERATION_LIMIT_EXCEEDED")),
        "a bomb or a wide selection was not refused by the limits: {heavy:?}"
    );
    assert!(
        !writes.acknowledged.is_empty(),
        "no write was acknowledged in {} s",
        schedule.length.as_secs()
    );
}
