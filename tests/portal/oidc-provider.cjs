// An OpenID provider the gateway's authors did not write — the
// `oidc-provider` package, the engine ProConnect runs — configured like
// ProConnect: issuer `…/api/v2`, clients authenticating with
// `client_secret_post`, PKCE (S256) required, ID tokens, userinfo and
// introspection answers (RFC 9701) signed with the algorithm given (RS256
// or ES256, as registered at ProConnect), ProConnect's claims and scopes,
// `acr` eidas1, revocation, and RP-initiated logout without a question (as
// ProConnect does). Its built-in login page takes any login; every login
// is the same public agent of DINUM.
//
// Usage: node oidc-provider.cjs <client id> <client secret> <other client id> <other client secret> <RS256|ES256>
// Listens on 127.0.0.1 on a free port and prints its issuer URL; then reads
// the gateway's public URL (one line on stdin), which its client's redirect
// URIs need, and answers from then on (requests that come earlier wait).
// The other client is another administration's tool, whose redirect URI is
// `<issuer>/outil/callback` (never served: the browser test reads the code
// off the address). Runs until killed.
"use strict";

const http = require("node:http");
const crypto = require("node:crypto");
const readline = require("node:readline");

const [clientId, clientSecret, otherClientId, otherClientSecret, alg] = process.argv.slice(2);
const MOUNT = "/api/v2";

const AGENT = {
  email: "dominique.agente@numerique.gouv.fr",
  given_name: "Dominique",
  usual_name: "Agente",
  uid: "dominique-agente",
  // DINUM: a SIREN starting with 1, a State body.
  siret: "13002526500013",
  idp_id: "71144ab3-ee1a-4401-b7b3-79b44f7daeeb",
};

function signingKey() {
  const { privateKey } =
    alg === "ES256"
      ? crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
      : crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { ...privateKey.export({ format: "jwk" }), kid: crypto.randomUUID(), alg, use: "sig" };
}

/** The provider for a gateway at `gateway` (its public URL). */
function configure(Provider, issuer, gateway) {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${gateway}/auth/callback`],
        post_logout_redirect_uris: [`${gateway}/auth/logout/callback`],
        token_endpoint_auth_method: "client_secret_post",
        id_token_signed_response_alg: alg,
        userinfo_signed_response_alg: alg,
        introspection_signed_response_alg: alg,
      },
      {
        client_id: otherClientId,
        client_secret: otherClientSecret,
        redirect_uris: [`${issuer}/outil/callback`],
        token_endpoint_auth_method: "client_secret_post",
        id_token_signed_response_alg: alg,
        userinfo_signed_response_alg: alg,
        introspection_signed_response_alg: alg,
      },
    ],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [crypto.randomBytes(32).toString("hex")] },
    pkce: { required: () => true },
    ttl: {
      Interaction: 600,
      Session: 12 * 3600,
      Grant: 12 * 3600,
      AccessToken: 3600,
      IdToken: 3600,
    },
    acrValues: ["eidas1"],
    scopes: ["openid", "email", "given_name", "usual_name", "uid", "siret", "idp_id"],
    claims: {
      openid: ["sub"],
      email: ["email"],
      given_name: ["given_name"],
      usual_name: ["usual_name"],
      uid: ["uid"],
      siret: ["siret"],
      idp_id: ["idp_id"],
    },
    features: {
      devInteractions: { enabled: true },
      claimsParameter: { enabled: true },
      introspection: { enabled: true },
      jwtIntrospection: { enabled: true },
      jwtUserinfo: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // ProConnect ends its session without asking: the form submits itself.
        logoutSource: async (ctx, form) => {
          ctx.body = `<!DOCTYPE html><html lang="fr"><head><title>Déconnexion</title></head><body>${form.replace(
            "</form>",
            '<input type="hidden" name="logout" value="yes"/></form>',
          )}<script>document.forms[0].submit()</script></body></html>`;
        },
      },
    },
    findAccount: async (ctx, sub) => ({
      accountId: sub,
      claims: async () => ({ sub, ...AGENT }),
    }),
  });
  // The identity provider behind ProConnect says how the person
  // authenticated; the built-in login page does not, so every login is eidas1.
  const finished = provider.interactionFinished.bind(provider);
  provider.interactionFinished = (req, res, result, options) =>
    finished(req, res, result.login ? { ...result, login: { ...result.login, acr: "eidas1" } } : result, options);
  return provider;
}

(async () => {
  const { default: Provider } = await import(require.resolve("oidc-provider"));
  let handle;
  const ready = new Promise((resolve) => {
    handle = resolve;
  });
  const server = http.createServer(async (req, res) => {
    const callback = await ready;
    if (!req.url.startsWith(MOUNT)) {
      res.writeHead(404).end();
      return;
    }
    // Mounted under /api/v2, as ProConnect's issuer is.
    req.originalUrl = req.url;
    req.url = req.url.slice(MOUNT.length) || "/";
    callback(req, res);
  });
  server.listen(0, "127.0.0.1", () => {
    const issuer = `http://127.0.0.1:${server.address().port}${MOUNT}`;
    console.log(issuer);
    const lines = readline.createInterface({ input: process.stdin });
    lines.once("line", (gateway) => {
      handle(configure(Provider, issuer, gateway.trim()).callback());
    });
  });
})().catch((error) => {
  console.error(error.stack || error);
  process.exit(1);
});
