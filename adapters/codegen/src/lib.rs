//! Client generators run as subprocesses (the `ClientGenerator` port).
//!
//! Each request gets a fresh temporary sandbox: the schema files are written to `src/`,
//! the generator writes to `out/`, its HOME and TMPDIR point inside the sandbox, and it runs
//! in its own process group, which is killed when it outlives the time limit or its output
//! outgrows the size limit. What it wrote is zipped to the caller's path; the sandbox is
//! deleted afterwards.
//!
//! | format   | language   | generator                                   |
//! |----------|------------|---------------------------------------------|
//! | protobuf | typescript | protoc + `protoc-gen-es`                    |
//! | protobuf | python     | grpcio-tools' protoc (`_pb2`, `.pyi`, gRPC) |
//! | protobuf | java       | protoc `--java_out`                         |
//! | protobuf | go         | protoc + `protoc-gen-go`                    |
//! | protobuf | rust       | protoc + `protoc-gen-prost` (+ a Cargo crate)|
//! | openapi  | typescript | `openapi-typescript`                        |
//! | openapi  | python     | `openapi-python-client`                     |
//! | openapi  | go, rust, java | `openapi-generator-cli`                 |
//!
//! The tools are looked up in `bin_dir` (where `scripts/install-generators.sh` puts them),
//! then on PATH.

use async_trait::async_trait;
use orbit_ports::{ClientGenerator, GenerateError, GenerateRequest, Generated};
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// Where the generators are and how they are bounded.
#[derive(Debug, Clone)]
pub struct GeneratorConfig {
    /// The `bin/` folder of the generators directory.
    pub bin_dir: PathBuf,
    /// A generator run is killed after this long.
    pub time_limit: Duration,
    /// A generator run is killed when its output grows past this many bytes.
    pub max_output_bytes: u64,
    /// Also look for tools on PATH (after `bin_dir`).
    pub search_path: bool,
}

impl GeneratorConfig {
    pub fn new(generators_dir: &Path) -> Self {
        GeneratorConfig {
            bin_dir: generators_dir.join("bin"),
            time_limit: Duration::from_secs(180),
            max_output_bytes: 64 * 1024 * 1024,
            search_path: true,
        }
    }
}

/// Runs the generator command-line tools.
#[derive(Debug, Clone)]
pub struct GeneratorCli {
    config: GeneratorConfig,
    /// Tool versions already asked for (a JVM start saved per run), by program and flags.
    versions: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
}

const INSTALL_HINT: &str = "install the generators with scripts/install-generators.sh (ORBIT_GENERATORS_DIR names where they are)";
const STDERR_EXCERPT: usize = 4000;

fn io(what: &str, e: std::io::Error) -> GenerateError {
    GenerateError::Unavailable(format!("{what}: {e}"))
}

/// `petstore-api` → `petstore_api`; never starts with a digit.
fn snake(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "api_");
    }
    s
}

/// Keeps the last `max` bytes of a text, on a character boundary.
fn tail(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    src: PathBuf,
    out: PathBuf,
}

impl GeneratorCli {
    pub fn new(config: GeneratorConfig) -> Self {
        GeneratorCli {
            config,
            versions: Default::default(),
        }
    }

