"""Block Kit limits enforced the way Slack does, using slack_sdk's models plus the checks they lack."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import warnings
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from .errors import ApiError

JSON = dict[str, Any]

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_ID = 255
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_HEADER_TEXT = 150

# Block.parse logs a warning and returns None for unknown types; we report those ourselves.
logging.getLogger("slack_sdk.models.blocks.blocks").setLevel(logging.ERROR)


class _Invalid(Exception):
    """A reason a block is invalid and where (a json-pointer)."""

    def __init__(self, reason: str, pointer: str) -> None:
        super().__init__(f"[ERROR] {reason} [json-pointer:{pointer}]")


def parse_blocks(raw: Any, *, limit: int = MAX_MESSAGE_BLOCKS, pointer: str = "/blocks") -> list[JSON]:
    """Validate a `blocks` argument (list or JSON string) and return a copy with block_ids filled in."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ApiError("invalid_blocks_format", "[ERROR] blocks is not valid JSON") from None
    if not isinstance(raw, list):
        raise ApiError("invalid_blocks_format", "[ERROR] blocks must be an array")
    messages = []
    if len(raw) > limit:
        messages.append(f"[ERROR] no more than {limit} items allowed [json-pointer:{pointer}]")
    else:
        for index, block in enumerate(raw):
            try:
                _check_block(block, f"{pointer}/{index}")
            except _Invalid as invalid:
                messages.append(str(invalid))
        if not messages:
            messages.extend(_duplicate_ids(raw, pointer))
    if messages:
        raise ApiError("invalid_blocks", *messages)
    return with_block_ids(raw)


def with_block_ids(blocks: list[JSON]) -> list[JSON]:
    """Copy `blocks`, giving each block without a block_id a short deterministic one, as Slack does."""
    filled = copy.deepcopy(blocks)
    for index, block in enumerate(filled):
        if not block.get("block_id"):
            seed = json.dumps(block, sort_keys=True) + str(index)
            block["block_id"] = hashlib.sha256(seed.encode()).hexdigest()[:5]
    return filled


def check_message_content(text: str | None, blocks: list[JSON] | None, attachments: Any = None) -> None:
    """Answer no_text when there is nothing to show and msg_too_long when the text is over 40,000 chars."""
    if not text and not blocks and not attachments:
        raise ApiError("no_text")
    if text is not None and len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")


