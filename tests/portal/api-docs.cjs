// Opens the REST API's documentation page (/api/v1/docs) in headless
// Chromium with every other origin blocked: it renders each route of
// /api/v1/openapi.json with its GraphQL document, and axe-core finds no
// violation. Fails on any console error, failed request or request
// elsewhere. Prints the routes shown.
// Usage: node api-docs.cjs <gateway base URL>
"use strict";

const { chromium } = require("playwright-core");
const axe = require("axe-core");

const [base] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const problems = [];
  try {
    const page = await browser.newPage({ locale: "fr-FR" });
    await page.route("**/*", (route) =>
      route.request().url().startsWith(base) ? route.continue() : (problems.push(`asked ${route.request().url()}`), route.abort()));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
    await page.goto(`${base}/api/v1/docs`, { waitUntil: "networkidle" });
    await page.locator("section h2").first().waitFor({ timeout: 10000 });
    const routes = await page.locator("section h2 code").allTextContents();
    const documents = await page.locator("section pre").allTextContents();
    if (!documents.every((text) => text.startsWith("query "))) problems.push("a route without its GraphQL document");
    await page.evaluate(axe.source);
    const results = await page.evaluate(() => window.axe.run(document));
    for (const violation of results.violations) {
      problems.push(`axe: ${violation.id} (${violation.impact}): ${violation.help}`);
    }
    if (problems.length) throw new Error(problems.join("\n"));
    console.log(routes.join("\n"));
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
