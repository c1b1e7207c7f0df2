"""boto3, unmodified, against the Worker's Cognito endpoint (`POST /`, AWS JSON 1.1).

The sign-out scenarios mirror moto's tests (reference/cognito.md §6.1) with real Cognito's
messages where moto differs; every code, message and status is asserted exactly, through both
`ClientError.response` and the modelled exception classes (`client.exceptions.X`), which botocore
picks from the body's `__type`.
"""

from __future__ import annotations

import json
import os
import pathlib
import queue
import re
import signal
import socket
import subprocess
import threading
import time
import types
import urllib.error
import urllib.request
import uuid

import jwt
import pytest
from botocore.exceptions import ClientError

from conftest import (
    ADMIN_KEY_ID,
    ADMIN_SECRET,
    EXTERNAL_CLIENT,
    EXTERNAL_ISSUER,
    EXTERNAL_POOL,
    LOCAL_ISSUER,
    LOCAL_POOL,
    PUBLIC_CLIENT,
    SECRET_CLIENT,
    CLIENT_SECRET,
    ROOT,
    cognito_client,
    free_port,
    group_members,
    read_lines_into,
    secret_hash,
    stop_process_group,
    wait_for_line,
)

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
POOL_ID_PATTERN_MESSAGE = (
    "1 validation error detected: Value 'n/a' at 'userPoolId' failed to satisfy constraint: "
    "Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+"
)
INVALID_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def expect_error(excinfo, code: str, message: str, status: int = 400) -> None:
    """The ClientError botocore raised carries exactly this code, message and status."""
    err = excinfo.value
    assert isinstance(err, ClientError)
    assert err.response["Error"]["Code"] == code
    assert err.response["Error"]["Message"] == message
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert UUID.match(err.response["ResponseMetadata"]["RequestId"])


def expect_empty_success(response: dict) -> None:
    """An empty Cognito output: boto3 returns ResponseMetadata only."""
    assert set(response) == {"ResponseMetadata"}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert UUID.match(response["ResponseMetadata"]["RequestId"])
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.1"


def sign_in(client, user, client_id: str = PUBLIC_CLIENT) -> dict:
    params = {"USERNAME": user.username, "PASSWORD": user.password}
    if client_id == SECRET_CLIENT:
        params["SECRET_HASH"] = secret_hash(user.username)
    result = client.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", AuthParameters=params, ClientId=client_id)
    tokens = result["AuthenticationResult"]
    assert tokens["TokenType"] == "Bearer"
    assert tokens["ExpiresIn"] == 3600
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(tokens)
    return tokens


def refresh(client, user, refresh_token: str, flow: str = "REFRESH_TOKEN_AUTH", client_id: str = PUBLIC_CLIENT) -> dict:
    params = {"REFRESH_TOKEN": refresh_token}
    if client_id == SECRET_CLIENT:
        params["SECRET_HASH"] = secret_hash(user.username)
    return client.initiate_auth(AuthFlow=flow, AuthParameters=params, ClientId=client_id)["AuthenticationResult"]


def claims_of(worker, token: str, **options) -> dict:
    """Verifies a token the Worker signed with PyJWT and the public half of its key."""
    public = jwt.PyJWK(worker.signing_key.public_jwk()).key
    return jwt.decode(token, public, algorithms=["RS256"], issuer=LOCAL_ISSUER, **options)


# --- moto's sign-out tests, with real Cognito's messages ----------------------------------------


def test_admin_user_global_sign_out_revokes_refresh_and_access_tokens(worker, admin, anon, make_user):
    """test_admin_user_global_sign_out + _twice (moto), secret client, legacy REFRESH_TOKEN flow."""
    user = make_user()
    tokens = sign_in(anon, user, SECRET_CLIENT)
    # Both refresh flows work before the sign-out and keep the session (origin_jti).
    for flow in ("REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"):
        fresh = refresh(anon, user, tokens["RefreshToken"], flow, SECRET_CLIENT)
        assert "RefreshToken" not in fresh
        assert claims_of(worker, fresh["AccessToken"])["origin_jti"] == claims_of(worker, tokens["AccessToken"])["origin_jti"]
    assert anon.get_user(AccessToken=tokens["AccessToken"])["Username"] == user.username

    expect_empty_success(admin.admin_user_global_sign_out(UserPoolId=LOCAL_POOL, Username=user.username))
    # Twice: the second call succeeds too (idempotent).
    expect_empty_success(admin.admin_user_global_sign_out(UserPoolId=LOCAL_POOL, Username=user.username))

    for flow in ("REFRESH_TOKEN", "REFRESH_TOKEN_AUTH"):
        with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
            refresh(anon, user, tokens["RefreshToken"], flow, SECRET_CLIENT)
        expect_error(excinfo, "NotAuthorizedException", "Refresh Token has been revoked")
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.get_user(AccessToken=tokens["AccessToken"])
    expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.global_sign_out(AccessToken=tokens["AccessToken"])
    expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")

    # Signing in again afterwards works (same second as the sign-out included).
    again = sign_in(anon, user, SECRET_CLIENT)
    assert anon.get_user(AccessToken=again["AccessToken"])["Username"] == user.username
    assert refresh(anon, user, again["RefreshToken"], "REFRESH_TOKEN", SECRET_CLIENT)["AccessToken"]


