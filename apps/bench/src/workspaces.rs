//! The `workspaces` scenario (the original orbit-bench): seeds users and workspaces with
//! members through the API, then drives GetWorkspace, ListWorkspaces, ListMembers and
//! CreateWorkspace.

use crate::Args;
use crate::common::{
    ADMIN_TOKEN, Backend, Client, Server, Stats, fmt_opt, measure, parallel, steady_cells,
    steady_header,
};
use anyhow::Result;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

struct Seeded {
    /// Per user index: its token and the ids of the workspaces it belongs to.
    users: Vec<(String, Vec<String>)>,
}

async fn seed(client: &Client, admin: &str, args: &Args) -> Result<Seeded> {
    let started = Instant::now();
    let n_users = args.users;
    let logins: Vec<String> = (0..n_users).map(|i| format!("user{i:05}")).collect();
    let tokens: Arc<Vec<std::sync::Mutex<String>>> = Arc::new(
        (0..n_users)
            .map(|_| std::sync::Mutex::new(String::new()))
            .collect(),
    );
    {
        let (client, admin, logins, tokens) = (
            client.clone(),
            admin.to_owned(),
            logins.clone(),
            tokens.clone(),
        );
        parallel(n_users, 16, move |i| {
            let (client, admin, logins, tokens) = (
                client.clone(),
                admin.clone(),
                logins.clone(),
                tokens.clone(),
            );
            async move {
                client
                    .call(
                        "UserService/CreateUser",
                        &admin,
                        &json!({"login": logins[i], "displayName": format!("User {i}")}),
                    )
                    .await?;
                let t = client
                    .call(
                        "AuthService/CreateToken",
                        &admin,
                        &json!({"name": "bench", "user": logins[i]}),
                    )
                    .await?;
                *tokens[i].lock().unwrap() = t["secret"].as_str().unwrap_or_default().to_owned();
                Ok(())
            }
        })
        .await?;
    }
    let ws_ids: Arc<Vec<std::sync::Mutex<String>>> = Arc::new(
        (0..args.workspaces)
            .map(|_| std::sync::Mutex::new(String::new()))
            .collect(),
    );
    let others = args.members.saturating_sub(1);
    {
        let (client, admin, logins, ws_ids) = (
            client.clone(),
            admin.to_owned(),
            logins.clone(),
            ws_ids.clone(),
        );
        parallel(args.workspaces, 16, move |w| {
            let (client, admin, logins, ws_ids) = (client.clone(), admin.clone(), logins.clone(), ws_ids.clone());
            async move {
                let created = client
                    .call("WorkspaceService/CreateWorkspace", &admin, &json!({"slug": format!("team-{w:05}"), "name": format!("Team {w}"), "description": "A team of the benchmark"}))
                    .await?;
                let id = created["workspace"]["id"].as_str().unwrap_or_default().to_owned();
                for j in 0..others {
                    let user = &logins[(w * others + j) % logins.len()];
                    client.call("WorkspaceService/AddMember", &admin, &json!({"workspaceId": id, "user": user, "role": "ROLE_MEMBER"})).await?;
                }
                *ws_ids[w].lock().unwrap() = id;
                Ok(())
            }
        })
        .await?;
    }
    let mut users: Vec<(String, Vec<String>)> = (0..n_users)
        .map(|i| (tokens[i].lock().unwrap().clone(), Vec::new()))
        .collect();
    for w in 0..args.workspaces {
        for j in 0..others {
            let u = (w * others + j) % n_users;
            users[u].1.push(ws_ids[w].lock().unwrap().clone());
        }
    }
    users.retain(|(_, ws)| !ws.is_empty());
    println!(
        "  seeded {} users, {} workspaces with {} members each in {:.1} s",
        n_users,
        args.workspaces,
        args.members,
        started.elapsed().as_secs_f64()
    );
    Ok(Seeded { users })
}

