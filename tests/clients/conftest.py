"""Fixtures for the real-client tier: the built Worker in Miniflare (real workerd), driven by boto3.

One Worker serves the whole session (`tests/clients/serve.mjs`, started with a JSON config):
- a local pool with a public client and a client with a secret; its SIGNING_KEYS (an RSA-2048
  private JWK) are generated here with `cryptography`, so the tests also hold the public key and
  can check the Worker's signatures with PyJWT;
- an external pool with an inline JWKS whose private key only the tests hold (PyJWT mints its
  tokens: an implementation independent of the product);
- admin credentials for SigV4.
Every test makes its own users (unique names), so tests do not depend on each other's order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import queue
import secrets
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from cryptography.hazmat.primitives.asymmetric import rsa

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "tests" / "clients" / "serve.mjs"
REGION = "us-east-1"

LOCAL_POOL = "us-east-1_ClientsTier1"
LOCAL_ISSUER = f"https://auth.edge-revoke.test/{LOCAL_POOL}"
PUBLIC_CLIENT = "publicclient"
SECRET_CLIENT = "secretclient"
CLIENT_SECRET = "s3cr3tS3cr3tS3cr3tS3cr3tS3cr3t01"  # [\w+]{24,64}
EXTERNAL_POOL = "us-east-1_ExternalTier1"
EXTERNAL_ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{EXTERNAL_POOL}"
EXTERNAL_CLIENT = "externalclient"
REVOCATION_CACHE_TTL_S = 2
ADMIN_KEY_ID = "AKIACLIENTSTIER0001"
ADMIN_SECRET = "clients-tier-secret-access-key-0001"

# botocore retries throttling and 5xx answers; one attempt keeps every assertion about the
# first answer and the tier fast.
NO_RETRIES = {"total_max_attempts": 1}


def b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class RsaKey:
    """An RSA-2048 key with its kid, as private and public JWKs and as a PyJWT signing key."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str) -> "RsaKey":
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def public_jwk(self) -> dict:
        pub = self.private_key.public_key().public_numbers()
        return {"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig",
                "n": b64url_uint(pub.n), "e": b64url_uint(pub.e)}

    def private_jwk(self) -> dict:
        priv = self.private_key.private_numbers()
        return {**self.public_jwk(), "d": b64url_uint(priv.d), "p": b64url_uint(priv.p),
                "q": b64url_uint(priv.q), "dp": b64url_uint(priv.dmp1),
                "dq": b64url_uint(priv.dmq1), "qi": b64url_uint(priv.iqmp)}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LOG_DIR = ROOT / "tests/output/logs"
# The launcher's banner (scripts/dev.mjs prints the dev keys and demo passwords to the developer, on
# purpose): from its first line to its last, it is not the Worker's and stays out of the log sink.
DEV_BANNER = ("edge-revoke is running at", "--user-pool-id ")


def read_lines_into(stream, lines: "queue.Queue[str]", sink: str = "") -> None:
    """Drains a child's pipe for good (a full pipe would block the child) into a queue; with
    `sink`, also into tests/output/logs/<sink>-<pid>.log (the Worker's lines, checked by `make
    test` for secrets), leaving out the dev launcher's banner."""
    log = None
    if sink:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / f"{sink}-{os.getpid()}.log", "a", encoding="utf-8")
    in_banner = False
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip("\n")
        lines.put(line)
        if log:
            in_banner = in_banner or DEV_BANNER[0] in line
            if not in_banner:
                log.write(line + "\n")
                log.flush()
            in_banner = in_banner and DEV_BANNER[1] not in line
    if log:
        log.close()
    lines.put(None)


def wait_for_line(lines: "queue.Queue[str]", prefix: str, timeout_s: float, seen: list) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no line starting {prefix!r} within {timeout_s}s; output: {seen[-30:]}")
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if line is None:
            raise RuntimeError(f"the process exited before printing {prefix!r}; output: {seen[-30:]}")
        seen.append(line)
        if line.lstrip().startswith(prefix):
            return line


def group_members(pgid: int) -> list[str]:
    """The command lines of the live (not zombie) processes in process group `pgid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != pgid:
                continue
            with open(f"/proc/{entry}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (ProcessLookupError, FileNotFoundError, PermissionError):
            continue
        if state != "Z":
            members.append(f"{entry}: {cmdline[:160]}")
    return members


def stop_process_group(proc: subprocess.Popen, grace_s: float = 10) -> None:
    """SIGTERM the group `proc` leads (it was started with start_new_session=True), then SIGKILL
    whatever of that group is left until none is. Only this group: never anything by name."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    deadline = time.monotonic() + 10
    while group_members(proc.pid) and time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    proc.wait(timeout=5)


