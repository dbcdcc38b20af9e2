// Drives the portal in headless Chromium (Debian's /usr/bin/chromium) with
// playwright-core: search "carte", see Cartiflette, open it, see its GitHub
// link, keyboard-only too; then read every project and organization page of
// the catalogue (listed by the API), none of which may show "null",
// "undefined", "[object Object]" or "NaN". Fails on any console error or
// failed request.
// Usage: node e2e.cjs <gateway base URL> <screenshot directory>
"use strict";

const { chromium } = require("playwright-core");

const [base, screenshots] = process.argv.slice(2);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** Every project and organization of the catalogue, from the API. */
async function everything() {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({
      query: `{ projects(first: 100) { totalCount edges { node { slug name } } }
        organizations(first: 100) { totalCount edges { node { slug name } } } }`,
    }),
  });
  const { data, errors } = await response.json();
  check(!errors, `the catalogue: ${JSON.stringify(errors)}`);
  for (const list of [data.projects, data.organizations]) {
    check(list.edges.length === list.totalCount, "the whole catalogue in one page");
  }
  return {
    projects: data.projects.edges.map((edge) => edge.node),
    organizations: data.organizations.edges.map((edge) => edge.node),
  };
}

/** What a JavaScript value looks like when written out as text by mistake. */
const LEAKS = /\bnull\b|\bundefined\b|\[object Object\]|\bNaN\b/;

async function checkText(page, where) {
  const text = await page.locator("body").innerText();
  const leak = text.match(LEAKS);
  check(!leak, `${where} shows "${leak && leak[0]}": …${leak && text.slice(Math.max(0, leak.index - 80), leak.index + 40)}…`);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  const problems = [];
  // Only while a bad token is being refused is a 401 expected.
  let refusing = false;
  const expected = (text) => refusing && /\b401\b/.test(text);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: "fr-FR" });
  try {
    page.on("console", (message) => {
      if ((message.type() === "error" || message.type() === "warning") && !expected(message.text())) {
        problems.push(`console ${message.type()}: ${message.text()}`);
      }
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
    page.on("response", (response) => {
      const line = `${response.status()} for ${response.url()}`;
      if (response.status() >= 400 && !expected(line)) problems.push(line);
    });

    await page.goto(`${base}/`, { waitUntil: "networkidle" });
    check((await page.title()).includes("programme 10"), "the portal's title");

    // Search with the labelled box, as a keyboard user would.
    await page.getByLabel("Rechercher dans le catalogue").fill("carte");
    await page.keyboard.press("Enter");
    // The count says "Recherche…" until the search answers (the link may
    // show earlier, from the page's first list): wait for the answer.
    const announced = page.locator("#results-count").filter({ hasText: /\d+ résultat/ });
    const found = await announced.waitFor({ timeout: 10000 }).then(() => true, () => false);
    const count = await page.locator("#results-count").textContent();
    check(found, `a result count is announced: ${count}`);
    const result = page.getByRole("link", { name: "Cartiflette", exact: true });
    await result.waitFor({ timeout: 10000 });
    // Facets are filters: each has a label the checkbox belongs to.
    const facet = page.locator("#facets-form input[type=checkbox]").first();
    await facet.waitFor();
    const id = await facet.getAttribute("id");
    check((await page.locator(`label[for="${id}"]`).count()) === 1, "each facet checkbox has its label");
    await page.screenshot({ path: `${screenshots}/portal-search.png`, fullPage: false });
    // This gateway has no ProConnect settings: no button that would lead to a refusal.
    await page.locator("#proconnect-signin").waitFor({ state: "hidden", timeout: 10000 });

    // Open the project: its code on GitHub is linked.
    await result.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { level: 1, name: /Cartiflette/ }).waitFor({ timeout: 10000 });
    const github = page.locator('a[href="https://github.com/InseeFrLab/cartiflette"]');
    await github.waitFor({ timeout: 10000 });
    check(await github.isVisible(), "the GitHub link is visible");
    // Search engines find its schema.org description in the page's head.
    const described = page.locator('head script[type="application/ld+json"]');
    await described.waitFor({ state: "attached", timeout: 10000 });
    const description = JSON.parse(await described.textContent());
    check(description.identifier === "cartiflette", "the page embeds Cartiflette's JSON-LD");
    await page.screenshot({ path: `${screenshots}/portal-project.png`, fullPage: true });

    // Tick a facet with the keyboard: the URL keeps it, the hits follow, the
    // focus stays on the box, and the other kinds are still offered.
    await page.goto(`${base}/#/?q=carte`, { waitUntil: "networkidle" });
    check(await described.count() === 0, "the search page embeds no project's JSON-LD");
    const projectKind = page.getByLabel(/^Projet \(\d+\)$/);
    await projectKind.focus();
    await page.keyboard.press("Space");
    await page.waitForURL(/kinds=PROJECT/, { timeout: 10000 });
    await page.waitForFunction(() =>
      [...document.querySelectorAll(".card .badge")].every((b) => b.textContent === "Projet")
      && document.querySelectorAll(".card").length > 0, null, { timeout: 10000 });
    await page.waitForFunction(() => document.activeElement?.id === "facet-kinds-PROJECT", null, { timeout: 10000 });
    check(await page.getByLabel(/^Données \(\d+\)$/).count() === 1, "another kind can be added");

    // A refused token: said so, forgotten, the page goes on in public.
    await page.getByText("Outils de développement").click();
    await page.getByLabel("Jeton d'accès").fill("not-a-token");
    refusing = true;
    await page.getByRole("button", { name: "Utiliser ce jeton" }).click();
    await page.getByText(/Jeton refusé/).waitFor({ timeout: 10000 });
    await page.locator(".card").first().waitFor({ timeout: 10000 });
    await page.waitForLoadState("networkidle");
    refusing = false;

    // The organizations page lists INSEE and links to its projects.
    await page.getByRole("link", { name: "Organisations", exact: true }).click();
    await page.getByRole("link", { name: /INSEE/ }).first().waitFor({ timeout: 10000 });
    await checkText(page, "#/organisations");

    // Every page of the catalogue reads as text: no absent value written out.
    const catalogue = await everything();
    check(catalogue.projects.length > 0 && catalogue.organizations.length > 0, "a catalogue");
    await page.goto(`${base}/#/`, { waitUntil: "networkidle" });
    await page.locator(".card").first().waitFor({ timeout: 10000 });
    await checkText(page, "#/");
    for (const { slug, name } of catalogue.projects) {
      await page.goto(`${base}/#/projets/${encodeURIComponent(slug)}`);
      await page.locator("#project-title", { hasText: name }).waitFor({ timeout: 10000 });
      await checkText(page, `#/projets/${slug}`);
    }
    for (const { slug, name } of catalogue.organizations) {
      await page.goto(`${base}/#/organisations/${encodeURIComponent(slug)}`);
      await page.locator("h1", { hasText: name }).waitFor({ timeout: 10000 });
      await checkText(page, `#/organisations/${slug}`);
    }
    console.log(`${catalogue.projects.length} projects and ${catalogue.organizations.length} organizations read`);
  } catch (error) {
    await page.screenshot({ path: `${screenshots}/portal-failure.png`, fullPage: true });
    throw error;
  } finally {
    await browser.close();
  }
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  console.log("portal ok");
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
