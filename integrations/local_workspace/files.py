"""Where uploaded bytes go in (the upload URL) and where the page reads them back.

A file is served inline only when its first bytes make it a PNG, JPEG, GIF or WebP image (not its name), else
as a download; never as a document that could run (sandboxed, nosniff).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .api import workspace_of
from .api_files import sniff

FILE_HEADERS = {
    "content-security-policy": "default-src 'none'; sandbox",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}


async def upload(request: Request) -> JSONResponse:
    """POST: the bytes of a file, to the URL files.getUploadURLExternal handed out."""
    ws = workspace_of(request)
    file = ws.files.get(request.path_params["file_id"])
    if file is None or file.upload_token != request.path_params["token"] or file.content is not None:
        return JSONResponse({"ok": False, "error": "invalid_upload_url"}, status_code=404)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > file.length:
        return JSONResponse({"ok": False, "error": "file_too_large"}, status_code=413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > file.length:
            return JSONResponse({"ok": False, "error": "file_too_large"}, status_code=413)
    with ws.lock:
        file.content, file.mimetype = bytes(body), sniff(bytes(body))
    return JSONResponse({"ok": True})


async def download(request: Request) -> Response:
    """GET: a shared file's bytes: an image inline, anything else as a download."""
    ws = workspace_of(request)
    file = ws.files.get(request.path_params["file_id"])
    if file is None or not file.completed or file.content is None:
        return JSONResponse({"ok": False, "error": "file_not_found"}, status_code=404)
    inline = file.mimetype.startswith("image/") and "download" not in request.query_params
    headers = dict(FILE_HEADERS)
    if not inline:
        headers["content-disposition"] = "attachment"
    media = file.mimetype if inline else "application/octet-stream"
    return Response(file.content, media_type=media, headers=headers)


ROUTES = [
    Route("/_emulator/upload/{file_id}/{token}", upload, methods=["POST"]),
    Route("/_emulator/files/{file_id}", download, methods=["GET"]),
]
"""Where the bytes go in, and where the page reads them."""
