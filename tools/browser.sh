#!/usr/bin/env bash
# A headless browser for the functional tests of the dashboard: Debian's
# chromium, driven by playwright-core from npm (the library only: it
# downloads no browser of its own; the tests give it
# executablePath /usr/bin/chromium).
#
#   tools/browser.sh             installs what is missing; prints the
#                                node_modules directory that holds
#                                playwright-core last
#
# chromium and nodejs (with npm) come from apt-get when missing (apt-get
# update only then; root is needed, as in CI). playwright-core goes into
# ${MAGNUM_TEST_CACHE:-$HOME/.cache/magnum-tests}/playwright with npm; a
# lock file keeps two runs from installing it at once.
set -euo pipefail
APT_UPDATE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/apt-update.sh

PLAYWRIGHT_VERSION=${MAGNUM_PLAYWRIGHT_VERSION:-1.65.1}
CACHE=${MAGNUM_TEST_CACHE:-$HOME/.cache/magnum-tests}
DIR=$CACHE/playwright

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || {
        echo "browser.sh: ${missing[*]} missing and not root" >&2; exit 1; }
    {
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" ||
        { "$APT_UPDATE" &&
          DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}"; }
    } >&2
fi

mkdir -p "$CACHE"
exec 9>"$DIR.lock"
flock 9
if [ ! -e "$DIR/node_modules/playwright-core/.complete-$PLAYWRIGHT_VERSION" ]; then
    rm -rf "$DIR"
    mkdir -p "$DIR"
    # NOTE: playwright-core has no install script that fetches a browser;
    # the variable only makes sure of it.
    (cd "$DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --silent \
        --no-audit --no-fund "playwright-core@$PLAYWRIGHT_VERSION" >&2)
    touch "$DIR/node_modules/playwright-core/.complete-$PLAYWRIGHT_VERSION"
fi
echo "$DIR/node_modules"
