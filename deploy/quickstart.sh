#!/usr/bin/env bash
# One-command set-up and start on a fresh Debian/Ubuntu machine with Node.js 20:
# installs redis-server if missing, installs npm packages, builds, and runs `veracity serve`
# on the embedded default (a private redis-server child, data in .veracity/redis).
set -euo pipefail
cd "$(dirname "$0")/.."

major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$major" -lt 20 ]; then
  echo "Veracity needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." >&2
  exit 1
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing Debian's redis-server package"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "No apt-get here. Install redis-server with your package manager (e.g. 'brew install redis'), or set REDIS_URL." >&2
    exit 1
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server
  # Veracity runs its own private instance; the distribution's service is not needed.
  $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
exec node --max-semi-space-size=32 dist/cli.js serve   # flags: src/node-flags.ts
