"""``questgraph serve --tls`` (issue 18, docs/drop-in.md): unmodified clients that call
``https://graph.oculus.com/…`` and open ``https://auth.oculus.com/sso/`` reach questgraph once they trust its
local certificate authority and are sent to it the way a hosts entry on port 443 would send them.

Each client is a real one, not Python alone: curl (``--connect-to``), Node.js's own ``fetch`` and ``https``
(``NODE_EXTRA_CA_CERTS``, and a preload script that plays the hosts entry), httpx, and chromium for the SSO
page; and curl and httpx through ``questgraph proxy`` (``HTTPS_PROXY``), which answers for Meta's hosts only.
Every URL is the unmodified ``https://graph.oculus.com/…`` (no port): only where the connection goes is
changed, as a hosts entry and a port-443 listener would change it without root.

The server is a real ``python -m questgraph serve --tls`` process, on SQLite: TLS is uvicorn's transport in
front of the same application, which the rest of the suite runs on both backends; nothing in it depends on
the database. One test runs ``--workers 2`` on PostgreSQL + Redis, as every worker loads the files itself.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpcore
import httpx
import pytest

from questgraph.cli import main
from tests.conftest import (
    ADA_ID,
    ADMIN_KEY,
    APP_TOKEN,
    GRACE_ID,
    WORLD_FILE,
    free_port,
    import_or_skip,
    postgres_database,
    require_postgres,
    skip_or_fail,
)
from tests.redis_support import drop_prefix, redis_url, require_redis
from tests.sso_support import ORG_ID, REDIRECT_URI

ROOT = Path(__file__).resolve().parent.parent
META = ("graph.oculus.com", "auth.oculus.com")
GRAPH = "https://graph.oculus.com"

# A hosts entry plus a port-443 listener, for Node without root: connections to Meta's two hosts on port 443
# go to questgraph's port instead. The TLS server name stays the URL's host, so Node checks the certificate
# against graph.oculus.com exactly as it would against Meta's; every other host is left alone.
NODE_PRELOAD = """
const tls = require('node:tls');
const META = new Set(META_HOSTS);
const target = Number(process.env.QG_PORT);
const connect = tls.connect;
tls.connect = function (options, ...rest) {
  if (options && typeof options === 'object' && META.has(options.host) && Number(options.port || 443) === 443) {
    options = { ...options, host: '127.0.0.1', port: target, servername: options.servername || options.host };
  }
  return connect.call(this, options, ...rest);
};
""".replace("META_HOSTS", json.dumps(list(META)))

# A studio back-end as it is written for Meta: plain Node, Meta's URL hard-coded, no questgraph in sight.
NODE_BACKEND = """
const https = require('node:https');
const token = process.env.APP_TOKEN;

