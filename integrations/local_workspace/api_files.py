"""files.* Web API methods of Slack's v2 upload: files.getUploadURLExternal hands out an upload URL, the app
POSTs the bytes there (`files.py`), files.completeUploadExternal shares them in a channel as a message."""

from __future__ import annotations

from . import args as a
from .api_conversations import joined
from .args import Args
from .errors import ApiError
from .records import BOT_USER_ID, JSON, File
from .workspace import Workspace

MAX_FILE = 5 * 1024 * 1024
"""The largest upload the emulator keeps (Slack allows 1 GB; charts are small)."""
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff(content: bytes) -> str:
    """The image type the bytes start with, else application/octet-stream."""
    for magic, mimetype in IMAGE_MAGIC:
        if content.startswith(magic):
            return mimetype
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return "application/octet-stream"


def get_upload_url(ws: Workspace, args: Args) -> JSON:
    """files.getUploadURLExternal: a file id and where to POST its bytes."""
    name = a.required(args, "filename")
    length = a.integer(args, "length", 0)
    if length <= 0:
        raise ApiError("invalid_arguments", "[ERROR] length must be a positive integer")
    if length > MAX_FILE:
        raise ApiError("file_too_large", f"[ERROR] the emulator keeps files up to {MAX_FILE} bytes")
    file_id = ws.ids.next("F0FILE")
    token = ws.ids.digest("upload", 24)
    ws.files[file_id] = File(
        file_id, name, length, BOT_USER_ID, int(ws.clock()), token, alt_txt=a.text(args, "alt_txt")
    )
    return {"upload_url": f"{ws.base_url}/_emulator/upload/{file_id}/{token}", "file_id": file_id}


def complete_upload(ws: Workspace, args: Args) -> JSON:
    """files.completeUploadExternal: finish uploads and share them in `channel_id` (as one message)."""
    items = a.structured(args, "files", "invalid_arguments")
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) and i.get("id") for i in items):
        raise ApiError("invalid_arguments", "[ERROR] files must be a JSON list of {id, title}")
    found = []
    for item in items:
        file = ws.files.get(str(item["id"]))
        if file is None:
            raise ApiError("file_not_found")
        if file.content is None:
            raise ApiError("file_upload_not_completed")
        found.append((file, item.get("title")))
    channels = a.words(args, "channels")
    channel_ref = a.text(args, "channel_id") or (channels[0] if channels else None)
    channel = joined(ws, {"channel": channel_ref}) if channel_ref else None
    thread_ts = a.text(args, "thread_ts")
    if channel and thread_ts and ws.find_message(channel.id, thread_ts) is None:
        raise ApiError("thread_not_found")
    for file, title in found:
        file.title, file.completed = (str(title) if title else file.title), True
    shared = [file.to_dict(ws.base_url) for file, _ in found]
    if channel is not None:
        comment = a.text(args, "initial_comment") or ""
        ws.post(channel, BOT_USER_ID, comment, thread_ts=thread_ts, files=shared)
    return {"files": [{"id": f["id"], "title": f["title"]} for f in shared]}


METHODS = {"files.getUploadURLExternal": get_upload_url, "files.completeUploadExternal": complete_upload}
