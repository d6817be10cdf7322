//! Compiles the public contract in `proto/` with protox (no system protoc) and
//! writes the descriptor set that server reflection serves.

use std::{env, fs, path::PathBuf};

use prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from("proto");
    let mut files: Vec<PathBuf> = fs::read_dir(proto_root.join("hrplan/v1"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    files.sort();

    // tonic-prost-build does not print rerun directives when given a
    // descriptor set, so say which inputs matter here.
    println!("cargo:rerun-if-changed=proto");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let fds = protox::compile(&files, [&proto_root])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out_dir.join("hrplan_descriptor.bin"), fds.encode_to_vec())?;

    // Every message names itself (`prost::Name`) so that the one codec of every
    // service (`grpc::codec`) finds its request in the descriptor set.
    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .codec_path("crate::grpc::codec::Codec")
        .compile_fds_with_config(fds, config)?;
    Ok(())
}
