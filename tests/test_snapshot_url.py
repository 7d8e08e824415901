"""``verify --snapshot https://…``: the exchange's published snapshot.json fetched over TLS
with the certificate verified (a loopback HTTPS server with a certificate made here),
never over plain HTTP, never through a redirect."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ROOT, cli

VECTOR = ROOT / "fixtures" / "vectors" / "small"
PROOF = VECTOR / "proofs" / "slot-00001.json"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/snapshot.json")
            self.end_headers()
            return
        if self.path != "/snapshot.json":
            self.send_error(404)
            return
        body = (VECTOR / "snapshot.json").read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("tls")
    key, certificate = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{httpd.server_address[1]}", certificate
    httpd.shutdown()
    httpd.server_close()


def test_snapshot_from_a_trusted_https_address(server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    base, certificate = server
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # the machine trusts this authority
    result = cli("verify", PROOF, "--snapshot", f"{base}/snapshot.json")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("PASS: your balances are included in the published root")


def test_untrusted_certificate_redirect_and_missing_file_are_refused(
    server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, certificate = server
    untrusted = cli("verify", PROOF, "--snapshot", f"{base}/snapshot.json")
    assert untrusted.exit_code == 3
    assert "certificate verify failed" in untrusted.stderr
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))
    moved = cli("verify", PROOF, "--snapshot", f"{base}/moved")
    assert moved.exit_code == 3
    assert moved.stderr == f"reserves: source unavailable: {base}/moved: HTTP 302 redirect refused\n"
    missing = cli("verify", PROOF, "--snapshot", f"{base}/nothing.json")
    assert missing.exit_code == 3
    assert missing.stderr == f"reserves: source unavailable: {base}/nothing.json: HTTP 404 Not Found\n"


def test_a_malformed_address_is_input_error() -> None:
    result = cli("verify", PROOF, "--snapshot", "https://[bad")
    assert (result.exit_code, result.stderr) == (
        2,
        "reserves: invalid input: 'https://[bad' is not a valid https:// address\n",
    )


def test_plain_http_is_refused() -> None:
    result = cli("verify", PROOF, "--snapshot", "http://127.0.0.1:9/snapshot.json")
    assert result.exit_code == 2
    assert result.stderr == (
        "reserves: invalid input: a snapshot URL must start with https://, found 'http://127.0.0.1:9/snapshot.json'\n"
    )
