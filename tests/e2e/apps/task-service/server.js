'use strict';
// task-service: the seed article's sample app. A small task CRUD API instrumented with
// prometheus-api-metrics (prom-client underneath), which serves /metrics with
//   http_request_duration_seconds{method,route,code} (histogram), http_request_size_bytes,
//   http_response_size_bytes, app_version, expressjs_number_of_open_connections,
//   and prom-client's default Node.js metrics (nodejs_heap_space_size_used_bytes{space}, ...).
// promwatch's e2e tests and `promwatch demo` scrape it.
//
// Environment: PORT (default 3000; 0 picks a free port), HOST (default 127.0.0.1),
// WORK_MS_SCALE (default 1): scales the simulated work time of each route (0 = no delay).

const express = require('express');
const apiMetrics = require('prometheus-api-metrics');

const host = process.env.HOST || '127.0.0.1';
const port = Number.parseInt(process.env.PORT || '3000', 10);
const workScale = Number.parseFloat(process.env.WORK_MS_SCALE || '1');

// Mean simulated work per route, in milliseconds: the latency histograms get a shape a
// dashboard can show (reads fast, writes slower, listing in between).
const MEAN_WORK_MS = { list: 12, get: 4, create: 35, update: 25, remove: 8 };

function work(kind) {
    const mean = MEAN_WORK_MS[kind] * workScale;
    // Exponential with the route's mean, capped so no request outlives a scrape cycle.
    const ms = Math.min(-Math.log(1 - Math.random()) * mean, 20 * mean);
    return new Promise((resolve) => setTimeout(resolve, ms));
}

const tasks = new Map();
let nextId = 1;

function addTask(title) {
    const task = { id: nextId, title, done: false, createdAt: new Date().toISOString() };
    tasks.set(String(nextId), task);
    nextId += 1;
    return task;
}

['write the scrape config', 'deploy with sam', 'check the dashboard'].forEach(addTask);

const app = express();
// Health checks (the launcher's readiness probe, load balancers) are not traffic worth measuring.
app.use(apiMetrics({ excludeRoutes: ['/healthz'] }));
app.use(express.json());

app.get('/healthz', (req, res) => res.json({ status: 'ok' }));

app.get('/tasks', async (req, res) => {
    await work('list');
    res.json([...tasks.values()]);
});

app.post('/tasks', async (req, res) => {
    await work('create');
    const title = req.body && req.body.title;
    if (typeof title !== 'string' || title.length === 0) {
        res.status(400).json({ error: 'expected a JSON body with a non-empty "title"' });
        return;
    }
    res.status(201).json(addTask(title));
});

app.get('/tasks/:id', async (req, res) => {
    await work('get');
    const task = tasks.get(req.params.id);
    if (!task) {
        res.status(404).json({ error: `no task ${req.params.id}` });
        return;
    }
    res.json(task);
});

app.put('/tasks/:id', async (req, res) => {
    await work('update');
    const task = tasks.get(req.params.id);
    if (!task) {
        res.status(404).json({ error: `no task ${req.params.id}` });
        return;
    }
    if (req.body && typeof req.body.done === 'boolean') task.done = req.body.done;
    if (req.body && typeof req.body.title === 'string') task.title = req.body.title;
    res.json(task);
});

app.delete('/tasks/:id', async (req, res) => {
    await work('remove');
    if (!tasks.delete(req.params.id)) {
        res.status(404).json({ error: `no task ${req.params.id}` });
        return;
    }
    res.status(204).end();
});

const server = app.listen(port, host, () => {
    const address = server.address();
    // The launcher reads this line to learn the port (PORT=0 picks a free one).
    console.log(`task-service listening on http://${address.address}:${address.port}`);
});

function shutdown() {
    server.close(() => process.exit(0));
    server.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
