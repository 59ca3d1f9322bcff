#!/usr/bin/env bash
# Installs every program the tests run besides Python (a test that cannot find one fails, it
# never skips): the real exporters the end-to-end tests and benchmarks scrape, Debian's
# prometheus-node-exporter and prometheus (its promtool checks tests/e2e's PromQL corpus), and
# Node's prom-client (the npm packages of each app under tests/e2e/apps); dnsmasq (the binary
# alone, no system service: dnsmasq-base), the DNS server the dns_sd_configs tests start on a
# high port; and openssl, which makes the functional TLS tests' certificates.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
command -v prometheus >/dev/null || need+=(prometheus)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "system-deps: missing ${need[*]}; install them with apt-get (needs root)" >&2
    exit 1
  fi
fi
# The npm packages of every app under tests/e2e/apps: prom-client and express for the sample
# task-service, prom-client for the exposition parser's e2e page.
for app in tests/e2e/apps/*/; do
  if [ -f "$app/package.json" ] && [ ! -d "$app/node_modules" ]; then
    (cd "$app" && npm install --no-audit --no-fund --silent)
  fi
done
