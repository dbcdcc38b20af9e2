// The example portal: plain JavaScript over the catalogue's public GraphQL
// API (POST /graphql), nothing else. Views follow the URL fragment:
//   #/?q=…&languages=Python     search, with facets as filters
//   #/projets/<slug>            a project, its code and its data
//   #/organisations[/<slug>]    the organizations and their projects
"use strict";

const TOKEN_KEY = "catalogue-token";

const FACETS = [
  { field: "kinds", legend: "Type", argument: "kinds" },
  { field: "organizations", legend: "Organisation", argument: "organizations" },
  { field: "tags", legend: "Thématique", argument: "tags" },
  { field: "languages", legend: "Langage", argument: "languages" },
  { field: "licenses", legend: "Licence", argument: "licenses" },
  { field: "forges", legend: "Forge", argument: "forges" },
  { field: "seasons", legend: "Saison", argument: "seasons" },
  { field: "statuses", legend: "Statut", argument: "statuses" },
  { field: "access", legend: "Accès", argument: "access" },
];

const LABELS = {
  PROJECT: "Projet", REPOSITORY: "Code", DATASET: "Données", ORGANIZATION: "Organisation",
  PUBLIC: "Public", AGENTS: "Agents", GITHUB: "GitHub", GITLAB: "GitLab", OTHER: "Autre forge",
  ACTIVE: "Actif", COMPLETED: "Terminé", ARCHIVED: "Archivé",
};

const SEARCH_QUERY = `query Search($q: String!, $kinds: [SearchKind!], $filter: SearchFilter, $after: String) {
  search(query: $q, kinds: $kinds, filter: $filter, first: 20, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      snippets { field html }
      object {
        __typename
        ... on Project { slug name summary visibility }
        ... on Repository { url owner name language access project { slug name } }
        ... on Dataset { url title access project { slug name } }
        ... on Organization { slug name acronym }
      } } } } }`;

// Disjunctive: a filter in use still offers its other values (any will do).
const FACETS_QUERY = `query Facets($q: String, $kinds: [SearchKind!], $filter: SearchFilter) {
  facets(query: $q, kinds: $kinds, filter: $filter, limit: 12, disjunctive: true) {
    totalCount
    ${FACETS.map((f) => `${f.field} { value label count }`).join("\n    ")} } }`;

const PROJECT_QUERY = `query Project($slug: String!) {
  project(slug: $slug) {
    name summary description status visibility seasons website documentation
    tags { slug label }
    organizations { role organization { slug name acronym } }
    repositories { url forge language license access upstreamDescription }
    datasets { url title description access }
    links { url kind title access } } }`;

const ORGANIZATIONS_QUERY = `query Organizations {
  organizations(first: 100) { edges { node { slug name acronym kind } } } }`;

const ORGANIZATION_QUERY = `query Organization($slug: String!) {
  organization(slug: $slug) { name acronym kind website projects { slug name summary } } }`;

const ME_QUERY = `query Me { me { email givenName usualName } }`;

/** The values a filter may take, to drop what a hand-edited URL made up. */
const ALLOWED = {
  kinds: ["PROJECT", "REPOSITORY", "DATASET", "ORGANIZATION"],
  forges: ["GITHUB", "GITLAB", "OTHER"],
  statuses: ["ACTIVE", "COMPLETED", "ARCHIVED"],
  access: ["PUBLIC", "AGENTS"],
};

/** Bumped by each navigation: an answer for an older view is dropped. */
let currentView = 0;

/**
 * Runs a GraphQL operation; throws an Error with the server's message. A
 * refused token (expired, say) is forgotten and the operation sent again
 * anonymously.
 */
async function graphql(query, variables = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    return await send(query, variables, token);
  } catch (error) {
    if (!token || error.code !== "UNAUTHENTICATED") throw error;
    sessionStorage.removeItem(TOKEN_KEY);
    document.getElementById("signin-status").textContent =
      `Jeton refusé (${error.message}) : affichage public.`;
    return send(query, variables, null);
  }
}

