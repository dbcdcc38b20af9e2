//! The soak's traffic: readers sending a mix of queries, and a writer
//! changing one project a second and remembering which writes the gateway
//! acknowledged.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How answers went, by cause: `200`, `200 with error CODE`, `503 CODE`,
/// `no answer: …`.
#[derive(Default)]
pub struct Tally {
    causes: Mutex<BTreeMap<String, u64>>,
}

impl Tally {
    pub fn count(&self, cause: String) {
        *self.causes.lock().unwrap().entry(cause).or_default() += 1;
    }

    pub fn causes(&self) -> BTreeMap<String, u64> {
        self.causes.lock().unwrap().clone()
    }
}

/// One request's outcome: the JSON body when it came back 2xx without errors.
pub fn classify(tally: &Tally, outcome: Result<(u16, Value), reqwest::Error>) -> Option<Value> {
    match outcome {
        Ok((status, body)) => {
            let code = body["errors"][0]["extensions"]["code"]
                .as_str()
                .map(str::to_owned);
            match (status, code) {
                (200..=299, None) => {
                    tally.count(format!("{status}"));
                    Some(body)
                }
                (200..=299, Some(code)) => {
                    tally.count(format!("{status} with error {code}"));
                    None
                }
                (_, code) => {
                    tally.count(format!("{status} {}", code.unwrap_or_default()));
                    None
                }
            }
        }
        Err(error) if error.is_timeout() => {
            tally.count("no answer: timed out".into());
            None
        }
        Err(error) if error.is_connect() => {
            tally.count("no answer: connection refused".into());
            None
        }
        Err(error) => {
            tally.count(format!("no answer: {error}"));
            None
        }
    }
}

pub struct Gateway {
    pub url: String,
    pub client: reqwest::Client,
}

impl Gateway {
    pub async fn post(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> Result<(u16, Value), reqwest::Error> {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }
}

const PUBLIC_READS: [&str; 4] = [
    "{ projects(first: 20) { edges { node { slug name summary } } } }",
    "{ projects(first: 20) { edges { node { slug organizations { role organization { name } }
       repositories { url forge } datasets { url title } } } } }",
    "{ project(slug: \"cartiflette\") { name summary tags { label } repositories { url stars }
       links { url kind } } }",
    "{ search(query: \"données\", first: 10) { edges { node { score object { __typename } } } } }",
];
const AGENT_READ: &str = "{ projects(first: 20) { edges { node { slug summary maintainers } } } }";
const REFRESH: &str = "mutation { refreshProject(slug: \"cartiflette\") { changed } }";

/// How long the readers' requests took, by phase of the run.
#[derive(Default)]
pub struct Latencies {
    samples: Mutex<BTreeMap<&'static str, Vec<Duration>>>,
}

impl Latencies {
    fn record(&self, phase: &'static str, took: Duration) {
        self.samples
            .lock()
            .unwrap()
            .entry(phase)
            .or_default()
            .push(took);
    }

    /// (requests, median, 99th percentile) of `phase`.
    pub fn summary(&self, phase: &str) -> Option<(usize, Duration, Duration)> {
        let mut samples = self.samples.lock().unwrap().get(phase)?.clone();
        samples.sort();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Some((samples.len(), at(0.5), at(0.99)))
    }
}

/// Which phase a moment of the run belongs to (None: not measured).
pub type Phase = dyn Fn(Instant) -> Option<&'static str> + Send + Sync;

/// Sends the mix until `until`: public reads, a read as an agent every 5th
/// request, a `refreshProject` (which calls the upstream services) every 50th.
/// Public reads' durations go to `latencies` under the phase they began in.
pub async fn read(
    gateway: &Gateway,
    token: &str,
    tally: &Tally,
    (latencies, phase): (&Latencies, &Phase),
    reader: usize,
    until: Instant,
) {
    let mut sent = reader;
    while Instant::now() < until {
        sent += 1;
        let began = Instant::now();
        let public = !sent.is_multiple_of(5);
        let outcome = if sent.is_multiple_of(50) {
            gateway.post(REFRESH, json!({}), Some(token)).await
        } else if sent.is_multiple_of(5) {
            gateway.post(AGENT_READ, json!({}), Some(token)).await
        } else {
            let query = PUBLIC_READS[sent % PUBLIC_READS.len()];
            gateway.post(query, json!({}), None).await
        };
        if classify(tally, outcome).is_some()
            && public
            && let Some(phase) = phase(began)
        {
            latencies.record(phase, began.elapsed());
        }
    }
}

/// A write the gateway acknowledged: the project now says `summary`.
pub struct Acknowledged {
    pub slug: String,
    pub summary: String,
}

/// What the writer did.
#[derive(Default)]
pub struct Writes {
    pub attempted: u64,
    pub acknowledged: Vec<Acknowledged>,
    /// Every summary sent, acknowledged or not (a write whose answer was
    /// lost may still have committed).
    pub sent: Vec<String>,
}

const UPDATE: &str = "mutation($slug: String!, $summary: String!, $version: Int!) {
    updateProject(slug: $slug, input: {summary: $summary}, expectedVersion: $version) {
        project { version } } }";
const VERSION: &str = "query($slug: String!) { project(slug: $slug) { version } }";

/// Changes the summary of one of `slugs` (in turn) every second until
/// `until`; each summary is unique to the run (`run`).
pub async fn write(
    gateway: &Gateway,
    token: &str,
    slugs: &[String],
    run: &str,
    tally: &Tally,
    until: Instant,
) -> Writes {
    let mut writes = Writes::default();
    let mut versions: BTreeMap<&str, i64> = BTreeMap::new();
    let mut next = Instant::now();
    while next < until {
        tokio::time::sleep_until(next.into()).await;
        next += Duration::from_secs(1);
        let slug = slugs[writes.attempted as usize % slugs.len()].as_str();
        let version = match versions.get(slug) {
            Some(version) => *version,
            // Unknown (first write, or the last one's outcome is unknown): read it.
            None => match classify(
                tally,
                gateway
                    .post(VERSION, json!({ "slug": slug }), Some(token))
                    .await,
            )
            .and_then(|body| body["data"]["project"]["version"].as_i64())
            {
                Some(version) => version,
                None => continue,
            },
        };
        writes.attempted += 1;
        let summary = format!("Soak {run}, write {}", writes.attempted);
        writes.sent.push(summary.clone());
        let outcome = gateway
            .post(
                UPDATE,
                json!({ "slug": slug, "summary": summary, "version": version }),
                Some(token),
            )
            .await;
        match classify(tally, outcome)
            .and_then(|body| body["data"]["updateProject"]["project"]["version"].as_i64())
        {
            Some(new_version) => {
                versions.insert(slug, new_version);
                writes.acknowledged.push(Acknowledged {
                    slug: slug.to_owned(),
                    summary,
                });
            }
            None => {
                versions.remove(slug);
            }
        }
    }
    writes
}
