"""Federation's rows as its store hands them out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FederatedUser:
    id: int  # the app-scoped user id too: a federated user is one of the app's users
    app_id: int
    persistent_id: str
    display_name: str
    name_number: int
    created_at: int

    @property
    def unique_name(self) -> str:
        return f"{self.display_name}#{self.name_number}"
