"""The Starlette app: four pages and the JSON API they use (all GET, all read-only).

Answers that follow a study carry an ``ETag`` of the study's version (and of the query):
a client that sends it back in ``If-None-Match`` gets ``304 Not Modified`` and no body
while nothing changed, which is what the pages' once-a-second polls get almost always.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hpo_framework.errors import HPOError, OptionError, StorageError

from . import data

STATIC = Path(__file__).parent / "static"


def create_app(storage_path: str) -> Any:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    from hpo_framework.results.interactive import plotly_js_path

    def json_response(text: str, status: int = 200, etag: str | None = None) -> Response:
        headers = {"Cache-Control": "no-cache"}
        if etag is not None:
            headers["ETag"] = f'"{etag}"'
        return Response(text, status_code=status, media_type="application/json",
                        headers=headers)

    def error(message: str, status: int) -> Response:
        return json_response(data.encode({"error": message}), status)

    async def call(request: Request, fn: Any, *args: Any) -> Response:
        """Run ``fn`` off the event loop. It returns a JSON-able object, or ``(etag,
        body)`` with ``body()`` making the JSON text: 304 and no body is made when the
        client's ``If-None-Match`` is the etag."""
        sent = request.headers.get("if-none-match", "").strip('W/ "')

        def run() -> tuple[str | None, str | None]:
            answer = fn(*args)
            if not isinstance(answer, tuple):
                return None, data.encode(answer)
            etag, body = answer
            return etag, (None if sent == etag else body())

        try:
            etag, text = await run_in_threadpool(run)
        except StorageError as exc:
            return error(str(exc), 404)
        except (OptionError, HPOError) as exc:
            return error(str(exc), 400)
        if text is None:
            return Response(status_code=304, headers={"ETag": f'"{etag}"',
                                                      "Cache-Control": "no-cache"})
        return json_response(text, etag=etag)

    def table_query(request: Request) -> dict[str, Any]:
        return data.parse_table_query(request.query_params)

    async def api_studies(request: Request) -> Response:
        return await call(request, data.studies_answer, storage_path)

    async def api_trials(request: Request) -> Response:
        name = request.path_params["name"]
        return await call(request, lambda: data.trials_answer(storage_path, name,
                                                              table_query(request)))

    async def api_trial(request: Request) -> Response:
        return await call(request, data.trial_answer, storage_path,
                          request.path_params["name"], request.path_params["number"])

    async def api_figures(request: Request) -> Response:  # the study page's one request
        q = request.query_params
        name = request.path_params["name"]

        def answer() -> tuple[str, str]:
            query = table_query(request)
            etag, body = data.page_answer(storage_path, name, query, q.get("x"), q.get("y"),
                                          q.get("have"), headline=bool(q.get("headline")))
            if q.get("nested"):  # the pages: the figures as they are kept, no re-encoding
                return etag, body
            return etag, lambda: data.encode(data.expand(json.loads(body())))
        return await call(request, answer)

    async def api_compare(request: Request) -> Response:
        names = [n for n in request.query_params.get("studies", "").split(",") if n]
        if not names:
            return error("give ?studies=a,b", 400)
        return await call(request, data.compare, storage_path, names)

    def page(name: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})
        return endpoint

    async def static(request: Request) -> Response:
        name = request.path_params["file"]
        if name == plotly_js_path().name:  # the core's partial bundle, as the reports inline
            return FileResponse(plotly_js_path(), media_type="application/javascript",
                                headers={"Cache-Control": "no-cache"})
        path = STATIC / name
        if "/" in name or not path.is_file():
            return Response("not found", status_code=404)
        return FileResponse(path, headers={"Cache-Control": "no-cache"})

    routes = [
        Route("/", page("index.html")),
        Route("/study/{name:path}/trial/{number:int}", page("trial.html")),
        Route("/study/{name:path}", page("study.html")),
        Route("/compare", page("compare.html")),
        Route("/static/{file}", static),
        Route("/api/studies", api_studies),
        Route("/api/studies/{name:path}/trials/{number:int}", api_trial),
        Route("/api/studies/{name:path}/trials", api_trials),
        Route("/api/studies/{name:path}/figures", api_figures),
        Route("/api/compare", api_compare),
    ]
    return Starlette(routes=routes)
