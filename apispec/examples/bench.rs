//! Validation and comparison time for a 500-operation OpenAPI document and a 200-message
//! protobuf package (figures in docs/benchmarks.md):
//!
//!     cargo run --release -p orbit-apispec --example bench

use orbit_apispec::{Format, SpecFile, validate};
use std::time::{Duration, Instant};

fn openapi(ops: usize, drop_every: usize) -> String {
    let mut s = String::from("openapi: 3.1.0\ninfo: {title: Big, version: '1'}\npaths:\n");
    for i in 0..ops / 2 {
        s.push_str(&format!("  /things{i}/{{id}}:\n    parameters:\n      - {{name: id, in: path, required: true, schema: {{type: string}}}}\n"));
        if drop_every == 0 || i % drop_every != 0 {
            s.push_str(&format!("    get:\n      operationId: getThing{i}\n      parameters:\n        - {{name: expand, in: query, schema: {{type: boolean}}}}\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {{$ref: '#/components/schemas/Thing{m}'}}\n", m = i % 100));
        }
        s.push_str(&format!("    post:\n      operationId: updateThing{i}\n      requestBody:\n        required: true\n        content:\n          application/json:\n            schema: {{$ref: '#/components/schemas/Thing{m}'}}\n      responses:\n        '204': {{description: done}}\n", m = i % 100));
    }
    s.push_str("components:\n  schemas:\n");
    for m in 0..100 {
        s.push_str(&format!(
            "    Thing{m}:\n      type: object\n      required: [id]\n      properties:\n"
        ));
        for f in 0..10 {
            let ty = if drop_every != 0 && f == 3 {
                "integer"
            } else {
                "string"
            };
            s.push_str(&format!("        field{f}: {{type: {ty}}}\n"));
        }
        s.push_str("        id: {type: string}\n");
    }
    s
}

fn proto(messages: usize, drop_every: usize) -> String {
    let mut s = String::from("syntax = \"proto3\";\npackage big.v1;\n\nservice BigService {\n");
    for i in 0..messages / 2 {
        s.push_str(&format!(
            "  rpc Call{i}(Msg{a}) returns (Msg{b});\n",
            a = 2 * i,
            b = 2 * i + 1
        ));
    }
    s.push_str("}\n");
    for m in 0..messages {
        s.push_str(&format!("// Message {m}.\nmessage Msg{m} {{\n"));
        for f in 1..=10 {
            if drop_every != 0 && m % drop_every == 0 && f == 5 {
                continue;
            }
            s.push_str(&format!("  string field_{f} = {f};\n"));
        }
        s.push_str("}\n");
    }
    s
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut all: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    all.sort();
    (all[runs / 2], all[runs * 95 / 100])
}

fn main() {
    let runs = 30;
    let file = |name: &str, content: String| {
        vec![SpecFile {
            name: name.into(),
            content,
        }]
    };
    let (a, b) = (openapi(500, 0), openapi(500, 10));
    let fa = file("big.yaml", a);
    let fb = file("big.yaml", b);
    let sa = validate(Format::OpenApi, &fa).unwrap();
    let sb = validate(Format::OpenApi, &fb).unwrap();
    assert_eq!(sa.operation_count(), 500);
    let (v50, v95) = time(runs, || validate(Format::OpenApi, &fa).unwrap());
    let changes = sb.changes_since(&sa);
    let (c50, c95) = time(runs, || sb.changes_since(&sa));
    println!(
        "openapi 500 operations ({} KiB): validate median {v50:?} p95 {v95:?}; compare median {c50:?} p95 {c95:?} ({} changes, {} breaking)",
        fa[0].content.len() / 1024,
        changes.len(),
        changes.iter().filter(|c| c.breaking).count()
    );
    let pa = file("big.proto", proto(200, 0));
    let pb = file("big.proto", proto(200, 7));
    let qa = validate(Format::Protobuf, &pa).unwrap();
    let qb = validate(Format::Protobuf, &pb).unwrap();
    let (v50, v95) = time(runs, || validate(Format::Protobuf, &pa).unwrap());
    let changes = qb.changes_since(&qa);
    let (c50, c95) = time(runs, || qb.changes_since(&qa));
    println!(
        "protobuf 200 messages, 100 RPCs ({} KiB): validate median {v50:?} p95 {v95:?}; compare median {c50:?} p95 {c95:?} ({} changes, {} breaking)",
        pa[0].content.len() / 1024,
        changes.len(),
        changes.iter().filter(|c| c.breaking).count()
    );
}
