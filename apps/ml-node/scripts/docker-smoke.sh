#!/usr/bin/env bash
# Builds the ml-node CPU image and checks it the way an operator would: HEALTHCHECK goes healthy,
# /readyz answers 200, /v1/embeddings answers a bearer-authenticated call with a 512-d vector,
# a call without the token gets 401, and the process runs as the non-root user.
#
#   apps/ml-node/scripts/docker-smoke.sh                 # base image from Docker Hub (NODE_IMAGE)
#   LOCAL_BASE=1 apps/ml-node/scripts/docker-smoke.sh    # no Docker Hub: build the base here
#
# LOCAL_BASE=1 builds a Debian bookworm root with debootstrap from the first mirror this machine's
# apt sources name, adds this machine's Node binary and npm, and uses that as NODE_IMAGE. When
# egress TLS is intercepted, this machine's CA bundle (SSL_CERT_FILE) goes into that local base
# only, so npm inside the build trusts the same roots; the Dockerfile itself stays generic.
# Needs: a running Docker daemon; LOCAL_BASE=1 also needs root and debootstrap. The build fetches
# npm packages, so the npm registry must be reachable from containers.
set -euo pipefail
cd "$(dirname "$0")/../../.."

TAG=${TAG:-synthstack/ml-node:cpu-smoke}
NAME=${NAME:-ml-node-smoke}
HOST_PORT=${HOST_PORT:-18001}
TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
export DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0} # the classic builder needs no frontend image

say() { echo "docker-smoke: $*"; }
fail() {
  say "FAIL: $*" >&2
  docker logs "$NAME" 2>&1 | tail -40 >&2 || true
  exit 1
}

apt_mirror() {
  # First Debian archive URI in deb822 or one-line sources; read here, never written to the repo.
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' "$f"
  done | head -1 | grep . && return
  grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$2 !~ /security/ {print $2; exit}'
}

