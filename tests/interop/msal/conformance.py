"""MSAL Python conformance: drives the agentmint emulator with Microsoft's own client library.

The emulator is only useful if it accepts exactly what real clients send. This script uses MSAL
Python's public API, unmodified, for the whole Agent ID chain:

  hop 1  ConfidentialClientApplication(Blueprint, certificate) .acquire_token_for_client(
             ["api://AzureADTokenExchange/.default"], fmi_path=<Agent Identity>)      -> T1
  hop 2  ConfidentialClientApplication(Agent Identity, client_assertion=T1)
             .acquire_token_for_client(["api://AzureADTokenExchange/.default"])       -> T2
             .acquire_token_for_client(["https://graph.microsoft.com/.default"])      -> app token
  hop 3  .acquire_token_by_user_federated_identity_credential(scopes, assertion=T2,
             user_object_id=... | username=...)                                       -> user token

MSAL 1.39 has native `fmi_path` and `user_fic` support, so no private MSAL API is used. It also
checks the legacy certificate form (SHA-1 thumbprint, RS256), MSAL's own instance discovery
against the emulator, and that an Entra error reaches the caller intact.

Inputs (environment):
  AGENTMINT_EMULATOR_URL  https://localhost:PORT of a running emulator (TLS on)
  AGENTMINT_EMULATOR_CA   the CA file the emulator's certificate chains to
  AGENTMINT_WORLD_DIR     the folder `World::generate` / `agentmint emulator --generate` wrote
                          (directory.toml, blueprint.key.pem, blueprint.cert.pem)

Prints the decoded claims of every token and exits 1 on the first mismatch.
"""

import base64
import hashlib
import json
import os
import ssl
import sys

import msal
import requests

try:
    import tomllib
except ImportError:  # Python < 3.11
    import tomli as tomllib

EXCHANGE_SCOPE = "api://AzureADTokenExchange/.default"
EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"
GRAPH_DEFAULT = "https://graph.microsoft.com/.default"
USER_READ = "https://graph.microsoft.com/User.Read"

failures = []


def check(label, found, expected):
    ok = found == expected
    print("  {} {}: {!r}{}".format("ok  " if ok else "FAIL", label, found,
                                   "" if ok else " (expected {!r})".format(expected)))
    if not ok:
        failures.append(label)


def require(label, condition, detail=""):
    print("  {} {}{}".format("ok  " if condition else "FAIL", label, "" if condition else ": " + detail))
    if not condition:
        failures.append(label)


def claims_of(token):
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def token_of(step, result):
    """The access token of an MSAL result; stops the run when MSAL reports an error."""
    if "access_token" not in result:
        print("FAIL {}: {}".format(step, json.dumps(result, indent=2)))
        sys.exit(1)
    claims = claims_of(result["access_token"])
    print("{} ({}):\n{}".format(step, result.get("token_source"), json.dumps(claims, indent=2, sort_keys=True)))
    return result["access_token"], claims


def facets(claims):
    return claims.get("xms_sub_fct", "").split()


def load_world(world_dir):
    with open(os.path.join(world_dir, "directory.toml"), "rb") as f:
        directory = tomllib.load(f)
    tenant = directory["tenant"][0]
    blueprint = next(b for b in tenant["blueprint"] if b.get("display_name") == "demo-blueprint")
    identity = next(a for a in tenant["agent_identity"] if a["blueprint_app_id"] == blueprint["app_id"])
    user = next(u for u in tenant["agent_user"] if u["agent_identity_app_id"] == identity["app_id"])
    other = next(a for a in tenant["agent_identity"] if a["blueprint_app_id"] != blueprint["app_id"])
    with open(os.path.join(world_dir, "blueprint.key.pem")) as f:
        key = f.read()
    with open(os.path.join(world_dir, "blueprint.cert.pem")) as f:
        cert = f.read()
    return tenant["id"], blueprint, identity, user, other, key, cert


