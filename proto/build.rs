//! Compiles every `.proto` under `renda/` with protox (pure Rust), so no system `protoc` is needed.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "renda/common/v1/common.proto",
    "renda/suggestion/v1/suggestion.proto",
    "renda/suggestion/v1/events.proto",
    "renda/deputy/v1/deputy.proto",
    "renda/deputy/v1/events.proto",
    "renda/supervision/v1/supervision.proto",
    "renda/supervision/v1/events.proto",
    "renda/opinion/v1/opinion.proto",
    "renda/opinion/v1/events.proto",
    "renda/notification/v1/notification.proto",
    "renda/notification/v1/events.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=renda");
    let descriptors = protox::compile(PROTOS, ["."])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("renda_descriptor.bin"), prost::Message::encode_to_vec(&descriptors))?;
    tonic_prost_build::configure()
        .client_mod_attribute(".", "#[cfg(feature = \"client\")]")
        .server_mod_attribute(".", "#[cfg(feature = \"server\")]")
        .compile_fds(descriptors)?;
    Ok(())
}
