#!/usr/bin/env bash
# Fetches the files of GraphiQL the gateway serves (web/graphiql/vendor/)
# from the npm registry with npm itself, and checks each against the sha256
# pinned below; nothing is written unless every file matches. The gateway
# compiles these files in (src/http/graphiql.rs): no build step, no CDN.
#
#   scripts/vendor-graphiql.sh           fetch, check, write vendor/
#   scripts/vendor-graphiql.sh --print   fetch and print each file's sha256,
#                                        to pin a new version below and in
#                                        web/graphiql/README.md
#
# GraphiQL 4.1 is the last release with a browser bundle (UMD, React and
# ReactDOM as globals, graphql-js inside); React 18 is the last with UMD
# builds (React 19 has none).
set -euo pipefail
cd "$(dirname "$0")/.."

# package@version  path in the tarball  name in vendor/  sha256
FILES=(
  "graphiql@4.1.2 package/graphiql.min.js graphiql.min.js 867226ba8af5ce7949903fc53932f78dac9f4bfc6cc8da0fd3869b8bc6c5256b"
  "graphiql@4.1.2 package/graphiql.min.css graphiql.min.css 30487e07635d312a63f647b140d37740a73c53332b0975bf4b1fe985ca6ec885"
  "graphiql@4.1.2 package/LICENSE LICENSE.graphiql 4b18fbe55c4e8f9169cb702be138f4d858a2dad920c39857204ffdc9c1c9fdc4"
  "react@18.3.1 package/umd/react.production.min.js react.production.min.js d949f1c3687aedadcedac85261865f29b17cd273997e7f6b2bfc53b2f9d4c4dd"
  "react@18.3.1 package/LICENSE LICENSE.react 52412d7bc7ce4157ea628bbaacb8829e0a9cb3c58f57f99176126bc8cf2bfc85"
  "react-dom@18.3.1 package/umd/react-dom.production.min.js react-dom.production.min.js 35f4f974f4b2bcd44da73963347f8952e341f83909e4498227d4e26b98f66f0d"
  "react-dom@18.3.1 package/LICENSE LICENSE.react-dom 52412d7bc7ce4157ea628bbaacb8829e0a9cb3c58f57f99176126bc8cf2bfc85"
)
VENDOR=web/graphiql/vendor

say() { printf 'vendor-graphiql: %s\n' "$*" >&2; }

print=false
case "${1:-}" in
  --print) print=true ;;
  "") ;;
  *) say "usage: $0 [--print]"; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# npm checks each tarball against the registry's integrity hash.
for package in $(printf '%s\n' "${FILES[@]}" | cut -d' ' -f1 | sort -u); do
  mkdir -p "$work/$package"
  tarball=$(npm pack "$package" --silent --pack-destination "$work")
  tar -xzf "$work/$tarball" -C "$work/$package"
done

failed=false
for line in "${FILES[@]}"; do
  read -r package path name pinned <<<"$line"
  actual=$(sha256sum "$work/$package/$path" | cut -d' ' -f1)
  if $print; then
    printf '  "%s %s %s %s"\n' "$package" "$path" "$name" "$actual"
  elif [ "$actual" != "$pinned" ]; then
    say "$package $path: sha256 $actual, pinned $pinned"
    failed=true
  fi
done
$print && exit 0
$failed && { say "nothing written"; exit 1; }

graphiql=$(printf '%s\n' "${FILES[@]}" | grep -o '^graphiql@[^ ]*' | head -1)
rm -rf "$VENDOR"
mkdir -p "$VENDOR"
for line in "${FILES[@]}"; do
  read -r package path name _ <<<"$line"
  cp "$work/$package/$path" "$VENDOR/$name"
done

# What graphiql.min.js bundles (its source map names every file it was built
# from), for the licences: the bundle carries no licence comments.
node -e '
  const map = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const names = new Set();
  for (const source of map.sources) {
    const at = source.lastIndexOf("node_modules/");
    if (at < 0) continue;
    const parts = source.slice(at + "node_modules/".length).split("/");
    names.add(parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  console.log(`# npm packages bundled in ${process.argv[2]}'"'"'s graphiql.min.js (from its source map), besides GraphiQL'"'"'s own`);
  for (const name of [...names].sort()) console.log(name);
' "$work/$graphiql/package/graphiql.min.js.map" "$graphiql" >"$VENDOR/BUNDLED.txt"
say "wrote $VENDOR"
