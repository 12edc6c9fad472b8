#!/usr/bin/env bash
# The `readiness check` step of action.yml, runnable on its own (the tests run it locally).
#
# Inputs (environment): TARGET, SARIF, FAIL ("true"/"false"), BASELINE (a file or REF:PATH),
# DIFF_BASE (a ref; empty: the pull request's base, GITHUB_BASE_REF; "none": every finding),
# CONFIG_FROM_BASE ("true": read the configuration as the base branch has it, so a pull request
# from a fork cannot switch its own audit off), MAX_ANNOTATIONS (the rest are summarised),
# GITHUB_STEP_SUMMARY (appended to when set), RUNNER_TEMP (scratch space).
set -euo pipefail

TARGET="${TARGET:-.}"
SARIF="${SARIF:-readiness.sarif}"
FAIL="${FAIL:-true}"
MAX_ANNOTATIONS="${MAX_ANNOTATIONS:-50}"
SCRATCH="$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/readiness-check.XXXXXX")"
SUMMARY="${GITHUB_STEP_SUMMARY:-/dev/null}"

# The ref a pull request merges into, fetched when the checkout does not have it yet.
base_ref=""
if [ -n "${GITHUB_BASE_REF:-}" ]; then
  base_ref="origin/${GITHUB_BASE_REF}"
  if ! git -C "$TARGET" rev-parse --verify --quiet "$base_ref^{commit}" >/dev/null; then
    git -C "$TARGET" fetch --no-tags --quiet origin \
      "+refs/heads/${GITHUB_BASE_REF}:refs/remotes/${base_ref}" || true
  fi
fi

args=("$TARGET" --format github --output "$SCRATCH/annotations.txt"
      --format sarif --output "$SARIF" --format text --output "$SCRATCH/findings.txt")

diff_base="${DIFF_BASE:-}"
if [ -z "$diff_base" ]; then diff_base="$base_ref"; fi
if [ -n "$diff_base" ] && [ "$diff_base" != "none" ]; then
  # Changed since the branch point, not since the base's tip: the base's own later commits
  # are not this change's lines.
  point="$(git -C "$TARGET" merge-base "$diff_base" HEAD 2>/dev/null || true)"
  args+=(--diff-base "${point:-$diff_base}")
fi

if [ -n "${BASELINE:-}" ]; then args+=(--baseline "$BASELINE"); fi

if [ "${CONFIG_FROM_BASE:-false}" = "true" ]; then
  if [ -z "$base_ref" ]; then
    echo "readiness: error: config-from-base needs a pull request (GITHUB_BASE_REF is not set)" >&2
    exit 2
  fi
  prefix="$(git -C "$TARGET" rev-parse --show-prefix)"
  found=""
  for name in readiness.yaml readiness.yml pyproject.toml; do
    if git -C "$TARGET" cat-file -e "$base_ref:${prefix}${name}" 2>/dev/null; then
      git -C "$TARGET" show "$base_ref:${prefix}${name}" > "$SCRATCH/$name"
      found="$SCRATCH/$name"
      break
    fi
  done
  if [ -n "$found" ]; then
    args+=(--config "$found")
  else
    # The base has no configuration: audit with the defaults, whatever the pull request adds.
    printf 'checks: {}\n' > "$SCRATCH/readiness.yaml"
    args+=(--config "$SCRATCH/readiness.yaml")
  fi
fi

status=0
readiness check "${args[@]}" || status=$?
if [ "$status" -ge 2 ]; then exit "$status"; fi

total=$(wc -l < "$SCRATCH/annotations.txt" | tr -d ' ')
head -n "$MAX_ANNOTATIONS" "$SCRATCH/annotations.txt"
{
  echo "### readiness check"
  echo
  if [ "$total" -gt "$MAX_ANNOTATIONS" ]; then
    echo "$total findings: the first $MAX_ANNOTATIONS are annotated on the pull request, the"
    echo "others are in the SARIF upload and counted here."
    echo
  fi
  echo '```'
  tail -n +"$((total + 1))" "$SCRATCH/findings.txt"
  echo '```'
} >> "$SUMMARY"
tail -n +"$((total + 1))" "$SCRATCH/findings.txt" >&2

if [ "$status" -eq 1 ] && [ "$FAIL" = "true" ]; then exit 1; fi
exit 0
