//! The demo's built-in agent: fetches both token kinds of the agent provider and the app token of
//! the Teams-bot provider through the sandbox's local URLs — exactly as an agent process would — and
//! prints their decoded claims side by side. Then it shows why the managed-identity token must never
//! be used directly, and how many requests Entra (the emulator) saw.

use agentmint_gateway::claims::{Audience, Expected, TenantPins, TokenUse};
use agentmint_stack::Stack;
use anyhow::{Context, bail};
use serde_json::{Map, Value};

use super::setup::{AGENT, BOT, GRAPH_DEFAULT, USER_SCOPE};
use crate::claims;

/// One token fetched through a local URL.
struct Fetched {
    label: String,
    claims: Map<String, Value>,
}

pub async fn run_builtin(stack: &Stack) -> anyhow::Result<u8> {
    let http = reqwest::Client::builder().no_proxy().build()?;
    // The emulator serves https with its own CA; only the demo's direct calls to it need that CA.
    let ca_path = stack
        .emulator_ca
        .as_ref()
        .context("the demo's emulator serves https")?;
    let ca_pem = std::fs::read(ca_path).context("reading the emulator's CA")?;
    let emulator_http = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(&ca_pem)?)
        .build()?;
    let resolver = stack
        .resolver
        .as_ref()
        .context("the demo runs a sandbox resolver")?;
    let agent_urls = resolver
        .urls
        .provider(AGENT)
        .context("agent provider URLs")?;
    let bot_urls = resolver.urls.provider(BOT).context("bot provider URLs")?;

    println!(
        "agentmint demo: emulator {} | gateway {} | sandbox http://{}",
        stack.emulator_url, stack.gateway_url, resolver.addr
    );
    println!();
    let mut fetched = Vec::new();
    // Each token is fetched twice: the second time comes from the gateway's cache.
    for _ in 0..2 {
        fetched.clear();
        fetched.push(
            fetch(
                &http,
                &agent_urls.app_token_url,
                GRAPH_DEFAULT,
                &format!("{AGENT} APP_ONLY"),
            )
            .await?,
        );
        fetched.push(
            fetch(
                &http,
                &agent_urls.user_token_url,
                USER_SCOPE,
                &format!("{AGENT} USER_PRINCIPAL"),
            )
            .await?,
        );
        fetched.push(
            fetch(
                &http,
                &bot_urls.app_token_url,
                GRAPH_DEFAULT,
                &format!("{BOT} APP_ONLY"),
            )
            .await?,
        );
    }
    print_table(&fetched);
    check(stack, &fetched)?;

    println!();
    direct_mi_mistake(stack, &emulator_http).await?;

    let stats: Value = emulator_http
        .get(format!("{}/_emulator/stats", stack.emulator_url))
        .send()
        .await?
        .json()
        .await?;
    println!();
    println!(
        "Entra (emulator) requests for 6 token fetches: {}",
        compact_stats(&stats)
    );
    println!(
        "(hop 1 once, hop 2 for T2 and the app token, hop 3 once, the bot's MI assertion and app hop once each, plus the one MI token of the mistake above; the repeats came from cache)"
    );
    Ok(0)
}

async fn fetch(
    http: &reqwest::Client,
    url: &str,
    scope: &str,
    label: &str,
) -> anyhow::Result<Fetched> {
    let response = http
        .get(url)
        .query(&[("scope", scope)])
        .header("Metadata", "true")
        .send()
        .await
        .with_context(|| format!("{label}: calling the sandbox"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .with_context(|| format!("{label}: reading the answer"))?;
    if !status.is_success() {
        bail!("{label}: the sandbox answered {status}: {body}");
    }
    let token = body["access_token"].as_str().context("no access_token")?;
    let claims = claims::decode(token).context("the token is not a JWT")?;
    Ok(Fetched {
        label: label.to_owned(),
        claims,
    })
}

fn print_table(fetched: &[Fetched]) {
    let width = 40;
    print!("{:<16}", "claim");
    for f in fetched {
        print!("{:<width$}", f.label);
    }
    println!();
    for name in claims::SHOWN {
        print!("{name:<16}");
        for f in fetched {
            let mut value = claims::show(&f.claims, name);
            if value.len() > width - 2 {
                value.truncate(width - 5);
                value.push_str("...");
            }
            print!("{value:<width$}");
        }
        println!();
    }
}

/// The demo fails loudly if a token is not what its kind promises.
fn check(stack: &Stack, fetched: &[Fetched]) -> anyhow::Result<()> {
    let w = &stack.world;
    let want = [
        (&w.agent_identity_app_id, "app", None),
        (
            &w.agent_identity_app_id,
            "user",
            Some(&w.agent_user_object_id),
        ),
        (&w.app_id, "app", None),
    ];
    for (f, (appid, idtyp, oid)) in fetched.iter().zip(want) {
        let got_app = claims::show(&f.claims, "appid");
        let got_app = if got_app == "-" {
            claims::show(&f.claims, "azp")
        } else {
            got_app
        };
        if &got_app != appid || claims::show(&f.claims, "idtyp") != idtyp {
            bail!(
                "{}: unexpected claims (appid {got_app}, idtyp {})",
                f.label,
                claims::show(&f.claims, "idtyp")
            );
        }
        if let Some(oid) = oid
            && &claims::show(&f.claims, "oid") != oid
        {
            bail!("{}: oid is not the Agent User's", f.label);
        }
    }
    println!();
    println!(
        "ok: app-only appid = Agent Identity, user token oid = Agent User (idtyp user), bot token appid = the bot's app id"
    );
    Ok(())
}

/// The bug agentmint makes impossible: using the managed-identity token itself as the bot's token.
async fn direct_mi_mistake(stack: &Stack, http: &reqwest::Client) -> anyhow::Result<()> {
    let w = &stack.world;
    let body: Value = http
        .get(format!("{}/msi/token", stack.emulator_url))
        .query(&[
            ("api-version", "2019-08-01"),
            ("resource", "https://graph.microsoft.com"),
            ("client_id", w.mi_client_id.as_str()),
        ])
        .header("X-IDENTITY-HEADER", w.identity_header.as_str())
        .send()
        .await?
        .json()
        .await?;
    let token = body["access_token"]
        .as_str()
        .context("no MI access_token")?;
    let expected = Expected {
        tenant: w.tenant_id.clone(),
        audience: Audience::Resource("https://graph.microsoft.com".to_owned()),
        app_id: w.app_id.clone(),
        token_use: TokenUse::App,
        oid: None,
        upn: None,
    };
    let pins = TenantPins::default();
    match agentmint_gateway::claims::check(token, &expected, &pins, agentmint_gateway::Hop::App) {
        Ok(()) => bail!("the claims check accepted a managed-identity token as the bot's token"),
        Err(err) => {
            println!(
                "The Teams-bot mistake, caught: a managed-identity token used directly as the bot's token"
            );
            println!("  -> {err}");
        }
    }
    Ok(())
}

fn compact_stats(stats: &Value) -> String {
    stats.to_string()
}
