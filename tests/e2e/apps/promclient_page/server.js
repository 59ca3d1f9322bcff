// Serves prom-client's exposition on 127.0.0.1:$PORT/metrics: default Node metrics plus one
// metric of each kind, with label values that need escaping. Fixed observations make most
// values stable between scrapes, so the e2e test can compare values, not just series.
'use strict';
const http = require('http');
const client = require('prom-client');

const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

const requests = new client.Counter({
  name: 'app_requests_total',
  help: 'Requests served.\nSecond line with a backslash \\ in it.',
  labelNames: ['method', 'path'],
  registers: [registry],
});
requests.inc({ method: 'GET', path: '/items' }, 3);
requests.inc({ method: 'POST', path: '/items/"quoted"' }, 1);
requests.inc({ method: 'GET', path: 'C:\\temp\nnext' }, 2);

const queue = new client.Gauge({ name: 'app_queue_depth', help: 'Jobs waiting.', registers: [registry] });
queue.set(-4.5);

const latency = new client.Histogram({
  name: 'app_request_duration_seconds',
  help: 'Request latency.',
  labelNames: ['route'],
  buckets: [0.01, 0.1, 1],
  registers: [registry],
});
[0.005, 0.05, 0.5, 5].forEach((v) => latency.observe({ route: '/items' }, v));

const sizes = new client.Summary({
  name: 'app_response_bytes',
  help: 'Response sizes.',
  percentiles: [0.5, 0.9],
  registers: [registry],
});
[100, 200, 300].forEach((v) => sizes.observe(v));

const port = Number(process.env.PORT || process.argv[2] || 9464);
http
  .createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': registry.contentType });
    res.end(await registry.metrics());
  })
  .listen(port, '127.0.0.1');