def test_global_sign_out_revokes_the_callers_tokens(anon, make_user):
    """test_global_sign_out (moto), with Cognito's message on get_user."""
    user = make_user()
    tokens = sign_in(anon, user)
    expect_empty_success(anon.global_sign_out(AccessToken=tokens["AccessToken"]))
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        refresh(anon, user, tokens["RefreshToken"])
    expect_error(excinfo, "NotAuthorizedException", "Refresh Token has been revoked")
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.get_user(AccessToken=tokens["AccessToken"])
    expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.global_sign_out(AccessToken=tokens["AccessToken"])
    expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")


def test_admin_user_global_sign_out_unknown_user(admin):
    with pytest.raises(admin.exceptions.UserNotFoundException) as excinfo:
        admin.admin_user_global_sign_out(UserPoolId=LOCAL_POOL, Username="n/a")
    expect_error(excinfo, "UserNotFoundException", "User does not exist.")


def test_admin_user_global_sign_out_unknown_userpool(admin):
    with pytest.raises(admin.exceptions.ResourceNotFoundException) as excinfo:
        admin.admin_user_global_sign_out(UserPoolId="us-east-1_Nope99", Username="someone")
    expect_error(excinfo, "ResourceNotFoundException", "User pool us-east-1_Nope99 does not exist.")


def test_a_malformed_pool_id_gets_corals_validation_message(admin):
    """moto answers ResourceNotFoundException for "n/a"; Cognito validates the pattern (boto3 does not)."""
    with pytest.raises(admin.exceptions.InvalidParameterException) as excinfo:
        admin.admin_user_global_sign_out(UserPoolId="n/a", Username="someone")
    expect_error(excinfo, "InvalidParameterException", POOL_ID_PATTERN_MESSAGE)


def test_login_denied_if_account_disabled(admin, anon, make_user):
    """test_login_denied_if_account_disabled (moto); disabling also revokes, enabling restores sign-in."""
    user = make_user()
    tokens = sign_in(anon, user)
    expect_empty_success(admin.admin_disable_user(UserPoolId=LOCAL_POOL, Username=user.username))
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        sign_in(anon, user)
    expect_error(excinfo, "NotAuthorizedException", "User is disabled.")
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.get_user(AccessToken=tokens["AccessToken"])
    expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")
    assert admin.admin_get_user(UserPoolId=LOCAL_POOL, Username=user.username)["Enabled"] is False
    expect_empty_success(admin.admin_enable_user(UserPoolId=LOCAL_POOL, Username=user.username))
    assert anon.get_user(AccessToken=sign_in(anon, user)["AccessToken"])["Username"] == user.username


def test_revoke_token_ends_one_session_and_leaves_the_other(worker, anon, make_user):
    user = make_user()
    first = sign_in(anon, user, SECRET_CLIENT)
    second = sign_in(anon, user, SECRET_CLIENT)
    assert claims_of(worker, first["AccessToken"])["origin_jti"] != claims_of(worker, second["AccessToken"])["origin_jti"]

    with pytest.raises(anon.exceptions.UnauthorizedException) as excinfo:
        anon.revoke_token(Token=first["RefreshToken"], ClientId=SECRET_CLIENT, ClientSecret="wrong" + CLIENT_SECRET[5:])
    expect_error(excinfo, "UnauthorizedException", "Unable to authenticate the client with the given client secret")
    with pytest.raises(anon.exceptions.UnsupportedTokenTypeException) as excinfo:
        anon.revoke_token(Token=first["AccessToken"], ClientId=SECRET_CLIENT, ClientSecret=CLIENT_SECRET)
    expect_error(excinfo, "UnsupportedTokenTypeException", "Only refresh tokens can be revoked")

    expect_empty_success(anon.revoke_token(Token=first["RefreshToken"], ClientId=SECRET_CLIENT, ClientSecret=CLIENT_SECRET))
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.get_user(AccessToken=first["AccessToken"])
    expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        refresh(anon, user, first["RefreshToken"], client_id=SECRET_CLIENT)
    expect_error(excinfo, "NotAuthorizedException", "Refresh Token has been revoked")

    assert anon.get_user(AccessToken=second["AccessToken"])["Username"] == user.username
    assert anon.get_user(AccessToken=refresh(anon, user, second["RefreshToken"], client_id=SECRET_CLIENT)["AccessToken"])
    assert anon.get_user(AccessToken=sign_in(anon, user, SECRET_CLIENT)["AccessToken"])["Username"] == user.username


