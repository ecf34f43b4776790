#[test]
fn scratch() {
    let b = ammonia::Builder::default();
    for unit in ["&lt;", "&#60;", "&#x3C;", "&amp;", "&#38;", "<b>x</b>", "ab", "&quot;", "\""] {
        let s = unit.repeat(200_000);
        let t = std::time::Instant::now();
        let out = b.clean(&s).to_string();
        println!("{unit:10} in={} out={} {:?}", s.len(), out.len(), t.elapsed());
    }
}
