#!/usr/bin/env bash
# Add-on entry point: options from the Supervisor -> `school-guard serve`.
# Configuration lives in the add-on's config folder (/config here), state in /data.
set -euo pipefail
options=/data/options.json
config=/config/school_guard.yaml
option() { /opt/school-guard/bin/python -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else (str(v).lower() if isinstance(v,bool) else v))' "$options" "$1"; }

if [ ! -f "$config" ]; then
    # First start: a configuration with no cameras; add them from Home Assistant.
    cat >"$config" <<YAML
engine:
  name: School
  data_dir: /data/engine
api:
  host: 0.0.0.0
  port: 8765
inference:
  device: $(option device)
cameras: []
YAML
fi
token="$(option token)"
if [ -n "$token" ]; then
    export SCHOOL_GUARD_TOKEN="$token"
fi
args=(serve --config "$config" --data-dir /data/engine --log-format "$(option log_format)")
if [ "$(option zeroconf)" = "true" ]; then
    args+=(--zeroconf)
fi
exec /opt/school-guard/bin/school-guard "${args[@]}"
