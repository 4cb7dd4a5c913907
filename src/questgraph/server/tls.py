"""HTTPS as graph.oculus.com (``questgraph serve --tls``): a local certificate authority and the server
certificate it signs, so an unmodified client that calls ``https://graph.oculus.com/…`` (or opens
``https://auth.oculus.com/sso/``) can talk to questgraph once it trusts that authority (docs/drop-in.md).

- The authority is made once, with the ``cryptography`` package (never downloaded), and kept in a
  directory of its own (``--tls-dir``, ``$QUESTGRAPH_TLS_DIR``, else ``$XDG_DATA_HOME/questgraph/tls``, i.e.
  ``~/.local/share/questgraph/tls``): one per machine user, not per database, so a client trusts it once for
  every questgraph it runs. The directory is 0700 and both private keys are 0600; no key is ever printed or
  logged (only the certificates' paths and the authority's SHA-256 fingerprint are).
- The authority may vouch only for Meta's two hosts, localhost and the loopback addresses (an X.509 name
  constraint): a copy of its key, should it leak, cannot impersonate any other site to a machine that
  trusts it.
- The server certificate names graph.oculus.com, auth.oculus.com, localhost, 127.0.0.1 and ::1. It is made
  again when it is missing, is not signed by the current authority, lacks one of those names, or expires
  within ``RENEW_BEFORE``.
- RSA 2048 keys and SHA-256 signatures: what every TLS stack accepts, old ones included (ECDSA would be
  smaller and faster, but this is a development server, and compatibility matters more).
- The server accepts TLS 1.2 and 1.3 only: Python (3.10 and later) makes 1.2 the least a server context
  accepts, and ``CIPHERS`` (given to uvicorn) holds only ciphers that TLS 1.2 introduced, so a TLS 1.0 or
  1.1 client finds nothing to agree on either way. HTTP/1.1 with keep-alive, as without TLS.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAMES = ("graph.oculus.com", "auth.oculus.com", "localhost")
SERVER_IPS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
# What the authority may sign: a DNS constraint covers the name and its subdomains.
PERMITTED = [*(x509.DNSName(name) for name in SERVER_NAMES),
             x509.IPAddress(ipaddress.ip_network("127.0.0.0/8")), x509.IPAddress(ipaddress.ip_network("::1/128"))]
CA_LIFETIME = datetime.timedelta(days=3650)
SERVER_LIFETIME = datetime.timedelta(days=365)  # macOS and iOS refuse server certificates over 825 days
RENEW_BEFORE = datetime.timedelta(days=30)
CA_NAME = "questgraph local CA"
# TLS 1.2's forward-secret AEAD ciphers (TLS 1.3's own are not set by this string and all stay on).
CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL"


@dataclass(frozen=True)
class TlsFiles:
    """The files ``serve --tls`` uses, in one directory."""

    directory: Path

    @property
    def ca_cert(self) -> Path:
        return self.directory / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.directory / "ca-key.pem"

    @property
    def cert(self) -> Path:
        return self.directory / "server.pem"

    @property
    def key(self) -> Path:
        return self.directory / "server-key.pem"


def default_dir() -> Path:
    """``$QUESTGRAPH_TLS_DIR``, else ``$XDG_DATA_HOME/questgraph/tls`` (``~/.local/share/questgraph/tls``)."""
    if os.environ.get("QUESTGRAPH_TLS_DIR"):
        return Path(os.environ["QUESTGRAPH_TLS_DIR"])
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "questgraph" / "tls"


def ensure(directory: Path, now: datetime.datetime | None = None) -> TlsFiles:
    """The authority (made once) and a current server certificate in ``directory``, made where needed."""
    now = now or datetime.datetime.now(datetime.UTC)
    files = TlsFiles(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name != "nt":
        os.chmod(directory, 0o700)
    with _locked(directory):  # two servers starting at once make one authority, not two
        if not files.ca_cert.exists() or not files.ca_key.exists() or _expires_soon(_load_cert(files.ca_cert), now):
            _make_ca(files, now)
        ca_cert = _load_cert(files.ca_cert)
        if not _server_cert_is_good(files, ca_cert, now):
            _make_server_cert(files, ca_cert, now)
    return files


def fingerprint(cert_path: Path) -> str:
    """The certificate's SHA-256 fingerprint, as ``AB:CD:…`` (what `openssl x509 -fingerprint -sha256` prints)."""
    digest = _load_cert(cert_path).fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def uvicorn_options(files: TlsFiles) -> dict[str, str]:
    """What ``uvicorn.run`` needs to serve HTTPS with these files."""
    return {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key), "ssl_ciphers": CIPHERS}


