//! The ids of one Blueprint → Agent Identity → Agent User chain of the generated world.

use std::path::PathBuf;

use agentmint_emulator::world::World;

/// One chain; the world has two, so a test can cross them.
pub struct Chain {
    pub blueprint: String,
    pub key_path: PathBuf,
    pub cert_path: PathBuf,
    pub agent_identity: String,
    pub agent_identity_object_id: String,
    pub user_object_id: String,
    pub upn: String,
}

impl Chain {
    pub fn primary(w: &World) -> Chain {
        Chain {
            blueprint: w.blueprint_app_id.clone(),
            key_path: w.blueprint_key_path.clone(),
            cert_path: w.blueprint_cert_path.clone(),
            agent_identity: w.agent_identity_app_id.clone(),
            agent_identity_object_id: w.agent_identity_object_id.clone(),
            user_object_id: w.agent_user_object_id.clone(),
            upn: w.agent_user_upn.clone(),
        }
    }

    pub fn second(w: &World) -> Chain {
        Chain {
            blueprint: w.second_blueprint_app_id.clone(),
            key_path: w.second_blueprint_key_path.clone(),
            cert_path: w.second_blueprint_cert_path.clone(),
            agent_identity: w.second_agent_identity_app_id.clone(),
            agent_identity_object_id: w.second_agent_identity_object_id.clone(),
            user_object_id: w.second_agent_user_object_id.clone(),
            upn: w.second_agent_user_upn.clone(),
        }
    }

    pub fn key_pem(&self) -> String {
        std::fs::read_to_string(&self.key_path).unwrap()
    }

    pub fn cert_pem(&self) -> String {
        std::fs::read_to_string(&self.cert_path).unwrap()
    }
}
