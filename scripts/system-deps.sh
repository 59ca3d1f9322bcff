#!/usr/bin/env bash
# Installs the real exporters the end-to-end tests and benchmarks scrape: Debian's
# prometheus-node-exporter and prometheus, and Node's prom-client (for the task-service app);
# and dnsmasq (the binary alone, no system service: dnsmasq-base), the DNS server the
# dns_sd_configs tests start on a high port.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
command -v prometheus >/dev/null || need+=(prometheus)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "system-deps: missing ${need[*]}; install them with apt-get (needs root)" >&2
    exit 1
  fi
fi
# prom-client (and express) for the sample task-service app under tests/e2e/apps/task-service
if [ -f tests/e2e/apps/task-service/package.json ] && [ ! -d tests/e2e/apps/task-service/node_modules ]; then
  (cd tests/e2e/apps/task-service && npm install --no-audit --no-fund --silent)
fi
# prom-client for the exposition parser's e2e page under tests/e2e/apps/promclient_page
if [ -f tests/e2e/apps/promclient_page/package.json ] && [ ! -d tests/e2e/apps/promclient_page/node_modules ]; then
  (cd tests/e2e/apps/promclient_page && npm install --no-audit --no-fund --silent)
fi
