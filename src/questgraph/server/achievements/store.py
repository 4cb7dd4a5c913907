"""Achievements' tables (achievement_definitions, achievement_progress, media_files) in portable SQL,
run by SQLite and PostgreSQL alike (``db/core.py``).

The SQL is plain and portable on purpose: keyset conditions are written out (no row values), and progress
is replaced by compare-and-set (``compare_and_set_progress``), so a database shared by several server
processes stays correct without relying on the server's one-call-at-a-time execution.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from questgraph.server.achievements.records import AchievementDefinition, AchievementProgress, Keyset, MediaFile
from questgraph.server.db.core import Database

DEFINITION_COLUMNS = (
    "id, app_id, api_name, achievement_type, write_policy, target, bitfield_length, is_archived, is_secret, "
    "title, description, unlocked_description_override, title_locale_map, description_locale_map, "
    "unlocked_image, locked_image, created_us"
)
PROGRESS_COLUMNS = "id, definition_id, user_id, count, bits, unlocked, unlock_time, created_us"


def _definition(row: Sequence[Any]) -> AchievementDefinition:
    values = list(row)
    values[7], values[8] = bool(values[7]), bool(values[8])
    return AchievementDefinition(*values)


def _progress(row: Sequence[Any]) -> AchievementProgress:
    values = list(row)
    values[5] = bool(values[5])
    return AchievementProgress(*values)


def _keyset(prefix: str, after: Keyset | None, before: Keyset | None) -> tuple[str, list[Any], str]:
    """The WHERE part, its parameters and the ORDER BY of a keyset page (D21)."""
    if after is not None:
        return (f" AND ({prefix}created_us > ? OR ({prefix}created_us = ? AND {prefix}id > ?))",
                [after[0], after[0], after[1]], f" ORDER BY {prefix}created_us, {prefix}id")
    if before is not None:
        return (f" AND ({prefix}created_us < ? OR ({prefix}created_us = ? AND {prefix}id < ?))",
                [before[0], before[0], before[1]], f" ORDER BY {prefix}created_us DESC, {prefix}id DESC")
    return "", [], f" ORDER BY {prefix}created_us, {prefix}id"


class AchievementStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- definitions ------------------------------------------------------------------------------
    def insert_achievement(self, definition: AchievementDefinition) -> None:
        d = definition
        self.db.run(
            f"INSERT INTO achievement_definitions ({DEFINITION_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (d.id, d.app_id, d.api_name, d.achievement_type, d.write_policy, d.target, d.bitfield_length,
             int(d.is_archived), int(d.is_secret), d.title, d.description, d.unlocked_description_override,
             d.title_locale_map, d.description_locale_map, d.unlocked_image, d.locked_image, d.created_us),
        )

    def update_achievement(self, definition: AchievementDefinition) -> None:
        d = definition
        self.db.run(
            "UPDATE achievement_definitions SET achievement_type = ?, write_policy = ?, target = ?, "
            "bitfield_length = ?, is_archived = ?, is_secret = ?, title = ?, description = ?, "
            "unlocked_description_override = ?, title_locale_map = ?, description_locale_map = ?, "
            "unlocked_image = ?, locked_image = ? WHERE id = ?",
            (d.achievement_type, d.write_policy, d.target, d.bitfield_length, int(d.is_archived),
             int(d.is_secret), d.title, d.description, d.unlocked_description_override, d.title_locale_map,
             d.description_locale_map, d.unlocked_image, d.locked_image, d.id),
        )

    def get_achievement(self, definition_id: int) -> AchievementDefinition | None:
        row = self.db.one(f"SELECT {DEFINITION_COLUMNS} FROM achievement_definitions WHERE id = ?", (definition_id,))
        return None if row is None else _definition(row)

    def get_achievements(self, definition_ids: Iterable[int]) -> dict[int, AchievementDefinition]:
        found: dict[int, AchievementDefinition] = {}
        for condition, params in self.db.ids_in("id", list(set(definition_ids))):
            for row in self.db.all(f"SELECT {DEFINITION_COLUMNS} FROM achievement_definitions WHERE {condition}",
                                   params):
                found[row[0]] = _definition(row)
        return found

    def find_achievement(self, app_id: int, api_name: str) -> AchievementDefinition | None:
        row = self.db.one(f"SELECT {DEFINITION_COLUMNS} FROM achievement_definitions WHERE app_id = ? AND api_name = ?",
                          (app_id, api_name))
        return None if row is None else _definition(row)

    def list_achievements(self, app_id: int, *, api_names: Sequence[str] | None, include_archived: bool,
                          after: Keyset | None = None, before: Keyset | None = None,
                          limit: int = 100) -> list[AchievementDefinition]:
        """In (created_us, id) order; with ``before``, the rows just before it in *descending* order."""
        sql = f"SELECT {DEFINITION_COLUMNS} FROM achievement_definitions WHERE app_id = ?"
        params: list[Any] = [app_id]
        if not include_archived:
            sql += " AND is_archived = 0"
        if api_names is not None:
            if not api_names:
                return []
            sql += f" AND api_name IN ({', '.join('?' for _ in api_names)})"
            params.extend(api_names)
        where, extra, order = _keyset("", after, before)
        rows = self.db.all(sql + where + order + " LIMIT ?", [*params, *extra, limit])
        return [_definition(r) for r in rows]

    # --- progress ---------------------------------------------------------------------------------
    def find_progress(self, definition_id: int, user_id: int) -> AchievementProgress | None:
        row = self.db.one(f"SELECT {PROGRESS_COLUMNS} FROM achievement_progress "
                          "WHERE definition_id = ? AND user_id = ?", (definition_id, user_id))
        return None if row is None else _progress(row)

    def insert_progress_if_absent(self, progress: AchievementProgress) -> bool:
        """Insert the row unless the user already has one for that definition; True when inserted."""
        p = progress
        cursor = self.db.run(
            f"INSERT INTO achievement_progress ({PROGRESS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (definition_id, user_id) DO NOTHING",
            (p.id, p.definition_id, p.user_id, p.count, p.bits, int(p.unlocked), p.unlock_time, p.created_us),
        )
        return cursor.rowcount == 1

    def compare_and_set_progress(self, old: AchievementProgress, new: AchievementProgress) -> bool:
        """Replace ``old`` by ``new`` only if the stored row still equals ``old``; True when replaced."""
        cursor = self.db.run(
            "UPDATE achievement_progress SET count = ?, bits = ?, unlocked = ?, unlock_time = ? "
            "WHERE id = ? AND count = ? AND bits = ? AND unlocked = ?",
            (new.count, new.bits, int(new.unlocked), new.unlock_time, old.id, old.count, old.bits, int(old.unlocked)),
        )
        return cursor.rowcount == 1

    def list_progress(self, user_id: int, *, definition_ids: Sequence[int] | None, include_archived: bool,
                      after: Keyset | None = None, before: Keyset | None = None,
                      limit: int = 100) -> list[AchievementProgress]:
        """As ``list_achievements``; rows of archived definitions only with ``include_archived``."""
        columns = ", ".join(f"p.{c.strip()}" for c in PROGRESS_COLUMNS.split(","))
        sql = (f"SELECT {columns} FROM achievement_progress p "
               "JOIN achievement_definitions d ON d.id = p.definition_id WHERE p.user_id = ?")
        params: list[Any] = [user_id]
        if not include_archived:
            sql += " AND d.is_archived = 0"
        if definition_ids is not None:
            if not definition_ids:
                return []
            sql += f" AND p.definition_id IN ({', '.join('?' for _ in definition_ids)})"
            params.extend(definition_ids)
        where, extra, order = _keyset("p.", after, before)
        rows = self.db.all(sql + where + order + " LIMIT ?", [*params, *extra, limit])
        return [_progress(r) for r in rows]

    def delete_progress(self, definition_id: int, user_id: int) -> bool:
        """Delete one user's progress on one achievement, and its object id; True when there was a row."""
        with self.db.transaction():
            self.db.run("DELETE FROM objects WHERE id IN (SELECT id FROM achievement_progress WHERE definition_id = ? "
                        "AND user_id = ?)", (definition_id, user_id))
            return bool(self.db.run("DELETE FROM achievement_progress WHERE definition_id = ? AND user_id = ?",
                                    (definition_id, user_id)).rowcount)

    def delete_progress_of_user(self, user_id: int) -> int:
        """Delete every progress row of the user, and their object ids; the number deleted."""
        with self.db.transaction():
            self.db.run(
                "DELETE FROM objects WHERE id IN (SELECT id FROM achievement_progress WHERE user_id = ?)", (user_id,)
            )
            return self.db.run("DELETE FROM achievement_progress WHERE user_id = ?", (user_id,)).rowcount

    # --- image files ------------------------------------------------------------------------------
    def insert_media(self, media: MediaFile) -> None:
        self.db.run("INSERT INTO media_files (key, app_id, content_type, data, created_at) VALUES (?, ?, ?, ?, ?)",
                    (media.key, media.app_id, media.content_type, media.data, media.created_at))

    def get_media(self, key: str) -> MediaFile | None:
        row = self.db.one("SELECT key, app_id, content_type, data, created_at FROM media_files WHERE key = ?", (key,))
        return None if row is None else MediaFile(row[0], row[1], row[2], bytes(row[3]), row[4])

    def delete_media(self, key: str) -> None:
        self.db.run("DELETE FROM media_files WHERE key = ?", (key,))
