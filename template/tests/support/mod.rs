//! Reading a template folder from disk, as the git port hands it over.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

pub fn read_folder(root: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

pub fn example(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/templates")
        .join(name);
    read_folder(&dir)
}

pub fn manifest_of(files: &[(String, Vec<u8>)]) -> String {
    let (_, bytes) = files
        .iter()
        .find(|(p, _)| p == orbit_template::MANIFEST_FILE)
        .expect("the template has a manifest");
    String::from_utf8(bytes.clone()).unwrap()
}

pub fn params(pairs: &[(&str, serde_json::Value)]) -> BTreeMap<String, serde_json::Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}
