"""HTTP handlers of the achievement endpoints (graph-api.md §2, D23–D26): parse, call the service, render."""

from __future__ import annotations

import json
from typing import Any

from questgraph.server.achievements.records import Keyset
from questgraph.server.achievements.service import (
    BITFIELD,
    DEFAULT_LOCKED_ICON,
    DEFAULT_UNLOCKED_ICON,
    MAX_BITFIELD_LENGTH,
    MAX_TEXT,
    SIMPLE,
    TYPES,
    WRITE_POLICIES,
    AchievementService,
    DefinitionChange,
    Image,
    Page,
    ProgressWrite,
    ShownDefinition,
    ShownProgress,
    check_image,
    check_locale_map,
)
from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.cursors import ACHIEVEMENTS_PAGE, cursor_param, decode_pair_cursor, encode_pair_cursor
from questgraph.server.graph.fields import Field, NodeType
from questgraph.server.graph.params import Params, parse_id
from questgraph.server.graph.request import GraphRequest, require_param

MEDIA_PREFIX = "/_media/"
IMAGE_PARAMS = ("unlocked_image_file", "locked_image_file")


def media_uri(base_url: str, key: str) -> str:
    return f"{base_url}{MEDIA_PREFIX}{key}"


def _revealed(get: Any) -> Any:
    """A field of a secret achievement that the viewing user has not unlocked is left out (§2)."""
    return lambda s: get(s.definition) if s.reveal else None


def _locale_map(text: str | None) -> dict[str, str] | None:
    return None if text is None else dict(json.loads(text))


def definition_node(base_url: str) -> NodeType:
    def unlocked_uri(s: ShownDefinition) -> str | None:
        if not s.reveal:
            return None
        return media_uri(base_url, s.definition.unlocked_image or DEFAULT_UNLOCKED_ICON)

    def locked_uri(s: ShownDefinition) -> str | None:
        if not s.reveal:
            return None
        # Meta greys the unlocked icon; we serve the unlocked upload itself (docs/fidelity.md).
        key = s.definition.locked_image or s.definition.unlocked_image or DEFAULT_LOCKED_ICON
        return media_uri(base_url, key)

    return NodeType("AchievementDefinition", {
        "id": Field(lambda s: str(s.definition.id)),
        "api_name": Field(lambda s: s.definition.api_name),
        "achievement_type": Field(lambda s: s.definition.achievement_type),
        "achievement_write_policy": Field(lambda s: s.definition.write_policy),
        "target": Field(lambda s: None if s.definition.achievement_type == SIMPLE else s.definition.target),
        "bitfield_length": Field(
            lambda s: s.definition.bitfield_length if s.definition.achievement_type == BITFIELD else None),
        "is_archived": Field(lambda s: s.definition.is_archived),
        "is_secret": Field(lambda s: s.definition.is_secret),
        "title": Field(_revealed(lambda d: d.title)),
        "description": Field(_revealed(lambda d: d.description)),
        "unlocked_description_override": Field(_revealed(lambda d: d.unlocked_description_override)),
        "title_locale_map": Field(_revealed(lambda d: _locale_map(d.title_locale_map))),
        "description_locale_map": Field(_revealed(lambda d: _locale_map(d.description_locale_map))),
        "locked_image_uri": Field(locked_uri),
        "unlocked_image_uri": Field(unlocked_uri),
    })


def progress_node(base_url: str) -> NodeType:
    def hidden(s: ShownProgress) -> bool:
        return not s.definition.reveal

    return NodeType("AchievementProgress", {
        "id": Field(lambda s: str(s.progress.id)),
        "definition": Field(lambda s: s.definition, definition_node(base_url)),
        "api_name": Field(lambda s: s.definition.definition.api_name),
        "target": Field(lambda s: None if s.definition.definition.achievement_type == SIMPLE
                        else s.definition.definition.target),
        "is_unlocked": Field(lambda s: s.progress.unlocked),
        "unlock_time": Field(lambda s: s.progress.unlock_time or 0),  # 0 while locked, as the SDK reports
        "count_progress": Field(lambda s: None if hidden(s) else s.progress.count),
        "bitfield_progress": Field(lambda s: None if hidden(s) else s.progress.bits),
    })


def name_list(params: Params, key: str) -> list[str] | None:
    """api_names as a JSON array (``["A","B"]``, as Meta's examples), a comma list, or repeated; None when
    absent or empty (all)."""
    return params.string_list(key) or None


