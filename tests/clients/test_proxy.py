"""A proxied pool against moto: boto3, unchanged, pointed at the Worker, runs the whole
sign-up / sign-in / refresh / sign-out story against moto's Cognito, and after a sign-out nothing
of the session works on either side.

Three moto pools sit behind the Worker (tests/clients/moto_upstream.py):
- PROXIED: `upstream.endpoint` is moto itself;
- GUARDED: a second moto with IAM checking on, which verifies the Worker's re-signed SigV4;
- FRONTED: `upstream.endpoint` and `upstream.domain` are `FakeFront`, a recording upstream in
  front of moto (a fake: it answers what moto lacks, RevokeToken and the hosted-UI endpoints,
  relays everything else to moto, and fails, stalls or drops on request for the failure matrix).
"""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import queue
import secrets
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import (ADMIN_KEY_ID, ADMIN_SECRET, NO_RETRIES, REGION, ROOT, cognito_client,
                      read_lines_into, start_worker, stop_process_group, wait_for_line)

MOTO = ROOT / "tests" / "clients" / "moto_upstream.py"
PYTHON = ROOT / ".venv" / "bin" / "python"
REVOKED = "Access Token has been revoked"
REFRESH_REVOKED = "Refresh Token has been revoked"


@dataclass
class Moto:
    url: str
    key_id: str
    secret: str
    pools: list


def start_moto(*args):
    proc = subprocess.Popen([str(PYTHON), str(MOTO), *args], cwd=ROOT, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=read_lines_into, args=(proc.stdout, lines), daemon=True).start()
    try:
        ready = json.loads(wait_for_line(lines, "READY ", 60, []).split(" ", 1)[1])
    except Exception:
        stop_process_group(proc)
        raise
    return proc, Moto(ready["url"], ready["key_id"], ready["secret"], ready["pools"])


@pytest.fixture(scope="module")
def moto_iam():
    proc, moto = start_moto("1", "iam")
    yield moto
    proc.stdin.close()
    stop_process_group(proc)


@pytest.fixture(scope="module")
def moto():
    proc, moto = start_moto("2")
    yield moto
    proc.stdin.close()
    stop_process_group(proc)


@dataclass
class FakeFront:
    """A recording upstream in front of moto (a fake, for what moto lacks and for faults)."""

    moto_url: str
    url: str = ""
    seen: list = field(default_factory=list)
    faults: "queue.Queue" = field(default_factory=queue.Queue)

    def fail_next(self, *faults):
        """Each fault applies to one request: ("status", code, type_or_None, body_text),
        ("delay", seconds) then relay, ("drop",) closes the connection unanswered."""
        for fault in faults:
            self.faults.put(fault)

    def targets(self):
        return [t for t, _ in self.seen]