def test_unverifiable_and_malformed_access_tokens(anon):
    """moto's *_unknown_accesstoken tests, with Cognito's validation of the token's pattern."""
    with pytest.raises(anon.exceptions.InvalidParameterException) as excinfo:
        anon.global_sign_out(AccessToken="n/a")
    expect_error(excinfo, "InvalidParameterException",
                 "1 validation error detected: Value at 'accessToken' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: [A-Za-z0-9-_=.]+")
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.get_user(AccessToken="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")
    expect_error(excinfo, "NotAuthorizedException", "Invalid Access Token")


# --- success shapes --------------------------------------------------------------------------------


def test_get_user_answers_username_and_attributes_with_sub(worker, anon, make_user):
    user = make_user()
    tokens = sign_in(anon, user)
    access = claims_of(worker, tokens["AccessToken"])
    assert access["token_use"] == "access" and access["client_id"] == PUBLIC_CLIENT
    assert access["username"] == user.username and access["scope"] == "aws.cognito.signin.user.admin"
    id_claims = claims_of(worker, tokens["IdToken"], audience=PUBLIC_CLIENT)
    assert id_claims["cognito:username"] == user.username and id_claims["sub"] == access["sub"]

    result = anon.get_user(AccessToken=tokens["AccessToken"])
    assert result["Username"] == user.username
    attributes = {a["Name"]: a["Value"] for a in result["UserAttributes"]}
    assert attributes["sub"] == access["sub"]
    assert attributes["email"] == user.email
    assert result["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_admin_get_user_answers_the_user_record(admin, anon, make_user):
    user = make_user()
    result = admin.admin_get_user(UserPoolId=LOCAL_POOL, Username=user.username)
    assert result["Username"] == user.username
    assert result["Enabled"] is True
    assert result["UserStatus"] == "CONFIRMED"
    attributes = {a["Name"]: a["Value"] for a in result["UserAttributes"]}
    assert attributes["email"] == user.email and UUID.match(attributes["sub"])
    # botocore parsed the epoch-seconds timestamps into datetimes.
    assert result["UserCreateDate"].year >= 2024 and result["UserLastModifiedDate"] >= result["UserCreateDate"]
    # By email alias and by sub too.
    assert admin.admin_get_user(UserPoolId=LOCAL_POOL, Username=attributes["sub"])["Username"] == user.username


def test_admin_create_user_then_new_password_required_then_tokens(admin, anon):
    username = f"newbie-{uuid.uuid4().hex[:10]}"
    created = admin.admin_create_user(
        UserPoolId=LOCAL_POOL, Username=username, TemporaryPassword="Temp-Pass-1!",
        MessageAction="SUPPRESS", UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )["User"]
    assert created["Username"] == username
    assert created["UserStatus"] == "FORCE_CHANGE_PASSWORD" and created["Enabled"] is True

    challenge = anon.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=PUBLIC_CLIENT,
                                   AuthParameters={"USERNAME": username, "PASSWORD": "Temp-Pass-1!"})
    assert challenge["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    assert challenge["Session"]
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == username
    assert "AuthenticationResult" not in challenge

    answered = anon.respond_to_auth_challenge(
        ClientId=PUBLIC_CLIENT, ChallengeName="NEW_PASSWORD_REQUIRED", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": username, "NEW_PASSWORD": "Chosen-Pass-2!"},
    )
    tokens = answered["AuthenticationResult"]
    assert {"AccessToken", "IdToken", "RefreshToken"} <= set(tokens)
    assert anon.get_user(AccessToken=tokens["AccessToken"])["Username"] == username
    assert admin.admin_get_user(UserPoolId=LOCAL_POOL, Username=username)["UserStatus"] == "CONFIRMED"

    with pytest.raises(admin.exceptions.UsernameExistsException) as excinfo:
        admin.admin_create_user(UserPoolId=LOCAL_POOL, Username=username, MessageAction="SUPPRESS")
    expect_error(excinfo, "UsernameExistsException", "User account already exists")


# --- SigV4 ---------------------------------------------------------------------------------------


def test_a_wrong_secret_key_is_an_invalid_signature(worker):
    client = cognito_client(worker.url, key_id=ADMIN_KEY_ID, secret=ADMIN_SECRET + "x")
    with pytest.raises(ClientError) as excinfo:
        client.admin_user_global_sign_out(UserPoolId=LOCAL_POOL, Username="someone")
    expect_error(excinfo, "InvalidSignatureException", INVALID_SIGNATURE_MESSAGE)


def test_an_unknown_access_key_is_unrecognized(worker):
    client = cognito_client(worker.url, key_id="AKIAUNKNOWN000000001", secret="whatever-secret-key-000")
    with pytest.raises(ClientError) as excinfo:
        client.admin_user_global_sign_out(UserPoolId=LOCAL_POOL, Username="someone")
    expect_error(excinfo, "UnrecognizedClientException", "The security token included in the request is invalid.")


def test_an_unsigned_admin_call_is_missing_its_token(anon):
    with pytest.raises(ClientError) as excinfo:
        anon.admin_user_global_sign_out(UserPoolId=LOCAL_POOL, Username="someone")
    expect_error(excinfo, "MissingAuthenticationTokenException", "Missing Authentication Token")


def test_token_operations_work_unsigned_and_signed(admin, anon, make_user):
    """The noAuth operations need no signature, and a signed call (SDKs sign when they can) works too."""
    user = make_user()
    tokens = sign_in(anon, user)  # unsigned InitiateAuth
    assert anon.get_user(AccessToken=tokens["AccessToken"])["Username"] == user.username
    assert admin.get_user(AccessToken=tokens["AccessToken"])["Username"] == user.username
    signed = sign_in(admin, user)
    expect_empty_success(anon.global_sign_out(AccessToken=signed["AccessToken"]))


# --- an external pool: tokens minted by PyJWT, checked at the gate -------------------------------


def external_token(worker, username: str, sub: str) -> str:
    now = int(time.time())
    claims = {
        "sub": sub, "iss": EXTERNAL_ISSUER, "client_id": EXTERNAL_CLIENT, "origin_jti": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()), "token_use": "access", "scope": "aws.cognito.signin.user.admin",
        "auth_time": now - 5, "iat": now - 5, "exp": now + 3600, "jti": str(uuid.uuid4()), "username": username,
    }
    key = worker.external_key
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.kid, "typ": None})


