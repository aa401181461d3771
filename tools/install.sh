#!/usr/bin/env bash
# Installs Magnum and its test tools into .venv (created if missing).
# Safe to run again: pip skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
CACHE=${MAGNUM_TEST_CACHE:-$HOME/.cache/magnum-tests}

install_requirements() {  # into the virtualenv $1
    "$1/bin/pip" install --upgrade pip &&
    "$1/bin/pip" install -c upper-constraints.txt \
        -r requirements.txt -r test-requirements.txt
}

fail() {
    tail -n 40 "$1"; echo "install.sh: pip failed; see $1" >&2; exit 1
}

if [ -z "${MAGNUM_OWN_VENV:-}" ] && { [ ! -e .venv ] || [ -L .venv ]; }; then
    # NOTE: a fresh clone (CI's) links the virtualenv built once for the
    # same requirements, in the tests' cache, rather than building one of
    # its own (a minute of pip); other requirements, another virtualenv
    # (the link follows them).
    # Magnum itself is installed below, editable, from this clone.
    # MAGNUM_OWN_VENV=1 builds .venv here instead.
    key=$(cat requirements.txt test-requirements.txt upper-constraints.txt |
          sha256sum | cut -c1-16)
    shared="$CACHE/venv-$key"
    mkdir -p "$CACHE"
    (
        flock 9
        if [ ! -e "$shared/.complete" ]; then
            rm -rf "$shared"
            "$PYTHON" -m venv "$shared"
            install_requirements "$shared" >"$CACHE/venv-$key.log" 2>&1 ||
                fail "$CACHE/venv-$key.log"
            touch "$shared/.complete"
        fi
    ) 9>"$CACHE/venv-$key.lock"
    ln -sfn "$shared" .venv
    LOG=.venv/install.log
elif [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    LOG=.venv/install.log
    install_requirements .venv >"$LOG" 2>&1 || fail "$LOG"
else
    LOG=.venv/install.log
    install_requirements .venv >"$LOG" 2>&1 || fail "$LOG"
fi
.venv/bin/pip install --no-deps -e . >>"$LOG" 2>&1 || fail "$LOG"

# Debian packages some tests need, installed when missing and we are root
# (CI is); otherwise those tests skip and say so: shellcheck checks the boot
# scripts of the Heat templates (a unit test), memcached is the install
# guide's token cache (test_install_guide.py starts its own on a free port).
apt_install() {  # package, command it brings
    command -v "$2" >/dev/null 2>&1 && return 0
    [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1 || return 0
    { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$1" ||
      { tools/apt-update.sh &&
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$1"; }
    } >>"$LOG" 2>&1 || echo "install.sh: could not install $1" >&2
}
apt_install shellcheck shellcheck
apt_install memcached memcached