async function send(query, variables, token) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    body: JSON.stringify({ query, variables }),
  });
  let answer;
  try {
    answer = await response.json();
  } catch {
    throw new Error(`Le serveur a répondu ${response.status}.`);
  }
  if (answer.errors && answer.errors.length) {
    const error = new Error(answer.errors[0].message);
    error.code = answer.errors[0].extensions && answer.errors[0].extensions.code;
    throw error;
  }
  return answer.data;
}

/**
 * The parts of a view that are there: an absent one (null, undefined, false:
 * a project without a website, say) is left out, where the DOM's `append`
 * and `replaceChildren` would write it as the text "null".
 */
function present(children) {
  return children.flat().filter((child) => child !== undefined && child !== null && child !== false);
}

/** Builds an element: el("a", { href }, "text", child…). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...present(children));
  return node;
}

function label(value) {
  return LABELS[value] || value;
}

function accessBadge(access) {
  return access === "AGENTS" ? el("span", { class: "badge badge--agents" }, "Réservé aux agents") : null;
}

function view() {
  return document.getElementById("view");
}

/** Shows a view's parts in place of the previous view. */
function show(...children) {
  view().replaceChildren(...present(children));
}

function errorMessage(error) {
  return el("div", { class: "alert", role: "alert" },
    el("p", {}, "Le catalogue n'a pas pu répondre : ", error.message));
}

function showError(error) {
  show(errorMessage(error));
}

/** Moves focus to a view's heading after a navigation (not on first load). */
function focusHeading(heading, navigated) {
  heading.setAttribute("tabindex", "-1");
  if (navigated) heading.focus();
}

function setCurrentNav(name) {
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** The search state from the URL fragment: the query and the filters. */
function searchState() {
  const [, query = ""] = location.hash.split("?");
  const params = new URLSearchParams(query);
  const filters = {};
  for (const facet of FACETS) {
    const allowed = ALLOWED[facet.argument];
    filters[facet.argument] = params.getAll(facet.argument).filter((value) =>
      facet.argument === "seasons" ? /^\d{1,2}$/.test(value) : !allowed || allowed.includes(value));
  }
  return { q: (params.get("q") || "").slice(0, 200), filters };
}

function searchHash(state) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  for (const facet of FACETS) {
    for (const value of state.filters[facet.argument] || []) params.append(facet.argument, value);
  }
  const query = params.toString();
  return query ? `#/?${query}` : "#/";
}

function variablesOf(state) {
  const filter = {};
  for (const facet of FACETS) {
    if (facet.argument === "kinds") continue;
    const values = state.filters[facet.argument];
    if (values && values.length) {
      filter[facet.argument] = facet.argument === "seasons" ? values.map(Number) : values;
    }
  }
  const kinds = state.filters.kinds && state.filters.kinds.length ? state.filters.kinds : null;
  return { q: state.q, kinds, filter };
}

