// The example portal: plain JavaScript over the catalogue's public GraphQL
// API (POST /graphql), nothing else. Views follow the URL fragment:
//   #/?q=…&languages=Python     search, with facets as filters
//   #/projets/<slug>            a project, its code and its data
//   #/organisations[/<slug>]    the organizations and their projects
//   #/mes-projets               the projects the agent signed in maintains
//   #/projets/<slug>/modifier   a project's edit form (its maintainers, administrators)
//   #/journal                   every write (administrators)
//   #/accessibilite             the accessibility statement
// Agents sign in with ProConnect through the gateway (`/auth/login` in
// cookie mode): the HttpOnly cookie then goes with every request to
// /graphql, which takes only JSON (a type other sites cannot send without
// the gateway's consent: the protection against forged writes).
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
  { field: "usedBy", legend: "Utilisé par", argument: "usedBy" },
];

const LABELS = {
  PROJECT: "Projet", REPOSITORY: "Code", DATASET: "Données", ORGANIZATION: "Organisation",
  PUBLIC: "Public", AGENTS: "Agents", GITHUB: "GitHub", GITLAB: "GitLab", OTHER: "Autre forge",
  ACTIVE: "Actif", COMPLETED: "Terminé", ARCHIVED: "Archivé",
  USER: "l'utilise", CONTRIBUTOR: "y contribue", REFERENT: "en est référente",
  DEPLOYS: "en déploie une instance pour d'autres",
  DECLARED: "déclaré par un de ses agents", PUBLICCODE: "d'après le publiccode.yml du projet",
  DATAGOUV_REUSE: "réutilisation publiée sur data.gouv.fr", CATALOGUE: "d'après le catalogue",
};

