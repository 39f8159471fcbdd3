#!/usr/bin/env bash
# Runs every check and test of Portcullis on a bare machine: installs the Debian packages the tests
# use, the npm packages (Node 24 comes with them), builds the Kubernetes control-plane binaries from
# the Go module proxy (cached), then typecheck, lint and all vitest projects. Prints each phase's time.
set -euo pipefail
cd "$(dirname "$0")/.."

phase_start=0
# Marks every process this run starts, so the final check finds only our own leftovers.
export PORTCULLIS_TEST_RUN="run-$$-$(date +%s)"
phase() { phase_start=$(date +%s); echo "::: $1"; }
phase_done() { echo "::: $1 took $(( $(date +%s) - phase_start )) s"; }

phase "debian packages"
mapfile -t wanted < <(grep -vE '^\s*(#|$)' test/debian-packages.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
phase_done "debian packages"

phase "npm packages"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.portcullis-lock 2>/dev/null)" != "$lock_sum" ]; then
  npm ci --no-audit --no-fund
  echo "$lock_sum" > node_modules/.portcullis-lock
fi
phase_done "npm packages"

phase "python fixtures (a venv with the Python MCP SDK, from PyPI)"
node_modules/.bin/node test/support/python-venv.ts
phase_done "python fixtures"

phase "control-plane binaries"
command -v go >/dev/null || { echo "Go is needed to build the control plane (see README)"; exit 1; }
npm run --silent cluster:binaries
phase_done "control-plane binaries"

phase "typecheck, lint, tests"
npm test
phase_done "typecheck, lint, tests"

# The kubelet tier (real pods on a real node, images built from the Dockerfiles; needs root). Only
# the files listed here run: a file joins the list once it is green, so the default run never ships
# red. PORTCULLIS_KUBELET_TESTS overrides the list (empty: skip the tier; "all": every file).
# Empty for now: none of test/kubelet/ has been seen green since the images and the node changed
# (docs/real-node.md, "Status").
KUBELET_GREEN=()
kubelet_tests=${PORTCULLIS_KUBELET_TESTS-${KUBELET_GREEN[*]}}
if [ "$kubelet_tests" = all ]; then kubelet_tests=test/kubelet; fi
if [ -n "$kubelet_tests" ]; then
  phase "kubelet tier: images ($(echo "$kubelet_tests" | wc -w) test files)"
  npm run --silent images:build >/dev/null
  phase_done "kubelet tier: images"
  phase "kubelet tier: tests"
  # shellcheck disable=SC2086 # a list of paths
  npm run --silent test:kubelet -- $kubelet_tests
  phase_done "kubelet tier: tests"
else
  echo "::: kubelet tier skipped (PORTCULLIS_KUBELET_TESTS is empty)"
fi

# No process of the control plane or the real node (containerd, its shims, kubelet, kube-proxy) may
# outlive the run, nor any mount or network namespace of the real node.
leftover=""
for pid in $(pgrep -f 'portcullis/cluster/|portcullis-node-' || true); do
  if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "PORTCULLIS_TEST_RUN=$PORTCULLIS_TEST_RUN"; then
    leftover+="$(ps -o pid=,args= -p "$pid" | cut -c1-160)"$'\n'
  fi
done
if [ -n "$leftover" ]; then
  echo "control-plane processes outlived the tests:"; echo "$leftover"; exit 1
fi
mounts=$(awk '$5 ~ /portcullis-node-/ {print $5}' /proc/self/mountinfo)
if [ -n "$mounts" ]; then
  echo "mounts of the real node outlived the tests:"; echo "$mounts"; exit 1
fi
# Containers of the real node run in the cgroups its containerd (namespace k8s.io) makes; a process
# left there outlived its pod.
orphans=$(cat /sys/fs/cgroup/pids/k8s.io/*/cgroup.procs 2>/dev/null || true)
if [ -n "$orphans" ]; then
  echo "processes of the real node's containers outlived the tests:"
  for pid in $orphans; do ps -o pid=,args= -p "$pid" | cut -c1-160; done
  exit 1
fi
if ip -4 addr show dev lo | grep -q 'inet 10.213.255.1/'; then
  echo "the real node's address 10.213.255.1 outlived the tests"; exit 1
fi
echo "no control-plane or real-node process, mount or node address outlived the tests"