function post(path, form) {  // node:https, as most back-ends written before fetch do
  return new Promise((resolve, reject) => {
    const body = new URLSearchParams(form).toString();
    const request = https.request('https://graph.oculus.com' + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body),
                 authorization: 'Bearer ' + token },
    }, (response) => {
      let text = '';
      response.on('data', (chunk) => { text += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, body: JSON.parse(text) }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

(async () => {
  const submitted = await post('/leaderboard_submit_entry',
                               { api_name: 'best_leaderboard', score: '4242', user_id: process.env.USER_ID });
  const read = await fetch('https://graph.oculus.com/leaderboard_entries?' + new URLSearchParams({
    api_name: 'best_leaderboard', fields: 'user{id},score,rank', limit: '1' }),
    { headers: { authorization: 'Bearer ' + token } });
  console.log(JSON.stringify({ submitted, read: { status: read.status, body: await read.json() } }));
})().catch((error) => { console.error(String(error.cause || error)); process.exit(1); });
"""


@dataclass
class TlsServer:
    port: int
    tls_dir: Path
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def ca(self) -> Path:
        return self.tls_dir / "ca.pem"


def _start(tmp: Path, tls_dir: Path, name: str, *extra: str, db: str | None = None) -> TlsServer:
    port = free_port()
    log = tmp / f"{name}.log"
    command = [sys.executable, "-m", "questgraph", "serve", "--config", str(WORLD_FILE), "--db",
               db or str(tmp / f"{name}.sqlite3"), "--port", str(port), "--admin-key", ADMIN_KEY, "--tls",
               "--tls-dir", str(tls_dir), *extra]
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    server = TlsServer(port, tls_dir, log, proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
        if server.ca.exists():
            try:
                with _client(server) as client:
                    if client.get(f"{GRAPH}/_health/ready").status_code == 200:
                        return server
            except httpx.TransportError:
                pass
        time.sleep(0.1)
    _stop(server)
    pytest.fail(f"the server did not become ready:\n{log.read_text()}")


def _stop(server: TlsServer) -> None:
    if server.proc.poll() is None:
        server.proc.terminate()
        try:
            server.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


class MetaHosts(httpcore.SyncBackend):
    """httpx's side of the hosts entry: Meta's two hosts on 443 connect to questgraph's port."""

    def __init__(self, port: int) -> None:
        self.port = port

    def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        if host in META and port == 443:
            host, port = "127.0.0.1", self.port
        return super().connect_tcp(host, port, *args, **kwargs)


def _client(server: TlsServer, **headers: str) -> httpx.Client:
    """An httpx client that trusts only questgraph's authority and reaches Meta's hosts at questgraph."""
    context = ssl.create_default_context(cafile=str(server.ca))
    transport = httpx.HTTPTransport(verify=context)
    # httpx has no connect-to option: its connection pool is given the network backend that plays the hosts
    # entry (the pool is the transport's, made the way HTTPTransport makes it, with this one backend added).
    transport._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=MetaHosts(server.port))
    return httpx.Client(transport=transport, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    tmp = tmp_path_factory.mktemp("tls")
    server = _start(tmp, tmp / "tls", "first")
    yield server
    _stop(server)


def _curl(server: TlsServer, *args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("curl") is None:
        skip_or_fail("curl is not installed")
    return subprocess.run(["curl", "-sS", "--connect-to", f"graph.oculus.com:443:127.0.0.1:{server.port}",
                           "--cacert", str(server.ca), *args], capture_output=True, text=True, timeout=60)


def test_curl_calls_graph_oculus_com_unmodified(tls_server: TlsServer, tmp_path: Path) -> None:
    done = _curl(tls_server, "-H", f"Authorization: Bearer {APP_TOKEN}",
                 f"{GRAPH}/leaderboard_entries?api_name=server_board&summary=true&fields=score,rank&limit=2")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["summary"] == {"total_count": 0} and answer["data"] == []
    # With another authority (another machine's questgraph) curl refuses the certificate: trust comes only
    # from the CA file.
    from questgraph.server import tls

    other = tls.ensure(tmp_path / "other").ca_cert
    refused = subprocess.run(["curl", "-sS", "--connect-to", f"graph.oculus.com:443:127.0.0.1:{tls_server.port}",
                              "--cacert", str(other), f"{GRAPH}/_health/live"],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 60, refused  # curl: peer certificate cannot be authenticated


def test_node_backend_submits_and_reads_with_no_code_change(tls_server: TlsServer, tmp_path: Path) -> None:
    """docs/drop-in.md's walk-through: node:https posts, fetch reads, both at https://graph.oculus.com."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed")
    with _client(tls_server, Authorization=f"Bearer {APP_TOKEN}") as client:  # a second entry: a next page
        client.post(f"{GRAPH}/leaderboard_submit_entry", data={"api_name": "best_leaderboard", "score": 7,
                                                               "user_id": GRACE_ID}).raise_for_status()
    (tmp_path / "meta_hosts.js").write_text(NODE_PRELOAD)
    (tmp_path / "backend.js").write_text(NODE_BACKEND)
    env = {"PATH": os.environ.get("PATH", ""), "QG_PORT": str(tls_server.port), "APP_TOKEN": APP_TOKEN,
           "USER_ID": ADA_ID}
    command = [node, "-r", "./meta_hosts.js", "backend.js"]
    done = subprocess.run(command, cwd=tmp_path, env={**env, "NODE_EXTRA_CA_CERTS": str(tls_server.ca)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["submitted"] == {"status": 200, "body": {"success": True, "did_update": True,
                                                           "updated_challenge_ids": []}}
    read = answer["read"]
    assert read["status"] == 200 and read["body"]["data"][0]["score"] == 4242
    assert read["body"]["data"][0]["user"] == {"id": ADA_ID}
    # Paging links are built from the request's scheme and host: Meta's own https URL.
    assert read["body"]["paging"]["next"].startswith(f"{GRAPH}/leaderboard_entries?")
    # The same code without NODE_EXTRA_CA_CERTS: Node refuses the certificate (it trusts only what it is told).
    untrusted = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert untrusted.returncode == 1 and "unable to verify the first certificate" in untrusted.stderr


def test_httpx_reads_graph_and_keeps_the_connection_alive(tls_server: TlsServer) -> None:
    """HTTP/1.1 keep-alive over TLS: two calls, one TCP connection (the same local port), TLS 1.2 or later."""
    seen: list[tuple[str, int, str]] = []

    def record(response: httpx.Response) -> None:
        stream = response.extensions["network_stream"]
        ssl_object = stream.get_extra_info("ssl_object")
        seen.append((response.extensions["http_version"].decode(), stream.get_extra_info("client_addr")[1],
                     ssl_object.version()))

    with _client(tls_server, Authorization=f"Bearer {APP_TOKEN}") as client:
        client.event_hooks["response"] = [record]
        boards = client.get(f"{GRAPH}/1234757621998335/leaderboards", params={"fields": "api_name,sort_order"})
        me = client.get(f"{GRAPH}/{ADA_ID}", params={"fields": "id,alias"})
    assert boards.status_code == 200 and {"api_name": "server_board", "sort_order": "LOWER_IS_BETTER"} in [
        {k: b[k] for k in ("api_name", "sort_order")} for b in boards.json()["data"]]
    assert me.json() == {"id": ADA_ID, "alias": "ada"}
    assert len(seen) == 2 and seen[0] == seen[1], seen  # same connection both times
    assert seen[0][0] == "HTTP/1.1" and seen[0][2] in ("TLSv1.2", "TLSv1.3")


def test_tls_1_1_is_refused_and_tls_1_2_is_accepted(tls_server: TlsServer) -> None:
    def handshake(version: ssl.TLSVersion) -> str:
        context = ssl.create_default_context(cafile=str(tls_server.ca))
        with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = context.maximum_version = version
        context.set_ciphers("ALL:@SECLEVEL=0")  # let this client offer all an old client would
        with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname="graph.oculus.com") as wrapped:
            return str(wrapped.version())

    assert handshake(ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    with pytest.raises(ssl.SSLError) as refused:
        handshake(ssl.TLSVersion.TLSv1_1)
    # The server ends the handshake (an alert, or uvicorn just closing): not this client failing to offer 1.1.
    assert "NO_PROTOCOLS_AVAILABLE" not in str(refused.value)
    assert any(reason in str(refused.value) for reason in ("PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "EOF")), refused


def test_the_certificate_names_meta_s_hosts_and_the_authority_can_vouch_for_nothing_else(
        tls_server: TlsServer) -> None:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate((tls_server.tls_dir / "server.pem").read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(names.get_values_for_type(x509.DNSName)) == {"graph.oculus.com", "auth.oculus.com", "localhost"}
    ca = x509.load_pem_x509_certificate(tls_server.ca.read_bytes())
    constraints = ca.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    assert {n.value for n in constraints.value.permitted_subtrees or [] if isinstance(n, x509.DNSName)} == {
        "graph.oculus.com", "auth.oculus.com", "localhost"}


def test_keys_are_private_and_never_printed(tls_server: TlsServer, capsys: pytest.CaptureFixture[str]) -> None:
    directory = tls_server.tls_dir
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for key in ("ca-key.pem", "server-key.pem"):
        assert stat.S_IMODE((directory / key).stat().st_mode) == 0o600
    log = tls_server.log.read_text()
    assert "PRIVATE KEY" not in log
    for key in ("ca-key.pem", "server-key.pem"):  # not a line of the key's body either
        body = [line for line in (directory / key).read_text().splitlines() if "-----" not in line]
        assert not any(line in log for line in body)
    # The banner says HTTPS, the names, and where the authority is.
    assert f"https://graph.oculus.com:{tls_server.port}/" in log and str(tls_server.ca) in log
    assert f"--cacert {tls_server.ca}" in log
    # `questgraph ca` prints the certificate and the trust lines, never the key.
    assert main(["ca", "--tls-dir", str(directory)]) == 0
    shown = capsys.readouterr().out
    assert f"NODE_EXTRA_CA_CERTS={tls_server.ca}" in shown and f"REQUESTS_CA_BUNDLE={tls_server.ca}" in shown
    assert "PRIVATE KEY" not in shown
    assert main(["ca", "--tls-dir", str(directory), "--pem"]) == 0
    assert capsys.readouterr().out == tls_server.ca.read_text()


def test_ca_out_writes_the_certificate(tls_server: TlsServer, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "questgraph-ca.pem"
    assert main(["ca", "--tls-dir", str(tls_server.tls_dir), "--out", str(out)]) == 0
    assert out.read_text() == tls_server.ca.read_text()
    assert f"SSL_CERT_FILE={out}" in capsys.readouterr().out


def test_a_restart_keeps_the_authority_and_a_lost_certificate_is_made_again(tmp_path: Path) -> None:
    from questgraph.server import tls

    tls_dir = tmp_path / "tls"
    first = _start(tmp_path, tls_dir, "a")
    fingerprint = tls.fingerprint(first.ca)
    _stop(first)
    (tls_dir / "server.pem").unlink()  # made again at start, signed by the same authority
    second = _start(tmp_path, tls_dir, "b")
    try:
        assert tls.fingerprint(second.ca) == fingerprint
        with _client(second) as client:  # trusts the authority read before the restart
            assert client.get(f"{GRAPH}/_health/live").json() == {"status": "live"}
    finally:
        _stop(second)


def test_workers_serve_tls_too(tmp_path: Path) -> None:
    """--tls with --workers 2 (PostgreSQL + Redis): every worker loads the same files, TLS 1.2 or later."""
    require_postgres()
    require_redis()
    prefix = f"qgtls{os.getpid()}"
    server = _start(tmp_path, tmp_path / "tls", "workers", "--workers", "2", "--rank-index",
                    redis_url(prefix=prefix), db=postgres_database(str(tmp_path / "workers")))
    try:
        versions = set()
        deadline = time.monotonic() + 60
        for _ in range(6):  # new connections, spread over the workers by the kernel
            with _client(server, Authorization=f"Bearer {APP_TOKEN}") as client:
                me = client.get(f"{GRAPH}/{ADA_ID}", params={"fields": "id,alias"})
                while me.status_code == 503 and time.monotonic() < deadline:  # that worker still starting
                    time.sleep(0.2)
                    me = client.get(f"{GRAPH}/{ADA_ID}", params={"fields": "id,alias"})
                assert me.json() == {"id": ADA_ID, "alias": "ada"}
                versions.add(me.extensions["network_stream"].get_extra_info("ssl_object").version())
        assert versions <= {"TLSv1.2", "TLSv1.3"} and versions
    finally:
        _stop(server)
        drop_prefix(prefix)


def test_server_certificate_is_renewed_near_expiry_but_the_authority_is_kept(tmp_path: Path) -> None:
    import datetime

    from cryptography import x509

    from questgraph.server import tls

    files = tls.ensure(tmp_path)
    ca_before, cert_before = files.ca_cert.read_bytes(), files.cert.read_bytes()
    assert tls.ensure(tmp_path).cert.read_bytes() == cert_before  # still good: left alone
    expiry = x509.load_pem_x509_certificate(cert_before).not_valid_after_utc
    tls.ensure(tmp_path, now=expiry - tls.RENEW_BEFORE + datetime.timedelta(days=1))
    assert files.ca_cert.read_bytes() == ca_before and files.cert.read_bytes() != cert_before


def test_the_sso_page_in_chromium_at_auth_oculus_com(tls_server: TlsServer, tmp_path: Path) -> None:
    """The account-linking page at https://auth.oculus.com/sso/ in a real browser, over TLS."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    sync_api = import_or_skip("playwright.sync_api", "the playwright package is not installed")
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        skip_or_fail("/usr/bin/chromium is missing")
    with _client(tls_server, Authorization=f"Bearer {ADMIN_KEY}") as admin:
        admin.post(f"{GRAPH}/_admin/orgs/{ORG_ID}/redirect_uris",
                   data={"redirect_uri": REDIRECT_URI}).raise_for_status()
    # chromium trusts the NSS database, not a file: pinning the public key of exactly our server certificate
    # is the narrowest equivalent (any other certificate for the name is still refused).
    leaf = x509.load_pem_x509_certificate((tls_server.tls_dir / "server.pem").read_bytes())
    spki = leaf.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--host-resolver-rules=MAP auth.oculus.com:443 127.0.0.1:{tls_server.port}",
            f"--ignore-certificate-errors-spki-list={pin}"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=args)
        try:
            page = browser.new_page()
            url = "https://auth.oculus.com/sso/?" + urlencode({"redirect_uri": REDIRECT_URI,
                                                               "organization_id": ORG_ID})
            answer = page.goto(url)
            assert answer is not None and answer.status == 200 and page.url == url
            assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
            assert page.evaluate("location.protocol") == "https:"
            page.get_by_label("Grace").check()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_selector("text=Link your account")
            assert page.url.startswith("https://auth.oculus.com/sso/")
        finally:
            browser.close()


# --- `questgraph proxy`: HTTPS_PROXY for Meta's hosts only -------------------------------------------------
@pytest.fixture(scope="module")
def proxy(tls_server: TlsServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("proxy") / "proxy.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "questgraph", "proxy", "--port", str(port), "--to",
                                 f"127.0.0.1:{tls_server.port}"], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            break
        if proc.poll() is not None:
            pytest.fail(f"the proxy exited with {proc.returncode}:\n{log.read_text()}")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=15)


def test_curl_and_httpx_through_https_proxy_reach_questgraph_with_no_mapping(tls_server: TlsServer,
                                                                              proxy: str) -> None:
    """No hosts entry, no port, no --connect-to: only HTTPS_PROXY and the authority."""
    if shutil.which("curl") is None:
        skip_or_fail("curl is not installed")
    env = {"PATH": os.environ.get("PATH", ""), "HTTPS_PROXY": proxy}
    done = subprocess.run(["curl", "-sS", "--cacert", str(tls_server.ca), "-H", f"Authorization: Bearer {APP_TOKEN}",
                           f"{GRAPH}/{ADA_ID}?fields=id,alias"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"id": ADA_ID, "alias": "ada"}
    # httpx code written for Meta, configured by the environment alone (SSL_CERT_FILE, HTTPS_PROXY).
    script = f"import httpx; print(httpx.get('{GRAPH}/_health/live').text)"
    plain = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                           env={**env, "SSL_CERT_FILE": str(tls_server.ca)})
    assert plain.returncode == 0 and json.loads(plain.stdout) == {"status": "live"}, plain.stderr
    context = ssl.create_default_context(cafile=str(tls_server.ca))
    with httpx.Client(proxy=proxy, verify=context, timeout=30) as client:
        page = client.get("https://auth.oculus.com/sso/", params={"redirect_uri": REDIRECT_URI,
                                                                  "organization_id": ORG_ID})
        assert page.status_code == 200 and "<h1>Sign in</h1>" in page.text.replace("\n", "")


def test_the_proxy_refuses_every_other_host(proxy: str) -> None:
    """Not an open proxy: another host, another port or a plain-HTTP request gets a 403 that says why, and the
    proxy connects nowhere."""
    port = int(proxy.rsplit(":", 1)[1])

    def ask(request: bytes) -> str:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(request)
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
        return answer.decode()

    for request in (b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
                    b"CONNECT graph.oculus.com:22 HTTP/1.1\r\n\r\n",
                    b"GET http://graph.oculus.com/ HTTP/1.1\r\nHost: graph.oculus.com\r\n\r\n"):
        answer = ask(request)
        assert answer.startswith("HTTP/1.1 403 Forbidden\r\n"), answer
        assert "graph.oculus.com:443 and auth.oculus.com:443" in answer
    if shutil.which("curl") is None:
        skip_or_fail("curl is not installed")
    refused = subprocess.run(["curl", "-sS", "--proxy", proxy, "https://example.com/"], capture_output=True,
                             text=True, timeout=60)
    assert refused.returncode == 56 and "403" in refused.stderr, refused


def test_the_proxy_says_when_questgraph_is_not_there(tmp_path: Path) -> None:
    port, dead = free_port(), free_port()
    with open(tmp_path / "proxy.log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "questgraph", "proxy", "--port", str(port), "--to",
                                 f"127.0.0.1:{dead}"], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, (tmp_path / "proxy.log").read_text()
                time.sleep(0.05)
        with conn:
            conn.sendall(b"CONNECT graph.oculus.com:443 HTTP/1.1\r\n\r\n")
            answer = conn.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 502 Bad Gateway\r\n") and f"127.0.0.1:{dead}" in answer
        assert "questgraph serve --tls" in answer
    finally:
        proc.terminate()
        proc.wait(timeout=15)