def serve_front(front: FakeFront):
    moto = urllib.parse.urlsplit(front.moto_url)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, headers, body: bytes):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            target = self.headers.get("x-amz-target", self.path)
            target = target.removeprefix("AWSCognitoIdentityProviderService.")
            front.seen.append((target, {"headers": dict(self.headers), "body": body}))
            try:
                fault = front.faults.get_nowait()
            except queue.Empty:
                fault = None
            if fault and fault[0] == "drop":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if fault and fault[0] == "status":
                _, status, kind, text = fault
                headers = [("content-type", "application/x-amz-json-1.1" if kind else "text/html"),
                           ("x-amzn-requestid", "front-" + uuid.uuid4().hex)]
                if kind:
                    headers.append(("x-amzn-errortype", kind))
                return self.answer(status, headers, text.encode())
            if fault and fault[0] == "delay":
                time.sleep(fault[1])
            if target == "RevokeToken":
                return self.answer(200, [("content-type", "application/x-amz-json-1.1"),
                                         ("x-amzn-requestid", "front-revoke")], b"{}")
            if self.path == "/oauth2/token":
                return self.token(body)
            if self.path == "/oauth2/revoke":
                return self.answer(200, [("content-type", "application/json")], b"")
            self.relay(body)

        def relay(self, body):
            conn = http.client.HTTPConnection(moto.hostname, moto.port, timeout=30)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "content-length"}
            conn.request("POST", "/", body=body, headers=headers)
            reply = conn.getresponse()
            data = reply.read()
            keep = [(k, v) for k, v in reply.getheaders()
                    if k.lower() in ("content-type", "x-amzn-requestid", "x-amzn-errortype")]
            self.answer(reply.status, keep, data)

        def token(self, body):
            form = dict(urllib.parse.parse_qsl(body.decode()))
            auth = {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": form["client_id"],
                    "AuthParameters": {"REFRESH_TOKEN": form["refresh_token"]}}
            req = urllib.request.Request(front.moto_url + "/", data=json.dumps(auth).encode(), headers={
                "content-type": "application/x-amz-json-1.1",
                "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth"})
            try:
                result = json.loads(urllib.request.urlopen(req).read())["AuthenticationResult"]
            except urllib.error.HTTPError:
                return self.answer(400, [("content-type", "application/json")],
                                   b'{"error":"invalid_grant"}')
            out = {"access_token": result["AccessToken"], "id_token": result["IdToken"],
                   "token_type": "Bearer", "expires_in": 3600}
            self.answer(200, [("content-type", "application/json")], json.dumps(out).encode())

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    front.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


@dataclass
class Stack:
    url: str
    moto: Moto
    front: FakeFront
    proxied: dict
    fronted: dict
    guarded: dict
    moto_iam: Moto
    log_path: Path


@pytest.fixture(scope="module")
def stack(moto, moto_iam, tmp_path_factory):
    front = FakeFront(moto.url)
    server = serve_front(front)
    proxied, fronted = moto.pools
    guarded = moto_iam.pools[0]
    jwks = lambda pool, at=moto: f"{at.url}/{pool['id']}/.well-known/jwks.json"  # noqa: E731
    pools = [
        {"id": proxied["id"], "jwks_uri": jwks(proxied), "clients": [{"id": proxied["client"]}],
         "token_use": ["access", "id"], "upstream": {"endpoint": moto.url}},
        {"id": fronted["id"], "jwks_uri": jwks(fronted), "clients": [{"id": fronted["client"]}],
         "token_use": ["access", "id"], "upstream": {"endpoint": front.url, "domain": front.url}},
        {"id": guarded["id"], "jwks_uri": jwks(guarded, moto_iam), "clients": [{"id": guarded["client"]}],
         "token_use": ["access", "id"], "upstream": {"endpoint": moto_iam.url}},
    ]
    config = {"vars": {
        "POOLS": json.dumps(pools),
        "ADMIN_CREDENTIALS": json.dumps([{"access_key_id": ADMIN_KEY_ID,
                                          "secret_access_key": ADMIN_SECRET}]),
        # The IAM-checking moto's key; the other moto takes any key.
        "UPSTREAM_CREDENTIALS": json.dumps({"access_key_id": moto_iam.key_id,
                                            "secret_access_key": moto_iam.secret}),
    }}
    proc, url, log_path = start_worker(config, tmp_path_factory.mktemp("proxy-worker"))
    yield Stack(url, moto, front, proxied, fronted, guarded, moto_iam, log_path)
    proc.stdin.close()
    stop_process_group(proc)
    server.shutdown()


@pytest.fixture(scope="module")
def worker_anon(stack):
    return cognito_client(stack.url)


@pytest.fixture(scope="module")
def worker_admin(stack):
    return cognito_client(stack.url, key_id=ADMIN_KEY_ID, secret=ADMIN_SECRET)


@pytest.fixture(scope="module")
def moto_direct(stack):
    """moto itself, unsigned (for refreshes) — what an app would call without the Worker."""
    return cognito_client(stack.moto.url)


@pytest.fixture(scope="module")
def moto_admin(stack):
    """The IAM-checking moto itself, signed with the key its IAM knows."""
    return cognito_client(stack.moto_iam.url, key_id=stack.moto_iam.key_id,
                          secret=stack.moto_iam.secret)


