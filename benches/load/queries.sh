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