build_local_base() {
  local base=synthstack-local/bookworm node_image=synthstack-local/node:20-bookworm
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    local mirror root
    mirror=$(apt_mirror)
    [ -n "$mirror" ] || fail 'no Debian mirror in /etc/apt/sources.list(.d)'
    root=$(mktemp -d)
    say "debootstrap bookworm (minbase) into $root"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >/tmp/docker-smoke-debootstrap.log
    rm -rf "$root"/var/cache/apt/archives/*.deb
    tar -C "$root" -c . | docker import - "$base" >/dev/null
    rm -rf "$root"
  fi
  local ctx
  ctx=$(mktemp -d)
  cp "$(command -v node)" "$ctx/node"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$ctx/npm"
  local ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
  if [ -f "$ca" ]; then cp "$ca" "$ctx/ca.crt"; else : >"$ctx/ca.crt"; fi
  cat >"$ctx/Dockerfile" <<EOF
FROM $base
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca.crt /usr/local/share/synthstack-local-ca.crt
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/synthstack-local-ca.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
CMD ["node"]
EOF
  docker build -q -t "$node_image" "$ctx" >/dev/null
  rm -rf "$ctx"
  NODE_IMAGE=$node_image
}

if [ "${LOCAL_BASE:-0}" = 1 ]; then build_local_base; fi
build_args=()
[ -n "${NODE_IMAGE:-}" ] && build_args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")

say "building $TAG (target cpu${NODE_IMAGE:+, NODE_IMAGE=$NODE_IMAGE})"
started=$(date +%s)
docker build -f apps/ml-node/Dockerfile --target cpu "${build_args[@]}" -t "$TAG" . \
  >/tmp/docker-smoke-build.log 2>&1 || {
  tail -40 /tmp/docker-smoke-build.log >&2
  fail 'docker build failed (log: /tmp/docker-smoke-build.log)'
}
say "built in $(($(date +%s) - started)) s, $(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}')"

docker rm -f "$NAME" >/dev/null 2>&1 || true
trap 'docker rm -f "$NAME" >/dev/null 2>&1 || true' EXIT
docker run -d --name "$NAME" -p "127.0.0.1:$HOST_PORT:8001" -e ML_NODE_API_KEYS="$TOKEN" \
  --health-interval=2s "$TAG" >/dev/null
started=$(date +%s)
for _ in $(seq 1 90); do
  health=$(docker inspect -f '{{.State.Health.Status}}' "$NAME" 2>/dev/null || echo gone)
  [ "$health" = healthy ] && break
  [ "$health" = gone ] || [ "$(docker inspect -f '{{.State.Running}}' "$NAME")" = true ] ||
    fail 'container exited'
  sleep 2
done
[ "$health" = healthy ] || fail "HEALTHCHECK is '$health' after 180 s"
say "HEALTHCHECK healthy after $(($(date +%s) - started)) s"

url=http://127.0.0.1:$HOST_PORT
for _ in $(seq 1 60); do
  code=$(curl -s -o /tmp/docker-smoke-readyz.json -w '%{http_code}' "$url/readyz" || true)
  [ "$code" = 200 ] && break
  sleep 1
done
[ "$code" = 200 ] || fail "/readyz answered $code"
say "/readyz 200 $(head -c 200 /tmp/docker-smoke-readyz.json)"

code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/v1/embeddings" \
  -H 'content-type: application/json' -d '{"model":"use-lite-512","input":"hi"}')
[ "$code" = 401 ] || fail "/v1/embeddings without a token answered $code, not 401"

body=$(curl -fsS -X POST "$url/v1/embeddings" -H "authorization: Bearer $TOKEN" \
  -H 'content-type: application/json' \
  -d '{"model":"use-lite-512","input":["The container answers embeddings.","A second sentence."]}') ||
  fail '/v1/embeddings with the token failed'
dims=$(node -e 'const b=JSON.parse(process.argv[1]);if(b.data.length!==2)process.exit(2);console.log(b.data[0].embedding.length)' "$body") ||
  fail "unexpected embeddings answer: ${body:0:300}"
[ "$dims" = 512 ] || fail "embedding has $dims dimensions, not 512"
say "/v1/embeddings 200, 2 vectors of $dims dimensions"

models=$(curl -fsS "$url/v1/models" -H "authorization: Bearer $TOKEN")
sphinx=$(node -e 'const m=JSON.parse(process.argv[1]).data.find((x)=>x.id==="pocketsphinx-en-us");console.log(m?.status)' "$models")
[ "$sphinx" = ready ] || fail "pocketsphinx-en-us is '$sphinx' in the CPU image, not ready"
say "pocketsphinx-en-us status: $sphinx"
# A file, not `node -e`: node-llama-cpp tests its binary in a fork that inherits execArgv.
probe=$(mktemp --suffix=.mjs)
cat >"$probe" <<'JS'
import { getLlama } from 'node-llama-cpp'
const llama = await getLlama({ gpu: false, build: 'never' })
console.log(llama.gpu === false ? 'cpu' : llama.gpu)
JS
chmod 644 "$probe"
docker cp "$probe" "$NAME:/app/llama-probe.mjs" >/dev/null
rm -f "$probe"
llama=$(docker exec "$NAME" node /app/llama-probe.mjs) || fail 'node-llama-cpp does not load in the image'
say "node-llama-cpp loads its prebuilt binary ($llama)"
user=$(docker exec "$NAME" id -un)
[ "$user" = mlnode ] || fail "container runs as $user"
say "runs as $user"

# A host folder the image's user cannot write (a root-owned bind mount) must stop the node with
# a line that says so, not a stack trace or a crash loop with no reason.
volume=$(mktemp -d)
chmod 755 "$volume"
set +e
out=$(timeout 60 docker run --rm -v "$volume:/models" -e ML_NODE_API_KEYS="$TOKEN" "$TAG" 2>&1)
code=$?
set -e
[ "$code" -ne 0 ] && [ "$code" -ne 124 ] || fail "a read-only model volume did not stop the node (exit $code)"
line=$(echo "$out" | grep 'MODEL_DIR (/models) is not writable by this user (uid 10001, gid 10001)') ||
  fail "no clear MODEL_DIR line for a read-only model volume: ${out:0:400}"
say "a model volume it cannot write stops it: ${line:0:160}…"

# The documented fix: the same folder given to 10001:10001 serves, and the node writes into it.
chown 10001:10001 "$volume"
docker rm -f "$NAME-volume" >/dev/null 2>&1 || true
docker run -d --name "$NAME-volume" -v "$volume:/models" -e ML_NODE_API_KEYS="$TOKEN" "$TAG" >/dev/null
ready=0
for _ in $(seq 1 60); do
  if docker exec "$NAME-volume" curl -fsS http://127.0.0.1:8001/readyz >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 1
done
docker rm -f "$NAME-volume" >/dev/null 2>&1 || true
[ "$ready" = 1 ] || fail 'a model volume owned by 10001:10001 did not serve'
[ -d "$volume/classifiers" ] || fail 'the node did not write into its model volume'
rm -rf "$volume"
say "a model volume owned by 10001:10001 serves, and the node writes into it"
say "OK"
