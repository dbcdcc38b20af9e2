// The cost of `catalogueChanged` subscribers on one gateway, driven by the
// protocols' reference clients: graphql-sse (distinct connections mode: one
// HTTP connection per subscription) and graphql-ws (one WebSocket per
// subscription, as separate tools would hold them).
//
// 1. Writes a project (so what the first write allocates is in the
//    baseline), reads the gateway's resident memory while idle, opens the
//    SSE subscribers, writes a project and waits until every one
//    of them has heard of it (so each is subscribed on the gateway, not
//    merely connected), and reads the resident memory again; the same for the
//    WebSocket subscribers.
// 2. Writes one more project, timed from just before the mutation is sent
//    until each subscriber has heard of it.
// 3. Fails unless every subscriber heard of each project written since it
//    subscribed exactly once, and of nothing else, a while after the last.
//
// Prints one JSON object: the resident memory at each step and the delays.
//
// argv: base URL of the gateway, its pid, SSE subscribers, WebSocket
//       subscribers, administrator's token, the gateway's journal poll (ms)
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const { createClient: createSseClient } = require('graphql-sse');
const { createClient: createWsClient } = require('graphql-ws');
const WebSocket = require('ws');

const [baseUrl, pid, sseCount, wsCount, adminToken, pollMs] = process.argv.slice(2);
const SUBSCRIPTION = 'subscription { catalogueChanged { kind node { ... on Project { slug } } } }';
// Connections opened at once: more would only queue in the listen backlog.
const OPENING_BATCH = 50;
// The longest any step may take before the run fails.
const STEP_DEADLINE_MS = 120_000;

function fail(message) {
  console.error(`fanout: ${message}`);
  process.exit(1);
}

