//! {{ name }}: {{ description }}
//!
//! Owned by {{ owner }}. Answers `GET /healthz` with `ok` on port {{ port | int }}
//! (or `PORT` from the environment).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

const SERVICE: &str = "{{ name }}";
const DEFAULT_PORT: u16 = {{ port | int }};

fn respond(path: &str) -> (u16, String) {
    match path {
        "/healthz" => (200, "ok\n".to_owned()),
        "/" => (200, format!("{SERVICE}\n")),
        _ => (404, "not found\n".to_owned()),
    }
}

fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(DEFAULT_PORT);
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    eprintln!("{SERVICE} listening on port {port}");
    for stream in listener.incoming() {
        let mut stream = stream?;
        let mut line = String::new();
        BufReader::new(&stream).read_line(&mut line)?;
        let path = line.split_whitespace().nth(1).unwrap_or("/");
        let (status, body) = respond(path);
        write!(
            stream,
            "HTTP/1.1 {status} OK\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n{body}",
            body.len()
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn health() {
        assert_eq!(super::respond("/healthz"), (200, "ok\n".to_owned()));
    }
}