def gate(stack, token: str) -> tuple[int, dict]:
    req = urllib.request.Request(stack.url + "/api/me", headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=15) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def error_of(call) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    err = info.value.response
    return err["Error"]["Code"], err["Error"]["Message"], err["ResponseMetadata"]["HTTPStatusCode"]


def new_user(anon, admin, pool) -> tuple[str, str]:
    """Signs a user up through the Worker and confirms them (admin call, re-signed)."""
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    password = f"Pw-{secrets.token_hex(6)}-Aa1!"
    anon.sign_up(ClientId=pool["client"], Username=email, Password=password,
                 UserAttributes=[{"Name": "email", "Value": email}])
    admin.admin_confirm_sign_up(UserPoolId=pool["id"], Username=email)
    return email, password


def sign_in(client, pool, email, password) -> dict:
    return client.initiate_auth(ClientId=pool["client"], AuthFlow="USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": email, "PASSWORD": password}
                                )["AuthenticationResult"]


def refresh(client, pool, refresh_token) -> dict:
    return client.initiate_auth(ClientId=pool["client"], AuthFlow="REFRESH_TOKEN_AUTH",
                                AuthParameters={"REFRESH_TOKEN": refresh_token}
                                )["AuthenticationResult"]


def next_second():
    """Tokens carry whole seconds: a sign-in in the second of a sign-out is covered by it."""
    time.sleep(1.05 - (time.time() % 1))


def test_the_whole_story_runs_through_the_worker_and_after_sign_out_nothing_works_on_either_side(
        stack, worker_anon, worker_admin, moto_direct):
    pool = stack.proxied
    email, password = new_user(worker_anon, worker_admin, pool)
    tokens = sign_in(worker_anon, pool, email, password)
    assert worker_anon.get_user(AccessToken=tokens["AccessToken"])["Username"]
    assert gate(stack, tokens["AccessToken"])[0] == 200
    assert gate(stack, tokens["IdToken"])[0] == 200
    refreshed = refresh(worker_anon, pool, tokens["RefreshToken"])
    assert gate(stack, refreshed["AccessToken"])[0] == 200

    worker_anon.global_sign_out(AccessToken=tokens["AccessToken"])

    # Cognito's side: moto refuses the refresh token, through the Worker and directly.
    for client in (worker_anon, moto_direct):
        assert error_of(lambda: refresh(client, pool, tokens["RefreshToken"]))[:2] == \
            ("NotAuthorizedException", REFRESH_REVOKED)
    # The edge's side: every access and ID token of the session, refreshed ones too.
    for token in (tokens["AccessToken"], refreshed["AccessToken"]):
        assert error_of(lambda: worker_anon.get_user(AccessToken=token))[:2] == \
            ("NotAuthorizedException", REVOKED)
        assert gate(stack, token) == (401, {"__type": "NotAuthorizedException", "message": REVOKED})
    assert gate(stack, tokens["IdToken"]) == \
        (401, {"__type": "NotAuthorizedException", "message": "ID Token has been revoked"})
    # A new sign-in works on both sides.
    next_second()
    again = sign_in(worker_anon, pool, email, password)
    assert gate(stack, again["AccessToken"])[0] == 200
    assert refresh(moto_direct, pool, again["RefreshToken"])["AccessToken"]


def test_an_admin_sign_out_by_email_reaches_the_users_sub_on_both_sides(
        stack, worker_anon, worker_admin, moto_direct):
    pool = stack.proxied
    email, password = new_user(worker_anon, worker_admin, pool)
    tokens = sign_in(worker_anon, pool, email, password)
    claims = json.loads(base64.urlsafe_b64decode(tokens["AccessToken"].split(".")[1] + "=="))
    assert claims["username"] != email, "the pool signs in by email: tokens carry no email"
    worker_admin.admin_user_global_sign_out(UserPoolId=pool["id"], Username=email)
    assert gate(stack, tokens["AccessToken"])[0] == 401
    assert error_of(lambda: refresh(moto_direct, pool, tokens["RefreshToken"]))[0] == \
        "NotAuthorizedException"


