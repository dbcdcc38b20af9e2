# The measured queries, sourced by run.sh: each asks the same rows and
# columns of the same database from the gateway (OURS_*) and from
# PostGraphile (PG_*): public projects in name order, public repositories and
# datasets in catalogue order. Only columns stored in the tables are asked,
# so neither side reads harvested facts.

# (a) A simple list: 20 projects.
OURS_LIST='{ projects(first: 20) { edges { node { slug name summary } } } }'
PG_LIST='{ allProjects(first: 20, orderBy: [SORT_KEY_ASC, ROW_ID_ASC], condition: {visibility: "PUBLIC"}) { nodes { slug name summary } } }'

# (b) Three levels: 20 projects → their organizations, repositories, datasets.
OURS_NESTED='{ projects(first: 20) { edges { node { slug name
  organizations { role organization { slug name } }
  repositories { url forge name role }
  datasets { url title provider } } } } }'
PG_NESTED='{ allProjects(first: 20, orderBy: [SORT_KEY_ASC, ROW_ID_ASC], condition: {visibility: "PUBLIC"}) { nodes { slug name
  projectOrganizationsByProjectId { nodes { role organizationByOrganizationId { slug name } } }
  repositoriesByProjectId(orderBy: [POSITION_ASC, ROW_ID_ASC], condition: {access: "PUBLIC"}) { nodes { url forge name role } }
  datasetsByProjectId(orderBy: [POSITION_ASC, ROW_ID_ASC], condition: {access: "PUBLIC"}) { nodes { url title provider } } } } }'

# (c) A project page, by slug.
OURS_PAGE='{ project(slug: "cartiflette") { name summary description website documentation status seasons
  tags { slug label }
  organizations { role organization { slug name } }
  repositories { url forge name role }
  datasets { url title provider }
  links { url kind title } } }'
PG_PAGE='{ projectBySlug(slug: "cartiflette") { name summary description website documentation status
  projectSeasonsByProjectId { nodes { season } }
  projectTagsByProjectId { nodes { tagByTagId { slug label } } }
  projectOrganizationsByProjectId { nodes { role organizationByOrganizationId { slug name } } }
  repositoriesByProjectId(orderBy: [POSITION_ASC, ROW_ID_ASC], condition: {access: "PUBLIC"}) { nodes { url forge name role } }
  datasetsByProjectId(orderBy: [POSITION_ASC, ROW_ID_ASC], condition: {access: "PUBLIC"}) { nodes { url title provider } }
  linksByProjectId(orderBy: [POSITION_ASC, ROW_ID_ASC], condition: {access: "PUBLIC"}) { nodes { url kind title } } } }'

# (d) Search (the gateway only: PostGraphile has no full-text search).
OURS_SEARCH='{ search(query: "données géographiques", first: 10) { edges { node { score
  object { __typename ... on Project { slug name } ... on Repository { url }
           ... on Dataset { title } ... on Organization { name } } } } } }'

# (e) The REST project list, and its GraphQL twin: the route's own document
# (read from /api/v1/openapi.json at run time) POSTed to /graphql with the
# same variables. The two answers are the same facts; the difference is the
# REST layer (parameters, the root field taken out of the answer).
REST_LIST_PATH='/api/v1/projects?first=20'
REST_LIST_VARIABLES='{"first": 20}'

# (f) What a portal asks (BENCH_ONLY=portal), beside (a): filtered lists with
# their totalCount, facets as web/portal asks them, a deep page and an
# organization page. The templates' `%s` is filled at run time: a search's
# words, the cursor ending page 49, the organization with the most projects.
PORTAL_HAS_CODE='{ projects(first: 20, filter: {hasCode: true}) { totalCount edges { node { slug name summary } } } }'
PORTAL_FORGE='{ projects(first: 20, filter: {forge: GITLAB}) { totalCount edges { node { slug name summary } } } }'
PORTAL_LANGUAGE='{ repositories(first: 20, filter: {language: "Python"}) { totalCount
  edges { node { url forge name language license project { slug name } } } } }'
PORTAL_PROVIDER='{ datasets(first: 20, filter: {provider: API}) { totalCount
  edges { node { url title provider project { slug name } } } } }'
PORTAL_FACETS='{ facets(query: "%s", limit: 12, disjunctive: true) { totalCount
  kinds { value label count } organizations { value label count } tags { value label count }
  languages { value label count } licenses { value label count } forges { value label count }
  seasons { value label count } statuses { value label count } access { value label count }
  usedBy { value label count } } }'
PORTAL_SEARCH='{ search(query: "%s", first: 20) { totalCount pageInfo { hasNextPage endCursor }
  edges { node { snippets { field html } object { __typename
    ... on Project { slug name summary visibility }
    ... on Repository { url owner name language access project { slug name } }
    ... on Dataset { url title access project { slug name } }
    ... on Organization { slug name acronym } } } } } }'
PORTAL_DEEP_PAGE='{ projects(first: 20, after: "%s") { totalCount pageInfo { hasNextPage endCursor }
  edges { node { slug name summary } } } }'
PORTAL_ORGANIZATION='{ organization(slug: "%s") { name acronym kind website verified
  projects { slug name summary } uses { kind source project { slug name } } } }'
# The words of the facet counts of common searches.
PORTAL_COMMON_WORDS=("données" "cartographie des communes")