/** The kinds of use an agent may declare, as the form offers them. */
const USE_KINDS = ["USER", "CONTRIBUTOR", "REFERENT", "DEPLOYS"].map((kind) => [kind, `Mon administration ${LABELS[kind]}`]);

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
    links { url kind title access }
    usedByCount { total }
    uses { kind source organizationName organization { slug } } } }`;

const PROJECT_USES_QUERY = `query ProjectUses($slug: String!) { project(slug: $slug) {
  usedByCount { total } uses { kind source organizationName organization { slug } } } }`;

const DECLARE_USE = `mutation DeclareUse($input: DeclareUseInput!) {
  declareUse(input: $input) { organization { name } } }`;

const ORGANIZATIONS_QUERY = `query Organizations {
  organizations(first: 100) { edges { node { slug name acronym kind } } } }`;

const ORGANIZATION_QUERY = `query Organization($slug: String!) {
  organization(slug: $slug) { name acronym kind website verified projects { slug name summary }
    uses { kind source project { slug name } } } }`;

const ME_QUERY = `query Me { me {
  email givenName usualName siret organizationalUnit isAdmin publicAgent
  maintainerOf { slug name summary } } }`;

const EDIT_QUERY = `query ProjectToEdit($slug: String!) { project(slug: $slug) {
  slug name summary description status visibility version
  repositories { id url role access confidence note }
  datasets { id url title provider access confidence note }
  links { id url kind title access confidence note } } }`;

const UPDATE_PROJECT = `mutation UpdateProject($slug: String!, $input: UpdateProjectInput!, $expectedVersion: Int!) {
  updateProject(slug: $slug, input: $input, expectedVersion: $expectedVersion) {
    project { name summary description status visibility version } } }`;

const VERSION_QUERY = `query ProjectVersion($slug: String!) { project(slug: $slug) { version } }`;

const ADD_REPOSITORY = `mutation AddRepository($input: AddRepositoryInput!) {
  addRepository(input: $input) { repository { id } } }`;
const ADD_DATASET = `mutation AddDataset($input: AddDatasetInput!) {
  addDataset(input: $input) { dataset { id } } }`;
const ADD_LINK = `mutation AddLink($input: AddLinkInput!) { addLink(input: $input) { link { id } } }`;
const REMOVE_LINK = `mutation RemoveLink($id: ID!) { removeLink(id: $id) { removedId } }`;

const AUDIT_QUERY = `query AuditLog($after: String) {
  auditLog(first: 50, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { at actorEmail action target } } }`;

/** The choices of the edit forms, in French. */
const CHOICES = {
  status: [["", "Non précisé"], ["ACTIVE", "Actif"], ["COMPLETED", "Terminé"], ["ARCHIVED", "Archivé"]],
  visibility: [["PUBLIC", "Tout le monde"], ["AGENTS", "Agents publics seulement"]],
  access: [["PUBLIC", "Tout le monde"], ["AGENTS", "Agents publics seulement"]],
  confidence: [["CONFIRMED", "Confirmé"], ["UNSURE", "Incertain (dites pourquoi en remarque)"]],
  role: [["MAIN", "Code principal"], ["MIRROR", "Miroir"], ["COMPANION", "Code associé"], ["PREDECESSOR", "Ancienne version"]],
  provider: [["DATA_GOUV", "data.gouv.fr"], ["OBJECT_STORAGE", "Stockage objet"], ["API", "API"], ["FILE", "Fichier"], ["OTHER", "Autre"]],
  kind: [["WEBSITE", "Site web"], ["DOCUMENTATION", "Documentation"], ["DEMO", "Démonstration"], ["PACKAGE", "Paquet"],
    ["CONTAINER_IMAGE", "Image de conteneur"], ["VIDEO", "Vidéo"], ["SLIDES", "Présentation"], ["CHAT", "Salon de discussion"],
    ["TOOL", "Outil utilisé"], ["OTHER", "Autre"]],
};

/** Who is signed in (`me`), or null. */
let signedIn = null;

/** Set once the gateway refused the sign-in cookie (expired): requests then go without it. */
let cookieRefused = false;

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
 * Runs a GraphQL operation; throws an Error with the server's message and
 * code. A refused pasted token is forgotten, a refused sign-in cookie
 * (expired) left out, and the operation sent again anonymously.
 */
async function graphql(query, variables = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    return await send(query, variables, token, !cookieRefused);
  } catch (error) {
    if (error.code !== "UNAUTHENTICATED" || (!token && cookieRefused)) throw error;
    const status = document.getElementById("signin-status");
    if (token) {
      sessionStorage.removeItem(TOKEN_KEY);
      status.textContent = `Jeton refusé (${error.message}) : affichage public.`;
    } else {
      cookieRefused = true;
      status.textContent = "Votre connexion a expiré : identifiez-vous à nouveau pour voir ce qui est réservé aux agents.";
    }
    return send(query, variables, null, !cookieRefused);
  }
}

async function send(query, variables, token, withCookie) {
  const headers = { "Content-Type": "application/json", Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch("/graphql", {
    method: "POST",
    headers,
    credentials: withCookie ? "same-origin" : "omit",
    body: JSON.stringify({ query, variables }),
  });
  let answer;
  try {
    answer = await response.json();
  } catch {
    throw new Error(`Le serveur a répondu ${response.status}.`);
  }
  if (answer.errors && answer.errors.length) {
    const first = answer.errors[0];
    const error = new Error(first.message);
    error.code = first.extensions && first.extensions.code;
    error.field = first.extensions && first.extensions.field;
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

/**
 * The project's schema.org description, for search engines: a
 * `<script type="application/ld+json">` in the page's head while its page is
 * shown (public projects only: the gateway has none for the others).
 */
async function embedStructuredData(slug, mine) {
  const response = await fetch(`/projects/${encodeURIComponent(slug)}.jsonld`);
  if (!response.ok) return;
  const description = await response.text();
  if (mine !== currentView) return;
  const script = el("script", { type: "application/ld+json", id: "structured-data" });
  script.textContent = description;
  document.head.append(script);
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
      mayEdit(slug) ? el("p", { class: "buttons" }, el("a", {
        class: "button", href: `#/projets/${encodeURIComponent(slug)}/modifier`,
      }, "Modifier ce projet")) : null,
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
      usesSection(slug, project),
    );
    focusHeading(document.getElementById("project-title"), navigated);
    // Only for search engines: the page is whole without it.
    embedStructuredData(slug, mine).catch(() => {});
  } catch (error) {
    if (mine === currentView) showError(error);
  }
}

/**
 * Who uses a project: each organization once per kind and source (a
 * data.gouv.fr reuse is one of many), and how many organizations in all.
 */
function usesList(project) {
  const count = project.usedByCount.total;
  const seen = new Set();
  const uses = project.uses.filter((u) => {
    const key = [u.organizationName, u.kind, u.source].join("\u0000");
    return !seen.has(key) && seen.add(key);
  });
  return [
    el("p", {}, count === 0
      ? "Aucune administration n'a encore fait savoir qu'elle l'utilise."
      : `${count} organisation${count > 1 ? "s l'utilisent" : " l'utilise"}.`),
    uses.length ? el("ul", { class: "links" }, uses.map((u) => el("li", {},
      u.organization
        ? el("a", { href: `#/organisations/${encodeURIComponent(u.organization.slug)}` }, u.organizationName)
        : u.organizationName,
      " ", label(u.kind), " ",
      el("span", { class: "card__detail" }, `(${label(u.source)})`)))) : null,
  ];
}