def test_admin_calls_reach_moto_signed_by_the_workers_key_never_the_callers(
        stack, worker_anon, worker_admin, moto_admin):
    pool = stack.guarded
    # Confirming the user is already a re-signed call that moto's IAM checked.
    email, password = new_user(worker_anon, worker_admin, pool)
    # moto checks SigV4 and IAM: the caller's key means nothing to it …
    direct = cognito_client(stack.moto_iam.url, key_id=ADMIN_KEY_ID, secret=ADMIN_SECRET)
    with pytest.raises(ClientError):
        direct.admin_get_user(UserPoolId=pool["id"], Username=email)
    # … the Worker's re-signed call is accepted.
    assert worker_admin.admin_get_user(UserPoolId=pool["id"], Username=email)["Username"]
    # A caller whose signature fails never reaches moto.
    forged = cognito_client(stack.url, key_id=ADMIN_KEY_ID, secret="not-the-secret-0000000000")
    code, _, status = error_of(lambda: forged.admin_get_user(UserPoolId=pool["id"], Username=email))
    assert (code, status) == ("InvalidSignatureException", 400)
    # Disabling signs out on both sides; moto then refuses the user.
    tokens = sign_in(worker_anon, pool, email, password)
    worker_admin.admin_disable_user(UserPoolId=pool["id"], Username=email)
    assert gate(stack, tokens["AccessToken"])[0] == 401
    assert error_of(lambda: sign_in(worker_anon, pool, email, password))[:2] == \
        ("NotAuthorizedException", "User is disabled.")
    worker_admin.admin_delete_user(UserPoolId=pool["id"], Username=email)
    assert error_of(lambda: moto_admin.admin_get_user(UserPoolId=pool["id"], Username=email))[0] == \
        "UserNotFoundException"


def test_moto_errors_come_back_as_moto_sent_them(stack, worker_anon, worker_admin):
    pool = stack.proxied
    code, message, status = error_of(lambda: worker_admin.admin_get_user(
        UserPoolId=pool["id"], Username="nobody@example.com"))
    assert (code, message, status) == ("UserNotFoundException", "User does not exist.", 400)
    code, _, _ = error_of(lambda: worker_anon.initiate_auth(
        ClientId=pool["client"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "nobody@example.com", "PASSWORD": "Wrong-pass-1!"}))
    assert code in ("UserNotFoundException", "NotAuthorizedException")


# --- the failure matrix, against the fake front ---------------------------------------------

def test_upstream_down_slow_or_failing_gives_cognitos_error_shape_and_a_retry_completes_it(
        stack, worker_anon, worker_admin, moto_direct):
    pool, front = stack.fronted, stack.front
    email, password = new_user(worker_anon, worker_admin, pool)
    tokens = sign_in(worker_anon, pool, email, password)

    # Down: the connection drops. The edge entry is written first, so the tokens are refused
    # at the edge already (more revoked, never less); moto still has the session.
    front.fail_next(("drop",))
    code, _, status = error_of(lambda: worker_anon.global_sign_out(AccessToken=tokens["AccessToken"]))
    assert (code, status) == ("InternalErrorException", 500)
    assert gate(stack, tokens["AccessToken"])[0] == 401
    assert refresh(moto_direct, pool, tokens["RefreshToken"])["AccessToken"]
    # Not Cognito's answer (a gateway's page), then Cognito's own 5xx and 4xx as they came.
    front.fail_next(("status", 502, None, "<html>Bad Gateway</html>"))
    assert error_of(lambda: worker_anon.global_sign_out(AccessToken=tokens["AccessToken"]))[:3] == \
        ("InternalErrorException", "Internal server error.", 500)
    front.fail_next(("status", 500, "InternalErrorException",
                     '{"__type":"InternalErrorException","message":"Cognito fell over"}'))
    assert error_of(lambda: worker_anon.global_sign_out(AccessToken=tokens["AccessToken"])) == \
        ("InternalErrorException", "Cognito fell over", 500)
    front.fail_next(("status", 400, "TooManyRequestsException",
                     '{"__type":"TooManyRequestsException","message":"Rate exceeded"}'))
    assert error_of(lambda: worker_anon.global_sign_out(AccessToken=tokens["AccessToken"])) == \
        ("TooManyRequestsException", "Rate exceeded", 400)
    # Slow but in time: it completes.
    front.fail_next(("delay", 1.5))
    worker_anon.global_sign_out(AccessToken=tokens["AccessToken"])
    assert error_of(lambda: refresh(moto_direct, pool, tokens["RefreshToken"]))[:2] == \
        ("NotAuthorizedException", REFRESH_REVOKED)
    assert front.targets().count("GlobalSignOut") == 5