def start_worker(config: dict, workdir: Path):
    """Runs serve.mjs with `config`; returns (process, url, log path)."""
    config_path = workdir / "worker-config.json"
    config_path.write_text(json.dumps(config))
    log_path = workdir / "worker.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        ["node", str(SERVE), str(config_path)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=read_lines_into, args=(proc.stdout, lines), daemon=True).start()
    try:
        ready = wait_for_line(lines, "READY ", 30, [])
    except Exception:
        stop_process_group(proc)
        raise RuntimeError(f"serve.mjs did not start; log: {log_path.read_text()[-4000:]}")
    return proc, ready.split(" ", 1)[1].strip(), log_path


@dataclass
class Worker:
    url: str
    signing_key: RsaKey  # the local pool's key: the Worker signs with it
    external_key: RsaKey  # the external pool's key: only the tests sign with it
    log_path: Path


@pytest.fixture(scope="session")
def worker(tmp_path_factory) -> Worker:
    signing_key = RsaKey.generate(f"local-{secrets.token_hex(4)}")
    external_key = RsaKey.generate(f"external-{secrets.token_hex(4)}")
    pools = [
        {"id": LOCAL_POOL, "issuer": LOCAL_ISSUER, "local": {"password_iterations": 1000},
         "clients": [{"id": PUBLIC_CLIENT}, {"id": SECRET_CLIENT, "secret": CLIENT_SECRET}],
         "token_use": ["access", "id"]},
        {"id": EXTERNAL_POOL, "jwks": {"keys": [external_key.public_jwk()]},
         "clients": [{"id": EXTERNAL_CLIENT}]},
    ]
    config = {"vars": {
        "POOLS": json.dumps(pools),
        "SIGNING_KEYS": json.dumps({"keys": [signing_key.private_jwk()]}),
        "ADMIN_CREDENTIALS": json.dumps([{"access_key_id": ADMIN_KEY_ID, "secret_access_key": ADMIN_SECRET}]),
        "REVOCATION_CACHE_TTL_S": str(REVOCATION_CACHE_TTL_S),
    }}
    proc, url, log_path = start_worker(config, tmp_path_factory.mktemp("worker"))
    yield Worker(url, signing_key, external_key, log_path)
    try:
        proc.stdin.close()  # serve.mjs stops when stdin closes
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    stop_process_group(proc)


def cognito_client(endpoint: str, *, key_id: str | None = None, secret: str | None = None):
    """A boto3 cognito-idp client on `endpoint`: signed with the given key, or UNSIGNED."""
    config = Config(retries=NO_RETRIES, connect_timeout=5, read_timeout=15)
    if key_id is None:
        config = config.merge(Config(signature_version=UNSIGNED))
        session = boto3.session.Session(region_name=REGION)
    else:
        session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret,
                                        region_name=REGION)
    return session.client("cognito-idp", endpoint_url=endpoint, config=config)


@pytest.fixture(scope="session")
def admin(worker):
    """Signed with the configured admin credential (SigV4, service cognito-idp)."""
    return cognito_client(worker.url, key_id=ADMIN_KEY_ID, secret=ADMIN_SECRET)


@pytest.fixture(scope="session")
def anon(worker):
    """No credentials at all (`signature_version=UNSIGNED`), as a browser-side app calls."""
    return cognito_client(worker.url)


def secret_hash(username: str, client_id: str = SECRET_CLIENT, secret: str = CLIENT_SECRET) -> str:
    """Cognito's SECRET_HASH: Base64(HMAC-SHA256(secret, username + client id))."""
    digest = hmac.new(secret.encode(), (username + client_id).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class User:
    username: str
    password: str
    email: str


@pytest.fixture
def make_user(admin):
    """Creates a confirmed user with a permanent password in the local pool."""

    def make(prefix: str = "user") -> User:
        name = f"{prefix}-{uuid.uuid4().hex[:10]}"
        user = User(name, f"Pw-{secrets.token_hex(6)}-Aa1!", f"{name}@example.com")
        admin.admin_create_user(
            UserPoolId=LOCAL_POOL, Username=user.username, MessageAction="SUPPRESS",
            TemporaryPassword=f"Tmp-{secrets.token_hex(6)}-Aa1!",
            UserAttributes=[{"Name": "email", "Value": user.email}, {"Name": "email_verified", "Value": "true"}],
        )
        admin.admin_set_user_password(UserPoolId=LOCAL_POOL, Username=user.username,
                                      Password=user.password, Permanent=True)
        return user

    return make