def main():
    url = os.environ["AGENTMINT_EMULATOR_URL"].rstrip("/")
    ca = os.environ["AGENTMINT_EMULATOR_CA"]
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's `verify`, so a
    # machine-wide bundle would hide the emulator's CA: point them at it.
    os.environ["REQUESTS_CA_BUNDLE"] = ca
    os.environ.pop("CURL_CA_BUNDLE", None)
    tenant, blueprint, identity, user, other_identity, key, cert = load_world(os.environ["AGENTMINT_WORLD_DIR"])
    authority = "{}/{}".format(url, tenant)
    bp_id, ai_id = blueprint["app_id"], identity["app_id"]
    print("msal {} against {}".format(msal.__version__, authority))

    # Instance discovery the way MSAL does it for a host it does not know, pointed at the emulator.
    session = requests.Session()
    session.verify = ca
    discovered = msal.authority.Authority(
        authority, session, instance_discovery="{}/common/discovery/instance".format(url))
    print("instance discovery:")
    check("token_endpoint", discovered.token_endpoint, "{}/oauth2/v2.0/token".format(authority))

    def app(client_id, credential):
        # instance_discovery=False: MSAL would otherwise ask login.microsoftonline.com about the
        # emulator's host; the discovery endpoint itself was exercised above.
        return msal.ConfidentialClientApplication(
            client_id, client_credential=credential, authority=authority,
            instance_discovery=False, verify=ca)

    # Hop 1: certificate (MSAL computes x5t#S256 from the public certificate and signs PS256).
    blueprint_app = app(bp_id, {"private_key": key, "public_certificate": cert})
    t1, c = token_of("hop 1 (T1)", blueprint_app.acquire_token_for_client([EXCHANGE_SCOPE], fmi_path=ai_id))
    check("T1 aud", c.get("aud"), EXCHANGE_APP_ID)
    check("T1 azp", c.get("azp"), bp_id)
    check("T1 oid", c.get("oid"), blueprint["object_id"])
    check("T1 idtyp", c.get("idtyp"), "app")
    check("T1 tid", c.get("tid"), tenant)
    check("T1 sub", c.get("sub"), "/eid1/c/pub/t/{}/a/{}/{}".format(tenant, bp_id, ai_id))
    cached = blueprint_app.acquire_token_for_client([EXCHANGE_SCOPE], fmi_path=ai_id)
    check("T1 served from MSAL's cache on the second call", cached.get("token_source"), "cache")

    # Hop 1, legacy form: a SHA-1 thumbprint makes MSAL sign RS256 with x5t.
    sha1 = hashlib.sha1(ssl.PEM_cert_to_DER_cert(cert)).hexdigest()
    legacy_app = app(bp_id, {"private_key": key, "thumbprint": sha1})
    token_of("hop 1, legacy x5t", legacy_app.acquire_token_for_client([EXCHANGE_SCOPE], fmi_path=ai_id))

    # An Entra error reaches the caller intact: fmi_path of another Blueprint's Agent Identity.
    refused = blueprint_app.acquire_token_for_client([EXCHANGE_SCOPE], fmi_path=other_identity["app_id"])
    print("hop 1 with another Blueprint's agent identity:")
    check("error", refused.get("error"), "invalid_request")
    check("error_codes", refused.get("error_codes"), [700211])

    # Hop 2: T1 is the Agent Identity's client assertion.
    identity_app = app(ai_id, {"client_assertion": lambda: t1})
    t2, c = token_of("hop 2 (T2)", identity_app.acquire_token_for_client([EXCHANGE_SCOPE]))
    check("T2 aud", c.get("aud"), EXCHANGE_APP_ID)
    check("T2 azp", c.get("azp"), ai_id)
    check("T2 oid", c.get("oid"), identity["object_id"])
    check("T2 idtyp", c.get("idtyp"), "app")
    check("T2 xms_par_app_azp", c.get("xms_par_app_azp"), bp_id)
    require("T2 xms_sub_fct has 11", "11" in facets(c), str(c.get("xms_sub_fct")))

    _, c = token_of("hop 2 (app-only Graph token)", identity_app.acquire_token_for_client([GRAPH_DEFAULT]))
    check("app token aud", c.get("aud"), "https://graph.microsoft.com")
    check("app token iss", c.get("iss"), "https://sts.windows.net/{}/".format(tenant))
    check("app token appid", c.get("appid"), ai_id)
    check("app token oid", c.get("oid"), identity["object_id"])
    check("app token idtyp", c.get("idtyp"), "app")
    check("app token xms_par_app_azp", c.get("xms_par_app_azp"), bp_id)
    require("app token xms_sub_fct has 11", "11" in facets(c), str(c.get("xms_sub_fct")))

    # Hop 3: user_fic, by object id and by UPN. MSAL adds openid/profile/offline_access and
    # client_info=1 itself.
    for selector in ({"user_object_id": user["object_id"]}, {"username": user["upn"]}):
        result = identity_app.acquire_token_by_user_federated_identity_credential(
            [USER_READ], assertion=t2, **selector)
        _, c = token_of("hop 3 (Agent User token, {})".format(next(iter(selector))), result)
        check("user token aud", c.get("aud"), "https://graph.microsoft.com")
        check("user token appid", c.get("appid"), ai_id)
        check("user token idtyp", c.get("idtyp"), "user")
        check("user token oid", c.get("oid"), user["object_id"])
        check("user token upn", c.get("upn"), user["upn"])
        check("user token scp", c.get("scp"), "User.Read")
        check("user token tid", c.get("tid"), tenant)
        check("user token xms_par_app_azp", c.get("xms_par_app_azp"), bp_id)
        require("user token xms_sub_fct has 13", "13" in facets(c), str(c.get("xms_sub_fct")))
        check("id_token oid (as MSAL decoded it)", result.get("id_token_claims", {}).get("oid"), user["object_id"])
    accounts = identity_app.get_accounts()
    check("MSAL cached the Agent User's account", [a.get("username") for a in accounts], [user["upn"]])

    if failures:
        print("\n{} mismatch(es): {}".format(len(failures), ", ".join(failures)))
        sys.exit(1)
    print("\nMSAL conformance: all checks passed")


if __name__ == "__main__":
    main()