def get_me(worker, token: str):
    """GET /api/me with the token: (status, headers, JSON body)."""
    request = urllib.request.Request(f"{worker.url}/api/me", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read())


def test_admin_sign_out_of_an_external_user_closes_the_gate(worker, admin):
    username, sub = f"ext-{uuid.uuid4().hex[:10]}", str(uuid.uuid4())
    bystander = external_token(worker, f"ext-{uuid.uuid4().hex[:10]}", str(uuid.uuid4()))
    token = external_token(worker, username, sub)
    status, _, body = get_me(worker, token)
    assert status == 200
    assert (body["username"], body["sub"], body["iss"]) == (username, sub, EXTERNAL_ISSUER)

    expect_empty_success(admin.admin_user_global_sign_out(UserPoolId=EXTERNAL_POOL, Username=username))

    # The isolate that wrote sees the entry at once (other isolates: within REVOCATION_CACHE_TTL_S).
    status, headers, body = get_me(worker, token)
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="Access Token has been revoked"'
    assert headers["x-amzn-ErrorType"] == "NotAuthorizedException"
    assert body == {"__type": "NotAuthorizedException", "message": "Access Token has been revoked"}
    # GetUser, the Cognito way of asking, agrees; another user of the pool is untouched.
    anon = cognito_client(worker.url)
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.get_user(AccessToken=token)
    expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")
    assert get_me(worker, bystander)[0] == 200


def assert_revoked_at_the_gate(worker, token: str) -> None:
    status, _, body = get_me(worker, token)
    assert (status, body) == (401, {"__type": "NotAuthorizedException", "message": "Access Token has been revoked"})


