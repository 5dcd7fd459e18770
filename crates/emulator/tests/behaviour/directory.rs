//! The directory file: round trip, and every inconsistency reported at once.

use std::time::{Duration, SystemTime};

use agentmint_emulator::Directory;
use agentmint_emulator::directory::{AgentIdentity, Consent, DirectoryError};
use agentmint_emulator::pki;
use agentmint_emulator::world::World;

fn world() -> (tempfile::TempDir, World) {
    let dir = tempfile::tempdir().unwrap();
    let world = World::generate(dir.path()).unwrap();
    (dir, world)
}

/// The problems `validate` reports in the generated world's directory changed by `edit`.
fn problems_after(edit: impl FnOnce(&mut Directory)) -> Vec<String> {
    let (_dir, world) = world();
    let mut directory = world.directory.clone();
    edit(&mut directory);
    problems(&directory)
}

/// Asserts that one of the problems after `edit` mentions `needle`.
#[track_caller]
fn assert_reported(needle: &str, edit: impl FnOnce(&mut Directory)) {
    let problems = problems_after(edit);
    assert!(problems.iter().any(|p| p.contains(needle)), "{problems:?}");
}

fn problems(directory: &Directory) -> Vec<String> {
    match directory.validate() {
        Err(DirectoryError::Invalid(problems)) => problems,
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn world_directory_round_trips_through_toml() {
    let (_dir, world) = world();
    let loaded = Directory::load(&world.directory_path).unwrap();
    assert_eq!(loaded, world.directory);
    let again = Directory::from_toml_str(&loaded.to_toml_string().unwrap()).unwrap();
    assert_eq!(again, loaded);
}

#[test]
fn world_registers_the_certificate_it_writes() {
    let (_dir, world) = world();
    let cert = std::fs::read_to_string(&world.blueprint_cert_path).unwrap();
    let key = std::fs::read_to_string(&world.blueprint_key_path).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    let blueprint = &world.directory.tenants[0].blueprints[0];
    assert_eq!(blueprint.app_id, world.blueprint_app_id);
    assert_eq!(blueprint.certificates, vec![cert]);
}

#[test]
fn agent_identity_of_an_unknown_blueprint_is_reported() {
    assert_reported("\"missing\"", |directory| {
        directory.tenants[0].agent_identities.push(AgentIdentity {
            app_id: uuid::Uuid::new_v4().to_string(),
            object_id: uuid::Uuid::new_v4().to_string(),
            blueprint_app_id: "missing".into(),
            ..AgentIdentity::default()
        })
    });
}

#[test]
fn duplicate_client_ids_are_reported() {
    assert_reported("appears twice", |directory| {
        let copy = directory.tenants[0].apps[0].clone();
        directory.tenants[0].apps.push(copy);
    });
}

#[test]
fn invalid_certificate_is_reported() {
    assert_reported("certificate #1", |directory| {
        let app = &mut directory.tenants[0].apps[0];
        app.certificates.push("not a certificate".into());
    });
}

#[test]
fn every_problem_is_reported_at_once() {
    let problems = problems_after(|directory| {
        directory.tenants[0].agent_users[0].consents.push(Consent {
            resource: "api://unknown".into(),
            scopes: vec!["x".into()],
        });
        directory.tenants[0].agent_users[0].agent_identity_app_id = "nobody".into();
        directory.resources[0].access_token_version = 3;
    });
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn unknown_fields_are_rejected() {
    let error =
        Directory::from_toml_str("[[tenant]]\nid = \"t\"\ncolour = \"blue\"\n").unwrap_err();
    assert!(error.to_string().contains("colour"), "{error}");
}

#[test]
fn client_certificate_validity_is_as_requested_even_in_the_past() {
    let now = SystemTime::now();
    let day = Duration::from_secs(86_400);
    assert!(pki::generate_client_certificate("old", now - 2 * day, now - day).is_ok());
    assert!(pki::generate_client_certificate("reversed", now, now - day).is_err());
}