    /// The path of a tool, or `NotInstalled`.
    fn tool(&self, name: &str) -> Result<PathBuf, GenerateError> {
        let local = self.config.bin_dir.join(name);
        if local.is_file() {
            return Ok(local);
        }
        if let Some(path) = std::env::var_os("PATH").filter(|_| self.config.search_path) {
            for dir in std::env::split_paths(&path) {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    return Ok(candidate);
                }
            }
        }
        Err(GenerateError::NotInstalled(format!(
            "the generator tool '{name}' is not installed: {INSTALL_HINT}"
        )))
    }

    fn sandbox(&self, request: &GenerateRequest) -> Result<Sandbox, GenerateError> {
        let dir = tempfile::Builder::new()
            .prefix("orbit-codegen-")
            .tempdir()
            .map_err(|e| io("cannot create a sandbox directory", e))?;
        let root = dir.path().to_path_buf();
        let src = root.join("src");
        let out = root.join("out");
        for d in [&src, &out, &root.join("home"), &root.join("tmp")] {
            std::fs::create_dir_all(d).map_err(|e| io("cannot prepare the sandbox", e))?;
        }
        for file in &request.files {
            // Paths were checked by the workflow; check again here, this is the boundary.
            if file.path.starts_with('/')
                || file.path.contains('\\')
                || file
                    .path
                    .split('/')
                    .any(|s| s.is_empty() || s == "." || s == "..")
            {
                return Err(GenerateError::Unsupported(format!(
                    "schema file path {:?} is not a plain relative path",
                    file.path
                )));
            }
            let path = src.join(&file.path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| io("cannot write the schema files", e))?;
            }
            std::fs::write(&path, &file.content)
                .map_err(|e| io("cannot write the schema files", e))?;
        }
        Ok(Sandbox {
            _dir: dir,
            root,
            src,
            out,
        })
    }

    /// Runs `program args…` in the sandbox, bounded in time and output size. Returns stdout.
    async fn run(
        &self,
        sandbox: &Sandbox,
        program: &Path,
        args: Vec<OsString>,
    ) -> Result<String, GenerateError> {
        let mut path = vec![self.config.bin_dir.clone()];
        if let Some(p) = std::env::var_os("PATH") {
            path.extend(std::env::split_paths(&p));
        }
        let path = std::env::join_paths(path).unwrap_or_default();
        let mut command = tokio::process::Command::new(program);
        command
            .args(&args)
            .current_dir(&sandbox.root)
            .env_clear()
            .env("PATH", path)
            .env("HOME", sandbox.root.join("home"))
            .env("TMPDIR", sandbox.root.join("tmp"))
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .process_group(0);
        if let Some(java) = std::env::var_os("JAVA_HOME") {
            command.env("JAVA_HOME", java);
        }
        let started = Instant::now();
        let mut child = command.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                GenerateError::NotInstalled(format!(
                    "cannot run {}: {e}; {INSTALL_HINT}",
                    program.display()
                ))
            } else {
                io(&format!("cannot run {}", program.display()), e)
            }
        })?;
        let pid = child.id();
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        // Read both pipes to the end (bounded in memory: the tail of stderr, the head of stdout).
        let out_task = tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            while let Ok(n) = stdout.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                if buf.len() < 256 * 1024 {
                    buf.extend_from_slice(&chunk[..n]);
                }
            }
            String::from_utf8_lossy(&buf).into_owned()
        });
        let err_task = tokio::spawn(async move {
            let mut buf: Vec<u8> = Vec::new();
            let mut chunk = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > 64 * 1024 {
                    buf.drain(..buf.len() - 32 * 1024);
                }
            }
            String::from_utf8_lossy(&buf).into_owned()
        });
        let kill = |pid: Option<u32>| {
            if let Some(pid) = pid {
                // The whole process group: plugins and JVM helpers die with the generator.
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
            }
        };
        let status = loop {
            tokio::select! {
                status = child.wait() => break status.map_err(|e| io("waiting for the generator", e))?,
                () = tokio::time::sleep(Duration::from_millis(200)) => {
                    if started.elapsed() > self.config.time_limit {
                        kill(pid);
                        let _ = child.wait().await;
                        let stderr = err_task.await.unwrap_or_default();
                        return Err(GenerateError::TimedOut {
                            limit: self.config.time_limit,
                            stderr: tail(&stderr, STDERR_EXCERPT),
                        });
                    }
                    let out = sandbox.out.clone();
                    let size = tokio::task::spawn_blocking(move || dir_size(&out)).await.unwrap_or(0);
                    if size > self.config.max_output_bytes {
                        kill(pid);
                        let _ = child.wait().await;
                        return Err(GenerateError::OutputTooLarge { limit: self.config.max_output_bytes });
                    }
                }
            }
        };
        // The group may hold helpers that keep the pipes open; end them now.
        kill(pid);
        let stdout = out_task.await.unwrap_or_default();
        let stderr = err_task.await.unwrap_or_default();
        if !status.success() {
            let excerpt = if stderr.trim().is_empty() {
                tail(&stdout, STDERR_EXCERPT)
            } else {
                tail(&stderr, STDERR_EXCERPT)
            };
            return Err(GenerateError::Failed {
                message: format!(
                    "{} exited with {status}",
                    program.file_name().unwrap_or_default().to_string_lossy()
                ),
                stderr: excerpt,
            });
        }
        let size = dir_size(&sandbox.out);
        if size > self.config.max_output_bytes {
            return Err(GenerateError::OutputTooLarge {
                limit: self.config.max_output_bytes,
            });
        }
        tracing::debug!(program = %program.display(), elapsed_ms = started.elapsed().as_millis() as u64, "generator finished");
        Ok(stdout)
    }

    /// The first line a tool prints for its version flag.
    async fn version(&self, sandbox: &Sandbox, program: &Path, args: &[&str]) -> String {
        let cache_key = format!("{} {}", program.display(), args.join(" "));
        if let Some(v) = self
            .versions
            .lock()
            .ok()
            .and_then(|m| m.get(&cache_key).cloned())
        {
            return v;
        }
        let version = self.ask_version(sandbox, program, args).await;
        if version != "unknown" {
            if let Ok(mut m) = self.versions.lock() {
                m.insert(cache_key, version.clone());
            }
        }
        version
    }

    async fn ask_version(&self, sandbox: &Sandbox, program: &Path, args: &[&str]) -> String {
        let out = tokio::time::timeout(
            Duration::from_secs(30),
            tokio::process::Command::new(program)
                .args(args)
                .current_dir(&sandbox.root)
                .env("HOME", sandbox.root.join("home"))
                .stdin(Stdio::null())
                .kill_on_drop(true)
                .output(),
        )
        .await;
        let text = match out {
            Ok(Ok(o)) => {
                let mut t = String::from_utf8_lossy(&o.stdout).into_owned();
                if t.trim().is_empty() {
                    t = String::from_utf8_lossy(&o.stderr).into_owned();
                }
                t
            }
            _ => String::new(),
        };
        let line = text.lines().next().unwrap_or("").trim();
        // "protoc-gen-es v2.10.1", "libprotoc 31.1", "Version 5.9.3", "v7.10.1" → the number.
        let version = line
            .rsplit([' ', ':'])
            .next()
            .unwrap_or("")
            .trim_start_matches('v');
        if version.is_empty() {
            "unknown".into()
        } else {
            version.to_owned()
        }
    }

    fn protos(request: &GenerateRequest) -> Result<Vec<OsString>, GenerateError> {
        let protos: Vec<OsString> = request
            .files
            .iter()
            .filter(|f| f.path.ends_with(".proto"))
            .map(|f| OsString::from(&f.path))
            .collect();
        if protos.is_empty() {
            return Err(GenerateError::Unsupported(
                "a protobuf version needs at least one .proto file".into(),
            ));
        }
        Ok(protos)
    }

    async fn protobuf(
        &self,
        request: &GenerateRequest,
        sandbox: &Sandbox,
    ) -> Result<Generated, GenerateError> {
        // Python goes through grpcio-tools' protoc (its gRPC plugin is built in).
        let protoc = if request.language == "python" {
            self.tool("protoc-grpc-python")?
        } else {
            self.tool("protoc")?
        };
        let protos = Self::protos(request)?;
        let out = sandbox.out.display().to_string();
        let mut args: Vec<OsString> = vec![format!("-I{}", sandbox.src.display()).into()];
        let package = snake(&request.package);
        let generated = match request.language.as_str() {
            "typescript" => {
                let plugin = self.tool("protoc-gen-es")?;
                args.push(format!("--plugin=protoc-gen-es={}", plugin.display()).into());
                args.push(format!("--es_out={out}").into());
                args.push("--es_opt=target=ts".into());
                let version = self.version(sandbox, &plugin, &["--version"]).await;
                std::fs::write(
                    sandbox.out.join("package.json"),
                    format!(
                        "{{\n  \"name\": \"{}\",\n  \"private\": true,\n  \"type\": \"module\",\n  \"dependencies\": {{ \"@bufbuild/protobuf\": \"^{version}\" }}\n}}\n",
                        request.package
                    ),
                )
                .map_err(|e| io("cannot write package.json", e))?;
                Generated {
                    generator: "protoc-gen-es".into(),
                    generator_version: version,
                }
            }
            "python" => {
                args.push(format!("--python_out={out}").into());
                args.push(format!("--pyi_out={out}").into());
                args.push(format!("--grpc_python_out={out}").into());
                let python = self.tool("python")?;
                let version = self
                    .version(
                        sandbox,
                        &python,
                        &[
                            "-c",
                            "import importlib.metadata as m; print(m.version('grpcio-tools'))",
                        ],
                    )
                    .await;
                Generated {
                    generator: "grpcio-tools".into(),
                    generator_version: version,
                }
            }
            "java" => {
                // A Maven project: the sources where Maven looks, and a pom.xml naming the
                // protobuf-java runtime that matches this protoc.
                let sources = sandbox.out.join("src/main/java");
                std::fs::create_dir_all(&sources)
                    .map_err(|e| io("cannot prepare the project", e))?;
                args.push(format!("--java_out={}", sources.display()).into());
                let version = self.version(sandbox, &protoc, &["--version"]).await;
                write_java_pom(&sandbox.out, &request.package, &version)?;
                Generated {
                    generator: "protoc java_out".into(),
                    generator_version: version,
                }
            }
            "go" => {
                let plugin = self.tool("protoc-gen-go")?;
                let module = format!("orbit.generated/{}", request.package);
                args.push(format!("--plugin=protoc-gen-go={}", plugin.display()).into());
                args.push(format!("--go_out={out}").into());
                args.push("--go_opt=paths=source_relative".into());
                for f in request.files.iter().filter(|f| f.path.ends_with(".proto")) {
                    let dir = f.path.rsplit_once('/').map_or("", |(d, _)| d);
                    let import = if dir.is_empty() {
                        format!("{module};{package}")
                    } else {
                        format!("{module}/{dir}")
                    };
                    args.push(format!("--go_opt=M{}={import}", f.path).into());
                }
                let version = self.version(sandbox, &plugin, &["--version"]).await;
                std::fs::write(
                    sandbox.out.join("go.mod"),
                    format!(
                        "module {module}\n\ngo 1.21\n\nrequire google.golang.org/protobuf v{version}\n"
                    ),
                )
                .map_err(|e| io("cannot write go.mod", e))?;
                Generated {
                    generator: "protoc-gen-go".into(),
                    generator_version: version,
                }
            }
            "rust" => {
                let plugin = self.tool("protoc-gen-prost")?;
                let src = sandbox.out.join("src");
                std::fs::create_dir_all(&src).map_err(|e| io("cannot prepare the crate", e))?;
                args.push(format!("--plugin=protoc-gen-prost={}", plugin.display()).into());
                args.push(format!("--prost_out={}", src.display()).into());
                Generated {
                    generator: "protoc-gen-prost".into(),
                    generator_version: self.version(sandbox, &plugin, &["--version"]).await,
                }
            }
            other => {
                return Err(GenerateError::Unsupported(format!(
                    "no generator for protobuf to {other}"
                )));
            }
        };
        args.extend(protos);
        self.run(sandbox, &protoc, args).await?;
        if request.language == "rust" {
            write_prost_crate(&sandbox.out, &request.package)?;
        }
        Ok(generated)
    }

    async fn openapi(
        &self,
        request: &GenerateRequest,
        sandbox: &Sandbox,
    ) -> Result<Generated, GenerateError> {
        let main = sandbox.src.join(&request.files[0].path);
        let package = snake(&request.package);
        match request.language.as_str() {
            "typescript" => {
                let tool = self.tool("openapi-typescript")?;
                let target = sandbox.out.join("schema.ts");
                self.run(
                    sandbox,
                    &tool,
                    vec![main.into(), "-o".into(), target.into()],
                )
                .await?;
                Ok(Generated {
                    generator: "openapi-typescript".into(),
                    generator_version: self.version(sandbox, &tool, &["--version"]).await,
                })
            }
            "python" => {
                let tool = self.tool("openapi-python-client")?;
                let config = sandbox.root.join("openapi-python-client.yaml");
                std::fs::write(
                    &config,
                    format!(
                        "project_name_override: {}-client\npackage_name_override: {package}_client\n",
                        package.replace('_', "-")
                    ),
                )
                .map_err(|e| io("cannot write the generator's configuration", e))?;
                let target = sandbox
                    .out
                    .join(format!("{}-client", package.replace('_', "-")));
                self.run(
                    sandbox,
                    &tool,
                    vec![
                        "generate".into(),
                        "--path".into(),
                        main.into(),
                        "--config".into(),
                        config.into(),
                        "--output-path".into(),
                        target.into(),
                    ],
                )
                .await?;
                Ok(Generated {
                    generator: "openapi-python-client".into(),
                    generator_version: self.version(sandbox, &tool, &["--version"]).await,
                })
            }
            "go" | "rust" | "java" => {
                let tool = self.tool("openapi-generator-cli")?;
                let properties = match request.language.as_str() {
                    "go" => format!("packageName={package},isGoSubmodule=false"),
                    "rust" => format!("packageName={}-client", package.replace('_', "-")),
                    _ => format!(
                        "artifactId={}-client,invokerPackage=org.openapitools.{package}",
                        package.replace('_', "-")
                    ),
                };
                let mut args: Vec<OsString> = vec![
                    "generate".into(),
                    "-i".into(),
                    main.into(),
                    "-g".into(),
                    request.language.clone().into(),
                    "-o".into(),
                    sandbox.out.clone().into(),
                    "--additional-properties".into(),
                    properties.into(),
                    "--global-property".into(),
                    "apiTests=false,modelTests=false".into(),
                    "--git-user-id".into(),
                    "orbit".into(),
                    "--git-repo-id".into(),
                    package.into(),
                ];
                if request.language == "go" {
                    let mappings = go_model_name_mappings(request);
                    if !mappings.is_empty() {
                        args.push("--model-name-mappings".into());
                        args.push(mappings.join(",").into());
                    }
                }
                self.run(sandbox, &tool, args).await?;
                Ok(Generated {
                    generator: format!("openapi-generator {}", request.language),
                    generator_version: self.version(sandbox, &tool, &["version"]).await,
                })
            }
            other => Err(GenerateError::Unsupported(format!(
                "no generator for OpenAPI to {other}"
            ))),
        }
    }
}

