//! Bad and hostile templates: clear errors naming the field or file and line, and bounded
//! rendering (path traversal, expansion bombs, huge outputs, too many files).

mod support;

use orbit_template::{Limits, Manifest, TemplateError, render};
use serde_json::json;
use support::params;

const BASE: &str = "apiVersion: orbit/v1\nname: t\nparameters:\n  - name: name\n    type: string\n    required: true\n";

fn manifest(extra: &str) -> Manifest {
    Manifest::parse(&format!("{BASE}{extra}")).unwrap()
}

fn files(list: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
    list.iter()
        .map(|(p, c)| ((*p).to_owned(), c.as_bytes().to_vec()))
        .collect()
}

fn render_one(
    path: &str,
    content: &str,
) -> Result<Vec<orbit_template::RenderedFile>, TemplateError> {
    let m = manifest("");
    let values = m.validate(&params(&[("name", json!("svc"))])).unwrap();
    render(&m, &files(&[(path, content)]), &values, &Limits::default())
}

fn manifest_error(source: &str) -> (usize, String, String) {
    match Manifest::parse(source).unwrap_err() {
        TemplateError::Manifest {
            line,
            field,
            message,
        } => (line, field, message),
        other => panic!("not a manifest error: {other:?}"),
    }
}

#[test]
fn invalid_manifests_name_the_field_and_line() {
    let (line, field, msg) = manifest_error(&format!("{BASE}  - name: size\n    type: integer\n"));
    assert_eq!((line, field.as_str()), (7, "parameters[1].type"), "{msg}");
    assert!(msg.contains("string, number, boolean, enum, list"), "{msg}");

    let (line, field, msg) = manifest_error(&format!(
        "{BASE}  - name: count\n    type: number\n    min: 10\n    max: 1\n"
    ));
    assert_eq!((line, field.as_str()), (7, "parameters[1].min"), "{msg}");

    let (line, field, msg) = manifest_error(&format!(
        "{BASE}  - name: tag\n    type: string\n    pattern: \"[a-z\"\n"
    ));
    assert_eq!(
        (line, field.as_str()),
        (7, "parameters[1].pattern"),
        "{msg}"
    );
    assert!(msg.contains("regular expression"), "{msg}");

    let (line, field, msg) = manifest_error(&format!(
        "{BASE}  - name: x\n    type: string\n    colour: red\n"
    ));
    assert_eq!(line, 9, "{field}: {msg}");
    assert!(msg.contains("unknown field `colour`"), "{msg}");

    let (line, field, _) = manifest_error("apiVersion: orbit/v9\nname: t\n");
    assert_eq!((line, field.as_str()), (1, "apiVersion"));

    let (line, _, msg) = manifest_error("apiVersion: orbit/v1\nname: [unclosed\n");
    assert_eq!(line, 2, "{msg}");

    let (_, field, msg) = manifest_error(&format!(
        "{BASE}  - name: size\n    type: number\n    default: huge\n"
    ));
    assert_eq!(field, "parameters[1].default", "{msg}");

    let (_, field, _) = manifest_error(&format!(
        "{BASE}files:\n  conditions:\n    - path: \"a/**\"\n      when: \"name ~ name\"\n"
    ));
    assert_eq!(field, "files.conditions[0].when");
}

#[test]
fn parameter_errors_list_every_broken_parameter() {
    let m = manifest(
        "  - name: port\n    type: number\n    min: 1024\n    max: 65535\n  - name: env\n    type: enum\n    options: [dev, prod]\n  - name: id\n    type: string\n    pattern: \"[a-z]+\"\n",
    );
    let err = m
        .validate(&params(&[
            ("port", json!("80")),
            ("env", json!("qa")),
            ("id", json!("ABC")),
            ("extra", json!(1)),
        ]))
        .unwrap_err();
    let TemplateError::Parameters(list) = &err else {
        panic!("{err:?}")
    };
    let names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["extra", "name", "port", "env", "id"], "{err}");
    let text = err.to_string();
    assert!(text.contains("parameter name is required"), "{text}");
    assert!(
        text.contains("parameter port it must be at least 1024"),
        "{text}"
    );
    assert!(text.contains("\"qa\" is not one of dev, prod"), "{text}");
}

