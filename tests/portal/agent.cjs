// An agent in the portal, in headless Chromium (playwright-core), through
// the gateway and the test ProConnect (which asks for credentials unless
// its own session is open): signs in with the ProConnect button and comes
// back to the page they were on, sees agents-only material, edits FormIAble
// as its maintainer (fields by keyboard, a link added and removed, a field
// error tied to its field), meets a CONFLICT from a second tab and resolves
// it both ways, declares in two clicks that their administration uses it
// (the organization's page then lists it), signs out, and is asked for
// credentials again. An
// administrator, whose token comes in the fragment, reads the audit log.
// axe-core checks every page type: 0 violations.
// Usage: node agent.cjs <gateway base URL> <administrator token> <screenshot directory>
"use strict";

const { chromium } = require("playwright-core");
const axe = require("axe-core");

const [base, adminToken, screenshots] = process.argv.slice(2);
const SLUG = "formiable";
const AGENTS_ONLY = "Salon Tchap de l'équipe";

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const problems = [];
const audited = [];

/** axe-core on the page as it stands: every violation is a problem. */
async function audit(page, name) {
  await page.evaluate(axe.source);
  const results = await page.evaluate(() => window.axe.run(document));
  for (const violation of results.violations) {
    const targets = violation.nodes.map((node) => node.target.join(" ")).join(", ");
    problems.push(`axe on ${name}: ${violation.id} (${violation.impact}): ${violation.help} — ${targets}`);
  }
  audited.push(`${name}: ${results.passes.length} rules passed, ${results.violations.length} violations`);
}

/** Fails on console errors, page errors, failed requests and 4xx/5xx answers. */
function watch(page, label, { fragmentToken = false } = {}) {
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`${label} console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`${label} page error: ${error.message}`));
  page.on("requestfailed", (request) => {
    // A request still in flight when the page navigates away is aborted by
    // the browser, not failed by the gateway.
    const reason = request.failure()?.errorText ?? "";
    if (reason !== "net::ERR_ABORTED") problems.push(`${label} request failed (${reason}): ${request.url()}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`${label}: ${response.status()} for ${response.url()}`);
  });
  page.on("framenavigated", (frame) => {
    // Only the administrator's page is given a token, once, on purpose.
    if (frame.url().includes("access_token") && !(fragmentToken && frame.url().startsWith(`${base}/#access_token=`))) problems.push(`${label}: a token in the address bar: ${frame.url()}`);
  });
}