/// Makes the `.rs` files protoc-gen-prost wrote (one per package, `a.b.rs`) a crate:
/// `Cargo.toml` and a `lib.rs` nesting them as modules.
fn write_prost_crate(out: &Path, package: &str) -> Result<(), GenerateError> {
    let src = out.join("src");
    // protoc-gen-prost writes `<dir of the .proto>/<package>.rs`; (package, relative path).
    let mut packages: Vec<(String, String)> = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .map_err(|e| io("cannot read the generated code", e))?
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let Ok(rel) = path.strip_prefix(&src) else {
                continue;
            };
            let rel = rel
                .to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/");
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            if let Some(package) = name.strip_suffix(".rs").filter(|p| *p != "lib") {
                packages.push((package.to_owned(), rel));
            }
        }
    }
    packages.sort();
    // A tree of modules: each package path a.b.c nests mod a { mod b { mod c {…} } }.
    #[derive(Default)]
    struct Node {
        children: std::collections::BTreeMap<String, Node>,
        include: Option<String>,
    }
    let mut root = Node::default();
    for (p, rel) in &packages {
        let mut node = &mut root;
        if p != "_" {
            for part in p.split('.') {
                node = node.children.entry(part.to_owned()).or_default();
            }
        }
        node.include = Some(rel.clone());
    }
    fn render(node: &Node, depth: usize, out: &mut String) {
        let pad = "    ".repeat(depth);
        if let Some(file) = &node.include {
            out.push_str(&format!("{pad}include!(\"{file}\");\n"));
        }
        for (name, child) in &node.children {
            out.push_str(&format!("{pad}pub mod r#{name} {{\n"));
            render(child, depth + 1, out);
            out.push_str(&format!("{pad}}}\n"));
        }
    }
    let mut lib = String::from(
        "//! Generated by Orbit with protoc-gen-prost. Do not edit.\n#![allow(clippy::all, non_camel_case_types, dead_code)]\n\n",
    );
    render(&root, 0, &mut lib);
    std::fs::write(src.join("lib.rs"), lib).map_err(|e| io("cannot write lib.rs", e))?;
    let name = snake(package).replace('_', "-");
    std::fs::write(
        out.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}-client\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nprost = \"0.14\"\nprost-types = \"0.14\"\n\n[workspace]\n"
        ),
    )
    .map_err(|e| io("cannot write Cargo.toml", e))?;
    Ok(())
}