def test_an_upstream_that_hangs_past_the_time_limit_is_internal_error_and_nothing_waits_on_it(
        stack, worker_anon, worker_admin):
    pool, front = stack.fronted, stack.front
    email, _ = new_user(worker_anon, worker_admin, pool)
    front.fail_next(("delay", 13))
    started = time.monotonic()
    code, _, status = error_of(lambda: worker_admin.admin_get_user(UserPoolId=pool["id"], Username=email))
    assert (code, status) == ("InternalErrorException", 500)
    assert 9 <= time.monotonic() - started < 13
    assert worker_admin.admin_get_user(UserPoolId=pool["id"], Username=email)["Username"]


# --- what moto lacks, against the fake front -------------------------------------------------

def test_revoke_token_revokes_a_session_the_worker_saw_at_the_edge_and_forwards_it(
        stack, worker_anon, worker_admin, moto_direct):
    pool, front = stack.fronted, stack.front
    email, password = new_user(worker_anon, worker_admin, pool)
    seen = sign_in(worker_anon, pool, email, password)
    other = sign_in(worker_anon, pool, email, password)
    worker_anon.revoke_token(Token=seen["RefreshToken"], ClientId=pool["client"])
    target, request = front.seen[-1]
    assert target == "RevokeToken"
    assert json.loads(request["body"]) == {"Token": seen["RefreshToken"], "ClientId": pool["client"]}
    assert "authorization" not in {k.lower() for k in request["headers"]}
    for token in (seen["AccessToken"], seen["IdToken"]):
        assert gate(stack, token)[0] == 401
    assert gate(stack, other["AccessToken"])[0] == 200, "another session lives"
    # A refresh token the Worker never saw (a sign-in straight at moto) is forwarded only.
    unseen = sign_in(moto_direct, pool, email, password)
    worker_anon.revoke_token(Token=unseen["RefreshToken"], ClientId=pool["client"])
    assert front.targets()[-1] == "RevokeToken"
    assert gate(stack, unseen["AccessToken"])[0] == 200


def test_the_hosted_ui_token_endpoint_learns_a_session_and_its_revoke_endpoint_ends_it(
        stack, worker_anon, worker_admin, moto_direct):
    pool, front = stack.fronted, stack.front
    email, password = new_user(worker_anon, worker_admin, pool)
    tokens = sign_in(moto_direct, pool, email, password)  # the Worker never saw this one

    def post(path, form):
        req = urllib.request.Request(f"{stack.url}/{pool['id']}/oauth2/{path}",
                                     data=urllib.parse.urlencode(form).encode(),
                                     headers={"content-type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(req, timeout=15) as reply:
            return reply.status, reply.read()

    status, body = post("token", {"grant_type": "refresh_token", "client_id": pool["client"],
                                  "refresh_token": tokens["RefreshToken"]})
    assert status == 200
    hosted = json.loads(body)
    assert gate(stack, hosted["access_token"])[0] == 200
    assert front.seen[-1][0] == "/oauth2/token"
    status, _ = post("revoke", {"token": tokens["RefreshToken"], "client_id": pool["client"]})
    assert status == 200 and front.seen[-1][0] == "/oauth2/revoke"
    for token in (hosted["access_token"], tokens["AccessToken"]):
        assert gate(stack, token)[0] == 401
