"""Self-signed test certificates, made with the openssl command at test time."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVER_EXTENSIONS = """\
subjectAltName=IP:127.0.0.1,DNS:localhost
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
"""


@dataclass(frozen=True)
class Certs:
    ca: Path  # the CA certificate clients trust (VANE_KAFKA_SSL_CAFILE)
    cert: Path  # the server's certificate, for 127.0.0.1 and localhost
    key: Path  # the server's private key


def make_certs(folder: Path) -> Certs:
    """A CA and a server certificate it signed, valid for two days."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is needed to make test certificates")
    folder.mkdir(parents=True, exist_ok=True)
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    extensions = folder / "server.ext"
    extensions.write_text(SERVER_EXTENSIONS)
    req = [openssl, "req", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
    _run([*req, "-x509", "-keyout", str(ca_key), "-out", str(ca), "-subj", "/CN=vane-test-ca"])
    _run([*req, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1"])
    sign = [openssl, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key)]
    sign += ["-CAcreateserial", "-out", str(cert), "-days", "2", "-extfile", str(extensions)]
    _run(sign)
    return Certs(ca, cert, key)


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=60)
