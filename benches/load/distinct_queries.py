"""Prints N distinct GraphQL request bodies (JSON, one a line) for the memory
soak (benches/load/memory_soak.sh): each a document of its own, so each is a
distinct answer-cache key and a distinct kept document, over the synthetic
10,000-project catalogue. Five kinds in turn: a project page, a list of an
organization's projects with its count, a search, facet counts, and a
3-level list by organization and status.

Usage: python3 distinct_queries.py N [FIRST]   (numbers FIRST to FIRST+N-1)
       python3 distinct_queries.py --check URL  (fails unless each body read
       from stdin is answered with data and no error)
"""

import json
import sys
import urllib.request

STATUSES = ["ACTIVE", "COMPLETED", "ARCHIVED"]
ORGANIZATIONS = 500  # `generate --projects 10000` writes 500 organizations


def document(n):
    kind, m = n % 5, n // 5
    organization = f"exemple-organisation-{m % ORGANIZATIONS}"
    if kind == 0:
        return f"""{{ project(slug: "exemple-projet-{n % 10000}") {{ name summary description
  website status seasons tags {{ slug label }}
  organizations {{ role organization {{ slug name }} }}
  repositories {{ url forge name role }} datasets {{ url title provider }}
  links {{ url kind title }} }} }}"""
    if kind == 1:
        first = 10 + (m // ORGANIZATIONS) % 40
        return f"""{{ projects(first: {first}, filter: {{organization: "{organization}"}}) {{
  totalCount edges {{ node {{ slug name summary }} }} }} }}"""
    if kind == 2:
        return f"""{{ search(query: "projet {m}", first: {5 + m % 20}) {{ totalCount edges {{ node {{ score
  object {{ __typename ... on Project {{ slug name }} ... on Repository {{ url }}
    ... on Dataset {{ title }} ... on Organization {{ name }} }} }} }} }} }}"""
    if kind == 3:
        return f"""{{ facets(query: "projet {m}", limit: {5 + m % 20}) {{ totalCount
  kinds {{ value count }} organizations {{ value label count }} tags {{ value label count }}
  statuses {{ value count }} }} }}"""
    status = STATUSES[(m // ORGANIZATIONS) % len(STATUSES)]
    return f"""{{ projects(first: 20, filter: {{organization: "{organization}", status: {status}}}) {{
  edges {{ node {{ slug name
    organizations {{ role organization {{ slug name }} }}
    repositories {{ url forge name role }}
    datasets {{ url title provider }} }} }} }} }}"""


def check(url):
    for body in sys.stdin:
        request = urllib.request.Request(
            url, body.encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request) as response:
            answer = json.load(response)
        if "errors" in answer or not answer.get("data"):
            sys.exit(f"memory soak: {body.strip()} was answered {answer}")


def main():
    if sys.argv[1] == "--check":
        check(sys.argv[2])
        return
    count = int(sys.argv[1])
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    for n in range(first, first + count):
        print(json.dumps({"query": document(n)}))


if __name__ == "__main__":
    main()