/**
 * « Qui l'utilise » on a project page; a signed-in public agent declares
 * that their own administration (the one of their SIRET) uses it in two
 * clicks: the button, then « Confirmer ».
 */
function usesSection(slug, project) {
  const list = el("div", { id: "uses-list" }, usesList(project));
  const section = el("section", { "aria-labelledby": "uses-title" },
    el("h2", { id: "uses-title" }, "Qui l'utilise"), list);
  if (!(signedIn && signedIn.publicAgent && signedIn.siret)) return section;
  const notice = el("div", { id: "use-notice", class: "notice", role: "status" });
  const open = el("button", {
    type: "button", class: "button", "aria-expanded": "false", "aria-controls": "use-form",
  }, "Mon administration l'utilise");
  const organizationField = el("div", { hidden: true },
    formField({
      form: "use", name: "organizationName", label: "Nom de votre administration",
      hint: "Le catalogue ne la connaît pas encore : elle sera ajoutée, à vérifier par un administrateur.",
    }));
  const form = el("form", { id: "use-form", hidden: true, novalidate: true },
    formField({ form: "use", name: "kind", label: "Comment", kind: "select", value: "USER", choices: USE_KINDS }),
    formField({ form: "use", name: "comment", label: "Remarque publique (facultative)", hint: "280 caractères au plus." }),
    organizationField,
    el("p", { class: "buttons" }, el("button", { type: "submit", class: "button" }, "Confirmer")));
  open.addEventListener("click", () => {
    const opening = form.hidden;
    form.hidden = !opening;
    open.setAttribute("aria-expanded", String(opening));
    if (opening) form.querySelector("button[type=submit]").focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = { projectSlug: slug, kind: form.elements.kind.value };
    const comment = form.elements.comment.value.trim();
    if (comment) input.comment = comment;
    const organizationName = form.elements.organizationName.value.trim();
    if (organizationName) input.organizationName = organizationName;
    try {
      const { declareUse } = await graphql(DECLARE_USE, { input });
      const { project: updated } = await graphql(PROJECT_USES_QUERY, { slug });
      list.replaceChildren(...present(usesList(updated)));
      form.hidden = true;
      open.setAttribute("aria-expanded", "false");
      notice.replaceChildren(el("p", { class: "notice--success" },
        `Utilisation déclarée pour ${declareUse.organization.name}.`));
    } catch (error) {
      if (error.field === "input.organizationName") organizationField.hidden = false;
      showWriteError(error, "use", notice);
    }
  });
  section.append(el("p", { class: "buttons" }, open), form, notice);
  return section;
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
      organization.verified ? null : el("p", { class: "badge" }, "Ajoutée par un de ses agents, pas encore vérifiée"),
      organization.website ? el("p", {}, el("a", { href: organization.website }, organization.website)) : null,
      el("h2", {}, "Projets"),
      el("ul", { class: "cards" }, organization.projects.map((project) =>
        el("li", { class: "card" },
          el("h3", { class: "card__title" }, el("a", { href: `#/projets/${encodeURIComponent(project.slug)}` }, project.name)),
          el("p", { class: "card__detail" }, project.summary)))),
      el("h2", {}, "Ce qu'elle utilise"),
      linkList(distinctUses(organization.uses), (u) => [
        el("a", { href: `#/projets/${encodeURIComponent(u.project.slug)}` }, u.project.name),
        " ", el("span", { class: "card__detail" }, `(${label(u.kind)}, ${label(u.source)})`),
      ]));
    focusHeading(heading, navigated);
  } catch (error) {
    if (mine === currentView) showError(error);
  }
}

/** An organization's uses, each project, kind and source once. */
function distinctUses(uses) {
  const seen = new Set();
  return uses.filter((u) => {
    const key = [u.project.slug, u.kind, u.source].join("\u0000");
    return !seen.has(key) && seen.add(key);
  });
}

/** Whether the person signed in may edit project `slug`. */
function mayEdit(slug) {
  return Boolean(signedIn && (signedIn.isAdmin || signedIn.maintainerOf.some((p) => p.slug === slug)));
}

/** A page only signed-in agents may see: says so and offers to sign in. */
function signInFirst(title) {
  const heading = el("h1", {}, title);
  show(heading, el("p", {}, "Identifiez-vous avec ProConnect (bouton en haut de la page) pour accéder à cette page."));
  return heading;
}

