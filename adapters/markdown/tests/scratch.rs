use orbit_markdown::CommonMarkRenderer;
use orbit_ports::MarkdownRenderer;
#[test]
fn scratch() {
    let r = CommonMarkRenderer::new();
    for md in [
        "# Hello, World!\n\n## Hello, World!\n\ntext <b>bold</b> <script>alert(1)</script> after\n",
        "<script>\nalert(1)\n</script>\n\nafter",
        "<img src=x onerror=alert(1)> [a](javascript:alert(1)) [b](JaVa&#115;cript:x) [c](https://x.io) [d](/rel) [e](#frag) [f](mailto:a@b.c) [g](data:text/html,x) [h](vbscript:x)",
        "<iframe src=\"https://evil\"></iframe>x<object data=x>y</object><embed src=x>",
        "| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n| 4 |",
        "- [ ] todo\n- [x] done\n\n1. [x] loose\n\n2. two",
        "```rust,ignore\nfn main() {}\n```\n\n```\"><script>x\ny\n```\n\n    indented",
        "<details>\n<summary>More</summary>\n\nHidden *markdown*\n\n</details>\n",
        "![alt *text*](https://x.io/a.png \"title\") ![m](mailto:a@b) ![j](javascript:x) <a href=\"x\" onclick=\"y\" style=\"color:red\" id=z class=c>l</a>",
        "<div>\n<p>unclosed <b>bold\n\nmore text",
        "~~strike~~ <svg><script>alert(1)</script></svg> <math><mi>x</mi></math> <style>body{}</style> z",
        "Text &amp; &copy; <span title=\"a&quot;b\">&lt;tag&gt;</span>",
        "<foo@bar.com> <https://auto.link>",
        "3. three\n4. four",
    ] {
        let out = r.render(md);
        println!(
            "=== {md:?}\n{}\n--- text: {:?}\n--- headings: {:?}",
            out.html, out.text, out.headings
        );
    }
}
