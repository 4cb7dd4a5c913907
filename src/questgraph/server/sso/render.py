"""The HTML of the SSO page (D30, D35): Jinja2 templates in ``sso/templates/``, autoescaped, so every value a
page shows is escaped (``&``, ``<``, ``>``, ``"`` and ``'``); nothing here builds HTML by hand.

Accessibility: one ``h1`` per page, a ``main`` landmark, labels on every control, a fieldset with a legend
for the list of test users, error messages in ``role="alert"`` boxes tied to the fields, visible focus
rings, colours with at least 4.5:1 contrast (sso.css), and no JavaScript anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from questgraph.server.identity.records import OrgMember, Person

AGE_LABELS = {"CH": "under 13", "TN": "teen", "AD": "adult"}


@dataclass(frozen=True)
class FormContext:
    """What every form on the page carries: the checked request and the session's CSRF token."""

    organization_id: str
    redirect_uri: str
    csrf: str


def host_of(uri: str) -> str:
    try:
        return urlsplit(uri).hostname or uri
    except ValueError:
        return uri


def _environment() -> Environment:
    # Built once, at import: templates are compiled on first use and kept (no reload checks per request).
    # StrictUndefined: a name missing from a page's context is an error in the tests, not a blank on the page.
    env = Environment(loader=PackageLoader("questgraph.server.sso", "templates"),
                      autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.filters["host"] = host_of
    return env


_ENV = _environment()


def _render(name: str, title: str, emulator: bool, trace_id: str | None = None, **context: object) -> str:
    return _ENV.get_template(name).render(title=title, emulator=emulator, trace_id=trace_id, **context)


def sign_in_test_users(org_name: str, members: list[OrgMember], form: FormContext, error: str | None,
                       emulator: bool) -> str:
    return _render("sign_in_test_users.html", "Sign in", emulator, org_name=org_name, members=members, form=form,
                   error=error, age_labels=AGE_LABELS)


def sign_in_password(org_name: str, form: FormContext, error: str | None, alias: str, emulator: bool) -> str:
    return _render("sign_in_password.html", "Sign in", emulator, org_name=org_name, form=form, error=error,
                   alias=alias)


def consent(org_name: str, person: Person, form: FormContext, emulator: bool) -> str:
    return _render("consent.html", "Link your account", emulator, org_name=org_name, person=person, form=form)


def refused_child(org_name: str, form: FormContext, emulator: bool) -> str:
    return _render("refused_child.html", "This account can't be linked", emulator, org_name=org_name, form=form)


def cancelled(org_name: str, redirect_uri: str, emulator: bool) -> str:
    return _render("cancelled.html", "Account not linked", emulator, org_name=org_name, redirect_uri=redirect_uri)


def problem(title: str, message: str, emulator: bool, trace_id: str | None, retry_url: str | None = None) -> str:
    return _render("problem.html", title, emulator, trace_id, message=message, retry_url=retry_url)