/// `--model-name-mappings` that keep openapi-generator's Go output compiling: a schema `NewX`
/// next to a schema `X` clashes with `X`'s constructor `func NewX` ("NewX redeclared in this
/// block", OpenAPITools/openapi-generator#21857, open in 7.16.0), so `NewX` becomes the Go
/// type `NewXModel` (its JSON is unchanged). Empty when there is no such pair or the document
/// does not parse (the generator then reports the problem itself).
pub fn go_model_name_mappings(request: &GenerateRequest) -> Vec<String> {
    let files: Vec<orbit_apispec::SpecFile> = request
        .files
        .iter()
        .map(|f| orbit_apispec::SpecFile {
            name: f.path.clone(),
            content: f.content.clone(),
        })
        .collect();
    let Ok(spec) = orbit_apispec::validate(orbit_apispec::Format::OpenApi, &files) else {
        return Vec::new();
    };
    let names: std::collections::BTreeSet<String> = spec
        .reference()
        .into_iter()
        .filter(|item| item.kind == "schema")
        .map(|item| item.name)
        .collect();
    let upper_first = |s: &str| {
        let mut chars = s.chars();
        chars
            .next()
            .map(|c| c.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default()
    };
    let generated: std::collections::BTreeSet<String> =
        names.iter().map(|n| upper_first(n)).collect();
    names
        .iter()
        .filter_map(|name| {
            let rest = upper_first(name).strip_prefix("New")?.to_owned();
            if rest.is_empty() || !generated.contains(&rest) {
                return None;
            }
            let mut target = format!("{}Model", upper_first(name));
            while generated.contains(&target) {
                target.push_str("Model");
            }
            Some(format!("{name}={target}"))
        })
        .collect()
}

/// The protobuf-java release that goes with protoc `version` (`36.2` → `4.36.2`: since
/// protoc 26 the Java runtime is `4.<protoc version>`, before it `3.<protoc version>`).
pub fn protobuf_java_version(protoc_version: &str) -> String {
    let major: u32 = protoc_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major >= 26 {
        format!("4.{protoc_version}")
    } else {
        format!("3.{protoc_version}")
    }
}

/// A `pom.xml` that builds the generated Java messages (`mvn compile`).
fn write_java_pom(out: &Path, package: &str, protoc_version: &str) -> Result<(), GenerateError> {
    let name = snake(package).replace('_', "-");
    let runtime = protobuf_java_version(protoc_version);
    std::fs::write(
        out.join("pom.xml"),
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by Orbit with protoc java_out {protoc_version}. -->
<project>
  <modelVersion>4.0.0</modelVersion>
  <groupId>orbit.generated</groupId>
  <artifactId>{name}-client</artifactId>
  <version>0.1.0</version>
  <packaging>jar</packaging>
  <properties>
    <maven.compiler.source>11</maven.compiler.source>
    <maven.compiler.target>11</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>com.google.protobuf</groupId>
      <artifactId>protobuf-java</artifactId>
      <version>{runtime}</version>
    </dependency>
  </dependencies>
</project>
"#
        ),
    )
    .map_err(|e| io("cannot write pom.xml", e))
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(md) = entry.metadata() else { continue };
            if md.is_dir() {
                stack.push(entry.path());
            } else {
                total += md.len();
            }
        }
    }
    total
}