/// The gateway's resident memory, in KiB.
function residentKib() {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const line = status.split('\n').find((l) => l.startsWith('VmRSS:'));
  if (!line) fail(`no VmRSS in /proc/${pid}/status`);
  return Number(line.split(/\s+/)[1]);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/// Resolves once `done()` holds, polling; fails after the step deadline.
async function until(done, what) {
  const deadline = performance.now() + STEP_DEADLINE_MS;
  while (!done()) {
    if (performance.now() > deadline) fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/// One subscriber: the slugs it heard of, and when (performance.now()).
function subscriber(protocol) {
  return { protocol, heard: [], at: [] };
}

function sink(follower) {
  return {
    next(result) {
      if (result.errors) fail(`${follower.protocol} subscription error: ${JSON.stringify(result.errors)}`);
      const change = result.data.catalogueChanged;
      if (change.kind !== 'PROJECT_CREATED') fail(`unexpected change ${JSON.stringify(change)}`);
      follower.heard.push(change.node.slug);
      follower.at.push(performance.now());
    },
    error(error) {
      fail(`${follower.protocol} subscription failed: ${error && error.message ? error.message : JSON.stringify(error)}`);
    },
    complete() {
      fail(`the gateway ended a ${follower.protocol} subscription`);
    },
  };
}

const sseClient = createSseClient({ url: `${baseUrl}/graphql`, retryAttempts: 0 });

/// Opens one SSE subscription; resolves once its event stream has begun.
function openSse(follower) {
  return new Promise((resolve) => {
    sseClient.subscribe({ query: SUBSCRIPTION }, sink(follower), { connected: () => resolve() });
  });
}

const wsClients = [];

/// Opens one WebSocket and its subscription; resolves once acknowledged.
function openWs(follower) {
  return new Promise((resolve) => {
    const client = createWsClient({
      url: `${baseUrl.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { connected: () => resolve() },
    });
    wsClients.push(client);
    client.subscribe({ query: SUBSCRIPTION }, sink(follower));
  });
}

async function open(followers, opener) {
  for (let i = 0; i < followers.length; i += OPENING_BATCH) {
    await Promise.all(followers.slice(i, i + OPENING_BATCH).map(opener));
  }
}

let written = 0;

/// Creates a project as the administrator; returns its slug.
async function writeProject(label) {
  written += 1;
  const slug = `bench-fanout-${written}-${label}`;
  const mutation = `mutation { createProject(input: {slug: "${slug}", name: "Banc ${written}", summary: "Un projet du banc d'essai."}) { project { slug } } }`;
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ query: mutation }),
  });
  const body = await response.json();
  if (body.errors || !body.data) fail(`the mutation failed: ${JSON.stringify(body)}`);
  return slug;
}

/// Every subscriber of `followers` heard of `slug`.
const allHeard = (followers, slug) => () => followers.every((f) => f.heard.includes(slug));

/// The resident memory once the gateway is idle: once two readings a second
/// apart differ by less than 256 KiB (work just done may still be freeing
/// memory, e.g. the search index updated after a write).
async function idleResidentKib() {
  const deadline = performance.now() + STEP_DEADLINE_MS;
  let previous = residentKib();
  for (;;) {
    await sleep(1_000);
    const now = residentKib();
    if (Math.abs(now - previous) < 256) return now;
    if (performance.now() > deadline) fail('the gateway\'s resident memory did not settle');
    previous = now;
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/// When each of `followers` heard of `slug`, from `sentAt` and from
/// `firstAt` (when the first subscriber of all heard of it: what the
/// fan-out adds to the wait for the journal's next read).
function delays(followers, slug, sentAt, firstAt) {
  const heardAt = followers.map((f) => f.at[f.heard.indexOf(slug)]).sort((a, b) => a - b);
  const round = (x) => Math.round(x * 10) / 10;
  const summary = (origin) => ({
    p50_ms: round(percentile(heardAt, 50) - origin),
    p99_ms: round(percentile(heardAt, 99) - origin),
    max_ms: round(heardAt[heardAt.length - 1] - origin),
  });
  return {
    subscribers: heardAt.length,
    from_mutation: { min_ms: round(heardAt[0] - sentAt), ...summary(sentAt) },
    from_first: summary(firstAt),
  };
}

async function main() {
  const sse = Array.from({ length: Number(sseCount) }, () => subscriber('sse'));
  const ws = Array.from({ length: Number(wsCount) }, () => subscriber('ws'));
  const everyone = [...sse, ...ws];
  // A write first, so the baseline counts what the first write allocates
  // once (pools, prepared statements) and the rest counts subscribers.
  await writeProject('warm-up');
  const memory = { before_kib: await idleResidentKib() };

  await open(sse, openSse);
  const first = await writeProject('sse');
  await until(allHeard(sse, first), 'every SSE subscriber to hear of the first project');
  memory.with_sse_kib = await idleResidentKib();

  await open(ws, openWs);
  const second = await writeProject('ws');
  await until(allHeard(everyone, second), 'every subscriber to hear of the second project');
  memory.with_all_kib = await idleResidentKib();

  const sentAt = performance.now();
  const measured = await writeProject('measured');
  await until(allHeard(everyone, measured), 'every subscriber to hear of the measured project');
  // A duplicate would come within a journal poll or two: wait for three.
  await sleep(3 * Number(pollMs) + 1_000);
  for (const follower of everyone) {
    const expected = follower.protocol === 'sse' ? [first, second, measured] : [second, measured];
    if (JSON.stringify(follower.heard) !== JSON.stringify(expected)) {
      fail(`a ${follower.protocol} subscriber heard ${JSON.stringify(follower.heard)}, not ${JSON.stringify(expected)}`);
    }
  }

  const firstAt = Math.min(...everyone.map((f) => f.at[f.heard.indexOf(measured)]));
  console.log(
    JSON.stringify({
      memory,
      fanout: {
        all: delays(everyone, measured, sentAt, firstAt),
        sse: delays(sse, measured, sentAt, firstAt),
        ws: delays(ws, measured, sentAt, firstAt),
      },
    }),
  );
  await Promise.all(wsClients.map((client) => client.dispose()));
  process.exit(0);
}

main().catch((error) => fail(error && error.stack ? error.stack : String(error)));
