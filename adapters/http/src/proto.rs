//! Types generated from `proto/orbit/v1` (prost messages with proto3-JSON serde impls).
#![allow(clippy::all, missing_docs)]

pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/orbit.v1.rs"));
    include!(concat!(env!("OUT_DIR"), "/orbit.v1.serde.rs"));
}

/// The compiled descriptor set of every Orbit proto file.
pub const DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/orbit_descriptor.bin"));

/// The OpenAPI 3.1 document of the Connect JSON surface, generated at build time.
pub const OPENAPI_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/openapi.json"));
