// The tricky-string corpus for tokenizer parity: hand-picked cases (Unicode,
// emoji, CJK, whitespace runs, contractions, digits, code, special tokens)
// plus deterministic mixes of them. Imported by gen-parity.mjs.
const base = [
  "", "a", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n\n", " \n", "\n ", " \n \n", "a\n\nb",
  "a  b", "a   b", "a \t b", "  leading", "trailing  ", "tabs\t\tand\ttabs", "line\r\nwindows\r\n",
  "Hello world", "Hello, world!", "hello   world   ", " Hello", "HELLO WORLD", "hElLo WoRlD",
  "I'm", "don't", "they'll", "we've", "she'd", "It's", "IT'S", "You'RE", "I'M HERE", "'s", "''",
  "'", "rock 'n' roll", "the dog's bone's", "O'Neil's", "can't won't shouldn't've", "y'all'd've",
  "1", "12", "123", "1234", "12345", "1234567890", "3.14159", "1,000,000", "-42", "+7", "1e10",
  "0x1F", "v1.2.3", "2024-01-31", "12:30pm", "$100.00", "50%", "#1", "٣٤٥", "①②③", "Ⅻ", "²³",
  "１２３", "a1b2c3", "abc123def", "123abc", "007 James", " 2 3", "10\n20",
  "héllo", "naïve café", "e\u0301", "cafe\u0301", "\u212B", "A\u030A", "ﬁnance", "ß", "ǅ",
  "Ελληνικά κείμενο", "Привет, мир!", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีครับ",
  "안녕하세요 세계", "\u1100\u1161\u11A8", "こんにちは世界", "カタカナ", "ｶﾀｶﾅ", "你好，世界！",
  "中文测试文本", "漢字と仮名の混在テキスト", "Tiếng Việt có dấu", "Türkçe İstanbul ıi",
  "Ωmega ≠ ∞", "∑∫√∂", "→←↑↓", "©®™", "€£¥₹", "°C", "½¼¾", "…", "—–-", "«quotes»", "“smart”",
  "‘single’", "¿Qué?", "¡Hola!",
  "😀", "😀😀😀", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷🇯🇵", "❤️", "1️⃣", "🏳️‍🌈", "a😀b", " 😀 ", "🤖 robots",
  "\u200b", "zero\u200bwidth", "\ufeffbom", "nb\u00a0sp", "\u3000ideo", "x\u2028y", "x\u0085y",
  "x\u180ey", "x\u2009y", "x\u202fy", "\u000bvt\u000cff", "\u0001\u0002\u007f", "\u001b[31mred\u001b[0m",
  "!!!", "...", "?!?", "!?", ",,,", ";;", "::", "((()))", "[[]]", "{{}}", "<<>>", "@@", "##", "$$",
  "%%", "^^", "&&", "**", "__init__", "--flag", "==", "!=", "<=", ">=", "->", "=>", "::", "|>",
  "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}",
  "if (a && b || !c) { return; }", "#include <stdio.h>\nint main(void) { return 0; }",
  "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "<div class=\"x\">Hi &amp; bye</div>",
  "SELECT * FROM t WHERE id = 1;", "x = [i**2 for i in range(10)]", "console.log(`${a}b`);",
  "https://example.com/path?q=1&r=2#frag", "user@example.com", "C:\\Users\\name\\file.txt",
  "/usr/local/bin/", "~/.bashrc", "# Title\n\n- item 1\n- item 2\n", "**bold** _it_ `code`",
  "    indented code", "\t\tdouble tab", "a\u00a0\u00a0b", "x  \n  y", "end.\n", "   \n\n   ",
  "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
  "hahahahahahahahahahahaha", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "<|endoftext|>", "a<|endoftext|>b", " <|endoftext|> ", "<|endoftext|><|endoftext|>",
  "<|endoftext|", "<|endoftext|>\n\nNext", "<|im_start|>user\nhi<|im_end|>",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
  "text<|im_end|>more", "<|fim_prefix|>def<|fim_suffix|>", "<think>\nok\n</think>",
  "The quick brown fox jumps over the lazy dog.", "It was released in 1999. Critics liked it.",
  "Mr. Smith's 2nd car (a '67 Mustang) cost $12,500!", "Q: What's 2+2?\nA: 4.",
  "e.g. i.e. etc.", "U.S.A.", "don’t (curly)", "SHOUTING!!! and whispering...",
];

const fragments = [
  "the", " The", "  ", "\n", "'s", "'LL", "123", "4567", " 89", "é", "e\u0301", "中文", "世界",
  "😀", "👍🏽", "🇯🇵", "!", "?!", "...", " (", ")", "{", "}", "_", "-", "=", "x", "ABC", " def",
  "\t", "\r\n", "Ωμ", "ü", "ß", "ﬁ", "<|endoftext|>", "<|im_end|>", "nb\u00a0", "\u3000", "’",
  "\u200b", "0", "1.5", " 42", "#", "@", "//", "/*", "*/", " \n ", "naïve", "가나", "ｱｲｳ",
];

// A small deterministic generator (mulberry32) so the corpus never changes.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function corpus() {
  const r = rng(20240531);
  const mixed = [];
  for (let i = 0; i < 160; i++) {
    const k = 2 + Math.floor(r() * 7);
    let s = "";
    for (let j = 0; j < k; j++) s += fragments[Math.floor(r() * fragments.length)];
    mixed.push(s);
  }
  const long = [base.slice(20, 60).join(" "), base.slice(60, 140).join("\n"), fragments.join("")];
  return [...base, ...mixed, ...long];
}