# Before: a sign-out by another case or Unicode form of the name answered {} and the token kept
# passing the gate, because the entry was written under the exact bytes given.
@pytest.mark.parametrize(
    ("given", "in_token"),
    [
        ("EXT-ALICE-{tag}", "ext-alice-{tag}"),
        ("Ext-Alice-{tag}", "ext-alice-{tag}"),
        ("ext-alice-{tag}", "EXT-Alice-{tag}"),
        ("ren\u00e9e-{tag}", "rene\u0301e-{tag}"),
        ("rene\u0301e-{tag}", "ren\u00e9e-{tag}"),
        ("REN\u00c9E-{tag}", "rene\u0301e-{tag}"),
    ],
    ids=["upper", "mixed", "lower-given-mixed-in-token", "nfc-given-nfd-in-token", "nfd-given-nfc-in-token", "upper-nfc-given-nfd-in-token"],
)
def test_admin_sign_out_by_another_case_or_unicode_form_closes_the_gate(worker, admin, given, in_token):
    tag = uuid.uuid4().hex[:8]
    token = external_token(worker, in_token.format(tag=tag), str(uuid.uuid4()))
    bystander = external_token(worker, f"ext-{uuid.uuid4().hex[:10]}", str(uuid.uuid4()))
    assert get_me(worker, token)[0] == 200
    expect_empty_success(admin.admin_user_global_sign_out(UserPoolId=EXTERNAL_POOL, Username=given.format(tag=tag)))
    assert_revoked_at_the_gate(worker, token)
    anon = cognito_client(worker.url)
    with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
        anon.get_user(AccessToken=token)
    expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")
    assert get_me(worker, bystander)[0] == 200


# Before: an email alias for an external pool (whose access tokens carry no email) answered {}.
@pytest.mark.parametrize("alias", ["alice@example.com", "Alice@Example.COM", "+15555550100"])
def test_admin_sign_out_by_an_email_or_phone_of_an_external_user_is_refused(worker, admin, alias):
    token = external_token(worker, f"ext-{uuid.uuid4().hex[:10]}", str(uuid.uuid4()))
    with pytest.raises(admin.exceptions.InvalidParameterException) as excinfo:
        admin.admin_user_global_sign_out(UserPoolId=EXTERNAL_POOL, Username=alias)
    expect_error(
        excinfo,
        "InvalidParameterException",
        f"Username looks like an email address or phone number, which tokens of user pool {EXTERNAL_POOL} "
        "do not carry: pass the user's username, or their sub if the pool signs users in by email or phone number",
    )
    assert get_me(worker, token)[0] == 200


# A pool whose users sign in with their email has the sub as username: the sub signs them out,
# in any case.
def test_admin_sign_out_by_the_sub_in_upper_case_closes_the_gate(worker, admin):
    sub = str(uuid.uuid4())
    token = external_token(worker, sub, sub)
    expect_empty_success(admin.admin_user_global_sign_out(UserPoolId=EXTERNAL_POOL, Username=sub.upper()))
    assert_revoked_at_the_gate(worker, token)


def test_a_local_user_is_signed_out_by_any_case_of_their_name_or_email(worker, admin, anon, make_user):
    user = make_user()
    tokens = sign_in(anon, user)
    expect_empty_success(admin.admin_user_global_sign_out(UserPoolId=LOCAL_POOL, Username=user.username.upper()))
    assert_revoked_at_the_gate(worker, tokens["AccessToken"])


# --- the real `make dev` launcher ------------------------------------------------------------------

DEMO_POOL, DEMO_CLIENT = "us-east-1_DemoPool", "democlient"
DEMO_ISSUER = f"http://127.0.0.1:8787/{DEMO_POOL}"  # wrangler.toml's POOLS; only an identifier


def read_dev_vars(path) -> dict:
    """`.dev.vars` as scripts/dev.mjs writes it: KEY='value' lines."""
    values = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match[1]] = re.sub(r"^'(.*)'$", r"\1", match[2])
    return values


def start_make_dev():
    """`node scripts/dev.mjs` (what `make dev` runs after `make build`) on a free port, in its own
    process group; returns (process, url, output lines) once its banner is printed."""
    if not (ROOT / "target/wasm32-unknown-unknown/release/edge_revoke.wasm").exists():
        pytest.fail("run `make build` first: wrangler dev runs the [build] command (`make build`), and a "
                    "cold cargo build would take minutes (`make test` builds first)")
    port = free_port()
    proc = subprocess.Popen(
        ["node", "scripts/dev.mjs"], cwd=ROOT, env={**os.environ, "PORT": str(port)},
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=read_lines_into, args=(proc.stdout, lines, "clients-boto3-dev"), daemon=True).start()
    seen: list = []
    try:
        wait_for_line(lines, "edge-revoke is running", 60, seen)
    except Exception:
        stop_process_group(proc)
        raise
    assert f"edge-revoke is running at http://127.0.0.1:{port}/" in seen[-1]
    return proc, f"http://127.0.0.1:{port}", seen


