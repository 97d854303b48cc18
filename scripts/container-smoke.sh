#!/usr/bin/env bash
# Usage: scripts/container-smoke.sh            (on the Node first on PATH)
#        scripts/with-node.sh 26 scripts/container-smoke.sh   (on the image's Node)
#
# What the container would do, without a container engine: the Dockerfile's stages are
# replayed by scripts/dockerfile-replay.mjs in a temporary copy of the working tree (tracked
# and untracked files, as they are now, minus .gitignore and .dockerignore), then the runtime
# stage's CMD runs with the runtime stage's ENV against a fresh database on the local Postgres
# and the fake GitHub. It checks /ready, the Dockerfile's own HEALTHCHECK command, a listing
# through GitHub, a save and a read back from Postgres, and that SIGTERM ends it with code 0.
# A runtime stage that lacks a file or a package it needs fails here.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
admin_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d "${TMPDIR:-/tmp}/container-smoke.XXXXXX")"
database="smoke_$(date +%s)_$$"
server_pid=""
fake_pid=""

say() { printf 'container-smoke: %s\n' "$*" >&2; }

cleanup() {
  local status=$?
  set +e
  [[ -n "$server_pid" ]] && kill -KILL "$server_pid" 2>/dev/null
  [[ -n "$fake_pid" ]] && kill -TERM "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
  psql "$admin_url" -qc "drop database if exists ${database} with (force)" >/dev/null 2>&1 || true
  if [[ $status -ne 0 && -f "$work/server.log" ]]; then
    say "server output:"
    tail -n 40 "$work/server.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

say "node $(node --version), npm $(npm --version), in $work"

# The build context: what `docker build .` would send, taken from the working tree so that
# uncommitted work is smoke-tested too.
mkdir -p "$work/context"
(
  cd "$root"
  # .cache holds scripts/with-node.sh's Node builds, which are no part of the project.
  git ls-files -z --cached --others --exclude-standard -- . ':(exclude).cache' |
    while IFS= read -r -d '' file; do [[ -e "$file" ]] && printf '%s\0' "$file"; done |
    xargs -0 cp --parents -t "$work/context"
)

node "$root/scripts/dockerfile-replay.mjs" "$work/context/Dockerfile" "$work/context" "$work/stages"
# shellcheck source=/dev/null
source "$work/stages/image.sh"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$node_major" != "$IMAGE_NODE_MAJOR" ]]; then
  say "note: running on Node $node_major; the image ($IMAGE_BASE) runs Node $IMAGE_NODE_MAJOR"
fi
if [[ "$IMAGE_USER" == "root" || "$IMAGE_USER" == "0" ]]; then
  say "the runtime stage runs as root"
  exit 1
fi
if [[ -d "$RUNTIME_WORKDIR/node_modules/typescript" || -d "$RUNTIME_WORKDIR/node_modules/vitest" ]]; then
  say "the runtime stage holds development dependencies"
  exit 1
fi

psql "$admin_url" -v ON_ERROR_STOP=1 -qc "create database ${database}"
database_url="${admin_url%/*}/${database}"

# The fake GitHub is TypeScript: the build stage has tsx among its development dependencies.
"$STAGE_WORKDIR_BUILD/node_modules/.bin/tsx" "$work/context/scripts/serve-fake-github.ts" \
  >"$work/fake.out" 2>"$work/fake.log" &
fake_pid=$!
for _ in $(seq 1 100); do [[ -s "$work/fake.out" ]] && break; sleep 0.1; done
github_url="$(head -n 1 "$work/fake.out")"
[[ "$github_url" == http://127.0.0.1:* ]] || { say "the fake GitHub did not start"; cat "$work/fake.log" >&2; exit 1; }

port="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
base="http://127.0.0.1:${port}"

# The image's environment only, plus what a deployment sets; HOST and PORT are overridden so
# the smoke run listens on loopback and on a free port.
(
  cd "$RUNTIME_WORKDIR"
  exec env -i PATH="$PATH" HOME="$work" "${IMAGE_ENV[@]}" \
    HOST=127.0.0.1 PORT="$port" DATABASE_URL="$database_url" GITHUB_API_URL="$github_url" \
    "${IMAGE_CMD[@]}"
) >"$work/server.log" 2>&1 &
server_pid=$!
say "started: ${IMAGE_CMD[*]} (pid $server_pid) on $base"

ready=""
for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null "$base/ready" 2>/dev/null; then ready=yes; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n "$ready" ]] || { say "/ready never answered 200"; exit 1; }
say "/ready: 200"

(cd "$RUNTIME_WORKDIR" && env PORT="$port" "${IMAGE_HEALTHCHECK[@]}") || { say "the HEALTHCHECK command failed"; exit 1; }
say "HEALTHCHECK command: exit 0"

expect_json() {
  local path=$1 check=$2 body
  body="$(curl -fsS "$base$path")" || { say "GET $path failed"; exit 1; }
  node -e "const body = JSON.parse(process.argv[1]); if (!($check)) { console.error(process.argv[1]); process.exit(1); }" "$body" ||
    { say "GET $path: unexpected answer"; exit 1; }
  say "GET $path: 200, $check"
}
expect_json "/repositories?username=octocat" 'body.repositories.length === 3'
expect_json "/repositories/octocat/Hello-World?save_data=true" 'body.name === "Hello-World"'
expect_json "/repositories?username=octocat&from_local=true" 'body.repositories.length === 1'

kill -TERM "$server_pid"
started=$SECONDS
set +e
wait "$server_pid"
code=$?
set -e
server_pid=""
say "SIGTERM: exit code $code after $((SECONDS - started)) s"
[[ $code -eq 0 ]] || exit 1
grep -q '"msg":"shutting down"' "$work/server.log" || { say "no shutdown log line"; exit 1; }
say "passed"