async function projectSummary() {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query: `{ project(slug: "${SLUG}") { summary description version } }` }),
  });
  return (await response.json()).data.project;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "fr-FR" });
    const page = await context.newPage();
    watch(page, "tab 1");

    // Anonymous: no agents-only link, no edit button; the search page and an organization's pass axe.
    await page.goto(`${base}/#/`, { waitUntil: "networkidle" });
    await page.locator(".card").first().waitFor({ timeout: 10000 });
    await audit(page, "search");
    await page.goto(`${base}/#/organisations/insee`, { waitUntil: "networkidle" });
    await page.getByRole("heading", { level: 1 }).waitFor({ timeout: 10000 });
    await audit(page, "organization");
    await page.goto(`${base}/#/projets/${SLUG}`, { waitUntil: "networkidle" });
    await page.locator("#project-title").waitFor({ timeout: 10000 });
    check(await page.getByText(AGENTS_ONLY).count() === 0, "agents-only material hidden from anonymous visitors");
    check(await page.getByRole("link", { name: "Modifier ce projet" }).count() === 0, "no edit button for anonymous visitors");
    await audit(page, "project (anonymous)");

    // A sign-in refusal (a callback this browser did not start, answered 400, so
    // in a tab of its own, unwatched): a French page with a way back.
    const refusal = await context.newPage();
    await refusal.goto(`${base}/auth/callback?code=c&state=s`, { waitUntil: "networkidle" });
    await refusal.getByRole("heading", { level: 1 }).waitFor({ timeout: 10000 });
    check(await refusal.evaluate(() => document.documentElement.lang) === "fr", "the refusal page is in French");
    check(await refusal.getByRole("link", { name: "Retour au catalogue" }).count() === 1, "the refusal page links back");
    await audit(refusal, "sign-in refusal");
    await refusal.close();

    // Sign in with the button, by keyboard: ProConnect asks for credentials, then back to this page.
    const button = page.getByRole("link", { name: "S’identifier avec ProConnect" });
    check(await page.getByRole("link", { name: /Qu’est-ce que ProConnect/ }).count() === 1, "the « Qu’est-ce que ProConnect ? » link");
    await button.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Identifiez-vous" }).waitFor({ timeout: 10000 });
    await page.getByRole("button", { name: "Se connecter" }).click();
    await page.waitForURL(`${base}/#/projets/${SLUG}`, { timeout: 10000 });
    await page.locator("#account-name", { hasText: "Camille Agent" }).waitFor({ timeout: 10000 });
    check(!(await button.isVisible()), "the sign-in button gives way to the account once signed in");
    check(await page.locator("#account-org").textContent() !== "", "the administration is shown");
    await page.getByText(AGENTS_ONLY).first().waitFor({ timeout: 10000 });
    check(!(await page.evaluate(() => location.href)).includes("access_token"), "no token in the address bar");
    await page.screenshot({ path: `${screenshots}/agent-signed-in.png` });
    await audit(page, "project (signed in)");

    // « Mon administration l'utilise », then « Confirmer »: the use is the
    // agent's own administration's (the one of their SIRET).
    const ADMINISTRATION = "Ministère de l'Europe et des Affaires étrangères";
    check(await page.getByText("Aucune administration n'a encore fait savoir qu'elle l'utilise.").count() === 1, "nobody uses it yet");
    await page.getByRole("button", { name: "Mon administration l'utilise" }).click();
    await page.getByRole("button", { name: "Confirmer" }).click();
    await page.getByText(`Utilisation déclarée pour ${ADMINISTRATION}.`).waitFor({ timeout: 10000 });
    await page.locator("#uses-list").getByRole("link", { name: ADMINISTRATION }).waitFor({ timeout: 10000 });
    check(await page.getByText("1 organisation l'utilise.").count() === 1, "the count follows");
    await page.screenshot({ path: `${screenshots}/agent-declared-use.png` });
    await audit(page, "project with a declared use");
    await page.locator("#uses-list").getByRole("link", { name: ADMINISTRATION }).click();
    await page.getByRole("heading", { level: 2, name: "Ce qu'elle utilise" }).waitFor({ timeout: 10000 });
    await page.getByRole("link", { name: "FormIAble", exact: true }).waitFor({ timeout: 10000 });
    await audit(page, "organization with its uses");
    // The search's « Utilisé par » filter offers the administration (the index follows the write).
    await page.goto(`${base}/#/`, { waitUntil: "networkidle" });
    const usedBy = page.locator("fieldset", { has: page.locator("legend", { hasText: "Utilisé par" }) });
    for (let attempt = 0; attempt < 50 && await usedBy.count() === 0; attempt++) {
      await page.reload({ waitUntil: "networkidle" });
    }
    await usedBy.getByLabel(new RegExp(ADMINISTRATION)).waitFor({ timeout: 10000 });
    await audit(page, "search with the used-by filter");
    await page.goto(`${base}/#/projets/${SLUG}`, { waitUntil: "networkidle" });
    await page.locator("#project-title").waitFor({ timeout: 10000 });

    // Mes projets lists FormIAble; its edit form.
    await page.getByRole("link", { name: "Mes projets" }).click();
    await page.getByRole("heading", { level: 1, name: "Mes projets" }).waitFor({ timeout: 10000 });
    await page.getByRole("link", { name: "FormIAble", exact: true }).waitFor({ timeout: 10000 });
    await audit(page, "my projects");
    await page.getByRole("link", { name: "Modifier FormIAble" }).click();
    await page.locator("#edit-title").waitFor({ timeout: 10000 });
    await audit(page, "edit form");

    // A required field left empty: the error is tied to its field.
    const summary = page.getByLabel("Résumé");
    await summary.fill("");
    await page.getByRole("button", { name: "Enregistrer la fiche" }).click();
    check(await summary.getAttribute("aria-invalid") === "true", "the empty summary is marked invalid");
    check((await summary.getAttribute("aria-describedby")).includes("project-summary-error"), "its error describes it");
    check(await page.evaluate(() => document.activeElement.id) === "project-summary", "the focus is on the field in error");
    await audit(page, "edit form with an error");

    // A second tab saves first.
    const other = await context.newPage();
    watch(other, "tab 2");
    await other.goto(`${base}/#/projets/${SLUG}/modifier`, { waitUntil: "networkidle" });
    await other.locator("#edit-title").waitFor({ timeout: 10000 });
    await other.getByLabel("Résumé").fill("Résumé enregistré dans le second onglet.");
    await other.getByRole("button", { name: "Enregistrer la fiche" }).click();
    await other.getByText(/Fiche enregistrée/).waitFor({ timeout: 10000 });

    // This tab saves by keyboard (Enter in the name field): CONFLICT, a clear choice; keep mine.
    await summary.fill("Résumé de la mainteneuse, gardé malgré le conflit.");
    await page.getByLabel("Nom").focus();
    await page.keyboard.press("Enter");
    const conflict = page.getByRole("alert").filter({ hasText: "modifié pendant que vous l'éditiez" });
    await conflict.waitFor({ timeout: 10000 });
    check(await page.evaluate(() => document.activeElement.id) === "conflict-title", "the focus moves to the conflict");
    await page.screenshot({ path: `${screenshots}/agent-conflict.png` });
    await audit(page, "edit form with a conflict");
    await page.getByRole("button", { name: /Garder mes modifications/ }).click();
    await page.getByText(/Fiche enregistrée \(version \d+\)/).waitFor({ timeout: 10000 });
    let stored = await projectSummary();
    check(stored.summary === "Résumé de la mainteneuse, gardé malgré le conflit.", `mine kept: ${stored.summary}`);

    // Another conflict, resolved the other way: reload, my edit is dropped.
    await other.reload({ waitUntil: "networkidle" });
    await other.locator("#edit-title").waitFor({ timeout: 10000 });
    await other.getByLabel("Description").fill("Description du second onglet.");
    await other.getByRole("button", { name: "Enregistrer la fiche" }).click();
    await other.getByText(/Fiche enregistrée/).waitFor({ timeout: 10000 });
    await page.getByLabel("Description").fill("Description abandonnée.");
    await page.getByRole("button", { name: "Enregistrer la fiche" }).click();
    await conflict.waitFor({ timeout: 10000 });
    await page.getByRole("button", { name: /Recharger le projet/ }).click();
    await page.waitForFunction(() => document.getElementById("project-description")?.value === "Description du second onglet.", null, { timeout: 10000 });
    stored = await projectSummary();
    check(stored.description === "Description du second onglet.", `theirs kept: ${stored.description}`);

    // A link for agents only, added and removed.
    const linkForm = page.locator("#link-form");
    await linkForm.getByLabel("Adresse").fill("https://guide.example.gouv.fr/formiable");
    await linkForm.getByLabel("Titre").fill("Guide interne de FormIAble");
    await linkForm.getByLabel("Type de lien").selectOption("DOCUMENTATION");
    await linkForm.getByLabel("Qui peut le voir").selectOption("AGENTS");
    await linkForm.getByLabel("Certitude").selectOption("UNSURE");
    await linkForm.getByLabel("Remarque").fill("Adresse donnée par l'équipe, pas encore vérifiée.");
    await linkForm.getByRole("button", { name: "Ajouter un lien" }).click();
    await page.getByText("Ajouter un lien : fait.").waitFor({ timeout: 10000 });
    await page.getByRole("link", { name: "Guide interne de FormIAble" }).waitFor({ timeout: 10000 });
    await page.getByRole("button", { name: "Retirer Guide interne de FormIAble" }).click();
    await page.getByText("« Guide interne de FormIAble » retiré.").waitFor({ timeout: 10000 });
    check(await page.getByRole("link", { name: "Guide interne de FormIAble" }).count() === 0, "the link is gone");
    await other.close();

    // The accessibility statement, from the footer.
    await page.getByRole("link", { name: /Accessibilité/ }).click();
    await page.getByRole("heading", { level: 1, name: "Déclaration d'accessibilité" }).waitFor({ timeout: 10000 });
    check(await page.getByText("non conforme").count() > 0, "the statement says where the portal stands");
    await audit(page, "accessibility statement");

    // Sign out: back here, signed out; the next sign-in asks for credentials again.
    await page.getByRole("link", { name: "Se déconnecter" }).click();
    await page.getByRole("link", { name: "S’identifier avec ProConnect" }).waitFor({ timeout: 10000 });
    check(page.url().startsWith(`${base}/#/accessibilite`), `back to the page: ${page.url()}`);
    check(!(await page.locator("#signed-in").isVisible()), "no account shown once signed out");
    await page.goto(`${base}/#/projets/${SLUG}`, { waitUntil: "networkidle" });
    await page.locator("#project-title").waitFor({ timeout: 10000 });
    check(await page.getByText(AGENTS_ONLY).count() === 0, "signed out: agents-only material hidden again");
    await page.getByRole("link", { name: "S’identifier avec ProConnect" }).click();
    await page.getByRole("heading", { name: "Identifiez-vous" }).waitFor({ timeout: 10000 });
    await page.screenshot({ path: `${screenshots}/agent-asked-again.png` });
    await context.close();

    // An administrator whose token comes in the fragment (`/auth/login` in
    // fragment mode): read, then out of the address bar and the history at once.
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "fr-FR" });
    const admin = await adminContext.newPage();
    watch(admin, "administrator", { fragmentToken: true });
    await admin.goto(`${base}/#access_token=${adminToken}&token_type=Bearer&expires_in=300`, { waitUntil: "networkidle" });
    check(await admin.evaluate(() => location.href) === `${base}/#/`, `the token left the address bar: ${admin.url()}`);
    // Back (to the blank page) and forward again: the entry holds no token.
    await admin.goBack();
    await admin.goForward({ waitUntil: "networkidle" });
    check(admin.url() === `${base}/#/`, `the history holds no token: ${admin.url()}`);
    await admin.getByRole("link", { name: "Journal des modifications" }).click();
    await admin.getByRole("cell", { name: "updateProject" }).first().waitFor({ timeout: 10000 });
    check(await admin.getByRole("cell", { name: "camille.agent@finances.gouv.fr" }).count() >= 3, "the agent's writes are logged");
    check(await admin.getByRole("cell", { name: "declareUse" }).count() === 1, "the declared use is logged");
    await admin.screenshot({ path: `${screenshots}/admin-audit-log.png` });
    await audit(admin, "audit log");
    await adminContext.close();
  } finally {
    await browser.close();
  }
  console.log(audited.join("\n"));
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
})().catch((error) => {
  console.error(error.stack || error);
  if (problems.length) console.error(problems.join("\n"));
  process.exit(1);
});