function hitCard(hit) {
  const object = hit.object;
  // Where the words matched, the description first: escaped by the server, matches in <mark>.
  const best = hit.snippets.find((s) => s.field === "description")
    || hit.snippets.find((s) => s.field === "tags");
  const snippets = best ? [best].map((s) => {
    const paragraph = el("p", { class: "snippet" }, s.field === "tags" ? "Thématiques : " : null);
    const extract = el("span");
    extract.innerHTML = s.html;
    paragraph.append(extract);
    return paragraph;
  }) : [];
  let badge, title, href, detail;
  switch (object.__typename) {
    case "Project":
      badge = "Projet";
      title = object.name;
      href = `#/projets/${encodeURIComponent(object.slug)}`;
      detail = object.summary;
      break;
    case "Repository":
      badge = "Code";
      title = object.owner && object.name ? `${object.owner}/${object.name}` : object.url;
      href = object.url;
      detail = [object.language, object.project && `projet ${object.project.name}`].filter(Boolean).join(" · ");
      break;
    case "Dataset":
      badge = "Données";
      title = object.title;
      href = object.url;
      detail = object.project ? `projet ${object.project.name}` : "";
      break;
    default:
      badge = "Organisation";
      title = object.acronym ? `${object.name} (${object.acronym})` : object.name;
      href = `#/organisations/${encodeURIComponent(object.slug)}`;
      detail = "";
  }
  return el("li", { class: "card" },
    el("span", { class: object.__typename === "Project" ? "badge badge--project" : "badge" }, badge),
    " ", accessBadge(object.access || object.visibility),
    el("h3", { class: "card__title" }, el("a", { href }, title, el("span", { "aria-hidden": "true" }, " →"))),
    // A project's summary, unless an extract of its description shows where the words matched.
    detail && !(object.__typename === "Project" && best && best.field === "description")
      ? el("p", { class: "card__detail" }, detail) : null,
    snippets);
}

function facetFieldset(facet, values, state) {
  const chosen = new Set(state.filters[facet.argument] || []);
  const fieldset = el("fieldset", {}, el("legend", {}, facet.legend));
  for (const value of values) {
    const id = `facet-${facet.argument}-${value.value}`.replace(/[^A-Za-z0-9_-]/g, "_");
    const checkbox = el("input", {
      type: "checkbox", id, name: facet.argument, value: value.value, checked: chosen.has(value.value),
    });
    fieldset.append(el("div", { class: "facet" }, checkbox,
      el("label", { for: id }, label(value.label), " ", el("span", { class: "facet__count" }, `(${value.count})`))));
  }
  // Values chosen but absent from the counts stay visible, to be unticked.
  for (const value of chosen) {
    if (values.some((v) => v.value === value)) continue;
    const id = `facet-${facet.argument}-${value}`.replace(/[^A-Za-z0-9_-]/g, "_");
    fieldset.append(el("div", { class: "facet" },
      el("input", { type: "checkbox", id, name: facet.argument, value, checked: true }),
      el("label", { for: id }, label(value), " ", el("span", { class: "facet__count" }, "(0)"))));
  }
  return values.length || chosen.size ? fieldset : null;
}

async function renderSearch(mine, focusId) {
  setCurrentNav("search");
  const state = searchState();
  const template = document.getElementById("search-template");
  show(template.content.cloneNode(true));
  const input = document.getElementById("q");
  input.value = state.q;
  document.getElementById("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = searchHash({ q: input.value.trim(), filters: state.filters });
  });
  const facetsForm = document.getElementById("facets-form");
  facetsForm.addEventListener("change", (event) => {
    // The page is drawn again: keep the keyboard on the box just ticked.
    pendingFocus = event.target.id;
    const filters = {};
    for (const facet of FACETS) {
      filters[facet.argument] = [...facetsForm.querySelectorAll(`input[name="${facet.argument}"]:checked`)]
        .map((box) => box.value);
    }
    location.hash = searchHash({ q: state.q, filters });
  });

  const variables = variablesOf(state);
  const count = document.getElementById("results-count");
  const list = document.getElementById("results-list");
  count.textContent = "Recherche…";
  try {
    const [found, facets] = await Promise.all([
      graphql(SEARCH_QUERY, variables),
      graphql(FACETS_QUERY, variables),
    ]);
    if (mine !== currentView) return;
    const total = found.search.totalCount;
    count.textContent = total === 0 ? "Aucun résultat." : `${total} résultat${total > 1 ? "s" : ""}.`;
    list.replaceChildren(...found.search.edges.map((edge) => hitCard(edge.node)));
    facetsForm.replaceChildren(...FACETS
      .map((facet) => facetFieldset(facet, facets.facets[facet.field], state))
      .filter(Boolean));
    renderMore(found.search.pageInfo, variables, mine);
    if (focusId) document.getElementById(focusId)?.focus();
  } catch (error) {
    if (mine !== currentView) return;
    // The form stays: the query or the filters can be corrected.
    count.replaceChildren(errorMessage(error));
    list.replaceChildren();
  }
}

