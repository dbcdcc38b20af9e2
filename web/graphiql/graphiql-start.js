// Starts GraphiQL (its bundle and React's are served by the gateway beside
// this file) on the page's endpoint. A file of its own, not an inline
// script, so the page's policy allows scripts from 'self' only.
"use strict";

const DEFAULT_QUERY = `# Catalogue des projets du programme 10 %
#
# Ctrl-Espace complète, Ctrl-Entrée exécute ; la documentation du schéma
# s'ouvre avec l'icône du livre, à gauche.

query Projets {
  projects(first: 5) {
    totalCount
    edges {
      node {
        slug
        name
        summary
        organizations { organization { name acronym } }
      }
    }
  }
}
`;

(function start() {
  // The <style> elements GraphiQL's dialogs add carry this nonce, which the
  // page's policy allows (browsers show a script its own tag's nonce).
  window.__webpack_nonce__ = document.currentScript.nonce;
  const root = document.getElementById("graphiql");
  const fetcher = GraphiQL.createFetcher({ url: root.dataset.endpoint });
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY }),
  );
})();
