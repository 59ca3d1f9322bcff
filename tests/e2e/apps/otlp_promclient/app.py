"""A prometheus_client process for the OTLP end-to-end test: ``python app.py PORT``.

Every GET of /metrics first counts one more request (``app_requests_total``), so successive
scrapes of one process see the counter grow and a restarted process starts it over; a
histogram with known buckets, a gauge and a gauge with a UTF-8 name (``café.temperature``,
served as ``caf__temperature`` unless the scrape asks for ``escaping=allow-utf-8``) complete
the page. Prints ``ready`` once serving.
"""
from __future__ import annotations

import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

registry = CollectorRegistry()
requests = Counter("app_requests", "Requests served.", ["route"], registry=registry)
# Made before serving, so its _created precedes every scrape (one made while a scrape runs has
# a _created after the scrape's time, which the OTLP output ignores as Prometheus does).
metrics_route = requests.labels("/metrics")
latency = Histogram("app_latency_seconds", "Request latency.", buckets=(0.1, 0.5, 1.0), registry=registry)
for value in (0.05, 0.3, 0.7, 2.0):
    latency.observe(value)
Gauge("app_temperature_celsius", "Temperature.", registry=registry).set(21.5)
Gauge("café.temperature", "Temperature of the café.", registry=registry).set(19.5)
metrics = make_wsgi_app(registry)


def app(environ, start_response):  # type: ignore[no-untyped-def]
    metrics_route.inc()
    return metrics(environ, start_response)


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):  # type: ignore[no-untyped-def]
        return


server = make_server("127.0.0.1", int(sys.argv[1]), app, handler_class=Quiet)
print("ready", flush=True)
server.serve_forever()