async function renderMine(mine, navigated) {
  setCurrentNav("mine");
  document.title = "Mes projets — Catalogue du programme 10 %";
  if (!signedIn) {
    focusHeading(signInFirst("Mes projets"), navigated);
    return;
  }
  const heading = el("h1", {}, "Mes projets");
  const projects = signedIn.maintainerOf;
  show(
    heading,
    el("p", {}, projects.length
      ? "Les projets dont vous êtes mainteneur ou mainteneuse : vous pouvez modifier leur fiche, leurs liens, leur code et leurs données."
      : "Vous ne maintenez encore aucun projet du catalogue. Un administrateur peut vous ajouter aux mainteneurs d'un projet."),
    projects.length ? el("ul", { class: "cards" }, projects.map((project) =>
      el("li", { class: "card" },
        el("h2", { class: "card__title" }, el("a", { href: `#/projets/${encodeURIComponent(project.slug)}` }, project.name)),
        el("p", { class: "card__detail" }, project.summary),
        el("p", { class: "buttons" }, el("a", {
          class: "button button--secondary button--small",
          href: `#/projets/${encodeURIComponent(project.slug)}/modifier`,
        }, "Modifier ", el("span", { class: "sr-only" }, project.name)))))) : null);
  focusHeading(heading, navigated);
}

