// Bundles @apollo/client (its production build, from the pinned
// node_modules) into one ES module a test page loads from its own origin:
// nothing comes from a CDN. Usage: node bundle-apollo-client.cjs <outfile>
"use strict";

const path = require("path");
const esbuild = require("esbuild");

const [outfile] = process.argv.slice(2);
const modules = process.env.NODE_PATH;

esbuild
  .build({
    stdin: {
      contents: 'export { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";',
      resolveDir: path.dirname(outfile),
      loader: "js",
    },
    nodePaths: [modules],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["production"],
    define: { "process.env.NODE_ENV": '"production"' },
    minify: true,
    outfile,
    logLevel: "warning",
  })
  .catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
