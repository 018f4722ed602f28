"""The Starlette app: three pages and the JSON API they use (all GET, all read-only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hpo_framework.errors import HPOError, OptionError, StorageError
from hpo_framework.results.exports import to_json as dumps

from . import data

STATIC = Path(__file__).parent / "static"


def create_app(storage_path: str) -> Any:
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import FileResponse, Response
    from starlette.routing import Route

    from hpo_framework.results.interactive import plotly_js_path

    def json_response(obj: Any, status: int = 200) -> Response:
        return Response(dumps(obj), status_code=status, media_type="application/json",
                        headers={"Cache-Control": "no-store"})

    async def call(fn: Any, *args: Any) -> Response:
        try:
            return json_response(await run_in_threadpool(fn, storage_path, *args))
        except StorageError as exc:
            return json_response({"error": str(exc)}, 404)
        except (OptionError, HPOError) as exc:
            return json_response({"error": str(exc)}, 400)

    async def api_studies(request: Request) -> Response:
        return await call(data.studies)

    async def api_trials(request: Request) -> Response:
        return await call(data.trials, request.path_params["name"])

    async def api_figures(request: Request) -> Response:
        q = request.query_params
        return await call(data.figures, request.path_params["name"], q.get("x"), q.get("y"))

    async def api_compare(request: Request) -> Response:
        names = [n for n in request.query_params.get("studies", "").split(",") if n]
        if not names:
            return json_response({"error": "give ?studies=a,b"}, 400)
        return await call(data.compare, names)

    def page(name: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})
        return endpoint

    async def static(request: Request) -> Response:
        name = request.path_params["file"]
        if name == "plotly.min.js":
            return FileResponse(plotly_js_path(), media_type="application/javascript")
        path = STATIC / name
        if "/" in name or not path.is_file():
            return Response("not found", status_code=404)
        return FileResponse(path)

    routes = [
        Route("/", page("index.html")),
        Route("/study/{name:path}", page("study.html")),
        Route("/compare", page("compare.html")),
        Route("/static/{file}", static),
        Route("/api/studies", api_studies),
        Route("/api/studies/{name:path}/trials", api_trials),
        Route("/api/studies/{name:path}/figures", api_figures),
        Route("/api/compare", api_compare),
    ]
    return Starlette(routes=routes)