/// Zips every file under `dir` (sorted, relative paths under `top/`) into `zip_path`.
fn zip_dir(dir: &Path, top: &str, zip_path: &Path) -> Result<(), GenerateError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| io("cannot read the output", e))? {
            let entry = entry.map_err(|e| io("cannot read the output", e))?;
            // symlink_metadata: a link the generator left is not followed out of the sandbox.
            let md = entry
                .path()
                .symlink_metadata()
                .map_err(|e| io("cannot read the output", e))?;
            if md.is_dir() {
                stack.push(entry.path());
            } else if md.is_file() {
                files.push(entry.path());
            }
        }
    }
    if files.is_empty() {
        return Err(GenerateError::Failed {
            message: "the generator produced no files".into(),
            stderr: String::new(),
        });
    }
    files.sort();
    let file = std::fs::File::create(zip_path).map_err(|e| io("cannot create the archive", e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);
    for path in files {
        let rel = path.strip_prefix(dir).map_err(|_| {
            GenerateError::Unavailable("a generated file is outside the output".into())
        })?;
        let name = format!(
            "{top}/{}",
            rel.to_string_lossy()
                .replace(std::path::MAIN_SEPARATOR, "/")
        );
        zip.start_file(name, options)
            .map_err(|e| GenerateError::Unavailable(format!("cannot write the archive: {e}")))?;
        let mut f = std::fs::File::open(&path).map_err(|e| io("cannot read the output", e))?;
        std::io::copy(&mut f, &mut zip).map_err(|e| io("cannot write the archive", e))?;
    }
    let mut inner = zip
        .finish()
        .map_err(|e| GenerateError::Unavailable(format!("cannot write the archive: {e}")))?;
    inner
        .flush()
        .map_err(|e| io("cannot write the archive", e))?;
    Ok(())
}

