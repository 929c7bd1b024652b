#!/usr/bin/env bash
# Installs what the end-to-end tests (test/e2e) need, idempotently:
#   - Debian packages: chromium, libkrb5-dev, ripgrep (+ a C/C++ toolchain and python3 for node-gyp),
#     dataset-fashion-mnist (the e2e fixtures train MNIST then Fashion-MNIST, offline)
#   - code-server@4.100.3 (a real VS Code 1.100.3 that runs on Node 20) into
#     ${CLW_E2E_HOME:-/opt/clw-e2e}, outside the repo.
# Only the npm registry and the Debian mirrors are needed. Run as root.
# Re-running is cheap: a marker file records the installed version.
#
# Environment for npm (see docs/ENVIRONMENT.md, "A real VS Code for end-to-end tests"):
#   npm_config_unsafe_perm=true  code-server's postinstall refuses to run as root otherwise
#   npm_config_yes=true          node-pty's postinstall runs npx
#   npm_config_nodedir=/usr      node-gyp builds against the installed Node headers (no download)
#   ripgrep cache tarball        @vscode/ripgrep's postinstall downloads rg from GitHub unless it
#                                finds this tarball; we build it from Debian's /usr/bin/rg.
#
# npm 11 install-script policy: dependency install scripts are skipped unless allow-listed. The
# allow-list cannot be given as --allow-scripts / npm_config_allow_scripts / .npmrc here: npm
# exports it into the environment of lifecycle scripts, and code-server's postinstall runs nested
# project-scoped `npm install`s (lib/vscode, lib/vscode/extensions), which then stop with
# EALLOWSCRIPTS ("--allow-scripts is not allowed in project-scoped installs"). So:
#   phase 1: npm install with package.json#allowScripts = code-server + argon2. The nested install
#            in lib/vscode then runs with its native modules' scripts skipped (npm warns);
#   phase 2: add allowScripts to lib/vscode/package.json and run `npm rebuild` there.
set -euo pipefail

CODE_SERVER_VERSION=4.100.3
RIPGREP_PKG_VERSION=1.15.11
RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
E2E_HOME="${CLW_E2E_HOME:-/opt/clw-e2e}"
MARKER="$E2E_HOME/.installed"
CODE_SERVER_BIN="$E2E_HOME/node_modules/.bin/code-server"
# lib/vscode dependencies whose install scripts must run (native modules, rg).
# Windows-only modules (@vscode/windows-*) are left out on purpose.
VSCODE_ALLOW_SCRIPTS="kerberos,node-pty,@vscode/spdlog,@vscode/ripgrep,@parcel/watcher,native-watchdog,@vscode/deviceid"

start=$(date +%s)
log() { printf '[install-e2e] %s\n' "$*"; }
finish() {
  local rc=$?
  if [ $rc -eq 0 ]; then log "done in $(( $(date +%s) - start ))s"; else log "FAILED (exit $rc) after $(( $(date +%s) - start ))s"; fi
}
trap finish EXIT

if [ "$(id -u)" != 0 ]; then
  log "must run as root (apt-get, /opt)"; exit 1
fi
case "$E2E_HOME" in
  /?*) ;;
  *) log "CLW_E2E_HOME must be an absolute path other than / (got '$E2E_HOME')"; exit 1 ;;
esac

# ---- 1. Debian packages ---------------------------------------------------------------------
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v rg >/dev/null 2>&1 || need+=(ripgrep)
dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q 'install ok installed' || need+=(libkrb5-dev)
{ command -v make && command -v g++; } >/dev/null 2>&1 || need+=(build-essential)
command -v python3 >/dev/null 2>&1 || need+=(python3)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need+=(dataset-fashion-mnist)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=900 update -q
  apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends "${need[@]}"
else
  log "apt packages present (chromium, ripgrep, libkrb5-dev, toolchain, dataset-fashion-mnist)"
fi

# ---- 2. code-server ---------------------------------------------------------------------------
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" != 20 ]; then
  log "code-server@$CODE_SERVER_VERSION needs Node 20 (found $(node -v))"; exit 1
fi

if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "code-server@$CODE_SERVER_VERSION" ] && [ -x "$CODE_SERVER_BIN" ]; then
  log "code-server@$CODE_SERVER_VERSION already installed in $E2E_HOME"
  exit 0
fi

log "installing code-server@$CODE_SERVER_VERSION into $E2E_HOME"
rm -rf -- "$E2E_HOME"
mkdir -p -- "$E2E_HOME"
cd -- "$E2E_HOME"

# rg for @vscode/ripgrep's postinstall (it looks in this cache before going to GitHub).
rg_cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-$RIPGREP_PKG_VERSION"
mkdir -p "$rg_cache"
if [ ! -s "$rg_cache/$RIPGREP_ASSET" ]; then
  tar -C "$(dirname "$(readlink -f "$(command -v rg)")")" -czf "$rg_cache/$RIPGREP_ASSET" rg
fi

printf '%s\n' \
  '{' \
  '  "name": "clw-e2e-tools",' \
  '  "private": true,' \
  '  "description": "code-server for the Continual Learning Workbench end-to-end tests (.ci/install-e2e.sh)",' \
  "  \"dependencies\": { \"code-server\": \"$CODE_SERVER_VERSION\" }," \
  '  "allowScripts": { "code-server": true, "argon2": true }' \
  '}' > package.json

export npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir=/usr
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

log "phase 1: npm install code-server@$CODE_SERVER_VERSION (runs its postinstall)"
npm install --no-save --foreground-scripts --loglevel=warn > install.log 2>&1 || {
  tail -40 install.log; log "npm install failed, full log: $E2E_HOME/install.log"; exit 1; }

vs="$E2E_HOME/node_modules/code-server/lib/vscode"
log "phase 2: npm rebuild in lib/vscode (native modules, rg)"
node -e '
  const fs = require("fs"), f = process.argv[1];
  const p = JSON.parse(fs.readFileSync(f, "utf8"));
  p.allowScripts = Object.fromEntries(process.argv[2].split(",").map((n) => [n, true]));
  fs.writeFileSync(f, JSON.stringify(p, null, 2) + "\n");
' "$vs/package.json" "$VSCODE_ALLOW_SCRIPTS"
( cd -- "$vs" && npm rebuild --foreground-scripts --loglevel=warn ) >> install.log 2>&1 || {
  tail -40 install.log; log "npm rebuild failed, full log: $E2E_HOME/install.log"; exit 1; }

# ---- 3. check that the postinstall and the native builds really happened ----------------------
missing=()
for f in \
  "$E2E_HOME/node_modules/argon2/lib/binding/napi-v3/argon2.node" \
  "$vs/node_modules/node-pty/build/Release/pty.node" \
  "$vs/node_modules/@vscode/spdlog/build/Release/spdlog.node" \
  "$vs/node_modules/kerberos/build/Release/kerberos.node" \
  "$vs/node_modules/native-watchdog/build/Release/watchdog.node" \
  "$vs/node_modules/@vscode/ripgrep/bin/rg" \
  "$vs/node_modules.asar" \
  "$vs/extensions/node_modules/typescript/package.json"; do
  [ -e "$f" ] || missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "install incomplete, missing:"; printf '  %s\n' "${missing[@]}"
  log "see $E2E_HOME/install.log"
  exit 1
fi
log "$("$CODE_SERVER_BIN" --config /dev/null --version 2>/dev/null | head -1)"
echo "code-server@$CODE_SERVER_VERSION" > "$MARKER"
log "code-server ready: $CODE_SERVER_BIN"
