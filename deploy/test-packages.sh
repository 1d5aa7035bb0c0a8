#!/usr/bin/env bash
# Installs, from Debian's packages, every program the test suite starts that this machine lacks,
# then stops the services those packages start (the tests run their own instances on loopback
# ports). Run by `npm test` (pretest) and by .ci/run; a no-op once everything is there.
# VERACITY_SKIP_TEST_PACKAGES=1 leaves the machine alone: tests whose program is missing then skip.
set -uo pipefail

[ "${VERACITY_SKIP_TEST_PACKAGES:-}" = "1" ] && exit 0

need=()
want() { command -v "$1" >/dev/null 2>&1 || need+=("$2"); }
want redis-server redis-server           # the Redis every test runs against
want redis-sentinel redis-sentinel       # Sentinel failover tests
want openssl openssl                     # certificates for the TLS tests
want promtool prometheus                 # rule tests and the live Prometheus tests
want amtool prometheus-alertmanager      # Alertmanager config check
want docker-compose docker-compose       # `docker-compose config` of the deploy files
want chromium chromium                   # console tests in a real browser
want setpriv util-linux                  # the embedded Redis's parent-death signal
want flock util-linux                    # the embedded Redis's data-directory lock
[ ${#need[@]} -eq 0 ] && exit 0

# Unique package names, in order.
mapfile -t need < <(printf '%s\n' "${need[@]}" | awk '!seen[$0]++')
if ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need these Debian packages, and there is no apt-get here: ${need[*]}." >&2
  echo "Install the same programs with your package manager; until then the tests that need them skip." >&2
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "The tests need these Debian packages: ${need[*]}. Run as root: apt-get install ${need[*]}" >&2
    exit 0
  fi
  sudo="sudo"
fi
echo "installing ${need[*]} from Debian's packages (the test suite starts them)"
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }; then
  echo "apt-get install ${need[*]} failed" >&2
  exit 1
fi
# Only the services of packages installed just now: a Redis or Prometheus that was here before stays as it was.
for pkg in "${need[@]}"; do
  case "$pkg" in
    redis-server | redis-sentinel | prometheus | prometheus-alertmanager)
      $sudo systemctl disable --now "$pkg" >/dev/null 2>&1 || $sudo service "$pkg" stop >/dev/null 2>&1 || true ;;
  esac
done
exit 0