/** One labelled form field, its hint and its error message (tied by aria-describedby). */
function formField({ form, name, label: text, kind = "input", type = "text", value = "", required = false, hint, choices, rows }) {
  const id = `${form}-${name}`;
  const describedBy = [];
  const hintNode = hint ? el("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hint) describedBy.push(`${id}-hint`);
  let control;
  if (kind === "select") {
    control = el("select", { class: "input", id, name },
      choices.map(([choice, words]) => el("option", { value: choice, selected: choice === (value || "") }, words)));
  } else if (kind === "textarea") {
    control = el("textarea", { class: "input", id, name, rows: rows || 3 });
    control.value = value || "";
  } else {
    control = el("input", { class: "input", id, name, type, value: value || "" });
  }
  if (required) control.setAttribute("required", "");
  if (describedBy.length) control.setAttribute("aria-describedby", describedBy.join(" "));
  return el("div", { class: "field" },
    el("label", { class: "label", for: id }, text, required ? el("span", { class: "required" }, " (obligatoire)") : null),
    hintNode,
    control,
    el("p", { class: "field__error", id: `${id}-error`, hidden: true }));
}

/** Shows `message` under the field `name` of `form`, or clears it (null). */
function fieldError(form, name, message) {
  const control = document.getElementById(`${form}-${name}`);
  const error = document.getElementById(`${form}-${name}-error`);
  if (!control || !error) return false;
  const ids = (control.getAttribute("aria-describedby") || "").split(" ").filter((x) => x && x !== error.id);
  if (message) {
    error.textContent = message;
    error.hidden = false;
    control.setAttribute("aria-invalid", "true");
    ids.push(error.id);
  } else {
    error.textContent = "";
    error.hidden = true;
    control.removeAttribute("aria-invalid");
  }
  if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
  else control.removeAttribute("aria-describedby");
  return true;
}

/** Clears the errors of `formNode`; checks its required fields; focuses the first in error. */
function checkRequired(formNode, form) {
  let first = null;
  for (const control of formNode.querySelectorAll("input, select, textarea")) {
    const name = control.name;
    if (!name) continue;
    fieldError(form, name, null);
    if (control.required && !control.value.trim()) {
      fieldError(form, name, "Ce champ est obligatoire.");
      first = first || control;
    }
  }
  if (first) first.focus();
  return !first;
}

/** A refused write: tied to its field when the server names one, else said in `notice`. */
function showWriteError(error, form, notice) {
  const name = error.field ? String(error.field).split(".").pop() : null;
  if (name && fieldError(form, name, error.message)) {
    document.getElementById(`${form}-${name}`).focus();
    notice.replaceChildren();
    return;
  }
  notice.replaceChildren(el("div", { class: "alert", role: "alert" }, el("p", {}, error.message)));
}

/** The fields of the project form the agent changed, as `UpdateProjectInput`. */
function changedFields(formNode, loaded) {
  const input = {};
  for (const name of ["name", "summary", "description", "status", "visibility"]) {
    const value = formNode.elements[name].value;
    const before = loaded[name] === null || loaded[name] === undefined ? "" : loaded[name];
    if (value !== before) input[name] = name === "status" && value === "" ? null : value;
  }
  return input;
}

async function renderEdit(slug, mine, navigated) {
  setCurrentNav("mine");
  document.title = "Modifier un projet — Catalogue du programme 10 %";
  if (!signedIn) {
    focusHeading(signInFirst("Modifier un projet"), navigated);
    return;
  }
  if (!mayEdit(slug)) {
    const heading = el("h1", {}, "Modification réservée");
    show(heading, el("p", {}, "Seuls les mainteneurs de ce projet et les administrateurs du catalogue peuvent le modifier. ",
      el("a", { href: `#/projets/${encodeURIComponent(slug)}` }, "Retour au projet")));
    focusHeading(heading, navigated);
    return;
  }
  show(el("p", { role: "status" }, "Chargement…"));
  let project;
  try {
    ({ project } = await graphql(EDIT_QUERY, { slug }));
  } catch (error) {
    if (mine === currentView) showError(error);
    return;
  }
  if (mine !== currentView) return;
  if (!project) {
    show(el("h1", {}, "Projet introuvable"));
    return;
  }
  document.title = `Modifier ${project.name} — Catalogue du programme 10 %`;
  const state = { slug, loaded: project, version: project.version };
  const heading = el("h1", { id: "edit-title" }, `Modifier « ${project.name} »`);
  show(
    el("p", { class: "breadcrumb" }, el("a", { href: "#/mes-projets" }, "Mes projets"), " › ",
      el("a", { href: `#/projets/${encodeURIComponent(slug)}` }, project.name), " › Modifier"),
    heading,
    projectForm(state),
    el("div", { id: "edit-links" }),
  );
  renderLinkEditors(state, project);
  focusHeading(heading, navigated);
}

function projectForm(state) {
  const project = state.loaded;
  const notice = el("div", { id: "project-form-notice", class: "notice", role: "status" });
  const formNode = el("form", { id: "project-form", class: "edit-form", novalidate: true, "aria-labelledby": "project-form-title" },
    el("h2", { id: "project-form-title" }, "Fiche du projet"),
    el("p", { class: "hint" }, "Les champs laissés tels quels ne sont pas envoyés."),
    formField({ form: "project", name: "name", label: "Nom", value: project.name, required: true }),
    formField({ form: "project", name: "summary", label: "Résumé", kind: "textarea", rows: 2, value: project.summary, required: true,
      hint: "Une ou deux phrases : ce que fait le projet." }),
    formField({ form: "project", name: "description", label: "Description", kind: "textarea", rows: 8, value: project.description,
      hint: "En Markdown ; un paragraphe par ligne vide." }),
    formField({ form: "project", name: "status", label: "Statut", kind: "select", choices: CHOICES.status, value: project.status }),
    formField({ form: "project", name: "visibility", label: "Qui peut voir le projet", kind: "select", choices: CHOICES.visibility, value: project.visibility }),
    el("div", { class: "buttons" }, el("button", { type: "submit", class: "button" }, "Enregistrer la fiche")),
    notice);
  formNode.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!checkRequired(formNode, "project")) return;
    const input = changedFields(formNode, state.loaded);
    if (!Object.keys(input).length) {
      notice.replaceChildren(el("p", {}, "Aucune modification à enregistrer."));
      return;
    }
    await saveProject(state, formNode, notice, input);
  });
  return formNode;
}

/** Sends `input` from `state.version`; a CONFLICT is offered as a choice. */
async function saveProject(state, formNode, notice, input) {
  const button = formNode.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const { updateProject } = await graphql(UPDATE_PROJECT, { slug: state.slug, input, expectedVersion: state.version });
    state.loaded = { ...state.loaded, ...updateProject.project };
    state.version = updateProject.project.version;
    notice.replaceChildren(el("p", { class: "notice--success" }, `Fiche enregistrée (version ${state.version}).`));
  } catch (error) {
    if (error.code === "CONFLICT") offerConflictChoice(state, formNode, notice, input);
    else showWriteError(error, "project", notice);
  } finally {
    button.disabled = false;
  }
}

