#!/usr/bin/env bash
# One idempotent set-up for a fresh Debian machine (and a quick no-op on a prepared one):
# Debian packages the tests and the demo need, the project's Python venv (.venv), the npm
# dependencies, then code-server.
# Called by `npm test`, `npm run demo` and .ci/run; safe to run again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  openssh-server openssh-client         # a real sshd on loopback for the remote-run tests
  chromium                              # webview and workbench tests through playwright-core
  munge slurm-client slurmctld slurmd   # a real single-node Slurm for the scheduler path
  ripgrep libkrb5-dev build-essential pkg-config  # code-server's native modules
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  [[ $p == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm ci only when the lock file changed since the last install.
stamp=node_modules/.slayer-setup-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi

if [[ -x scripts/install-code-server.sh ]]; then
  scripts/install-code-server.sh
fi

# The project's Python environment: torch 2.x + transformers from the wheel store that pip's global
# configuration reaches (offline; --retries 0 skips the unreachable public index at once). Rebuilt
# only when scripts/python-requirements*.txt change. The -nodeps file is installed with --no-deps
# (lm_eval declares optional dependencies the store lacks).
venv=.venv
pywant=$(cat scripts/python-requirements.txt scripts/python-requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
pystamp=$venv/.slayer-setup-stamp
if [[ ! -f $pystamp || $(cat "$pystamp") != "$pywant" || ! -x $venv/bin/python ]]; then
  echo "setup: Python venv $venv (scripts/python-requirements.txt)"
  [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
  "$venv/bin/pip" install --retries 0 --disable-pip-version-check -q -r scripts/python-requirements.txt
  "$venv/bin/pip" install --retries 0 --disable-pip-version-check -q --no-deps -r scripts/python-requirements-nodeps.txt
  "$venv/bin/python" -c 'import torch, transformers; import lm_eval; print("setup: torch", torch.__version__, "transformers", transformers.__version__, "lm_eval", lm_eval.__version__)'
  echo "$pywant" > "$pystamp"
fi
