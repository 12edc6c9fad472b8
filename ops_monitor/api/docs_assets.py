"""Swagger UI, served from this server: `/docs` works on a network without internet.

The files come from the `fastapi-offline` distribution, which ships Swagger UI's bundle and CSS
as package data; we only read them from there (its FastAPI
wrapper is not used). Public, like any static script: the API document itself stays guarded.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

router = APIRouter()

PREFIX = "/docs/assets"
SHIPPED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


def asset_dir() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


def url(name: str) -> str:
    return f"{PREFIX}/{name}"


@router.get(PREFIX + "/{name}", include_in_schema=False)
def asset(name: str) -> FileResponse:
    media = SHIPPED.get(name)
    if media is None:
        raise HTTPException(404, f"no asset {name!r}")
    return FileResponse(
        asset_dir() / name, media_type=media, headers={"cache-control": "public, max-age=86400"}
    )
