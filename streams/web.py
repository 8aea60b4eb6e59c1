"""Pages on the worker's web server (Faust's): ``/metrics`` for Prometheus."""

from __future__ import annotations

from typing import Any

import faust
from faust.web import Request, Response, View

from streams.metrics import Metrics


def register(app: faust.App, metrics: Metrics) -> None:
    """Add Vane's pages to the app's web server."""

    @app.page("/metrics")
    class MetricsPage(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            body, content_type = metrics.exposition()
            return self.bytes(body, content_type=content_type.split(";")[0])
