#[test]
fn scratch() {
    let b = ammonia::Builder::default();
    let s = "a&amp;b ".repeat(100_000);
    let t = std::time::Instant::now();
    let out = b.clean(&s);
    println!("clean {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let out = out.to_string();
    println!("ser {:?} {}", t.elapsed(), out.len());
}