/// Drives one RPC with the scenario's concurrency and duration; `make` builds request i.
async fn drive<M>(
    server: &Server,
    client: &Client,
    name: &'static str,
    method: &'static str,
    args: &Args,
    make: M,
) -> Result<Stats>
where
    M: Fn(usize) -> (String, Value) + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let client = client.clone();
    measure(server, name, args.concurrency, args.seconds, move |_, i| {
        let (token, body) = make(i);
        let client = client.clone();
        async move {
            client.call(method, &token, &body).await?;
            Ok(None)
        }
    })
    .await
}

async fn run_backend(args: &Args, backend: &str) -> Result<(Vec<Stats>, f64, String)> {
    let backend = Backend::create(backend, "ws", args.database_url.as_deref()).await?;
    let server = Server::start(
        &args.orbit_bin,
        &backend.data_dir,
        backend.db_url.as_deref(),
        &[],
    )?;
    let client = Client::new(&server.url, args.concurrency)?;
    let token = ADMIN_TOKEN;
    println!("workspaces/{}: orbit at {}", backend.name, server.url);
    let seeded = Arc::new(seed(&client, token, args).await?);
    let mut results = Vec::new();
    let s = seeded.clone();
    results.push(
        drive(
            &server,
            &client,
            "GetWorkspace",
            "WorkspaceService/GetWorkspace",
            args,
            move |i| {
                let (tok, ws) = &s.users[i % s.users.len()];
                (tok.clone(), json!({"id": ws[i % ws.len()]}))
            },
        )
        .await?,
    );
    let s = seeded.clone();
    results.push(
        drive(
            &server,
            &client,
            "ListWorkspaces",
            "WorkspaceService/ListWorkspaces",
            args,
            move |i| {
                (
                    s.users[i % s.users.len()].0.clone(),
                    json!({"pageSize": 50}),
                )
            },
        )
        .await?,
    );
    let s = seeded.clone();
    results.push(
        drive(
            &server,
            &client,
            "ListMembers",
            "WorkspaceService/ListMembers",
            args,
            move |i| {
                let (tok, ws) = &s.users[(i * 7) % s.users.len()];
                (
                    tok.clone(),
                    json!({"workspaceId": ws[i % ws.len()], "pageSize": 50}),
                )
            },
        )
        .await?,
    );
    let s = seeded.clone();
    let run = std::process::id();
    results.push(
        drive(
            &server,
            &client,
            "CreateWorkspace",
            "WorkspaceService/CreateWorkspace",
            args,
            move |i| {
                (
                    s.users[i % s.users.len()].0.clone(),
                    json!({"slug": format!("new-{run}-{i}"), "name": format!("New {i}")}),
                )
            },
        )
        .await?,
    );
    let rss = server.peak_rss_mib();
    let log = server.log_summary();
    drop(server);
    backend.cleanup().await;
    Ok((results, rss, log))
}

pub async fn run(args: &Args, backends: &[&str]) -> Result<String> {
    let mut table = format!(
        "## Scenario `workspaces`\n\n{} workspaces x {} members over {} users, {} concurrent clients, {} s per RPC.\n\n\
         | store | RPC | requests | errors | saturation: throughput (req/s) | p50 (ms) | p95 (ms) | p99 (ms) | server CPU per request (µs) | PostgreSQL CPU per request (µs) | {} |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        args.workspaces,
        args.members,
        args.users,
        args.concurrency,
        args.seconds,
        steady_header(),
    );
    let mut rss_lines = String::new();
    for backend in backends {
        let (results, rss, log) = run_backend(args, backend).await?;
        for s in &results {
            table.push_str(&format!(
                "| {backend} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.0} | {} | {} |\n",
                s.name,
                s.count,
                s.errors,
                s.throughput(),
                s.p50,
                s.p95,
                s.p99,
                s.server_cpu_us,
                fmt_opt(s.db_cpu_us, 0),
                steady_cells(&s.steady)
            ));
        }
        rss_lines.push_str(&format!(
            "- {backend}: server peak RSS (VmHWM) {rss:.1} MiB; server log: {log}\n"
        ));
    }
    table.push('\n');
    table.push_str(&rss_lines);
    Ok(table)
}
