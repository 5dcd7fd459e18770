// Unmodified @azure/identity gets the agent's token from the sandbox resolver.
//
// Runs inside an agent environment with IDENTITY_ENDPOINT and IDENTITY_HEADER set (as
// `agentmint sandbox --managed-identity app|user -- node azure_identity_check.mjs` provides), asks
// ManagedIdentityCredential and DefaultAzureCredential (both with their defaults) for a token,
// decodes each payload (no signature check: the point is *whose* token it is) and compares its
// claims with the expectation. Prints the claims, never a token. Exits 0 only when both match.
//
// Environment:
//   AGENTMINT_INTEROP_NODE_DIR  the folder where tests/interop/sdk/setup.sh installed @azure/identity
//                               (default target/interop/node)
//   AGENTMINT_CHECK_SCOPE       scope to ask for (default https://graph.microsoft.com/.default)
//   EXPECT_APPID                required: the token's appid (v1) or azp (v2)
//   EXPECT_IDTYP                required: "app" or "user"
//   EXPECT_OID                  optional: the token's oid

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.AGENTMINT_INTEROP_NODE_DIR || path.resolve(here, "../../../target/interop/node");
// Resolve the SDK from where setup.sh installed it, not from this script's folder.
const require = createRequire(path.join(nodeDir, "resolve-from-here.js"));
const { ManagedIdentityCredential, DefaultAzureCredential } = require("@azure/identity");

const SHOWN = ["aud", "appid", "azp", "idtyp", "oid", "tid", "xms_par_app_azp"];

function payload(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

function mismatches(claims, expect) {
  const found = { appid: claims.appid ?? claims.azp, idtyp: claims.idtyp, oid: claims.oid };
  return Object.entries(expect)
    .filter(([name, want]) => want && found[name] !== want)
    .map(([name, want]) => `${name}: expected ${JSON.stringify(want)}, found ${JSON.stringify(found[name])}`);
}

async function main() {
  const scope = process.env.AGENTMINT_CHECK_SCOPE || "https://graph.microsoft.com/.default";
  const expect = {
    appid: process.env.EXPECT_APPID,
    idtyp: process.env.EXPECT_IDTYP,
    oid: process.env.EXPECT_OID || undefined,
  };
  if (!expect.appid || !expect.idtyp) {
    console.error("usage: EXPECT_APPID and EXPECT_IDTYP must be set (EXPECT_OID optional)");
    return 2;
  }
  for (const name of ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]) {
    if (!process.env[name]) {
      console.log(`FAIL: ${name} is not set; run this inside \`agentmint sandbox --managed-identity ...\``);
      return 1;
    }
  }
  const clients = [
    ["@azure/identity ManagedIdentityCredential", () => new ManagedIdentityCredential()],
    ["@azure/identity DefaultAzureCredential", () => new DefaultAzureCredential()],
  ];
  let failed = 0;
  for (const [name, make] of clients) {
    let claims;
    try {
      claims = payload((await make().getToken(scope)).token);
    } catch (err) {
      console.log(`FAIL ${name}: ${err.name}: ${err.message}`);
      failed += 1;
      continue;
    }
    const shown = Object.fromEntries(SHOWN.filter((k) => k in claims).map((k) => [k, claims[k]]));
    const problems = mismatches(claims, expect);
    console.log(`${problems.length ? "FAIL" : "ok  "} ${name}: ${JSON.stringify(shown)}`);
    for (const problem of problems) console.log(`       ${problem}`);
    failed += problems.length ? 1 : 0;
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
