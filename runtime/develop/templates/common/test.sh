#!/bin/sh
# Serves this capability with `asf up` on a spare port, calls it once and checks the answer.
# ASF names the asf command (default: asf); PORT the gateway port (default: 18889).
set -eu
cd "$(dirname "$0")"
asf=${ASF:-asf}
port=${PORT:-18889}
url=http://127.0.0.1:$port/v1/private/{{name}}

log=$(mktemp)
$asf up --capability . --port "$port" >"$log" 2>&1 &
up=$!
trap 'kill $up 2>/dev/null || true; rm -f "$log"' EXIT INT TERM

tries=0
until grep -q "^ready " "$log"; do
  if ! kill -0 $up 2>/dev/null || grep -q "^failed " "$log"; then cat "$log"; exit 1; fi
  tries=$((tries + 1))
  [ $tries -lt 600 ] || { echo "not ready after 60 s"; cat "$log"; exit 1; }
  sleep 0.1
done

$asf validate . request.json
answer=$($asf call "$url" --param mode=upper --input text="hello world" --output result --decode)
echo "$answer"
case "$answer" in
  *"HELLO WORLD"*) echo "ok: {{name}} answered" ;;
  *) echo "unexpected answer"; exit 1 ;;
esac
