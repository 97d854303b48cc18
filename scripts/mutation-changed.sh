#!/usr/bin/env bash
# Mutation testing (Stryker) of the src/ files the last commit changed, entry points excepted:
# a full run takes hours on a 2-core machine (docs/testing.md), a commit's files minutes. Fails
# below the mutation score target of 85%.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! git rev-parse -q --verify HEAD~1 >/dev/null; then
  echo "mutation: no parent commit to compare with; nothing to mutate"
  exit 0
fi
files=$(git diff --name-only --diff-filter=AM HEAD~1 HEAD -- 'src/*.ts' 'src/**/*.ts' |
  grep -v -e '^src/server\.ts$' -e '-cli\.ts$' | paste -sd, - || true)
if [ -z "$files" ]; then
  echo "mutation: the last commit changed no source file that is mutated"
  exit 0
fi
echo "mutation: ${files}"
npx stryker run --mutate "$files" --incrementalFile reports/stryker-changed.json \
  --thresholds.break 85 --reporters clear-text,json
