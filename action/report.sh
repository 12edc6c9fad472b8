#!/usr/bin/env bash
# The `readiness report` step of action.yml, runnable on its own: the report of TARGET's plan
# (PLAN, default TARGET/readiness.yaml) written to OUT and appended to the job summary.
set -euo pipefail

TARGET="${TARGET:-.}"
OUT="${OUT:-readiness-report}"
args=("$TARGET" --out "$OUT" --format md,html,json)
if [ -n "${PLAN:-}" ]; then args+=(--plan "$PLAN"); fi
status=0
readiness report "${args[@]}" || status=$?
if [ -f "$OUT/report.md" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$OUT/report.md" >> "$GITHUB_STEP_SUMMARY"
fi
exit "$status"