function renderMore(pageInfo, variables, mine) {
  const more = document.getElementById("results-more");
  if (!pageInfo.hasNextPage) {
    more.replaceChildren();
    return;
  }
  const button = el("button", { type: "button", class: "button button--secondary" }, "Plus de résultats");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const found = await graphql(SEARCH_QUERY, { ...variables, after: pageInfo.endCursor });
      if (mine !== currentView) return;
      const cards = found.search.edges.map((edge) => hitCard(edge.node));
      document.getElementById("results-list").append(...cards);
      renderMore(found.search.pageInfo, variables, mine);
      // Keyboard users carry on from the first new result.
      cards[0]?.querySelector("a")?.focus();
    } catch (error) {
      if (mine !== currentView) return;
      button.disabled = false;
      more.append(errorMessage(error));
    }
  });
  more.replaceChildren(el("div", { class: "buttons" }, button));
}

function linkList(items, render) {
  return items.length ? el("ul", { class: "links" }, items.map((item) => el("li", {}, render(item)))) : el("p", {}, "Aucun.");
}

async function renderProject(slug, mine, navigated) {
  setCurrentNav("search");
  show(el("p", { role: "status" }, "Chargement…"));
  try {
    const { project } = await graphql(PROJECT_QUERY, { slug });
    if (mine !== currentView) return;
    if (!project) {
      show(el("h1", {}, "Projet introuvable"),
        el("p", {}, "Ce projet n'existe pas, ou il est réservé aux agents. ", el("a", { href: "#/" }, "Retour à la recherche")));
      return;
    }
    document.title = `${project.name} — Catalogue du programme 10 %`;
    show(
      el("p", { class: "breadcrumb" }, el("a", { href: "#/" }, "Recherche"), " › ", project.name),
      el("h1", { id: "project-title" }, project.name, " ", accessBadge(project.visibility)),
      el("p", { class: "lead" }, project.summary),
      project.website || project.documentation
        ? el("p", { class: "buttons" },
          project.website && el("a", { href: project.website }, "Site du projet"),
          project.documentation && el("a", { href: project.documentation }, "Documentation"))
        : null,
      project.tags.length ? el("ul", { class: "tags", "aria-label": "Thématiques" },
        project.tags.map((tag) => el("li", { class: "tag" }, tag.label))) : null,
      el("p", {}, [
        project.seasons.length ? `Saison${project.seasons.length > 1 ? "s" : ""} ${project.seasons.join(", ")}` : null,
        project.status ? label(project.status) : null,
      ].filter(Boolean).join(" · ")),
      project.description && el("div", { class: "description" }, project.description.split(/\n\s*\n/).map((text) => el("p", {}, text))),
      el("h2", {}, "Organisations"),
      linkList(project.organizations, (p) =>
        el("a", { href: `#/organisations/${encodeURIComponent(p.organization.slug)}` },
          p.organization.acronym ? `${p.organization.name} (${p.organization.acronym})` : p.organization.name)),
      el("h2", {}, "Code"),
      linkList(project.repositories, (r) => [
        el("a", { href: r.url }, r.url), " ",
        el("span", { class: "card__detail" }, [label(r.forge), r.language, r.license].filter(Boolean).join(" · ")),
        " ", accessBadge(r.access),
        r.upstreamDescription ? el("p", { class: "snippet" }, r.upstreamDescription) : null,
      ]),
      el("h2", {}, "Données"),
      linkList(project.datasets, (d) => [
        el("a", { href: d.url }, d.title), " ", accessBadge(d.access),
        d.description ? el("p", { class: "snippet" }, d.description) : null,
      ]),
      el("h2", {}, "Liens"),
      linkList(project.links, (l) => [el("a", { href: l.url }, l.title), " ", accessBadge(l.access)]),
    );
    focusHeading(document.getElementById("project-title"), navigated);
  } catch (error) {
    if (mine === currentView) showError(error);
  }
}

