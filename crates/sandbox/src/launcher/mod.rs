//! Starting the agent: its environment and its process.
//!
//! [`agent_env`] builds the agent's whole environment from the parent's: the token URLs added,
//! every credential-bearing variable removed. [`run_agent`] starts the agent with exactly that
//! environment (nothing else is inherited), forwards SIGINT, SIGTERM and SIGHUP to it, and returns
//! its exit status as a shell would report it.
//!
//! # What the agent sees
//!
//! | variable | value |
//! |---|---|
//! | `AGENTMINT_TOKEN_URL`, `AGENTMINT_USER_TOKEN_URL` | the first provider's app-only and user token URLs |
//! | `AGENTMINT_<PROVIDER>_TOKEN_URL`, `AGENTMINT_<PROVIDER>_USER_TOKEN_URL` | each provider's (name upper-cased, other characters as `_`) |
//! | `OPENSHELL_MICROSOFT_AGENT_S2S_TOKEN_URL`, `OPENSHELL_MICROSOFT_AGENT_S2S_TOKEN_PROVIDER_URL`, `A365_TOKEN_PROVIDER_URL` | the first provider's app-only URL (OpenShell migration) |
//! | `OPENSHELL_MICROSOFT_AGENT_USER_TOKEN_URL` | the first provider's user URL |
//! | `IDENTITY_ENDPOINT`, `IDENTITY_HEADER` | the managed-identity endpoint, when on |
//! | `NO_PROXY`, `no_proxy` | the inherited value plus `127.0.0.1,localhost,::1` (and the bound address) |
//!
//! **Every request to a token URL must carry the header `Metadata: true`** (as Azure IMDS
//! requires), or it is refused with 400: a web page cannot add that header, so a browser on the
//! machine cannot be turned against the resolver. For example:
//!
//! ```text
//! curl -H 'Metadata: true' "$AGENTMINT_TOKEN_URL?scope=https://graph.microsoft.com/.default"
//! ```
//!
//! The managed-identity endpoint instead requires `X-IDENTITY-HEADER: $IDENTITY_HEADER`, which is
//! what the Azure SDKs send to an App Service endpoint (the JS SDK sends no `Metadata` header).
//!
//! # What the agent never sees
//!
//! Removed always: `AGENTMINT_SANDBOX_CREDENTIAL*`, `AZURE_CLIENT_SECRET`,
//! `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_CERTIFICATE*`, `AZURE_USERNAME`, `AZURE_PASSWORD`,
//! `MSI_SECRET`, inherited `IDENTITY_ENDPOINT`/`IDENTITY_HEADER`, any variable whose value contains
//! the sandbox credential, and any variable whose value names the credential file. With the
//! managed-identity endpoint on, also `IMDS_ENDPOINT`, `MSI_ENDPOINT`, `IDENTITY_SERVER_THUMBPRINT`
//! and `AZURE_POD_IDENTITY_AUTHORITY_HOST` (so every SDK picks the App Service source) and
//! `AZURE_CLIENT_ID` (so no SDK asks the one-identity endpoint for a different identity).

mod env;
mod run;

pub use env::agent_env;
pub use run::{run_agent, run_agent_with_signals};