#[async_trait]
impl ClientGenerator for GeneratorCli {
    async fn generate(
        &self,
        request: &GenerateRequest,
        zip_path: &Path,
    ) -> Result<Generated, GenerateError> {
        if request.files.is_empty() {
            return Err(GenerateError::Unsupported("no schema files".into()));
        }
        let sandbox = self.sandbox(request)?;
        let generated = match request.format.as_str() {
            "protobuf" => self.protobuf(request, &sandbox).await?,
            "openapi" => self.openapi(request, &sandbox).await?,
            other => {
                return Err(GenerateError::Unsupported(format!(
                    "clients cannot be generated from {other}"
                )));
            }
        };
        let out = sandbox.out.clone();
        let top = format!("{}-{}", request.package, request.language);
        let zip_path = zip_path.to_path_buf();
        tokio::task::spawn_blocking(move || zip_dir(&out, &top, &zip_path))
            .await
            .map_err(|e| GenerateError::Unavailable(format!("zipping failed: {e}")))??;
        Ok(generated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("Pet-Store.v2"), "pet_store_v2");
        assert_eq!(snake("3d"), "api_3d");
        assert_eq!(tail("abcdef", 3), "…def");
    }

    #[test]
    fn go_schemas_that_clash_with_constructors_are_renamed() {
        let request = |doc: &str| GenerateRequest {
            format: "openapi".into(),
            language: "go".into(),
            package: "p".into(),
            files: vec![orbit_ports::SourceFile {
                path: "openapi.yaml".into(),
                content: doc.into(),
            }],
        };
        let doc = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Pet: {type: object}\n    NewPet: {type: object}\n    NewOwner: {type: object}\n";
        assert_eq!(
            go_model_name_mappings(&request(doc)),
            ["NewPet=NewPetModel"]
        );
        assert!(go_model_name_mappings(&request("not: [valid")).is_empty());
    }

    #[test]
    fn protobuf_java_runtime_follows_protoc() {
        assert_eq!(protobuf_java_version("36.2"), "4.36.2");
        assert_eq!(protobuf_java_version("25.1"), "3.25.1");
    }
}
