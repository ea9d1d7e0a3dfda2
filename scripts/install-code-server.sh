#!/usr/bin/env bash
# Installs code-server 4.100.3 (VS Code 1.100.3 server + web workbench) from the npm registry into
# the project-local prefix .tools/code-server, for the in-editor and workbench tests.
# Idempotent: a no-op (a stamp check, no process started) once the install is verified.
# Needs the Debian packages scripts/setup.sh installs: ripgrep, libkrb5-dev, build-essential,
# pkg-config, python3. Network: the npm registry only (see docs/testing.md for the why of each
# setting below).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.100.3
RG_PREBUILT=v13.0.0-10            # the ripgrep build @vscode/ripgrep 1.15.11 asks for
RG_CACHE_VERSION=1.15.11
PREFIX=${SLAYER_CODE_SERVER_PREFIX:-$PWD/.tools/code-server}
BIN=$PREFIX/node_modules/.bin/code-server
STAMP=$PREFIX/.slayer-installed

if [[ -f $STAMP && $(cat "$STAMP") == "$VERSION" && -x $BIN ]]; then
  exit 0
fi

for tool in rg cc make python3 pkg-config; do
  command -v "$tool" >/dev/null || { echo "install-code-server: $tool is missing (run scripts/setup.sh)" >&2; exit 1; }
done

started=$(date +%s)
echo "install-code-server: installing code-server@$VERSION into $PREFIX"
mkdir -p "$PREFIX"
[[ -f $PREFIX/package.json ]] || echo '{ "name": "slayer-code-server", "private": true }' > "$PREFIX/package.json"

# A private TMPDIR holding the ripgrep tarball @vscode/ripgrep looks for before it goes to GitHub
# (which is unreachable here): Debian's rg, packed as the prebuilt archive would be.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache="$tmp/vscode-ripgrep-cache-$RG_CACHE_VERSION"
mkdir -p "$cache" "$tmp/rg"
cp "$(command -v rg)" "$tmp/rg/rg"
tar -czf "$cache/ripgrep-$RG_PREBUILT-x86_64-unknown-linux-musl.tar.gz" -C "$tmp/rg" rg

# unsafe_perm: code-server's postinstall refuses to run as root without it.
# yes: node-pty's postinstall runs `npx node-gyp`, which would otherwise wait for a confirmation.
# nodedir: node-gyp builds against the running node's own headers instead of downloading them.
nodedir=$(dirname "$(dirname "$(command -v node)")")
TMPDIR=$tmp \
npm_config_unsafe_perm=true \
npm_config_yes=true \
npm_config_nodedir=$nodedir \
npm_config_audit=false \
npm_config_fund=false \
npm_config_update_notifier=false \
  npm install --prefix "$PREFIX" --no-save --loglevel=error "code-server@$VERSION"

# --config: a throwaway file, or code-server writes a default one into ~/.config.
printf 'auth: none\n' > "$tmp/config.yaml"
got=$("$BIN" --config "$tmp/config.yaml" --version | grep -E '^[0-9]+\.[0-9]+\.[0-9]+ ' | head -n1)
[[ $got == "$VERSION "* ]] || { echo "install-code-server: unexpected version: $got" >&2; exit 1; }
rg_bin=$(find "$PREFIX/node_modules" -path '*/@vscode/ripgrep/bin/rg' -print -quit)
[[ -n $rg_bin ]] && "$rg_bin" --version >/dev/null || { echo "install-code-server: bundled ripgrep missing" >&2; exit 1; }

echo "$VERSION" > "$STAMP"
echo "install-code-server: code-server $got ready in $(( $(date +%s) - started )) s"
