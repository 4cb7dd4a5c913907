"""The SSO page at ``/sso/`` (D30, D31, D35): sign-in, consent, and the redirect with the base64 JSON fragment.

Outside the Graph API: answers are HTML (never a framework page, never a stack trace), and the only
redirects are to our own ``/sso/`` page or, after consent, to a URI registered for the organization,
written as it was registered (never the request's spelling of it).

Routes: ``GET /sso/`` (the page), ``POST /sso/login``, ``POST /sso/consent``, ``POST /sso/logout``,
``GET /sso/static/sso.css``. Every POST needs the session cookie and the session's CSRF token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlencode

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from questgraph.server.db import DATA_ERRORS, DATABASE_ERRORS
from questgraph.server.errors import InvalidParameter
from questgraph.server.graph.transport import CLIENT_CLOSED, form_fields, public_base_url
from questgraph.server.identity.records import Person
from questgraph.server.settings import Settings
from questgraph.server.sso import render
from questgraph.server.sso.service import LinkRefused, LinkRequest, SsoService
from questgraph.server.sso.urls import cookie_path, own_links, own_url, sso_base_url

log = logging.getLogger("questgraph.sso")
PREFIX = "/sso"
COOKIE = "qg_sso_session"
MAX_FORM_BYTES = 64 * 1024
_SECURITY_HEADERS = {
    "cache-control": "no-store",
    "x-frame-options": "DENY",  # a consent page must never be framed (clickjacking)
    # No form-action: browsers apply it to the redirect after consent, which goes to the studio's site.
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def _css() -> bytes:
    return (resources.files("questgraph.server.sso") / "static" / "sso.css").read_bytes()


@dataclass
class _Outcome:
    """What a page handler decided, built into a response on the event loop."""

    status: int
    html: str | None = None
    location: str | None = None
    cookie: str | None = None  # a new session value to set
    clear_cookie: bool = False


class SsoPages:
    def __init__(self, service: SsoService, settings: Settings, limiter: anyio.CapacityLimiter,
                 ready: threading.Event) -> None:
        self.service = service
        self.settings = settings
        self.limiter = limiter
        self.ready = ready
        self.css = _css()

    @staticmethod
    def handles(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    async def respond(self, request: Request, trace_id: str) -> Response:
        """Any request under /sso: always an HTML (or CSS) answer; errors are pages, never a 500 body."""
        emulator = self.settings.emulator
        try:
            path = request.url.path.rstrip("/") or "/"
            method = request.method.upper()
            if path == f"{PREFIX}/static/sso.css" and method in ("GET", "HEAD"):
                return Response(self.css, media_type="text/css",
                                headers={"cache-control": "public, max-age=3600", "x-content-type-options": "nosniff"})
            handler = self._route(path, method)
            if handler is None:
                known = path in (PREFIX, f"{PREFIX}/login", f"{PREFIX}/consent", f"{PREFIX}/logout")
                status = 405 if known else 404
                title = "Method not allowed" if known else "Page not found"
                message = ("This page does not accept that kind of request." if known
                           else "There is no such page. To link an account, follow the link the app gave you.")
                return self._html(status, render.problem(title, message, emulator, trace_id), trace_id)
            if not self.ready.is_set():
                return self._html(503, render.problem("Starting up", "The service is starting. Try again in a "
                                                      "few seconds.", emulator, trace_id), trace_id)
            # The fields are checked as Graph parameters are (D2): a NUL or invalid UTF-8 is a 400 page
            # naming the field, on both backends, never a value handed to the database.
            values = dict(form_fields(request, await self._body(request) if method == "POST" else b"").items())
            cookie = request.cookies.get(COOKIE)
            client = request.client.host if request.client else "unknown"

            def run() -> _Outcome:
                try:
                    return handler(values, cookie, client)
                except LinkRefused as refused:
                    return _Outcome(refused.status, render.problem(refused.title, refused.message, emulator,
                                                                   trace_id))

            outcome = await anyio.to_thread.run_sync(run, limiter=self.limiter)
            return self._build(request, outcome, trace_id)
        except _FormTooLarge:
            return self._html(413, render.problem("Request too large", "The form sent is too large.", emulator,
                                                  trace_id), trace_id)
        except InvalidParameter as refused:
            return self._html(400, render.problem("This request cannot be read", refused.message, emulator,
                                                  trace_id), trace_id)
        except ClientDisconnect:  # no answer can reach it; nobody's error (D7)
            log.info("the client closed the connection before its request body had arrived (trace %s)", trace_id)
            return Response(status_code=CLIENT_CLOSED)
        except DATA_ERRORS as exc:  # a value the parameter check missed: retrying cannot help (D7)
            log.warning("database refused a value on the SSO page (trace %s): %s", trace_id, type(exc).__name__)
            return self._html(400, render.problem("This request cannot be read", "A value sent cannot be stored. "
                                                  "Nothing was changed.", emulator, trace_id), trace_id)
        except DATABASE_ERRORS as exc:
            log.error("database error on the SSO page (trace %s): %s", trace_id, type(exc).__name__)
            return self._html(503, render.problem("Temporarily unavailable", "The service is temporarily "
                                                  "unavailable. Try again shortly.", emulator, trace_id), trace_id)
        except Exception:
            log.exception("internal error on the SSO page (trace %s)", trace_id)
            return self._html(500, render.problem("Something went wrong", "An unexpected error happened. Nothing "
                                                  "was shared. Try again.", emulator, trace_id), trace_id)

    # --- plumbing ---------------------------------------------------------------------------------
    def _route(self, path: str, method: str) -> Callable[[dict[str, str], str | None, str], _Outcome] | None:
        table: dict[tuple[str, str], Callable[[dict[str, str], str | None, str], _Outcome]] = {
            (PREFIX, "GET"): self.page,
            (PREFIX, "HEAD"): self.page,
            (f"{PREFIX}/login", "POST"): self.login,
            (f"{PREFIX}/consent", "POST"): self.consent,
            (f"{PREFIX}/logout", "POST"): self.logout,
        }
        return table.get((path, method))

    async def _body(self, request: Request) -> bytes:
        size = 0
        chunks: list[bytes] = []
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                raise _FormTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    def _html(self, status: int, html: str, trace_id: str, headers: dict[str, str] | None = None) -> Response:
        all_headers = {**_SECURITY_HEADERS, "x-fb-trace-id": trace_id, **(headers or {})}
        return Response(own_links(html, self.settings.sso_public_url), status_code=status,
                        media_type="text/html; charset=utf-8", headers=all_headers)

    def _build(self, request: Request, outcome: _Outcome, trace_id: str) -> Response:
        if outcome.location is not None:
            response = Response(status_code=303, headers={**_SECURITY_HEADERS, "x-fb-trace-id": trace_id,
                                                          "location": own_url(outcome.location,
                                                                              self.settings.sso_public_url)})
        else:
            response = self._html(outcome.status, outcome.html or "", trace_id)
        base = sso_base_url(self.settings, public_base_url(request, self.settings.public_url,
                                                           self.settings.trust_forwarded))
        secure, path = base.startswith("https:"), cookie_path(self.settings.sso_public_url)
        if outcome.cookie is not None:
            response.set_cookie(COOKIE, outcome.cookie, max_age=3600, path=path, secure=secure, httponly=True,
                                samesite="lax")
        elif outcome.clear_cookie:
            response.delete_cookie(COOKIE, path=path, secure=secure, httponly=True, samesite="lax")
        return response

    # --- pages ------------------------------------------------------------------------------------
    def _form_context(self, values: dict[str, str], session_value: str) -> render.FormContext:
        return render.FormContext(values.get("organization_id", "").strip(), values.get("redirect_uri", ""),
                                  self.service.csrf_token(session_value))

    @staticmethod
    def _page_url(values: dict[str, str]) -> str:
        """Our own page again, for the same request (a relative URL: it can only lead here)."""
        keep = [(k, values[k]) for k in ("redirect_uri", "organization_id", "response_type") if k in values]
        return f"{PREFIX}/?{urlencode(keep)}"

    def page(self, values: dict[str, str], cookie: str | None, client: str) -> _Outcome:
        """GET /sso/: check the request (D30), then sign-in, or consent once signed in."""
        link = self.service.check_request(values.get("organization_id"), values.get("redirect_uri"))
        session = self.service.session(cookie)
        new_cookie = None
        if session is None:
            cookie = new_cookie = self.service.new_session(None)
        assert cookie is not None
        form = self._form_context(values, cookie)
        if session is None or session.person_id is None:
            return _Outcome(200, self._sign_in(link, form, None, ""), cookie=new_cookie)
        return self._consent_page(link, self.service.person(session.person_id), form)

    def _sign_in(self, link: LinkRequest, form: render.FormContext, error: str | None, alias: str) -> str:
        if self.settings.emulator:
            return render.sign_in_test_users(link.org.name, self.service.test_users(link.org.id), form, error,
                                             True)
        return render.sign_in_password(link.org.name, form, error, alias, False)

    def _consent_page(self, link: LinkRequest, person: Person, form: render.FormContext) -> _Outcome:
        if person.age_category == "CH":  # D35: a clear page, and no redirect
            return _Outcome(403, render.refused_child(link.org.name, form, self.settings.emulator))
        return _Outcome(200, render.consent(link.org.name, person, form, self.settings.emulator))

    def _check_post(self, values: dict[str, str], cookie: str | None) -> tuple[LinkRequest, str]:
        link = self.service.check_request(values.get("organization_id"), values.get("redirect_uri"))
        if cookie is None or not self.service.check_csrf(cookie, values.get("csrf_token")):
            raise _StaleForm(self._page_url(values))
        return link, cookie

    def login(self, values: dict[str, str], cookie: str | None, client: str) -> _Outcome:
        try:
            link, cookie = self._check_post(values, cookie)
        except _StaleForm as stale:
            return self._stale(stale.retry_url)
        try:
            if self.settings.emulator:
                person = self.service.sign_in_test_user(link.org.id, values.get("org_scoped_id"))
            else:
                person = self.service.sign_in_password(values.get("alias"), values.get("password"), client)
        except LinkRefused as refused:
            form = self._form_context(values, cookie)
            return _Outcome(refused.status, self._sign_in(link, form, refused.message, values.get("alias", "")))
        # A new session at sign-in: a session id planted before sign-in is worth nothing after it.
        self.service.end_session(cookie)
        return _Outcome(303, location=self._page_url(values), cookie=self.service.new_session(person.id))

    def consent(self, values: dict[str, str], cookie: str | None, client: str) -> _Outcome:
        try:
            link, cookie = self._check_post(values, cookie)
        except _StaleForm as stale:
            return self._stale(stale.retry_url)
        session = self.service.session(cookie)
        if session is None or session.person_id is None:
            return _Outcome(303, location=self._page_url(values))
        person = self.service.person(session.person_id)
        decision = values.get("decision", "").strip().lower()
        if decision == "cancel":
            return _Outcome(200, render.cancelled(link.org.name, link.redirect_uri, self.settings.emulator))
        if decision != "link":
            return _Outcome(400, render.problem("Choose an option", "Choose Link account or Cancel.",
                                                self.settings.emulator, None, self._page_url(values)))
        if person.age_category == "CH":
            return self._consent_page(link, person, self._form_context(values, cookie))
        return _Outcome(303, location=self.service.issue_code(link, person))

    def logout(self, values: dict[str, str], cookie: str | None, client: str) -> _Outcome:
        try:
            _, cookie = self._check_post(values, cookie)
        except _StaleForm as stale:
            return self._stale(stale.retry_url)
        self.service.end_session(cookie)
        return _Outcome(303, location=self._page_url(values), clear_cookie=True)

    def _stale(self, retry_url: str) -> _Outcome:
        return _Outcome(403, render.problem(
            "This form has expired", "The form was not sent from this sign-in session (it expired, or another "
            "site sent it). Nothing was changed. Start again.", self.settings.emulator, None, retry_url))


class _FormTooLarge(Exception):
    pass


class _StaleForm(Exception):
    def __init__(self, retry_url: str) -> None:
        super().__init__(retry_url)
        self.retry_url = retry_url
