#!/bin/sh
# Refresh the vendored browser libraries from the npm registry (run from anywhere).
# Versions are pinned below; change one, run this script, commit the result and
# MANIFEST.json. Only the dist/minified files the pages load are copied, each library
# with its licence beside it. Needs node and npm.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd); export HERE
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PACKAGES="@zazuko/yasgui@4.6.2 sigma@3.0.3 graphology@0.26.0 graphology-layout-forceatlas2@0.10.1 leaflet@1.9.4 leaflet.markercluster@1.5.3 world-atlas@2.0.2 topojson-client@3.1.0 esbuild@0.28.2"
cd "$WORK"
npm init -y >/dev/null
# shellcheck disable=SC2086
npm install --no-audit --no-fund --ignore-scripts $PACKAGES >/dev/null
cd node_modules
# esbuild's platform binary is an optional dependency: install scripts are not needed.
copy() { mkdir -p "$HERE/$1"; shift; dest="$HERE/$1"; shift; for f in "$@"; do cp "$f" "$dest/"; done; }
rm -rf "${HERE:?}"/yasgui "$HERE"/sigma "$HERE"/leaflet "$HERE"/world-atlas
copy yasgui yasgui @zazuko/yasgui/build/yasgui.min.js @zazuko/yasgui/build/yasgui.min.css
cp "$HERE/LICENSE-yasgui.txt" "$HERE/yasgui/LICENSE.txt"  # the npm package ships none
copy sigma sigma sigma/dist/sigma.min.js sigma/LICENSE.txt
cp graphology/dist/graphology.umd.min.js "$HERE/sigma/"
cp graphology/LICENSE.txt "$HERE/sigma/LICENSE-graphology.txt"
printf 'export { default } from "graphology-layout-forceatlas2";\n' > fa2-entry.mjs
./.bin/esbuild fa2-entry.mjs --bundle --minify --format=iife \
  --global-name=graphologyLayoutForceAtlas2 --outfile="$HERE/sigma/forceatlas2.min.js"
cp graphology-layout-forceatlas2/LICENSE.txt "$HERE/sigma/LICENSE-forceatlas2.txt"
copy leaflet leaflet leaflet/dist/leaflet.js leaflet/dist/leaflet.css leaflet/LICENSE
cp leaflet.markercluster/dist/leaflet.markercluster.js leaflet.markercluster/dist/MarkerCluster.css \
  leaflet.markercluster/dist/MarkerCluster.Default.css "$HERE/leaflet/"
cp leaflet.markercluster/MIT-LICENCE.txt "$HERE/leaflet/LICENSE-markercluster.txt"
cp topojson-client/dist/topojson-client.min.js "$HERE/leaflet/"
cp topojson-client/LICENSE "$HERE/leaflet/LICENSE-topojson-client.txt"
copy world-atlas world-atlas world-atlas/countries-50m.json world-atlas/LICENSE
node -e '
const fs = require("fs");
const names = process.argv.slice(1);
const out = {};
for (const name of names) {
  const pkg = require("./" + name + "/package.json");
  out[name] = { version: pkg.version, license: pkg.license };
}
fs.writeFileSync(process.env.HERE + "/MANIFEST.json", JSON.stringify(out, null, 2) + "\n");
' @zazuko/yasgui sigma graphology graphology-layout-forceatlas2 leaflet leaflet.markercluster world-atlas topojson-client