def _page_args(params: Params) -> tuple[int, Keyset | None, Keyset | None]:
    return (ACHIEVEMENTS_PAGE.limit(params), cursor_param(params, "after", decode_pair_cursor),
            cursor_param(params, "before", decode_pair_cursor))


def _render_page(request: GraphRequest, page: Page, node: NodeType) -> dict[str, Any]:
    selection = request.fields(node)
    body: dict[str, Any] = {"data": [node.render(row, selection) for row in page.rows]}
    if page.keys:
        body["paging"] = request.paging(encode_pair_cursor(page.keys[0]), encode_pair_cursor(page.keys[-1]),
                                        page.has_previous, page.has_next)
    return body


def _text(params: Params, key: str) -> str | None:
    value = params.text(key, max_length=MAX_TEXT)
    return None if value is None else value.strip()


def _image(request: GraphRequest, key: str) -> Image | None:
    upload = request.files.get(key)
    if upload is None:
        if request.params.get(key):
            raise InvalidParameter(f"Param {key} must be a file sent as multipart/form-data (curl -F {key}=@icon.png)")
        return None
    upload.file.seek(0)
    return check_image(key, upload.file.read(), getattr(upload, "content_type", None))


def achievement_definitions_create_or_update(service: AchievementService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    title_map = _text(params, "title_locale_map")
    description_map = _text(params, "description_locale_map")
    change = DefinitionChange(
        achievement_type=params.enum("achievement_type", TYPES),
        write_policy=params.enum("achievement_write_policy", WRITE_POLICIES),
        target=params.int64("target", minimum=1),
        bitfield_length=params.int64("bitfield_length", minimum=1, maximum=MAX_BITFIELD_LENGTH),
        is_archived=params.boolean("is_archived") if params.get("is_archived") else None,
        is_secret=params.boolean("is_secret") if params.get("is_secret") else None,
        title=_text(params, "title") or None,
        description=_text(params, "description"),
        unlocked_description_override=_text(params, "unlocked_description_override"),
        title_locale_map=check_locale_map("title_locale_map", title_map) if title_map else None,
        description_locale_map=check_locale_map("description_locale_map", description_map)
        if description_map else None,
        unlocked_image=_image(request, "unlocked_image_file"),
        locked_image=_image(request, "locked_image_file"),
    )
    definition = service.upsert(request.caller, request.path_id("app_id"), require_param(request, "api_name"),
                                change)
    return {"id": str(definition.id)}


def achievement_definitions(service: AchievementService, request: GraphRequest) -> dict[str, Any]:
    params = request.params
    node = definition_node(request.base_url)
    request.fields(node)  # an unknown field is a 400 before any work (D5)
    limit, after, before = _page_args(params)
    page = service.definitions(request.caller, request.path_id("app_id"), name_list(params, "api_names"),
                               params.boolean("include_archived"), limit, after, before)
    return _render_page(request, page, node)


def achievements_write(service: AchievementService, request: GraphRequest) -> dict[str, Any]:
    """``POST /{user_id}/achievements``: add to a user's progress on one achievement."""
    params = request.params
    api_name = require_param(request, "api_name")
    bits_key = "add_bits" if params.get("add_bits") not in (None, "") else "add_fields"  # SDK name (D23)
    bits = params.text(bits_key, max_length=4096)
    write = ProgressWrite(
        add_count=params.int64("add_count", minimum=1),
        add_bits=None if bits is None or bits == "" else bits.strip(),
        force_unlock=params.boolean("force_unlock"),
    )
    user_id = request.path_id("user_id")
    just_unlocked = service.write(request.caller, user_id, api_name, write)
    return {"id": str(user_id), "api_name": api_name, "just_unlocked": just_unlocked}  # D24


def achievements(service: AchievementService, request: GraphRequest) -> dict[str, Any]:
    """``GET /{user_id}/achievements``: a user's progress."""
    params = request.params
    node = progress_node(request.base_url)
    request.fields(node)
    limit, after, before = _page_args(params)
    page = service.progress(request.caller, request.path_id("user_id"), name_list(params, "api_names"),
                            params.boolean("include_archived"), limit, after, before)
    return _render_page(request, page, node)


def achievement_remove_all(service: AchievementService, request: GraphRequest) -> dict[str, Any]:
    user_id = parse_id("user_id", require_param(request, "user_id"))
    service.remove_all(request.caller, user_id)
    return {"success": True}


def achievement_definition_get(service: AchievementService, request: GraphRequest,
                               definition_id: int) -> dict[str, Any]:
    node = definition_node(request.base_url)
    selection = request.fields(node)
    return node.render(service.definition_by_id(request.caller, definition_id), selection)
