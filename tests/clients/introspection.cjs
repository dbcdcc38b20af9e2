// Introspects the gateway (URL in argv[2]) as GraphiQL, graphql-codegen and
// Apollo's tooling do, with graphql-js's getIntrospectionQuery, without and
// with every option; builds a client schema from each answer and compares
// it with the SDL the gateway serves (URL in argv[3]). Prints "introspected"
// or what differs (exit 1).
const {
  GraphQLSchema, buildClientSchema, buildSchema, findBreakingChanges, findDangerousChanges,
  getIntrospectionQuery, lexicographicSortSchema, parse, printSchema,
} = require('graphql');

const [url, sdlUrl] = process.argv.slice(2);
const everyOption = {
  descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true,
  schemaDescription: true, inputValueDeprecation: true,
};

function fail(message) {
  console.error(message);
  process.exit(1);
}

async function introspect(options) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: getIntrospectionQuery(options) }),
  });
  const body = await response.json();
  if (body.errors) fail(`introspection ${JSON.stringify(options)} refused: ${JSON.stringify(body.errors)}`);
  return buildClientSchema(body.data);
}

// The served schema, with the built-in directives it does not declare
// taken from `client`: buildSchema fills them in from this graphql-js
// version (whose @deprecated also applies to directive definitions, a
// newer draft's), not from the gateway.
function servedWithBuiltinsOf(sdl, client) {
  const declared = new Set(parse(sdl).definitions
    .filter((definition) => definition.kind === 'DirectiveDefinition')
    .map((definition) => definition.name.value));
  const config = buildSchema(sdl).toConfig();
  config.directives = config.directives.map((directive) =>
    declared.has(directive.name) ? directive : client.getDirective(directive.name) ?? directive);
  return new GraphQLSchema(config);
}

async function main() {
  const sdl = await (await fetch(sdlUrl)).text();
  for (const options of [{}, everyOption]) {
    const client = await introspect(options);
    const served = servedWithBuiltinsOf(sdl, client);
    const changes = [
      ...findBreakingChanges(served, client), ...findBreakingChanges(client, served),
      ...findDangerousChanges(served, client), ...findDangerousChanges(client, served),
    ];
    if (changes.length > 0) fail(changes.map((change) => change.description).join('\n'));
  }
  // With every option, introspection gives the SDL itself back, descriptions
  // included; but for the schema's own description, which async-graphql
  // answers with the spec's text about __Schema whatever the schema.
  const printed = (schema) =>
    printSchema(lexicographicSortSchema(new GraphQLSchema({ ...schema.toConfig(), description: undefined })));
  const client = await introspect(everyOption);
  const served = servedWithBuiltinsOf(sdl, client);
  if (printed(client) !== printed(served)) {
    const [a, b] = [printed(client).split('\n'), printed(served).split('\n')];
    const line = a.findIndex((text, i) => text !== b[i]);
    fail(`introspection and /schema.graphql differ at line ${line + 1}:\n${a.slice(line, line + 4).join("\\n")}\n---\n${b.slice(line, line + 4).join("\\n")}`);
  }
  console.log('introspected');
}

main().catch((error) => fail(error.stack));
