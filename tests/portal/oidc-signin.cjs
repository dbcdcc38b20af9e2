// The portal's sign-in against oidc-provider (tests/portal/oidc-provider.cjs),
// in headless Chromium (playwright-core): an agent signs in with the
// ProConnect button on its built-in login and consent pages, comes back
// to the page they were on signed in (as a public agent, at the `acr` the
// provider reported) and sees agents-only material, signs
// out, and is asked for credentials again (the provider's own session was
// ended). Signed in again, they open another administration's tool (a
// second client of the provider, its own code flow with PKCE), whose
// access token this script prints last, for the gateway to introspect.
// (The tool's callback address is never served: the code is read off it.)
// Usage: node oidc-signin.cjs <gateway base URL> <issuer> <tool client id> <tool client secret>
"use strict";

const crypto = require("node:crypto");
const { chromium } = require("playwright-core");

const [base, issuer, toolId, toolSecret] = process.argv.slice(2);
const SLUG = "formiable";
const AGENTS_ONLY = "Salon Tchap de l'équipe";
const BUTTON = "S’identifier avec ProConnect";

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const problems = [];
const steps = [];

/** Fails on the portal's console errors, page errors and 4xx/5xx answers from the gateway. */
function watch(page) {
  page.on("console", (message) => {
    if (message.type() === "error" && page.url().startsWith(base)) problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 400 && response.url().startsWith(base)) problems.push(`${response.status()} for ${response.url()}`);
  });
  page.on("framenavigated", (frame) => {
    if (frame.url().startsWith(base) && frame.url().includes("access_token")) problems.push(`a token in the address bar: ${frame.url()}`);
  });
}

/** oidc-provider's login page: any login and password. */
async function logIn(page) {
  await page.locator('input[name="login"]').waitFor({ timeout: 10000 });
  check(page.url().startsWith(issuer), `the provider's login page: ${page.url()}`);
  await page.locator('input[name="login"]').fill("dominique.agente");
  await page.locator('input[name="password"]').fill("un mot de passe");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

/** oidc-provider's consent page, when it asks. */
async function consentIfAsked(page, until) {
  const consent = page.getByRole("button", { name: "Continue" });
  await Promise.race([consent.waitFor({ timeout: 10000 }), page.waitForURL(until, { timeout: 10000 })]).catch(async (error) => {
    throw new Error(`neither consent nor ${until}: at ${page.url()}: ${(await page.locator("body").innerText()).slice(0, 500)}\n${error.message}`);
  });
  if (await consent.count()) {
    steps.push("consent asked");
    await consent.click();
  }
}

async function signedIn(page) {
  await page.waitForURL(`${base}/#/projets/${SLUG}`, { timeout: 10000 });
  await page.locator("#account-name", { hasText: "Dominique Agente" }).waitFor({ timeout: 10000 });
  await page.getByText(AGENTS_ONLY).first().waitFor({ timeout: 10000 });
  check(!page.url().includes("access_token"), "no token in the address bar");
  // What the gateway's token (the sign-in cookie) says: the level oidc-provider reported, a public agent.
  const me = await page.evaluate(async () => {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: "{ me { email siret acr publicAgent } }" }),
    });
    return response.json();
  });
  const who = me.data && me.data.me;
  check(who && who.email === "dominique.agente@numerique.gouv.fr" && who.siret === "13002526500013", `me: ${JSON.stringify(me)}`);
  check(who.acr === "eidas1" && who.publicAgent === true, `acr carried, a public agent: ${JSON.stringify(me)}`);
}

/** Another administration's tool signs the same person in: the code flow with PKCE, by hand. */
async function toolAccessToken(page) {
  const verifier = crypto.randomBytes(32).toString("base64url");
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  const callback = `${issuer}/outil/callback`;
  const authorize = new URL(`${issuer}/auth`);
  for (const [key, value] of Object.entries({
    client_id: toolId,
    response_type: "code",
    scope: "openid email given_name usual_name siret idp_id",
    redirect_uri: callback,
    state: crypto.randomUUID(),
    nonce: crypto.randomUUID(),
    code_challenge: challenge,
    code_challenge_method: "S256",
  })) authorize.searchParams.set(key, value);
  await page.goto(authorize.href);
  // The tool's callback is not served: its address carries the code.
  const atCallback = (url) => url.href.startsWith(callback);
  await consentIfAsked(page, atCallback);
  await page.waitForURL(atCallback, { timeout: 10000 });
  const code = new URL(page.url()).searchParams.get("code");
  check(code, `the tool got a code: ${page.url()}`);
  const response = await fetch(`${issuer}/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: callback,
      code_verifier: verifier,
      client_id: toolId,
      client_secret: toolSecret,
    }),
  });
  const tokens = await response.json();
  check(response.ok && tokens.access_token, `the tool's tokens: ${JSON.stringify(tokens)}`);
  return tokens.access_token;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox"],
  });
  let token;
  try {
    const context = await browser.newContext({ locale: "fr-FR" });
    // oidc-provider's built-in pages load a web font; there is no internet here.
    await context.route("https://fonts.googleapis.com/**", (route) => route.abort());
    const page = await context.newPage();
    watch(page);

    await page.goto(`${base}/#/projets/${SLUG}`, { waitUntil: "networkidle" });
    await page.locator("#project-title").waitFor({ timeout: 10000 });
    check(await page.getByText(AGENTS_ONLY).count() === 0, "agents-only material hidden from anonymous visitors");

    // First sign-in: the provider asks for credentials and consent.
    await page.getByRole("link", { name: BUTTON }).click();
    await logIn(page);
    steps.push("login asked");
    await consentIfAsked(page, `${base}/**`);
    await signedIn(page);
    steps.push("signed in, agents-only material shown");

    // Sign out: back on the portal, signed out.
    await page.getByRole("link", { name: "Se déconnecter" }).click();
    await page.getByRole("link", { name: BUTTON }).waitFor({ timeout: 10000 });
    check(page.url().startsWith(base), `back on the portal: ${page.url()}`);
    check(await page.getByText(AGENTS_ONLY).count() === 0, "signed out: agents-only material hidden");
    steps.push("signed out");

    // The next sign-in asks for credentials again: the provider's session ended.
    await page.goto(`${base}/#/projets/${SLUG}`, { waitUntil: "networkidle" });
    await page.getByRole("link", { name: BUTTON }).click();
    await logIn(page);
    steps.push("login asked again");
    await consentIfAsked(page, `${base}/**`);
    await signedIn(page);
    steps.push("signed in again");

    token = await toolAccessToken(page);
    steps.push("tool token obtained");
    await context.close();
  } finally {
    await browser.close();
  }
  console.log(steps.join("\n"));
  if (problems.length) {
    console.error(problems.join("\n"));
    process.exit(1);
  }
  console.log(`tool access token: ${token}`);
})().catch((error) => {
  console.error(error.stack || error);
  console.error(`steps done: ${steps.join(", ") || "none"}`);
  if (problems.length) console.error(problems.join("\n"));
  process.exit(1);
});