/** Someone saved the project meanwhile: reload (lose my edits) or keep mine (send them again on the new version). */
function offerConflictChoice(state, formNode, notice, input) {
  const title = el("h3", { id: "conflict-title", tabindex: "-1" }, "Le projet a été modifié pendant que vous l'éditiez");
  const reload = el("button", { type: "button", class: "button button--secondary" }, "Recharger le projet (abandonner mes modifications)");
  const keep = el("button", { type: "button", class: "button" }, "Garder mes modifications (les enregistrer sur la nouvelle version)");
  reload.addEventListener("click", () => route(false));
  keep.addEventListener("click", async () => {
    keep.disabled = true;
    try {
      const { project } = await graphql(VERSION_QUERY, { slug: state.slug });
      state.version = project.version;
    } catch (error) {
      keep.disabled = false;
      showWriteError(error, "project", notice);
      return;
    }
    await saveProject(state, formNode, notice, input);
    formNode.elements.name.focus();
  });
  notice.replaceChildren(el("div", { class: "alert alert--conflict", role: "alert", "aria-labelledby": "conflict-title" },
    title,
    el("p", {}, "Quelqu'un a enregistré une autre version de ce projet. Vos modifications n'ont pas été enregistrées. Que voulez-vous faire ?"),
    el("div", { class: "buttons" }, keep, reload)));
  title.focus();
}

/** The code, data and other links of the project, each removable, and the forms to add one. */
function renderLinkEditors(state, project) {
  const place = document.getElementById("edit-links");
  if (!place) return;
  const notice = el("div", { id: "links-notice", class: "notice", role: "status" });
  const item = (node, words) => el("li", { class: "edit-list__item" },
    el("span", {}, el("a", { href: node.url }, words), " ", accessBadge(node.access),
      node.confidence === "UNSURE" ? el("span", { class: "badge" }, "Incertain") : null,
      node.note ? el("span", { class: "card__detail" }, ` — ${node.note}`) : null),
    removeButton(state, node, words, notice));
  place.replaceChildren(
    el("h2", {}, "Code"),
    project.repositories.length ? el("ul", { class: "edit-list" }, project.repositories.map((r) => item(r, r.url))) : el("p", {}, "Aucun dépôt."),
    linkForm(state, notice, "repository", "Ajouter un dépôt de code", ADD_REPOSITORY, [
      { name: "url", label: "Adresse du dépôt", type: "url", required: true, hint: "Par exemple https://github.com/organisation/projet" },
      { name: "role", label: "Rôle du dépôt", kind: "select", choices: CHOICES.role, value: "MAIN" },
    ]),
    el("h2", {}, "Données"),
    project.datasets.length ? el("ul", { class: "edit-list" }, project.datasets.map((d) => item(d, d.title))) : el("p", {}, "Aucun jeu de données."),
    linkForm(state, notice, "dataset", "Ajouter des données", ADD_DATASET, [
      { name: "url", label: "Adresse des données", type: "url", required: true },
      { name: "title", label: "Titre", required: true },
      { name: "provider", label: "Hébergement", kind: "select", choices: CHOICES.provider, value: "OTHER" },
    ]),
    el("h2", {}, "Liens"),
    project.links.length ? el("ul", { class: "edit-list" }, project.links.map((l) => item(l, l.title))) : el("p", {}, "Aucun lien."),
    linkForm(state, notice, "link", "Ajouter un lien", ADD_LINK, [
      { name: "url", label: "Adresse", type: "url", required: true },
      { name: "title", label: "Titre", required: true },
      { name: "kind", label: "Type de lien", kind: "select", choices: CHOICES.kind, value: "DOCUMENTATION" },
    ]),
    notice);
}

function removeButton(state, node, words, notice) {
  const button = el("button", { type: "button", class: "button button--secondary button--small" },
    "Retirer", el("span", { class: "sr-only" }, ` ${words}`));
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await graphql(REMOVE_LINK, { id: node.id });
      await refreshLinks(state, `« ${words} » retiré.`);
    } catch (error) {
      button.disabled = false;
      showWriteError(error, "links", notice);
    }
  });
  return button;
}

/** A form adding a repository, dataset or link, with its access, confidence and note. */
function linkForm(state, notice, form, title, mutation, fields) {
  const formNode = el("form", { id: `${form}-form`, class: "edit-form edit-form--link", novalidate: true, "aria-labelledby": `${form}-form-title` },
    el("h3", { id: `${form}-form-title` }, title),
    fields.map((f) => formField({ form, ...f })),
    formField({ form, name: "access", label: "Qui peut le voir", kind: "select", choices: CHOICES.access, value: "PUBLIC" }),
    formField({ form, name: "confidence", label: "Certitude", kind: "select", choices: CHOICES.confidence, value: "CONFIRMED" }),
    formField({ form, name: "note", label: "Remarque", hint: "Obligatoire quand le lien est incertain : dites pourquoi." }),
    el("div", { class: "buttons" }, el("button", { type: "submit", class: "button button--secondary" }, title)));
  formNode.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!checkRequired(formNode, form)) return;
    const input = { projectSlug: state.slug };
    for (const control of formNode.querySelectorAll("input, select, textarea")) {
      const value = control.value.trim();
      if (value) input[control.name] = value;
    }
    if (input.confidence === "UNSURE" && !input.note) {
      fieldError(form, "note", "Un lien incertain dit pourquoi en remarque.");
      document.getElementById(`${form}-note`).focus();
      return;
    }
    try {
      await graphql(mutation, { input });
      await refreshLinks(state, `${title} : fait.`);
    } catch (error) {
      showWriteError(error, form, notice);
    }
  });
  return formNode;
}

