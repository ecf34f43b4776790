//! Compiles `proto/` without a system protoc (protox), generates prost messages with
//! pbjson's proto3-JSON serde impls, and writes the OpenAPI 3.1 document of the Connect
//! JSON surface from the same descriptors, so the contract has one source.

use prost::Message;
use prost_types::{
    DescriptorProto, FieldDescriptorProto, FileDescriptorSet, SourceCodeInfo,
    field_descriptor_proto::{Label, Type},
};
use serde_json::{Map, Value, json};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let mut files: Vec<String> = std::fs::read_dir(root.join("orbit/v1"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".proto"))
        .map(|n| format!("orbit/v1/{n}"))
        .collect();
    files.sort();
    println!("cargo:rerun-if-changed={}", root.display());
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }

    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(&files)?;
    let fds: FileDescriptorSet = compiler.file_descriptor_set();
    let bytes = fds.encode_to_vec();
    std::fs::write(out.join("orbit_descriptor.bin"), &bytes)?;

    prost_build::Config::new()
        .compile_well_known_types()
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(fds.clone())?;
    pbjson_build::Builder::new()
        .register_descriptors(&bytes)?
        .build(&[".orbit"])?;

    let openapi = openapi(&fds);
    std::fs::write(
        out.join("openapi.json"),
        serde_json::to_string_pretty(&openapi)?,
    )?;
    Ok(())
}

fn comment(info: &Option<SourceCodeInfo>, path: &[i32]) -> Option<String> {
    let loc = info.as_ref()?.location.iter().find(|l| l.path == path)?;
    let text = loc
        .leading_comments
        .as_deref()
        .or(loc.trailing_comments.as_deref())?;
    let text = text
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim()
        .to_owned();
    (!text.is_empty()).then_some(text)
}

fn type_ref(name: &str) -> Value {
    let name = name.trim_start_matches('.');
    match name {
        "google.protobuf.Timestamp" => json!({"type": "string", "format": "date-time"}),
        _ => json!({"$ref": format!("#/components/schemas/{name}")}),
    }
}

fn field_schema(field: &FieldDescriptorProto) -> Value {
    let scalar = match field.r#type() {
        Type::String => json!({"type": "string"}),
        Type::Bool => json!({"type": "boolean"}),
        Type::Int32 | Type::Sint32 | Type::Sfixed32 => {
            json!({"type": "integer", "format": "int32"})
        }
        Type::Uint32 | Type::Fixed32 => json!({"type": "integer", "format": "uint32"}),
        Type::Int64 | Type::Sint64 | Type::Sfixed64 => json!({"type": "string", "format": "int64"}),
        Type::Uint64 | Type::Fixed64 => json!({"type": "string", "format": "uint64"}),
        Type::Double => json!({"type": "number", "format": "double"}),
        Type::Float => json!({"type": "number", "format": "float"}),
        Type::Bytes => json!({"type": "string", "format": "byte"}),
        Type::Enum | Type::Message | Type::Group => type_ref(field.type_name()),
    };
    if field.label() == Label::Repeated {
        json!({"type": "array", "items": scalar})
    } else {
        scalar
    }
}

fn message_schema(
    package: &str,
    msg: &DescriptorProto,
    info: &Option<SourceCodeInfo>,
    path: &[i32],
    schemas: &mut Map<String, Value>,
) {
    let mut props = Map::new();
    for (i, field) in msg.field.iter().enumerate() {
        let mut schema = field_schema(field);
        let mut fpath = path.to_vec();
        fpath.extend([2, i as i32]);
        let mut desc = comment(info, &fpath).unwrap_or_default();
        if let Some(idx) = field.oneof_index {
            if !field.proto3_optional() {
                let oneof = &msg.oneof_decl[idx as usize];
                let note = format!("One of `{}`: set at most one of its fields.", oneof.name());
                desc = if desc.is_empty() {
                    note
                } else {
                    format!("{desc} {note}")
                };
            }
        }
        if !desc.is_empty() {
            if schema.get("$ref").is_some() {
                schema = json!({"allOf": [schema], "description": desc});
            } else if let Some(obj) = schema.as_object_mut() {
                obj.insert("description".into(), Value::String(desc));
            }
        }
        props.insert(field.json_name().to_owned(), schema);
    }
    let name = format!("{package}.{}", msg.name());
    let mut schema = json!({"type": "object", "properties": props, "additionalProperties": false});
    if let Some(desc) = comment(info, path) {
        schema["description"] = Value::String(desc);
    }
    schemas.insert(name, schema);
}

fn openapi(fds: &FileDescriptorSet) -> Value {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    let mut tags = Vec::new();
    schemas.insert(
        "connect.error".into(),
        json!({
            "type": "object",
            "description": "A Connect error. `code` is one of the Connect codes; `message` is written for people.",
            "properties": {
                "code": {"type": "string", "enum": [
                    "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found",
                    "already_exists", "permission_denied", "resource_exhausted", "failed_precondition",
                    "aborted", "out_of_range", "unimplemented", "internal", "unavailable", "data_loss",
                    "unauthenticated"
                ]},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}}
            },
            "required": ["code"]
        }),
    );
    for file in &fds.file {
        if !file.package().starts_with("orbit.") {
            continue;
        }
        let package = file.package();
        let info = &file.source_code_info;
        for (mi, msg) in file.message_type.iter().enumerate() {
            message_schema(package, msg, info, &[4, mi as i32], &mut schemas);
        }
        for (ei, en) in file.enum_type.iter().enumerate() {
            let values: Vec<&str> = en.value.iter().map(|v| v.name()).collect();
            let mut schema = json!({"type": "string", "enum": values});
            if let Some(desc) = comment(info, &[5, ei as i32]) {
                schema["description"] = Value::String(desc);
            }
            schemas.insert(format!("{package}.{}", en.name()), schema);
        }
        for (si, svc) in file.service.iter().enumerate() {
            let tag = format!("{package}.{}", svc.name());
            tags.push(json!({"name": tag, "description": comment(info, &[6, si as i32]).unwrap_or_default()}));
            for (mi, method) in svc.method.iter().enumerate() {
                let path = format!("/{package}.{}/{}", svc.name(), method.name());
                let summary = comment(info, &[6, si as i32, 2, mi as i32]).unwrap_or_default();
                let error = json!({"description": "A Connect error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/connect.error"}}}});
                paths.insert(
                    path,
                    json!({"post": {
                        "tags": [tag],
                        "operationId": format!("{}.{}", svc.name(), method.name()),
                        "summary": summary,
                        "parameters": [{
                            "name": "Connect-Protocol-Version", "in": "header", "required": false,
                            "schema": {"type": "string", "const": "1"}
                        }],
                        "requestBody": {"required": true, "content": {"application/json": {"schema": type_ref(method.input_type())}}},
                        "responses": {
                            "200": {"description": "Success", "content": {"application/json": {"schema": type_ref(method.output_type())}}},
                            "400": error, "401": error, "403": error, "404": error, "409": error,
                            "413": error, "415": error, "429": error, "500": error, "503": error
                        }
                    }}),
                );
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Orbit API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Orbit's API over the Connect protocol: every method is `POST /<package>.<Service>/<Method>` with a JSON body (proto3 JSON mapping: lowerCamelCase names, 64-bit integers and bytes as strings, enums by name) or a binary protobuf body (`Content-Type: application/proto`). Authenticate with `Authorization: Bearer <token>`. Errors are JSON objects with a Connect `code` and a `message`."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An Orbit API token (`orbit_…`)."}}
        }
    })
}
