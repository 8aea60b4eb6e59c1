"""Pages on the worker's web server (Faust's): ``/metrics`` and ``/scores/<type>/<id>``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust
from faust.web import Request, Response, View

from models import ModelConfig
from streams.errors import StoreUnavailable
from streams.metrics import Metrics
from streams.scoring.explain import UnknownEntity, explain
from streams.store.handle import StoreHandle


def register(
    app: faust.App, metrics: Metrics, store: StoreHandle, models: Mapping[str, ModelConfig]
) -> None:
    """Add Vane's pages to the app's web server."""

    @app.page("/metrics")
    class MetricsPage(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            body, content_type = metrics.exposition(request.headers.get("Accept"))
            # In the headers: aiohttp's content_type argument refuses parameters
            # (version, charset), which Prometheus reads.
            return self.bytes(body, headers={"Content-Type": content_type})

    @app.page("/scores/{entity_type}/{entity_id}")
    class ScorePage(View):
        async def get(self, request: Request, entity_type: str, entity_id: str) -> Response:
            try:
                body = await explain(await store.get(), models, entity_type, entity_id)
            except UnknownEntity as exc:
                return self.json({"error": "not_found", "detail": str(exc)}, status=404)
            except StoreUnavailable as exc:
                return self.json({"error": "unavailable", "detail": str(exc)}, status=503)
            return self.json(body)