/** Draws the links again from the server (a link change bumps the project's version). */
async function refreshLinks(state, message) {
  const { project } = await graphql(EDIT_QUERY, { slug: state.slug });
  state.version = project.version;
  renderLinkEditors(state, project);
  const notice = document.getElementById("links-notice");
  notice.replaceChildren(el("p", { class: "notice--success" }, message));
  notice.setAttribute("tabindex", "-1");
  notice.focus();
}

async function renderAudit(mine, navigated) {
  setCurrentNav("audit");
  document.title = "Journal des modifications — Catalogue du programme 10 %";
  if (!signedIn || !signedIn.isAdmin) {
    const heading = el("h1", {}, "Journal des modifications");
    show(heading, el("p", {}, "Le journal est réservé aux administrateurs du catalogue."));
    focusHeading(heading, navigated);
    return;
  }
  const heading = el("h1", {}, "Journal des modifications");
  const body = el("tbody");
  const count = el("p", { role: "status" }, "Chargement…");
  const more = el("div");
  show(heading, count,
    el("div", { class: "table-wrapper", tabindex: "0", role: "region", "aria-labelledby": "audit-caption" },
      el("table", { class: "table" },
        el("caption", { id: "audit-caption" }, "Chaque écriture, la plus récente d'abord"),
        el("thead", {}, el("tr", {}, ["Date", "Par", "Action", "Objet"].map((h) => el("th", { scope: "col" }, h)))),
        body)),
    more);
  focusHeading(heading, navigated);
  const page = async (after) => {
    const { auditLog } = await graphql(AUDIT_QUERY, { after });
    if (mine !== currentView) return;
    count.textContent = `${auditLog.totalCount} écriture${auditLog.totalCount > 1 ? "s" : ""}.`;
    body.append(...auditLog.nodes.map((entry) => el("tr", {},
      el("td", {}, new Date(entry.at).toLocaleString("fr-FR")),
      el("td", {}, entry.actorEmail),
      el("td", {}, el("code", {}, entry.action)),
      el("td", {}, entry.target))));
    more.replaceChildren();
    if (auditLog.pageInfo.hasNextPage) {
      const button = el("button", { type: "button", class: "button button--secondary" }, "Entrées plus anciennes");
      button.addEventListener("click", () => page(auditLog.pageInfo.endCursor).catch((error) => more.append(errorMessage(error))));
      more.append(el("div", { class: "buttons" }, button));
    }
  };
  try {
    await page(null);
  } catch (error) {
    if (mine === currentView) showError(error);
  }
}

function renderAccessibility(navigated) {
  setCurrentNav("accessibility");
  document.title = "Déclaration d'accessibilité — Catalogue du programme 10 %";
  show(document.getElementById("accessibility-template").content.cloneNode(true));
  focusHeading(view().querySelector("h1"), navigated);
}

/** The id of the control to focus once the search view is drawn again. */
let pendingFocus = null;