def parse_view(raw: Any) -> JSON:
    """Validate a `view` argument (dict or JSON string) and return it with block_ids filled in."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ApiError("invalid_arguments", "[ERROR] view is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ApiError("invalid_arguments", "[ERROR] missing required field: view")
    if raw.get("type") not in {"modal", "home"}:
        raise ApiError("invalid_arguments", "[ERROR] view.type must be modal or home [json-pointer:/view/type]")
    if raw.get("type") == "modal" and not raw.get("title"):
        raise ApiError("invalid_arguments", "[ERROR] missing required field: title [json-pointer:/view]")
    try:
        blocks = parse_blocks(raw.get("blocks") or [], limit=MAX_VIEW_BLOCKS, pointer="/view/blocks")
    except ApiError as error:
        raise ApiError("invalid_arguments", *error.messages) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            View(**{k: v for k, v in raw.items() if k != "blocks"}, blocks=blocks).to_dict()
    except SlackObjectFormationError as error:
        raise ApiError("invalid_arguments", f"[ERROR] {error} [json-pointer:/view]") from None
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        raise ApiError("invalid_arguments", f"[ERROR] {error} [json-pointer:/view]") from None
    view = copy.deepcopy(raw)
    view["blocks"] = blocks
    return view


def _check_block(block: Any, pointer: str) -> None:
    """Raise _Invalid unless `block` is a known block type that slack_sdk and our own checks accept."""
    if not isinstance(block, dict) or not block.get("type"):
        raise _Invalid("missing required field: type", pointer)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = Block.parse(copy.deepcopy(block))
            if parsed is None:
                raise _Invalid(f"unsupported type: {block['type']}", f"{pointer}/type")
            rendered = parsed.to_dict()
    except SlackObjectFormationError as error:
        raise _Invalid(str(error), pointer) from None
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        raise _Invalid(f"invalid block: {error}", pointer) from None
    if _has_unknown_element(rendered) or any(key in block and key not in rendered for key in ("accessory", "element")):
        raise _Invalid("unsupported element type", pointer)
    _check_limits(block, pointer)


def _check_limits(block: JSON, pointer: str) -> None:
    """The limits Slack enforces, checked on the raw JSON (slack_sdk misses some of them)."""
    if len(str(block.get("block_id") or "")) > MAX_ID:
        raise _Invalid(f"must be less than {MAX_ID + 1} characters", f"{pointer}/block_id")
    kind = block["type"]
    if kind == "section":
        if len(_text_of(block.get("text"))) > MAX_SECTION_TEXT:
            raise _Invalid(f"must be less than {MAX_SECTION_TEXT + 1} characters", f"{pointer}/text/text")
        fields = block.get("fields") or []
        if len(fields) > MAX_FIELDS:
            raise _Invalid(f"no more than {MAX_FIELDS} items allowed", f"{pointer}/fields")
        for index, item in enumerate(fields):
            if len(_text_of(item)) > MAX_FIELD_TEXT:
                raise _Invalid(f"must be less than {MAX_FIELD_TEXT + 1} characters", f"{pointer}/fields/{index}/text")
    if kind == "header" and len(_text_of(block.get("text"))) > MAX_HEADER_TEXT:
        raise _Invalid(f"must be less than {MAX_HEADER_TEXT + 1} characters", f"{pointer}/text/text")
    for path, node in _walk(block, pointer):
        if len(str(node.get("action_id") or "")) > MAX_ID:
            raise _Invalid(f"must be less than {MAX_ID + 1} characters", f"{path}/action_id")
        if node.get("type") == "button" and len(_text_of(node.get("text"))) > MAX_BUTTON_TEXT:
            raise _Invalid(f"must be less than {MAX_BUTTON_TEXT + 1} characters", f"{path}/text/text")
        for index, option in enumerate(node.get("options") or []):
            if isinstance(option, dict) and len(_text_of(option.get("text"))) > MAX_OPTION_TEXT:
                raise _Invalid(
                    f"must be less than {MAX_OPTION_TEXT + 1} characters", f"{path}/options/{index}/text/text"
                )


def _duplicate_ids(blocks: list[Any], pointer: str) -> list[str]:
    """Slack rejects repeated block_ids in one message and repeated action_ids in one block."""
    problems = []
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        block_id = block.get("block_id")
        if block_id:
            if block_id in seen:
                problems.append(f"[ERROR] duplicate block_id {block_id} [json-pointer:{pointer}/{index}]")
            seen.add(block_id)
        actions = [n.get("action_id") for _, n in _walk(block, "") if n.get("action_id") and n is not block]
        if len(actions) != len(set(actions)):
            problems.append(f"[ERROR] duplicate action_id in block [json-pointer:{pointer}/{index}]")
    return problems


def _walk(node: JSON, pointer: str) -> Iterator[tuple[str, JSON]]:
    """Yield every dict inside `node` (itself included) with its json-pointer."""
    yield pointer, node
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _walk(value, f"{pointer}/{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _walk(item, f"{pointer}/{key}/{index}")


def _text_of(obj: Any) -> str:
    """Return the text of a text object (or a bare string)."""
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj or "")


def _has_unknown_element(rendered: Any) -> bool:
    """slack_sdk turns list elements of unknown type into None; Slack rejects them."""
    if isinstance(rendered, dict):
        return any(_has_unknown_element(value) for value in rendered.values())
    if isinstance(rendered, list):
        return any(item is None or _has_unknown_element(item) for item in rendered)
    return False
