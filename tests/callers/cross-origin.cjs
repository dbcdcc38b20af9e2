// A page on another origin runs Apollo Client in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core) against two gateways: one
// listing the page's origin (CATALOGUE_CORS_ORIGINS) and one open to `*`.
// Apollo Client comes from the page's own origin (bundled from the pinned
// node_modules); every request to any other host is blocked.
// Usage: node cross-origin.cjs <page origin> <listed gateway> <open gateway> <token>
// Prints what each attempt gave, as JSON.
"use strict";

const { chromium } = require("playwright-core");

const [page, listed, open, token] = process.argv.slice(2);
const allowed = [page, listed, open].map((url) => new URL(url).origin);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run",
    ],
  });
  const blocked = [];
  const sent = [];
  try {
    const context = await browser.newContext();
    await context.route("**/*", (route) => {
      const url = route.request().url();
      if (allowed.includes(new URL(url).origin)) return route.continue();
      blocked.push(url);
      return route.abort();
    });
    // The cookie the sign-in's cookie mode sets, for the gateways' host
    // (cookies ignore ports: the page and the gateways are one site).
    await context.addCookies([{
      name: "catalogue_token", value: token, url: listed, httpOnly: true, sameSite: "Lax",
    }]);
    const tab = await context.newPage();
    tab.on("request", (request) => {
      if (request.method() === "POST") sent.push({ url: request.url(), headers: request.headers() });
    });
    await tab.goto(`${page}/`);
    const results = await tab.evaluate(async ({ listed, open, token }) => {
      const { ApolloClient, HttpLink, InMemoryCache, gql } = await import("/apollo-client.js");
      const ME = gql`query Me { me { email } }`;
      async function attempt(uri, linkOptions) {
        const client = new ApolloClient({
          cache: new InMemoryCache(),
          link: new HttpLink({ uri, ...linkOptions }),
          // What Apollo Client 3 took as `new ApolloClient({ name, version })`.
          clientAwareness: { name: "portail-test", version: "1.2.3" },
        });
        try {
          const { data } = await client.query({ query: ME, fetchPolicy: "network-only" });
          return { email: data.me && data.me.email };
        } catch (error) {
          return { error: String(error && error.message) };
        }
      }
      const bearer = { headers: { Authorization: `Bearer ${token}` } };
      const cookie = { credentials: "include" };
      // What a script may read of an answer: the exposed headers.
      const response = await fetch(`${listed}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: "{ me { email } }" }),
      });
      return {
        listedWithToken: await attempt(`${listed}/graphql`, bearer),
        openWithToken: await attempt(`${open}/graphql`, bearer),
        listedWithCookie: await attempt(`${listed}/graphql`, cookie),
        openWithCookie: await attempt(`${open}/graphql`, cookie),
        readable: {
          ratelimit: response.headers.get("ratelimit"),
          ratelimitPolicy: response.headers.get("ratelimit-policy"),
          requestId: response.headers.get("x-request-id"),
        },
      };
    }, { listed, open, token });
    const awareness = sent.filter((request) => request.headers["apollographql-client-name"] === "portail-test"
      && request.headers["apollographql-client-version"] === "1.2.3").length;
    console.log(JSON.stringify({ ...results, sentWithClientAwareness: awareness, blocked }));
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error.stack);
  process.exit(1);
});
