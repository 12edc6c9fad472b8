#!/usr/bin/env bash
# Installs every workspace's dependencies from the root lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --workspaces --include-workspace-root
