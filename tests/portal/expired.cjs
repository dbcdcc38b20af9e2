// An agent whose gateway token has expired, in the portal, in headless
// Chromium (playwright-core), against the test ProConnect (which asks for
// credentials unless its own session is open): signs in with the button;
// the token cookie then goes as an expired one goes (the browser drops it);
// the portal offers to sign out of ProConnect, which ends its session, and
// the next sign-in asks for credentials again.
// Usage: node expired.cjs <gateway base URL>
"use strict";

const { chromium } = require("playwright-core");
const axe = require("axe-core");

const [base] = process.argv.slice(2);
const PAGE = `${base}/#/projets/formiable`;

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  try {
    const context = await browser.newContext({ locale: "fr-FR" });
    const page = await context.newPage();
    await page.goto(PAGE, { waitUntil: "networkidle" });
    await page.getByRole("link", { name: "S’identifier avec ProConnect" }).click();
    await page.getByRole("heading", { name: "Identifiez-vous" }).waitFor({ timeout: 10000 });
    await page.getByRole("button", { name: "Se connecter" }).click();
    await page.waitForURL(PAGE, { timeout: 10000 });
    await page.locator("#signed-in:not([hidden])").waitFor({ timeout: 10000 });

    // The gateway token expires: its cookie (Max-Age = the token's life) is gone.
    await context.clearCookies({ name: "catalogue_token" });
    await page.reload({ waitUntil: "networkidle" });
    const signOut = page.getByRole("link", { name: "Se déconnecter de ProConnect" });
    await signOut.waitFor({ timeout: 10000 });
    await page.evaluate(axe.source);
    const results = await page.evaluate(() => window.axe.run(document));
    if (results.violations.length) throw new Error(`axe: ${results.violations.map((v) => v.id).join(", ")}`);
    await signOut.click();
    await page.waitForURL(PAGE, { timeout: 10000 });
    await page.getByRole("link", { name: "S’identifier avec ProConnect" }).waitFor({ timeout: 10000 });
    if (await signOut.isVisible()) throw new Error("still offered to sign out of ProConnect after signing out");

    // The next person is asked for credentials.
    await page.getByRole("link", { name: "S’identifier avec ProConnect" }).click();
    await page.getByRole("heading", { name: "Identifiez-vous" }).waitFor({ timeout: 10000 });
    console.log("credentials asked again after an expired token's sign-out");
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error.stack);
  process.exit(1);
});
