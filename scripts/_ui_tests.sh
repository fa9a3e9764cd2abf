# Sourced by scripts/test: the web UI's own unit tests (Vitest), when Node.js
# is installed (`npm ci` from the lockfile, again only when the lockfile changed).
if command -v npm >/dev/null 2>&1; then
    (
        cd "$ROOT/ui"
        if [ ! -f node_modules/.argyll-ci ] || [ package-lock.json -nt node_modules/.argyll-ci ]; then
            npm ci --no-audit --no-fund --loglevel=error
            touch node_modules/.argyll-ci
        fi
        npx vitest run
    )
else
    echo "npm not found: skipping the web UI's unit tests (ui/)" >&2
fi
