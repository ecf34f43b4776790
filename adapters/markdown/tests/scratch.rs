#[test]
fn scratch() {
    let b = ammonia::Builder::default();
    for n in [10_000, 20_000, 40_000, 80_000] {
    for unit in ["&amp;", "&#38;", "&lt;", "a&amp;b "] {
        let s = unit.repeat(n);
        let t = std::time::Instant::now();
        let out = b.clean(&s).to_string();
        println!("{n} {unit:10} in={} out={} {:?}", s.len(), out.len(), t.elapsed());
    }
    }
}
