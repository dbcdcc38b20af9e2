// Runs graphql-http's serverAudits (the GraphQL-over-HTTP spec's own
// audit) against the gateway (URL in argv[2]). Prints the counts as JSON,
// {"ok":…,"warn":…,"error":…}, and one line per audit that is not ok.
const { serverAudits } = require('graphql-http');

async function main() {
  const counts = { ok: 0, warn: 0, error: 0 };
  for (const audit of serverAudits({ url: process.argv[2], fetchFn: fetch })) {
    const result = await audit.fn();
    counts[result.status] += 1;
    if (result.status !== 'ok') {
      console.error(`${result.status} ${audit.id} ${audit.name}: ${result.reason}`);
    }
  }
  console.log(JSON.stringify(counts));
}

main().catch((error) => {
  console.error(error.stack);
  process.exit(1);
});
