// A person ProConnect signs in who is not a public agent (a private company's
// SIRET), in the portal, in headless Chromium (playwright-core): signs in with
// the ProConnect button, is told why agents-only material stays hidden, and
// does not see it. axe-core checks the page as it then stands.
// Usage: node outsider.cjs <gateway base URL>
"use strict";

const { chromium } = require("playwright-core");
const axe = require("axe-core");

const [base] = process.argv.slice(2);
const AGENTS_ONLY = "Salon Tchap de l'équipe";

function check(condition, message) {
  if (!condition) throw new Error(message);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  try {
    const page = await browser.newPage({ locale: "fr-FR" });
    await page.goto(`${base}/#/projets/formiable`, { waitUntil: "networkidle" });
    await page.locator("#project-title").waitFor({ timeout: 10000 });
    await page.getByRole("link", { name: "S’identifier avec ProConnect" }).click();
    await page.waitForURL(`${base}/#/projets/formiable`, { timeout: 10000 });
    await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 10000 });
    const status = page.locator("#signin-status");
    await status.filter({ hasText: "ne vous compte pas comme agent public" }).waitFor({ timeout: 10000 });
    await page.locator("#project-title").waitFor({ timeout: 10000 });
    check(await page.getByText(AGENTS_ONLY).count() === 0, "agents-only material hidden from a private-sector person");
    await page.evaluate(axe.source);
    const results = await page.evaluate(() => window.axe.run(document));
    check(results.violations.length === 0, `axe: ${results.violations.map((v) => v.id).join(", ")}`);
    console.log(`told: ${await status.textContent()}`);
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error.stack);
  process.exit(1);
});
