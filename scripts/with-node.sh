#!/usr/bin/env bash
# Usage: scripts/with-node.sh <major> <command...>
# Runs the command with the newest Node <major> first on PATH, so the suite and
# scripts/container-smoke.sh can run on the Node the Dockerfile's image uses, not only on the
# machine's Node. npm serves Node builds as the packages node-linux-<arch>; the first call
# fetches one into .cache/node-<major> (gitignored), later calls reuse it. Only the node binary
# changes: npm and npx are the machine's, and they run on whichever node is first on PATH.
set -euo pipefail

if [[ $# -lt 2 || ! $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <node major> <command...>" >&2
  exit 2
fi
major=$1
shift

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${NODE_CACHE_DIR:-$root/.cache}/node-$major"

case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *)
    echo "with-node: no node-linux package for $(uname -m)" >&2
    exit 2
    ;;
esac

if [[ ! -x "$cache/bin/node" ]]; then
  mkdir -p "$(dirname "$cache")"
  work="$(mktemp -d "$(dirname "$cache")/.node-$major.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "with-node: fetching node-linux-$arch@$major into $cache" >&2
  tarball="$(cd "$work" && npm pack --silent "node-linux-$arch@$major" | tail -n 1)"
  tar -xzf "$work/$tarball" -C "$work"
  # A concurrent call may have finished first; either copy is the same version.
  mv -T "$work/package" "$cache" 2>/dev/null || [[ -x "$cache/bin/node" ]]
  rm -rf "$work"
  trap - EXIT
fi

export PATH="$cache/bin:$PATH"
exec "$@"