async function renderOrganizations(mine, navigated) {
  setCurrentNav("organizations");
  show(el("p", { role: "status" }, "Chargement…"));
  try {
    const { organizations } = await graphql(ORGANIZATIONS_QUERY);
    if (mine !== currentView) return;
    const heading = el("h1", {}, "Organisations");
    show(
      heading,
      el("ul", { class: "cards" }, organizations.edges.map(({ node }) =>
        el("li", { class: "card" },
          el("h2", { class: "card__title" },
            el("a", { href: `#/organisations/${encodeURIComponent(node.slug)}` },
              node.acronym ? `${node.name} (${node.acronym})` : node.name))))));
    focusHeading(heading, navigated);
  } catch (error) {
    if (mine === currentView) showError(error);
  }
}

async function renderOrganization(slug, mine, navigated) {
  setCurrentNav("organizations");
  try {
    const { organization } = await graphql(ORGANIZATION_QUERY, { slug });
    if (mine !== currentView) return;
    if (!organization) {
      show(el("h1", {}, "Organisation introuvable"));
      return;
    }
    const heading = el("h1", {}, organization.name);
    show(
      el("p", { class: "breadcrumb" }, el("a", { href: "#/organisations" }, "Organisations"), " › ", organization.name),
      heading,
      organization.website ? el("p", {}, el("a", { href: organization.website }, organization.website)) : null,
      el("h2", {}, "Projets"),
      el("ul", { class: "cards" }, organization.projects.map((project) =>
        el("li", { class: "card" },
          el("h3", { class: "card__title" }, el("a", { href: `#/projets/${encodeURIComponent(project.slug)}` }, project.name)),
          el("p", { class: "card__detail" }, project.summary)))));
    focusHeading(heading, navigated);
  } catch (error) {
    if (mine === currentView) showError(error);
  }
}

/** The id of the control to focus once the search view is drawn again. */
let pendingFocus = null;

function route(navigated = true) {
  const mine = ++currentView;
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/";
  const project = path.match(/^\/projets\/([^/]+)$/);
  const organization = path.match(/^\/organisations\/([^/]+)$/);
  if (project) return renderProject(decodeURIComponent(project[1]), mine, navigated);
  if (organization) return renderOrganization(decodeURIComponent(organization[1]), mine, navigated);
  if (path === "/organisations") return renderOrganizations(mine, navigated);
  document.title = "Catalogue du programme 10 %";
  const focusId = pendingFocus;
  pendingFocus = null;
  return renderSearch(mine, focusId);
}

/** Says whether the token in use was accepted (a refused one is forgotten by `graphql`). */
async function showSignedIn() {
  const status = document.getElementById("signin-status");
  if (!sessionStorage.getItem(TOKEN_KEY)) return;
  try {
    const { me } = await graphql(ME_QUERY);
    if (me) status.textContent = `Jeton accepté : vous voyez aussi ce qui est réservé aux agents (${me.email}).`;
  } catch (error) {
    status.textContent = `Le jeton n'a pas pu être vérifié : ${error.message}`;
  }
}

function setUpSignIn() {
  const form = document.getElementById("signin-form");
  const status = document.getElementById("signin-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = document.getElementById("token").value.trim();
    document.getElementById("token").value = "";
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    status.textContent = "";
    await showSignedIn();
    route(false);
  });
  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    status.textContent = "Jeton oublié : affichage public.";
    route(false);
  });
}

window.addEventListener("hashchange", () => route(true));
document.addEventListener("DOMContentLoaded", async () => {
  setUpSignIn();
  await showSignedIn();
  route(false);
});
