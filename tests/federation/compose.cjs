// Composes the gateway's subgraph SDL (file in argv[2]) with a small second
// subgraph that extends Project, using Apollo's own composer. Prints
// "composed" or the composition errors (exit 1).
const { readFileSync } = require('node:fs');
const { composeServices } = require('@apollo/composition');
const { parse } = require('graphql');

const catalogue = readFileSync(process.argv[2], 'utf8');
const deployments = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])
  type Project @key(fields: "slug") {
    slug: String!
    "Where an administration runs the project."
    deployments: [String!]!
  }
  type Query {
    "How many deployments are known."
    deploymentCount: Int!
  }
`;
const result = composeServices([
  { name: 'catalogue', typeDefs: parse(catalogue), url: 'http://catalogue.invalid/graphql' },
  { name: 'deployments', typeDefs: parse(deployments), url: 'http://deployments.invalid/graphql' },
]);
if (result.errors && result.errors.length > 0) {
  console.error(result.errors.map((error) => error.message).join('\n'));
  process.exit(1);
}
const supergraph = result.supergraphSdl;
if (!supergraph.includes('deployments: [String!]!') || !supergraph.includes('join__type(graph: CATALOGUE, key: "slug")')) {
  console.error('the supergraph lacks the extended Project:\n' + supergraph);
  process.exit(1);
}
console.log('composed');
