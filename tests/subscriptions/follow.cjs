// Follows `catalogueChanged` with a protocol's reference client: graphql-ws
// (graphql-transport-ws, with `ws` as its WebSocket) or graphql-sse
// (distinct connections mode). Subscribes from a cursor; once the first
// event has come, POSTs a mutation (so the next event comes live, not from
// the journal's catch-up); prints the events received as a JSON array once
// it has `count` of them, or fails after a minute.
//
// argv: ws|sse, base URL of the gateway subscribed to, subscriber's token or
//       "-", cursor, base URL of the gateway written to, writer's token,
//       mutation to send after the first event or "-", count
const { createClient: createWsClient } = require('graphql-ws');
const { createClient: createSseClient } = require('graphql-sse');
const WebSocket = require('ws');

const [protocol, baseUrl, token, after, writerUrl, writerToken, mutation, count] =
  process.argv.slice(2);
const wanted = Number(count);
const subscription = {
  query: 'subscription($after: String) { catalogueChanged(after: $after) { cursor kind fields node { ... on Project { slug } } } }',
  variables: { after },
};
const authorization = token === '-' ? undefined : `Bearer ${token}`;

function fail(message) {
  console.error(message);
  process.exit(1);
}

function client() {
  if (protocol === 'ws') {
    return createWsClient({
      url: baseUrl.replace(/^http/, 'ws') + '/graphql',
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { Authorization: authorization } : {},
      retryAttempts: 0,
    });
  }
  return createSseClient({
    url: baseUrl + '/graphql',
    headers: authorization ? { Authorization: authorization } : {},
    retryAttempts: 0,
  });
}

async function write() {
  const response = await fetch(writerUrl + '/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${writerToken}` },
    body: JSON.stringify({ query: mutation }),
  });
  const body = await response.json();
  if (body.errors) fail(`the mutation failed: ${JSON.stringify(body.errors)}`);
}

async function main() {
  setTimeout(() => fail('timed out'), 60_000).unref();
  const events = [];
  const subscriber = client();
  for await (const result of subscriber.iterate(subscription)) {
    if (result.errors) fail(`subscription error: ${JSON.stringify(result.errors)}`);
    events.push(result.data.catalogueChanged);
    if (events.length === 1 && mutation !== '-') await write();
    if (events.length >= wanted) break;
  }
  console.log(JSON.stringify(events));
  if (protocol === 'ws') await subscriber.dispose();
  process.exit(0);
}

main().catch((error) => fail(error && error.stack ? error.stack : String(error)));
