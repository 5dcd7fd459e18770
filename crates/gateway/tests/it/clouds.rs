//! Issue 9's clouds: the emulator played as the public cloud, US Government and China, each with its
//! own token exchange audience, and the gateway minting through each end to end (both token kinds)
//! once the provider names that cloud's audience. A gateway asking with another cloud's audience is
//! refused by the emulator, as Entra would refuse it.

use agentmint_emulator::directory::Cloud;
use agentmint_proto::TokenKind;
use agentmint_stack::{Blueprint, Layout, Provider, Sandbox, Stack, StackOptions, UserBy};

use crate::support::*;

async fn stack_in(cloud: Cloud) -> Stack {
    Stack::start(StackOptions {
        layout: Layout {
            providers: vec![Provider::agent(
                "agent",
                Blueprint::First,
                Some(UserBy::Upn),
                &[USER_READ],
            )],
            sandboxes: vec![Sandbox {
                credential: CRED_A.into(),
                ..Sandbox::new("sandbox-a", &["agent"])
            }],
            extra_config: String::new(),
        },
        edit_directory: Some(Box::new(move |_, directory| directory.cloud = cloud)),
        ..StackOptions::default()
    })
    .await
    .unwrap()
}

/// Names `audience` as the provider's exchange audience and reloads.
fn use_exchange_audience(h: &Stack, audience: &str) {
    let config = std::fs::read_to_string(&h.config_path).unwrap();
    let marker = "agent_identity_client_id = ";
    let at = config.find(marker).unwrap();
    let line_end = at + config[at..].find('\n').unwrap() + 1;
    let edited = format!(
        "{}exchange_audience = \"{audience}\"\n{}",
        &config[..line_end],
        &config[line_end..]
    );
    std::fs::write(&h.config_path, edited).unwrap();
    h.gateway.reload().unwrap();
}

#[tokio::test]
async fn the_gateway_mints_through_each_cloud_with_its_exchange_audience() {
    for cloud in Cloud::ALL {
        let h = stack_in(cloud).await;
        let mut client = connect(&h).await;
        if cloud != Cloud::Public {
            // The emulator's authority is a loopback URL, which implies the public audience:
            // the sovereign cloud does not know it.
            let refused = refused_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
            assert_eq!(upstream(&h, "blueprint", "ok"), 0, "{cloud:?}: {refused:?}");
            use_exchange_audience(&h, cloud.exchange_uri());
        }
        let app = minted_a(&mut client, "agent", TokenKind::AppOnly, &[GRAPH]).await;
        let user = minted_a(&mut client, "agent", TokenKind::UserPrincipal, &[USER_READ]).await;
        assert_eq!(
            claims(&app.access_token)["appid"],
            h.world.agent_identity_app_id.as_str()
        );
        assert_eq!(
            claims(&user.access_token)["upn"],
            h.world.agent_user_upn.as_str()
        );
        assert_eq!(upstream(&h, "blueprint", "ok"), 1, "{cloud:?}: one T1");
        assert_eq!(
            upstream(&h, "agent_identity", "ok"),
            2,
            "{cloud:?}: app-only and T2"
        );
        assert_eq!(upstream(&h, "agent_user", "ok"), 1, "{cloud:?}");
    }
}
