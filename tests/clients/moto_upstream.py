"""moto's Cognito emulator as the real user pool behind a proxied pool, on a port of its own.

    .venv/bin/python tests/clients/moto_upstream.py [POOLS] [iam]

Starts moto in server mode on 127.0.0.1, port 0 (the system picks one). With `iam`, IAM
checking is on (`INITIAL_NO_AUTH_ACTION_COUNT`): only its own set-up below runs
unauthenticated; after it, moto verifies every SigV4 signature and IAM policy, so a request
re-signed with anything but the Worker's upstream key is refused. (moto's IAM mode breaks its
unsigned GlobalSignOut, which then fails looking for an Authorization header, so the sign-out
story runs against a moto without it.) The set-up makes an IAM user with a key allowed `cognito-idp:*`
(the Worker's UPSTREAM_CREDENTIALS) and POOLS user pools (default 2), each with one app client
(user-password and refresh flows, token revocation on) whose users sign in by email (usernames
are subs, so an email is an alias only Cognito can resolve). Then it prints one line,
`READY <json>`: {"url", "key_id", "secret", "pools": [{"id", "client"}]}, and runs until its
stdin closes (so a test runner that dies never leaves it behind) or it is signalled.
"""

from __future__ import annotations

import json
import os
import signal
import sys

POOLS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
IAM = "iam" in sys.argv[2:]
if IAM:
    # create_user, create_access_key, put_user_policy, then create_user_pool and
    # create_user_pool_client per pool: every later request is checked.
    os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = str(3 + 2 * POOLS)

import boto3  # noqa: E402  (moto reads the variable when it is imported)
from moto.server import ThreadedMotoServer  # noqa: E402

REGION = "us-east-1"


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    # Set-up credentials: any well-formed key works while the free actions last.
    boot = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="AKIAMOTOSETUP0000000",
                aws_secret_access_key="moto-set-up-secret-access-key-00000000")
    iam = boto3.client("iam", **boot)
    iam.create_user(UserName="edge-revoke-upstream")
    key = iam.create_access_key(UserName="edge-revoke-upstream")["AccessKey"]
    iam.put_user_policy(
        UserName="edge-revoke-upstream", PolicyName="cognito",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cognito-idp:*", "Resource": "*"}]}))
    cognito = boto3.client("cognito-idp", endpoint_url=url, region_name=REGION,
                           aws_access_key_id=key["AccessKeyId"],
                           aws_secret_access_key=key["SecretAccessKey"])
    pools = []
    for n in range(POOLS):
        pool = cognito.create_user_pool(PoolName=f"proxied-{n}", UsernameAttributes=["email"])
        pool_id = pool["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName=f"app-{n}",
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
                               "ALLOW_ADMIN_USER_PASSWORD_AUTH"])
        pools.append({"id": pool_id, "client": client["UserPoolClient"]["ClientId"]})
    ready = {"url": url, "key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"],
             "pools": pools}
    print(f"READY {json.dumps(ready)}", flush=True)

    def stop(*_):
        server.stop()
        os._exit(0)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        sys.stdin.read()
    finally:
        stop()


if __name__ == "__main__":
    main()
