# Shared helpers for scripts/*: find Python 3.13, locate the repo, the model mirror and cache.
# Sourced, not executed.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    local candidate
    for candidate in "${SCHOOL_GUARD_PYTHON:-}" "$(command -v python3.13 || true)" \
        /root/.pyenv/versions/3.13.0/bin/python3.13; do
        if [ -n "$candidate" ] && [ -x "$candidate" ] &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# The read-only mirror beside a developer's checkout (../shared/artifacts: models/ and
# media/) is checked before any registry; a user has none, and then everything comes from
# the registries. Nothing here moves the caches: models and samples live in
# ~/.cache/school-guard/ (XDG), where the commands find them in a plain shell too.
# To ignore the mirror, point SCHOOL_GUARD_MODEL_MIRROR / SCHOOL_GUARD_SAMPLE_MIRROR at an
# empty folder (.ci/run does, to prove the fresh-machine path).
export_artifact_env() {
    if [ -z "${SCHOOL_GUARD_MODEL_MIRROR:-}" ] && [ -d "$ROOT/../shared/artifacts/models" ]; then
        SCHOOL_GUARD_MODEL_MIRROR="$(cd "$ROOT/../shared/artifacts/models" && pwd)"
        export SCHOOL_GUARD_MODEL_MIRROR
    fi
    if [ -z "${SCHOOL_GUARD_SAMPLE_MIRROR:-}" ] && [ -d "$ROOT/../shared/artifacts/media" ]; then
        SCHOOL_GUARD_SAMPLE_MIRROR="$(cd "$ROOT/../shared/artifacts/media" && pwd)"
        export SCHOOL_GUARD_SAMPLE_MIRROR
    fi
}