#[test]
fn rendering_errors_name_the_file_and_line() {
    let err = render_one("skeleton/src/lib.rs", "ok\nok\n{{ nmae }}\n").unwrap_err();
    match &err {
        TemplateError::Render {
            file,
            line,
            message,
        } => {
            assert_eq!((file.as_str(), *line), ("src/lib.rs", 3));
            assert!(message.contains("undefined"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let err = render_one("skeleton/a.txt", "line\n{% if name %}\nno end\n").unwrap_err();
    assert!(
        matches!(&err, TemplateError::Render { file, .. } if file == "a.txt"),
        "{err:?}"
    );
    let err = render_one("skeleton/a.txt", "{{ name | nosuchfilter }}").unwrap_err();
    assert!(err.to_string().starts_with("a.txt, line 1:"), "{err}");
}

#[test]
fn paths_cannot_escape_the_repository() {
    for path in [
        "skeleton/../../etc/passwd",
        "skeleton//x",
        "skeleton/.git/hooks/pre-commit",
    ] {
        let err = render_one(path, "x").unwrap_err();
        assert!(matches!(err, TemplateError::Path { .. }), "{path}: {err:?}");
    }
    // Rendered paths are checked too.
    let m = manifest("");
    for name in ["..", "../../x", "/abs"] {
        let values = m.validate(&params(&[("name", json!(name))])).unwrap();
        let err = render(
            &m,
            &files(&[("skeleton/{{ name }}/f.txt", "x")]),
            &values,
            &Limits::default(),
        )
        .unwrap_err();
        assert!(matches!(err, TemplateError::Path { .. }), "{name}: {err:?}");
    }
    // A path segment that renders empty leaves the file out (a conditional file).
    let values = m.validate(&params(&[("name", json!("svc"))])).unwrap();
    let out = render(
        &m,
        &files(&[
            ("skeleton/{% if name == 'other' %}x{% endif %}/f.txt", "x"),
            ("skeleton/keep.txt", "{{ name }}"),
        ]),
        &values,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].path, "keep.txt");
    assert_eq!(out[0].content, b"svc");
}

#[test]
fn expansion_bombs_and_huge_outputs_are_refused_quickly() {
    let started = std::time::Instant::now();
    // Billion laughs: assignments, macros and concatenation are not part of the language.
    let laughs = "{% set a = 'lol' %}{% set b = a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a ~ a %}{{ b }}";
    let err = render_one("skeleton/lol.txt", laughs).unwrap_err();
    assert!(err.to_string().contains("\"set\" is not allowed"), "{err}");
    let macros = "{% macro a() %}lollollol{% endmacro %}{% macro b() %}{{ a() }}{{ a() }}{% endmacro %}{{ b() }}";
    assert!(render_one("skeleton/m.txt", macros).is_err());
    // Growth through filters is bounded.
    let replace = "{{ 'a' | replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') | replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') | replace('a', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') }}";
    let err = render_one("skeleton/r.txt", replace).unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    let join = "{{ range(100000) | join('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') }}";
    let err = render_one("skeleton/j.txt", join).unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    assert!(render_one("skeleton/s.txt", "{{ 'x' * 100000000 }}").is_err());
    // A 10 GB output attempt: nested loops run out of fuel or hit the output cap.
    let huge = "{% for a in range(100000) %}{% for b in range(100000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}";
    let err = render_one("skeleton/huge.txt", huge).unwrap_err();
    assert!(
        matches!(&err, TemplateError::Limit(_) | TemplateError::Render { .. }),
        "{err:?}"
    );
    let long_lines = "{% for a in range(100000) %}{{ name | replace('s', 'sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss') }}{% endfor %}";
    let err = render_one("skeleton/long.txt", long_lines).unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
    // Deep recursion through nested loops in a path is bounded as well.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn file_count_and_size_limits() {
    let m = manifest("");
    let values = m.validate(&params(&[("name", json!("svc"))])).unwrap();
    let many: Vec<(String, Vec<u8>)> = (0..11)
        .map(|i| (format!("skeleton/f{i}.txt"), b"x".to_vec()))
        .collect();
    let limits = Limits {
        max_files: 10,
        ..Limits::default()
    };
    let err = render(&m, &many, &values, &limits).unwrap_err();
    assert!(
        err.to_string().contains("11 files; the limit is 10"),
        "{err}"
    );
    let limits = Limits {
        max_total_bytes: 5,
        ..Limits::default()
    };
    let err = render(&m, &many, &values, &limits).unwrap_err();
    assert!(matches!(err, TemplateError::Limit(_)), "{err:?}");
    // Two template files rendering to one path are refused.
    let err = render(
        &m,
        &files(&[("skeleton/{{ name }}.txt", "a"), ("skeleton/svc.txt", "b")]),
        &values,
        &Limits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("two template files"), "{err}");
}
