# Sourced by scripts/test: the browser tests (tests/ui) drive Debian's
# chromium through Playwright; install it when missing and we are root
# (when that is impossible the browser tests are skipped, saying why).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium for the browser tests" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null \
        || echo "could not install chromium: the browser tests will be skipped" >&2
fi
