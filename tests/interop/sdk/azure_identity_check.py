#!/usr/bin/env python3
"""Unmodified Microsoft Python clients get the agent's token from the sandbox resolver.

Runs inside an agent environment that has IDENTITY_ENDPOINT and IDENTITY_HEADER set (as
`agentmint sandbox --managed-identity app|user -- python3 azure_identity_check.py` provides), asks
each client for a token with its defaults:

  * azure-identity ManagedIdentityCredential()
  * azure-identity DefaultAzureCredential()
  * msal ManagedIdentityClient(SystemAssignedManagedIdentity(), http_client=requests.Session())

decodes each token's payload (no signature check: the point is *whose* token it is) and compares
its claims with the expectation. Prints the claims, never a token. Exit status 0 only when every
client got a token with the expected claims.

Environment:
  AGENTMINT_CHECK_SCOPE  scope to ask for (default https://graph.microsoft.com/.default)
  EXPECT_APPID           required: the token's appid (v1) or azp (v2), e.g. the Agent Identity
  EXPECT_IDTYP           required: "app" for an app-only token, "user" for an Agent User token
  EXPECT_OID             optional: the token's oid (the Agent User's object id for user tokens)
"""

import base64
import json
import os
import sys

DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
SHOWN = ("aud", "appid", "azp", "idtyp", "oid", "tid", "xms_par_app_azp")


def payload(token):
    """The JWT payload as a dict, without verifying anything."""
    part = token.split(".")[1]
    part += "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(part))


def mismatches(claims, expect):
    found = {
        "appid": claims.get("appid") or claims.get("azp"),
        "idtyp": claims.get("idtyp"),
        "oid": claims.get("oid"),
    }
    return [
        f"{name}: expected {want!r}, found {found[name]!r}"
        for name, want in expect.items()
        if want is not None and found[name] != want
    ]


def resource_of(scope):
    return scope[: -len("/.default")] if scope.endswith("/.default") else scope


def clients(scope):
    """(name, function returning an access token) for each client under test."""

    def managed_identity_credential():
        from azure.identity import ManagedIdentityCredential

        return ManagedIdentityCredential().get_token(scope).token

    def default_azure_credential():
        from azure.identity import DefaultAzureCredential

        return DefaultAzureCredential().get_token(scope).token

    def msal_managed_identity_client():
        import msal
        import requests

        client = msal.ManagedIdentityClient(msal.SystemAssignedManagedIdentity(), http_client=requests.Session())
        result = client.acquire_token_for_client(resource=resource_of(scope))
        if "access_token" not in result:
            raise RuntimeError(f"{result.get('error')}: {result.get('error_description')}")
        return result["access_token"]

    return [
        ("azure-identity ManagedIdentityCredential", managed_identity_credential),
        ("azure-identity DefaultAzureCredential", default_azure_credential),
        ("msal ManagedIdentityClient", msal_managed_identity_client),
    ]


def main():
    scope = os.environ.get("AGENTMINT_CHECK_SCOPE") or DEFAULT_SCOPE
    expect = {
        "appid": os.environ.get("EXPECT_APPID"),
        "idtyp": os.environ.get("EXPECT_IDTYP"),
        "oid": os.environ.get("EXPECT_OID") or None,
    }
    if not expect["appid"] or not expect["idtyp"]:
        print("usage: EXPECT_APPID and EXPECT_IDTYP must be set (EXPECT_OID optional)", file=sys.stderr)
        return 2
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        if not os.environ.get(name):
            print(f"FAIL: {name} is not set; run this inside `agentmint sandbox --managed-identity ...`")
            return 1

    failed = 0
    for name, get_token in clients(scope):
        try:
            claims = payload(get_token())
        except Exception as err:  # report every client, whatever breaks
            print(f"FAIL {name}: {type(err).__name__}: {err}")
            failed += 1
            continue
        shown = {k: claims[k] for k in SHOWN if k in claims}
        problems = mismatches(claims, expect)
        print(f"{'FAIL' if problems else 'ok  '} {name}: {json.dumps(shown, sort_keys=True)}")
        for problem in problems:
            print(f"       {problem}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
