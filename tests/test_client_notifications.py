"""User notifications (D37) from the Python client (sync and async), the admin client, and the
``questgraph_notifications`` fixture of the pytest plugin."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from questgraph.client import (
    AdminClient,
    AsyncAdminClient,
    AsyncClient,
    Client,
    InvalidParameter,
    NotifRequest,
    PermissionDenied,
    SentNotification,
)
from questgraph.testing import QuestgraphServer
from tests.conftest import ADA_ID, ADA_TOKEN, ADMIN_KEY, APP_ID, APP_SECRET, GRACE_ID, RIVAL_ID, RunningServer


def test_sync_client_triggers_and_admin_lists(qg: RunningServer) -> None:
    with AdminClient(qg.url, admin_key=ADMIN_KEY) as admin, \
            Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        events = admin.create_notif_request(APP_ID, "EVENTS", name="Level up")
        social = admin.create_notif_request(APP_ID, "SOCIAL", id="7000000000000002")
        assert isinstance(events, NotifRequest) and events.category == "EVENTS" and events.name == "Level up"
        assert social.id == "7000000000000002"
        assert sorted(r.id for r in admin.notif_requests(APP_ID)) == sorted([events.id, social.id], key=int)
        assert client.notifications.trigger(events.id, [ADA_ID, int(GRACE_ID)]) is None
        with client.as_user(ADA_TOKEN) as ada:
            ada.notifications.trigger(social.id, [GRACE_ID])
        with pytest.raises(PermissionDenied):
            client.notifications.trigger(social.id, [GRACE_ID])  # Social needs a user token
        with pytest.raises(InvalidParameter, match=RIVAL_ID):
            client.notifications.trigger(events.id, [RIVAL_ID])
        rows = admin.notifications(APP_ID)
        assert [(r.request_id, r.recipient_ids, r.sender_id) for r in rows] == [
            (events.id, (ADA_ID, GRACE_ID), None), (social.id, (GRACE_ID,), ADA_ID)]
        assert all(isinstance(r, SentNotification) for r in rows)


def test_async_client_triggers_and_admin_lists(qg: RunningServer) -> None:
    async def scenario() -> list[SentNotification]:
        async with AsyncAdminClient(qg.url, admin_key=ADMIN_KEY) as admin, \
                AsyncClient(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
            request = await admin.create_notif_request(APP_ID, "PROMOTION")
            await client.notifications.trigger(request.id, [GRACE_ID])
            return await admin.notifications(APP_ID)

    (row,) = asyncio.run(scenario())
    assert row.app_id == APP_ID and row.recipient_ids == (GRACE_ID,) and row.sender_id is None


def test_questgraph_notifications_fixture(questgraph: QuestgraphServer,
                                          questgraph_notifications: Callable[..., list[SentNotification]]) -> None:
    """The plugin's fixture shows what the test's server was asked to send."""
    assert questgraph_notifications() == []
    request = questgraph.admin.create_notif_request("1234757621998335", "EVENTS")
    questgraph.client().notifications.trigger(request.id, [questgraph.user_id("grace")])
    (row,) = questgraph_notifications()
    assert row.request_id == request.id and row.recipient_ids == (questgraph.user_id("grace"),)


def test_user_presence_fields_by_name(qg: RunningServer) -> None:
    """D10: the old docs' User fields are not in the default request, and are filled when named."""
    with Client(app_id=APP_ID, app_secret=APP_SECRET, base_url=qg.url) as client:
        default = client.users.get(ADA_ID)
        assert default.presence is None and default.presence_status is None and default.profile_url_small is None
        named = client.users.get(ADA_ID, fields=("id", "profile_url", "presence", "presence_status",
                                                 "profile_url_small"))
        assert (named.presence, named.presence_status) == ("", "OFFLINE")
        assert named.profile_url_small == named.profile_url
