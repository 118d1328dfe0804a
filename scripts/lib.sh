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

# Models: the read-only mirror beside the checkout (../shared/artifacts/models) is used
# before any registry; fetched and converted files live in the repo's .cache/.
export_model_env() {
    if [ -z "${SCHOOL_GUARD_MODEL_MIRROR:-}" ] && [ -d "$ROOT/../shared/artifacts/models" ]; then
        SCHOOL_GUARD_MODEL_MIRROR="$(cd "$ROOT/../shared/artifacts/models" && pwd)"
        export SCHOOL_GUARD_MODEL_MIRROR
    fi
    if [ -z "${SCHOOL_GUARD_SAMPLES:-}" ] && [ -d "$ROOT/../shared/artifacts/media" ]; then
        SCHOOL_GUARD_SAMPLES="$(cd "$ROOT/../shared/artifacts/media" && pwd)"
        export SCHOOL_GUARD_SAMPLES
    fi
    export SCHOOL_GUARD_MODEL_CACHE="${SCHOOL_GUARD_MODEL_CACHE:-$ROOT/.cache/models}"
}
