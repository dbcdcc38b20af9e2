// @apollo/gateway in front of the catalogue gateway (composed from its
// `_service { sdl }` by IntrospectAndCompose), served by @apollo/server,
// then a burst of user queries through it, all at once. With a key, the
// router presents it in `Catalogue-Client-Key` on every subgraph request,
// as a router configured as a client of ours does.
// Usage: node router.cjs <subgraph URL> <queries> [key]
// Prints how many answers had no error and the errors by code, with one
// of each, as JSON.
"use strict";

const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");
const { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } = require("@apollo/gateway");

const [subgraph, queries, key] = process.argv.slice(2);

class Catalogue extends RemoteGraphQLDataSource {
  willSendRequest({ request }) {
    if (key) request.http.headers.set("catalogue-client-key", key);
  }
}

(async () => {
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({ subgraphs: [{ name: "catalogue", url: subgraph }] }),
    buildService: ({ url }) => new Catalogue({ url }),
    logger: { debug() {}, info() {}, warn() {}, error: console.error },
  });
  const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
  const { url } = await startStandaloneServer(server, { listen: { host: "127.0.0.1", port: 0 } });
  try {
    const ask = async (index) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: "query Count($first: Int!) { projects(first: $first) { totalCount } }",
          variables: { first: 1 + (index % 5) },
        }),
      });
      return response.json();
    };
    const answers = await Promise.all(Array.from({ length: Number(queries) }, (_, i) => ask(i)));
    const summary = { ok: 0, errors: {}, sample: {} };
    for (const answer of answers) {
      if (!answer.errors) {
        summary.ok += answer.data.projects.totalCount === 8 ? 1 : 0;
        continue;
      }
      for (const error of answer.errors) {
        const code = (error.extensions && error.extensions.code) || "NONE";
        summary.errors[code] = (summary.errors[code] || 0) + 1;
        summary.sample[code] = summary.sample[code] || error;
      }
    }
    console.log(JSON.stringify(summary));
  } finally {
    await server.stop();
  }
})().catch((error) => {
  console.error(error.stack);
  process.exit(1);
});
