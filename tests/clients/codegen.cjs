// Generates typed TypeScript operations with graphql-codegen (the
// `typescript` and `typescript-operations` plugins) for the operations in
// argv[4], once from the live gateway (URL in argv[2], introspected) and
// once from the SDL file (argv[3]). Prints "generated" when both give the
// same code, else the first difference (exit 1). Doc comments are left out
// of the comparison: the typescript plugin documents a scalar only from
// its SDL definition, which an introspected schema does not have.
const { generate } = require('@graphql-codegen/cli');

const [url, sdlFile, operations] = process.argv.slice(2);

async function typesFrom(schema) {
  const [output] = await generate({
    schema,
    documents: operations,
    silent: true,
    pluginLoader: (name) => require(name),
    generates: { 'catalogue.ts': { plugins: ['typescript', 'typescript-operations'] } },
  }, false);
  return output.content;
}

const withoutDocComments = (code) => code.replace(/^\s*\/\*\*[\s\S]*?\*\/\n/gm, '');

async function main() {
  const live = withoutDocComments(await typesFrom(url));
  const file = withoutDocComments(await typesFrom(sdlFile));
  if (!live.includes('export type ProjectsPageQuery')) {
    throw new Error(`no operation types were generated:\n${live}`);
  }
  if (live !== file) {
    const [a, b] = [live.split('\n'), file.split('\n')];
    const line = a.findIndex((text, i) => text !== b[i]);
    throw new Error(`the live URL and the SDL file give different code at line ${line + 1}:\n${a[line]}\n${b[line]}`);
  }
  console.log('generated');
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
