"""The HTML of the SSO page (D30, D35): plain string templates, every value escaped with ``html.escape``.

Accessibility: one ``h1`` per page, a ``main`` landmark, labels on every control, a fieldset with a legend
for the list of test users, error messages in ``role="alert"`` boxes tied to the fields, visible focus
rings, colours with at least 4.5:1 contrast (sso.css), and no JavaScript anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from questgraph.server.identity.records import OrgMember, Person

AGE_LABELS = {"CH": "under 13", "TN": "teen", "AD": "adult"}


def e(value: object) -> str:
    return escape(str(value), quote=True)


@dataclass(frozen=True)
class FormContext:
    """What every form on the page carries: the checked request and the session's CSRF token."""

    organization_id: str
    redirect_uri: str
    csrf: str

    def hidden(self) -> str:
        return (f'<input type="hidden" name="organization_id" value="{e(self.organization_id)}">'
                f'<input type="hidden" name="redirect_uri" value="{e(self.redirect_uri)}">'
                f'<input type="hidden" name="csrf_token" value="{e(self.csrf)}">')


def host_of(uri: str) -> str:
    try:
        return urlsplit(uri).hostname or uri
    except ValueError:
        return uri


def layout(title: str, body: str, *, emulator: bool, trace_id: str | None = None) -> str:
    badge = '<span class="badge">Emulator</span>' if emulator else ""
    trace = f'<p class="trace">Reference: <code>{e(trace_id)}</code></p>' if trace_id else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{e(title)} · questgraph accounts</title>
<link rel="stylesheet" href="/sso/static/sso.css">
</head>
<body>
<header class="top"><span class="brand" aria-label="questgraph accounts"><span class="logo" aria-hidden="true">
</span>questgraph <span class="brand-sub">accounts</span></span>{badge}</header>
<main id="main" class="card">
{body}
</main>
<footer class="foot">{trace}<p>questgraph · a self-hosted account-linking service for Meta Quest apps</p></footer>
</body>
</html>
"""


def sign_in_test_users(org_name: str, members: list[OrgMember], form: FormContext, error: str | None,
                       emulator: bool) -> str:
    alert = _alert(error, "picker-error")
    if members:
        items = []
        for i, member in enumerate(members):
            person = member.person
            first = " required" if i == 0 else ""
            checked = " checked" if i == 0 else ""
            items.append(
                f'<li><input type="radio" id="user-{i}" name="org_scoped_id" value="{member.org_scoped_id}"'
                f'{first}{checked}><label for="user-{i}"><span class="avatar" aria-hidden="true">'
                f'{e(person.alias[:1].upper())}</span><span class="who"><span class="name">{e(person.display_name)}'
                f'</span><span class="meta">@{e(person.alias)} · {e(AGE_LABELS.get(person.age_category, ""))}'
                "</span></span></label></li>")
        described = ' aria-describedby="picker-error"' if error else ""
        picker = (f'<form method="post" action="/sso/login" class="stack">{form.hidden()}'
                  f"<fieldset{described}>"
                  f"<legend>Test users of {e(org_name)}</legend>"
                  f'<ul class="users">{"".join(items)}</ul></fieldset>'
                  '<button type="submit" class="primary">Continue</button></form>')
    else:
        picker = (f'<p class="notice">{e(org_name)} has no test users yet. Add a user to one of its apps '
                  "(admin API or world file) and reload this page.</p>")
    body = (f"<h1>Sign in</h1><p class=\"lead\">Choose the test user to link with <strong>{e(org_name)}</strong>."
            "</p><p class=\"hint\">This server runs in emulator mode: no password is needed.</p>"
            f"{alert}{picker}")
    return layout("Sign in", body, emulator=emulator)


def sign_in_password(org_name: str, form: FormContext, error: str | None, alias: str, emulator: bool) -> str:
    alert = _alert(error, "signin-error")
    described = ' aria-describedby="signin-error" aria-invalid="true"' if error else ""
    body = (f'<h1>Sign in</h1><p class="lead">Sign in to link your account with <strong>{e(org_name)}</strong>.</p>'
            f'{alert}<form method="post" action="/sso/login" class="stack">{form.hidden()}'
            '<div class="field"><label for="alias">Username</label>'
            f'<input id="alias" name="alias" type="text" autocomplete="username" autocapitalize="none" '
            f'spellcheck="false" required autofocus value="{e(alias)}"{described}></div>'
            '<div class="field"><label for="password">Password</label>'
            f'<input id="password" name="password" type="password" autocomplete="current-password" required'
            f"{described}></div>"
            '<button type="submit" class="primary">Sign in</button></form>')
    return layout("Sign in", body, emulator=emulator)


def consent(org_name: str, person: Person, form: FormContext, emulator: bool) -> str:
    host = host_of(form.redirect_uri)
    body = (
        f'<h1>Link your account</h1><p class="lead"><strong>{e(org_name)}</strong> wants to link your account '
        "with theirs.</p>"
        f'<div class="identity"><span class="avatar" aria-hidden="true">{e(person.alias[:1].upper())}</span>'
        f'<span class="who"><span class="name">{e(person.display_name)}</span>'
        f'<span class="meta">Signed in as @{e(person.alias)}</span></span></div>'
        f'<h2>{e(org_name)} will receive</h2><ul class="grants"><li>Your username (alias)</li>'
        f"<li>An ID that identifies you to {e(org_name)}'s apps</li></ul>"
        f'<p class="hint">You will return to <strong>{e(host)}</strong>. Nothing is shared until you choose '
        "Link account.</p>"
        f'<form method="post" action="/sso/consent" class="actions">{form.hidden()}'
        '<button type="submit" name="decision" value="link" class="primary">Link account</button>'
        '<button type="submit" name="decision" value="cancel" class="secondary">Cancel</button></form>'
        f'<form method="post" action="/sso/logout" class="switch">{form.hidden()}'
        '<span>Not you?</span> <button type="submit" class="link">Use another account</button></form>'
    )
    return layout("Link your account", body, emulator=emulator)


def refused_child(org_name: str, form: FormContext, emulator: bool) -> str:
    body = (
        "<h1>This account can't be linked</h1>"
        f'<p class="lead" role="alert">Account linking isn\'t available for people under 13, so your account '
        f"can't be linked with <strong>{e(org_name)}</strong>.</p>"
        f"<p>Nothing was shared with {e(org_name)}. You can close this page.</p>"
        f'<form method="post" action="/sso/logout" class="switch">{form.hidden()}'
        '<button type="submit" class="secondary">Use another account</button></form>'
    )
    return layout("This account can't be linked", body, emulator=emulator)


def cancelled(org_name: str, redirect_uri: str, emulator: bool) -> str:
    body = (f"<h1>Account not linked</h1><p class=\"lead\">You chose not to link your account with "
            f"<strong>{e(org_name)}</strong>. Nothing was shared.</p>"
            f'<p><a class="button secondary" href="{e(redirect_uri)}">Return to {e(host_of(redirect_uri))}</a></p>')
    return layout("Account not linked", body, emulator=emulator)


def problem(title: str, message: str, emulator: bool, trace_id: str | None, retry_url: str | None = None) -> str:
    again = f'<p><a class="button secondary" href="{e(retry_url)}">Start again</a></p>' if retry_url else ""
    body = f'<h1>{e(title)}</h1><p class="lead" role="alert">{e(message)}</p>{again}'
    return layout(title, body, emulator=emulator, trace_id=trace_id)


def _alert(message: str | None, element_id: str) -> str:
    return f'<div class="alert" role="alert" id="{element_id}">{e(message)}</div>' if message else ""