function route(navigated = true) {
  const mine = ++currentView;
  document.getElementById("structured-data")?.remove();
  updateAccountLinks();
  const path = location.hash.replace(/^#/, "").split("?")[0] || "/";
  const edit = path.match(/^\/projets\/([^/]+)\/modifier$/);
  const project = path.match(/^\/projets\/([^/]+)$/);
  const organization = path.match(/^\/organisations\/([^/]+)$/);
  if (edit) return renderEdit(decodeURIComponent(edit[1]), mine, navigated);
  if (project) return renderProject(decodeURIComponent(project[1]), mine, navigated);
  if (organization) return renderOrganization(decodeURIComponent(organization[1]), mine, navigated);
  if (path === "/organisations") return renderOrganizations(mine, navigated);
  if (path === "/mes-projets") return renderMine(mine, navigated);
  if (path === "/journal") return renderAudit(mine, navigated);
  if (path === "/accessibilite") return renderAccessibility(navigated);
  document.title = "Catalogue du programme 10 %";
  const focusId = pendingFocus;
  pendingFocus = null;
  return renderSearch(mine, focusId);
}

/** The sign-in and sign-out links come back to the page the agent is on. */
function updateAccountLinks() {
  const here = encodeURIComponent(location.href);
  document.getElementById("proconnect-signin").href = `/auth/login?mode=cookie&redirect=${here}`;
  document.getElementById("signout-link").href = `/auth/logout?redirect=${here}`;
  document.getElementById("proconnect-signout-link").href = `/auth/logout?redirect=${here}`;
}

/** Who is signed in: their name and administration, and what they may reach. */
async function showAccount() {
  try {
    ({ me: signedIn } = await graphql(ME_QUERY));
  } catch (error) {
    signedIn = null;
    document.getElementById("signin-status").textContent = `Votre identité n'a pas pu être vérifiée : ${error.message}`;
  }
  document.getElementById("signin-group").hidden = Boolean(signedIn);
  document.getElementById("signed-in").hidden = !signedIn;
  document.getElementById("nav-mine").hidden = !signedIn;
  document.getElementById("nav-audit").hidden = !(signedIn && signedIn.isAdmin);
  if (!signedIn) {
    await offerProConnectSignOut();
    return;
  }
  document.getElementById("proconnect-signout").hidden = true;
  const name = [signedIn.givenName, signedIn.usualName].filter(Boolean).join(" ") || signedIn.email;
  document.getElementById("account-name").textContent = name;
  document.getElementById("account-org").textContent =
    signedIn.organizationalUnit || (signedIn.siret ? `SIRET ${signedIn.siret}` : signedIn.email);
  // Signed in but not counted as a public agent (the operator's policy):
  // say so, rather than leave them wondering where agents' material went.
  document.getElementById("signin-status").textContent = signedIn.publicAgent
    ? ""
    : "Vous êtes connecté, mais ce catalogue ne vous compte pas comme agent public : votre " +
      "administration n'est pas parmi les organismes publics qu'il reconnaît. Vous voyez ce que " +
      "voit le public ; écrivez à lab-ia@data.gouv.fr si c'est une erreur.";
}

/**
 * Not signed in to the catalogue (or its token expired), yet ProConnect may
 * still know this browser: offer to sign out of it, so that on a shared
 * workstation the next person is not signed in as the previous one.
 */
async function offerProConnectSignOut() {
  let status = { proconnect: true, proconnectSignedIn: false };
  try {
    const response = await fetch("/auth/status", { credentials: "same-origin" });
    if (response.ok) status = await response.json();
  } catch (_) {
    // Unknown: keep the sign-in button, offer no sign-out.
  }
  // A gateway without ProConnect (as under `make run`) signs nobody in.
  document.getElementById("signin-group").hidden = status.proconnect === false;
  const proconnectSignedIn = status.proconnectSignedIn === true;
  document.getElementById("proconnect-signout").hidden = !proconnectSignedIn;
  if (proconnectSignedIn) {
    document.getElementById("signin-status").textContent =
      "Votre connexion au catalogue a expiré, mais ProConnect vous reconnaît encore : " +
      "déconnectez-vous si vous quittez ce poste.";
  }
}

/**
 * A token handed back in the fragment (`/auth/login` in fragment mode) is
 * read and taken out of the address bar and the history at once.
 */
function takeFragmentToken() {
  if (!/(^#|&)access_token=/.test(location.hash)) return;
  const token = new URLSearchParams(location.hash.slice(1)).get("access_token");
  history.replaceState(null, "", `${location.pathname}${location.search}#/`);
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
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
    await showAccount();
    if (signedIn) status.textContent = `Jeton accepté : vous voyez aussi ce qui est réservé aux agents (${signedIn.email}).`;
    route(false);
  });
  document.getElementById("signout").addEventListener("click", async () => {
    sessionStorage.removeItem(TOKEN_KEY);
    status.textContent = "Jeton oublié.";
    await showAccount();
    route(false);
  });
  // Signing out forgets a pasted token too.
  document.getElementById("signout-link").addEventListener("click", () => sessionStorage.removeItem(TOKEN_KEY));
}

takeFragmentToken();
window.addEventListener("hashchange", () => route(true));
document.addEventListener("DOMContentLoaded", async () => {
  setUpSignIn();
  await showAccount();
  route(false);
});
