// Drives GraphiQL at /graphql in headless Chromium (Debian's /usr/bin/chromium)
// with playwright-core, with every request to another origin than the
// gateway's aborted and counted: the page loads, its documentation explorer
// shows the schema (Query and its projects field), the query the page
// opens with runs and shows its result, the editor completes a field name,
// and a dialog opens. Fails on any console error (a refused policy
// included), failed request, or request to another origin.
// Usage: node graphiql.cjs <gateway base URL> <screenshot directory>
"use strict";

const { chromium } = require("playwright-core");

const [base, screenshots] = process.argv.slice(2);
const origin = new URL(base).origin;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--no-first-run",
    ],
  });
  const problems = [];
  const elsewhere = [];
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: "fr-FR" });
  try {
    await page.route("**/*", (route) => {
      const url = route.request().url();
      if (url.startsWith("data:") || new URL(url).origin === origin) return route.continue();
      elsewhere.push(url);
      return route.abort("blockedbyclient");
    });
    // Errors (a refused policy, a failed load) fail; GraphiQL's own
    // warnings (Radix's about dialog descriptions) are shown only.
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
      else if (message.type() === "warning") console.log(`console warning: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => {
      if (!elsewhere.includes(request.url())) problems.push(`request failed: ${request.url()}`);
    });
    page.on("response", (response) => {
      if (response.status() >= 400) problems.push(`${response.status()} for ${response.url()}`);
    });

    await page.goto(`${base}/graphql`, { waitUntil: "networkidle" });
    check((await page.title()).includes("programme 10"), `the page's title: ${await page.title()}`);
    await page.locator(".graphiql-container").waitFor({ timeout: 20000 });

    // The documentation explorer: the schema, fetched by introspection.
    await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
    const docs = page.locator(".graphiql-doc-explorer");
    await docs.getByText("Root Types").waitFor({ timeout: 20000 });
    await docs.getByRole("link", { name: "Query", exact: true }).click();
    await docs.locator(".graphiql-doc-explorer-field-name", { hasText: /^projects$/ }).first()
      .waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${screenshots}/graphiql-docs.png` });

    // The query the page opens with runs, from the execute button.
    await page.getByRole("button", { name: "Execute query (Ctrl-Enter)" }).click();
    const result = page.locator(".result-window");
    await result.getByText('"Cartiflette"', { exact: true }).waitFor({ timeout: 10000 });
    await result.getByText('"INSEE"').first().waitFor({ timeout: 10000 });

    // Completion knows the schema too.
    await page.locator(".graphiql-query-editor .CodeMirror").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("{ organizat");
    await page.locator(".CodeMirror-hints").getByText("organizations", { exact: true })
      .waitFor({ timeout: 10000 });
    await page.keyboard.press("Escape");

    // A dialog: its <style> element carries the page's nonce.
    await page.getByRole("button", { name: "Open settings dialog" }).click();
    await page.getByRole("dialog").waitFor({ timeout: 10000 });
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached", timeout: 10000 });
    await page.screenshot({ path: `${screenshots}/graphiql-result.png` });
  } catch (error) {
    await page.screenshot({ path: `${screenshots}/graphiql-failure.png`, fullPage: true });
    throw error;
  } finally {
    await browser.close();
  }
  if (elsewhere.length) problems.push(`requests to other origins: ${elsewhere.join(", ")}`);
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  console.log("graphiql ok");
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
