#!/usr/bin/env bash
# Setup + the main job in one command: installs what the default experiment needs (Fashion-MNIST
# from Debian, npm packages), builds, and runs MNIST -> Fashion-MNIST headless.
# Usage: bash scripts/demo.sh [experiment file] [extra `continual-workbench run` options]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d /usr/share/datasets/fashion-mnist ] && [ -z "${CLW_DATA_DIR:-}" ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dataset-fashion-mnist
fi
[ -d node_modules/@tensorflow/tfjs ] || npm ci --no-audit --no-fund
npm run build --silent
file="${1:-examples/mnist-then-fashion.cl.json}"
shift || true
exec node dist/cli.js run "$file" --out "${CLW_OUT:-runs/default}" "$@"