def test_make_dev_with_boto3_alone_a_new_user_is_signed_out_everywhere():
    """`make dev`'s launcher on a free PORT, then boto3 alone (urllib only to show the gate):
    create a user, sign in, refresh, admin sign-out; every old access, ID and refresh token fails
    with Cognito's messages; a new sign-in works; the seeded demo user is untouched."""
    proc, url, _ = start_make_dev()
    try:
        credential = json.loads(read_dev_vars(ROOT / ".dev.vars")["ADMIN_CREDENTIALS"])[0]
        admin = cognito_client(url, key_id=credential["access_key_id"], secret=credential["secret_access_key"])
        anon = cognito_client(url)
        server = types.SimpleNamespace(url=url)
        name, password = f"dave-{uuid.uuid4().hex[:8]}", "Dave-Demo-1!"

        admin.admin_create_user(UserPoolId=DEMO_POOL, Username=name, TemporaryPassword=password,
                                MessageAction="SUPPRESS", UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
        expect_empty_success(admin.admin_set_user_password(UserPoolId=DEMO_POOL, Username=name, Password=password, Permanent=True))
        credentials = {"USERNAME": name, "PASSWORD": password}
        tokens = anon.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=DEMO_CLIENT, AuthParameters=credentials)["AuthenticationResult"]
        # The demo pool's issuer follows PORT, so tokens and discovery documents name this server.
        assert jwt.decode(tokens["AccessToken"], options={"verify_signature": False})["iss"] == f"{url}/{DEMO_POOL}"
        refreshed = anon.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=DEMO_CLIENT,
                                       AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})["AuthenticationResult"]
        assert anon.get_user(AccessToken=refreshed["AccessToken"])["Username"] == name
        alice = anon.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=DEMO_CLIENT,
                                   AuthParameters={"USERNAME": "alice", "PASSWORD": "Alice-Demo-1"})["AuthenticationResult"]

        expect_empty_success(admin.admin_user_global_sign_out(UserPoolId=DEMO_POOL, Username=name))

        for access_token in (tokens["AccessToken"], refreshed["AccessToken"]):
            with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
                anon.get_user(AccessToken=access_token)
            expect_error(excinfo, "NotAuthorizedException", "Access Token has been revoked")
        with pytest.raises(anon.exceptions.NotAuthorizedException) as excinfo:
            anon.initiate_auth(AuthFlow="REFRESH_TOKEN_AUTH", ClientId=DEMO_CLIENT,
                               AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]})
        expect_error(excinfo, "NotAuthorizedException", "Refresh Token has been revoked")
        for id_token in (tokens["IdToken"], refreshed["IdToken"]):
            status, headers, body = get_me(server, id_token)
            assert (status, body) == (401, {"__type": "NotAuthorizedException", "message": "ID Token has been revoked"})
            assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="ID Token has been revoked"'

        again = anon.initiate_auth(AuthFlow="USER_PASSWORD_AUTH", ClientId=DEMO_CLIENT, AuthParameters=credentials)["AuthenticationResult"]
        assert anon.get_user(AccessToken=again["AccessToken"])["Username"] == name
        assert get_me(server, again["IdToken"])[0] == 200
        assert anon.get_user(AccessToken=alice["AccessToken"])["Username"] == "alice", "other users are untouched"
    finally:
        stop_process_group(proc)
    assert group_members(proc.pid) == []


def processes_mentioning(text):
    """Pids whose command line contains `text` (wrangler and workerd carry the port in theirs)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmdline:
                found.append((int(entry.name), cmdline.strip()))
    return found


def test_make_dev_stops_everything_it_started_on_sigterm():
    """A process manager (or CI) stopping `make dev` signals its main process, not the group:
    wrangler and workerd must stop with it and free the port."""
    proc, url, _ = start_make_dev()
    port = url.rsplit(":", 1)[1]
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
        deadline = time.time() + 15
        while time.time() < deadline and processes_mentioning(f"--port {port}"):
            time.sleep(0.3)
        assert processes_mentioning(f"--port {port}") == [], "wrangler or workerd outlived `make dev`"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", int(port)), timeout=2).close()
    finally:
        stop_process_group(proc)