def trust_instructions(ca_cert: Path) -> str:
    """How to make each kind of client trust the authority (docs/drop-in.md says more)."""
    ca = str(ca_cert)
    return "\n".join([
        f"questgraph's local certificate authority: {ca}",
        f"  SHA-256 fingerprint {fingerprint(ca_cert)}",
        "It may vouch only for graph.oculus.com, auth.oculus.com, localhost and 127.0.0.1/::1. To trust it:",
        f"  Node.js:            NODE_EXTRA_CA_CERTS={ca} node server.js",
        f"  Python (requests):  REQUESTS_CA_BUNDLE={ca}   (httpx, urllib, aiohttp: SSL_CERT_FILE={ca})",
        f"  curl:               curl --cacert {ca} …   (or CURL_CA_BUNDLE={ca})",
        f"  Go, Ruby, PHP:      SSL_CERT_FILE={ca}",
        f"  Java:               keytool -importcert -alias questgraph -file {ca} -cacerts",
        f"  Debian/Ubuntu:      sudo cp {ca} /usr/local/share/ca-certificates/questgraph.crt "
        "&& sudo update-ca-certificates",
        f"  Fedora/RHEL:        sudo cp {ca} /etc/pki/ca-trust/source/anchors/questgraph.pem && sudo update-ca-trust",
        f"  macOS:              sudo security add-trusted-cert -d -r trustRoot -k "
        f"/Library/Keychains/System.keychain {ca}",
        f"  Windows, .NET:      certutil -addstore -user Root {ca}   (.NET on Linux: the system store above, "
        "or SSL_CERT_FILE)",
        "  Unity:              UnityWebRequest uses the system store; or a CertificateHandler that compares the "
        "fingerprint above",
        "Then send the client to questgraph: a hosts entry (127.0.0.1 graph.oculus.com auth.oculus.com) and "
        "port 443. See docs/drop-in.md.",
    ])


# --- making and checking the files --------------------------------------------------------------------------
def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _make_ca(files: TlsFiles, now: datetime.datetime) -> None:
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "questgraph")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.NameConstraints(permitted_subtrees=PERMITTED, excluded_subtrees=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(files.ca_key, _key_pem(key))
    _write_public(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM))


def _make_server_cert(files: TlsFiles, ca_cert: x509.Certificate, now: datetime.datetime) -> None:
    ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    key = _new_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAMES[0])]))
        .issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(min(now + SERVER_LIFETIME, ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName([*(x509.DNSName(n) for n in SERVER_NAMES),
                                                    *(x509.IPAddress(ip) for ip in SERVER_IPS)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write_private(files.key, _key_pem(key))
    _write_public(files.cert, cert.public_bytes(serialization.Encoding.PEM))


def _server_cert_is_good(files: TlsFiles, ca_cert: x509.Certificate, now: datetime.datetime) -> bool:
    if not files.cert.exists() or not files.key.exists():
        return False
    try:
        cert = _load_cert(files.cert)
        cert.verify_directly_issued_by(ca_cert)  # not signed by this authority: it was made again
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, x509.ExtensionNotFound, InvalidSignature):
        return False
    has_names = (set(SERVER_NAMES) <= set(names.get_values_for_type(x509.DNSName))
                 and set(SERVER_IPS) <= set(names.get_values_for_type(x509.IPAddress)))
    return has_names and not _expires_soon(cert, now) and cert.not_valid_before_utc <= now


def _expires_soon(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return cert.not_valid_after_utc - now < RENEW_BEFORE


def _load_cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write_private(path: Path, data: bytes) -> None:
    """Written 0600 from the first byte (never readable by others, not even for an instant), then renamed."""
    _write(path, data, 0o600)


def _write_public(path: Path, data: bytes) -> None:
    _write(path, data, 0o644)


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)  # a leftover of a crash: O_EXCL then makes it afresh with this mode
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock; starting two servers at the same instant may race
        yield
        return
    with open(directory / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
