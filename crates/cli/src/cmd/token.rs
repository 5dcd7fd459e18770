//! `agentmint token`: the operator's debug client. Mints through a gateway with a sandbox credential
//! and prints the decoded claims and expiry; the raw token only with `--raw`.

use agentmint_proto::{FailureDetails, MintTokenRequest, TokenBrokerClient, TokenKind};
use anyhow::Context;
use tonic::metadata::MetadataValue;

use crate::claims;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    App,
    User,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub gateway: crate::cmd::gateway_conn::GatewayArgs,
    #[arg(long)]
    pub provider: String,
    #[arg(long, value_enum, default_value = "app")]
    pub kind: Kind,
    /// Scopes; repeat for several. None: the provider's default scopes for this kind.
    #[arg(long)]
    pub scope: Vec<String>,
    /// Also print the raw access token.
    #[arg(long)]
    pub raw: bool,
}

pub async fn run(args: Args) -> anyhow::Result<u8> {
    let credential = std::fs::read_to_string(args.gateway.bearer_file())
        .with_context(|| format!("reading {}", args.gateway.bearer_file().display()))?;
    let bearer: MetadataValue<_> = format!("Bearer {}", credential.trim())
        .parse()
        .context("the credential file holds characters not allowed in a header")?;
    let endpoint = args.gateway.gateway_tls().endpoint(&args.gateway.gateway)?;
    let channel = endpoint
        .connect()
        .await
        .with_context(|| format!("connecting to {}", args.gateway.gateway))?;
    let mut client = TokenBrokerClient::new(channel);
    let mut request = tonic::Request::new(MintTokenRequest {
        provider: args.provider.clone(),
        kind: match args.kind {
            Kind::App => TokenKind::AppOnly,
            Kind::User => TokenKind::UserPrincipal,
        } as i32,
        scopes: args.scope.clone(),
    });
    request.metadata_mut().insert("authorization", bearer);
    match client.mint_token(request).await {
        Ok(response) => {
            let r = response.into_inner();
            println!("provider:   {}", args.provider);
            println!("scopes:     {}", r.scopes.join(" "));
            println!("expires at: {} (unix)", r.expires_at_unix);
            println!("cache hit:  {}", r.cache_hit);
            if let Some(c) = claims::decode(&r.access_token) {
                for name in claims::SHOWN {
                    println!("{name:<16}{}", claims::show(&c, name));
                }
            }
            if args.raw {
                println!("{}", r.access_token);
            }
            Ok(0)
        }
        Err(status) => {
            eprintln!("mint failed: {:?}: {}", status.code(), status.message());
            if let Some(d) = FailureDetails::from_status(&status) {
                let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
                eprintln!(
                    "reason={} hop={} upstream_status={} aadsts={} correlation_id={} retry_after_secs={}",
                    d.reason,
                    or_dash(d.hop),
                    or_dash(d.upstream_status.map(|s| s.to_string())),
                    or_dash(d.aadsts),
                    or_dash(d.correlation_id),
                    or_dash(d.retry_after.map(|r| r.as_secs().to_string())),
                );
            }
            Ok(1)
        }
    }
}
