//! Compiles `proto/agentmint/v1/mint.proto` with the protoc binary vendored by
//! `protoc-bin-vendored`, so a fresh machine builds with cargo alone (no system protoc, no PROTOC).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let file = root.join("agentmint/v1/mint.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // The response carries a token: its `Debug` is written by hand (src/redact.rs) so that no
    // `{:?}` of it, in a log line, a panic or a test failure, ever prints the token.
    config.skip_debug(["agentmint.v1.MintTokenResponse"]);
    tonic_prost_build::configure().compile_with_config(config, &[file], &[root])?;
    Ok(())
}
