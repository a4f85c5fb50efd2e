#!/usr/bin/env bash
# Rebuilds docs/console.png: a cluster with three geos, three organizations (control planes with a
# service and a route, a Dev Portal, a Mesh control plane and its zone, data planes, an upstream), a
# configuration change, a calendar move that invoices and deactivates a free organization, a partitioned
# link and a slowed one; then the console over it, photographed by headless Chromium's --screenshot.
# Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
K=${K:-$(pwd)/.build/debug/konnect-sim}
CHROMIUM=${CHROMIUM:-chromium}
DIR=$(mktemp -d /tmp/ks-shot-XXXXXX)
CONSOLE_PID=
cleanup() {
  [ -n "$CONSOLE_PID" ] && kill "$CONSOLE_PID" 2>/dev/null && wait "$CONSOLE_PID" 2>/dev/null
  "$K" down --dir "$DIR" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT
url() { python3 -c "import json,sys;print(json.load(open(sys.argv[1]))['url'])" "$DIR/$1/node.json"; }
field() { python3 -c "import json,sys;print(json.load(sys.stdin)$1)"; }
call() { curl -sf -X "$1" -H "Authorization: Bearer $2" "$3" ${4:+-d "$4"}; }

"$K" up --dir "$DIR" --geos us,eu,au --seed 16 >/dev/null
AUTH=$(url auth); EU=$(url geo-eu); US=$(url geo-us); AU=$(url geo-au)
"$K" upstream start --dir "$DIR" --name up1 >/dev/null
UP=$(python3 -c "import json;print(json.load(open('$DIR/upstream-up1/node.json'))['port'])")

organization() {  # email name plan geo -> token
  curl -sf -X POST "$AUTH/v3/signup" -d "{\"email\":\"$1\",\"password\":\"Correct-Horse-42!\",\"full_name\":\"Demo\",\"organization_name\":\"$2\",\"plan\":\"$3\",\"geo\":\"$4\"}" >/dev/null
  curl -sf -X POST "$AUTH/v3/authenticate" -d "{\"email\":\"$1\",\"password\":\"Correct-Horse-42!\"}" | field "['access_token']"
}
shop() {  # token geo-url name
  local cp
  cp=$(call POST "$1" "$2/v2/control-planes" "{\"name\":\"$3\"}" | field "['id']")
  call POST "$1" "$2/v2/control-planes/$cp/core-entities/services" "{\"name\":\"orders\",\"url\":\"http://127.0.0.1:$UP/api\"}" >/dev/null
  call POST "$1" "$2/v2/control-planes/$cp/core-entities/services/orders/routes" '{"name":"orders","paths":["/orders"]}' >/dev/null
  echo "$cp"
}

ACME=$(organization ana@example.com Acme plus eu)
call PUT "$ACME" "$AUTH/v3/organizations/me/payment-method" '{"token":"pm_card_visa"}' >/dev/null
SHOP=$(shop "$ACME" "$EU" shop)
call POST "$ACME" "$EU/v2/portals" '{"name":"developers"}' >/dev/null
call POST "$ACME" "$EU/v0/mesh/control-planes" '{"name":"mesh-eu"}' >/dev/null
GLOBEX=$(organization bo@example.com Globex enterprise us)
shop "$GLOBEX" "$US" payments >/dev/null
INITECH=$(organization cy@example.com Initech plus au)  # free: deactivated for inactivity by the move
call POST "$INITECH" "$AU/v2/control-planes" '{"name":"blog"}' >/dev/null
"$K" dp start --dir "$DIR" --geo eu --control-plane shop --name dp1 >/dev/null
"$K" dp start --dir "$DIR" --geo eu --control-plane shop --name dp2 >/dev/null
"$K" dp start --dir "$DIR" --geo us --control-plane payments --name dp3 >/dev/null
"$K" zone start --dir "$DIR" --geo eu --mesh-cp mesh-eu --name zone-1 >/dev/null

"$K" console --dir "$DIR" > "$DIR/console.out" &
CONSOLE_PID=$!
until head -1 "$DIR/console.out" 2>/dev/null | grep -q '^http'; do sleep 0.1; done
URL=$(head -1 "$DIR/console.out")

# What the timeline shows: a configuration change, a calendar move (sessions last a day), then faults.
sleep 1
call PATCH "$ACME" "$EU/v2/control-planes/$SHOP/core-entities/services/orders" '{"retries":3}' >/dev/null
"$K" clock advance --dir "$DIR" 31d >/dev/null
sleep 1
"$K" partition --dir "$DIR" dp3 us >/dev/null
"$K" latency --dir "$DIR" eu auth 300ms >/dev/null
until "$K" dp status --dir "$DIR" dp3 | grep -q disconnected; do sleep 0.2; done
sleep 1
"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1900 \
  --timeout=3000 --screenshot="$(pwd)/docs/console.png" "$URL" 2>/dev/null
echo "wrote docs/console.png"
