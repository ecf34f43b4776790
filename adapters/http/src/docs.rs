//! `/openapi.json` and `/docs/api`: the generated OpenAPI document, and a reference page
//! rendered on the server from it (no script, no CDN).

use crate::AppState;
use crate::proto::OPENAPI_JSON;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::sync::OnceLock;

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI_JSON,
    )
        .into_response()
}

fn esc(s: &str) -> String {
    crate::web::escape(s)
}

fn type_label(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        return format!(
            "<a href=\"#{0}\">{1}</a>",
            esc(name),
            esc(name.rsplit('.').next().unwrap_or(name))
        );
    }
    if let Some(all) = schema
        .get("allOf")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return type_label(all);
    }
    let ty = schema.get("type").and_then(Value::as_str).unwrap_or("any");
    match ty {
        "array" => format!(
            "{}[]",
            type_label(schema.get("items").unwrap_or(&Value::Null))
        ),
        _ => match schema.get("format").and_then(Value::as_str) {
            Some(f) => format!("{ty} ({f})"),
            None => ty.to_owned(),
        },
    }
}

fn render() -> String {
    let doc: Value = serde_json::from_str(OPENAPI_JSON).unwrap_or(Value::Null);
    let mut html = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Orbit API reference</title><link rel=\"stylesheet\" href=\"/ui/static/app.css\"></head><body class=\"docs\">\
         <header class=\"top\"><a class=\"brand\" href=\"/ui\">Orbit</a><span>API reference</span><a href=\"/openapi.json\">openapi.json</a></header><main>",
    );
    let info = &doc["info"];
    html.push_str(&format!(
        "<h1>{} <small>{}</small></h1><p>{}</p>",
        esc(info["title"].as_str().unwrap_or("")),
        esc(info["version"].as_str().unwrap_or("")),
        esc(info["description"].as_str().unwrap_or(""))
    ));
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    for tag in doc["tags"].as_array().cloned().unwrap_or_default() {
        let name = tag["name"].as_str().unwrap_or("");
        html.push_str(&format!(
            "<section><h2 id=\"{0}\">{0}</h2><p>{1}</p>",
            esc(name),
            esc(tag["description"].as_str().unwrap_or(""))
        ));
        for (path, item) in &paths {
            let op = &item["post"];
            if op["tags"][0].as_str() != Some(name) {
                continue;
            }
            let schema_of = |v: &Value| v["content"]["application/json"]["schema"].clone();
            html.push_str(&format!(
                "<article class=\"op\" id=\"{id}\"><h3><code>POST {path}</code></h3><p>{summary}</p>\
                 <p>Request: {req} · Response: {resp}</p>\
                 <pre>curl -sS -X POST http://HOST{path} -H 'Authorization: Bearer $ORBIT_TOKEN' -H 'Content-Type: application/json' -d '{{}}'</pre></article>",
                id = esc(op["operationId"].as_str().unwrap_or("")),
                path = esc(path),
                summary = esc(op["summary"].as_str().unwrap_or("")),
                req = type_label(&schema_of(&op["requestBody"])),
                resp = type_label(&schema_of(&op["responses"]["200"])),
            ));
        }
        html.push_str("</section>");
    }
    html.push_str("<section><h2>Types</h2>");
    for (name, schema) in doc["components"]["schemas"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        html.push_str(&format!(
            "<article class=\"type\" id=\"{0}\"><h3>{0}</h3>",
            esc(&name)
        ));
        if let Some(d) = schema["description"].as_str() {
            html.push_str(&format!("<p>{}</p>", esc(d)));
        }
        if let Some(values) = schema["enum"].as_array() {
            let list: Vec<String> = values
                .iter()
                .filter_map(Value::as_str)
                .map(|v| format!("<code>{}</code>", esc(v)))
                .collect();
            html.push_str(&format!("<p>One of: {}</p>", list.join(", ")));
        }
        if let Some(props) = schema["properties"].as_object() {
            html.push_str("<table><thead><tr><th scope=\"col\">Field</th><th scope=\"col\">Type</th><th scope=\"col\">Description</th></tr></thead><tbody>");
            for (field, fs) in props {
                html.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    esc(field),
                    type_label(fs),
                    esc(fs["description"].as_str().unwrap_or(""))
                ));
            }
            html.push_str("</tbody></table>");
        }
        html.push_str("</article>");
    }
    html.push_str("</section></main></body></html>");
    html
}

async fn reference() -> Html<&'static str> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(PAGE.get_or_init(render).as_str())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/docs/api", get(reference))
}
