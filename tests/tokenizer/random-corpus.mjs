// Random strings for a wider differential check than the committed corpus:
// code points drawn from many Unicode blocks (letters, marks, digits of
// several scripts, spaces of every kind, symbols, emoji, controls) and
// ASCII words and contractions. Usage: node random-corpus.mjs N SEED > corpus.jsonl
const [n, seed] = process.argv.slice(2).map(Number);
let s = seed | 0;
const rnd = () => {
  s = (s + 0x6D2B79F5) | 0;
  let t = Math.imul(s ^ (s >>> 15), 1 | s);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = (a) => a[Math.floor(rnd() * a.length)];
const ranges = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x09, 0x0d], [0x80, 0xff], [0x100, 0x17f],
  [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x5ff], [0x600, 0x6ff], [0x660, 0x669],
  [0x900, 0x97f], [0x966, 0x96f], [0xe00, 0xe7f], [0x1100, 0x11ff], [0x2000, 0x206f],
  [0x2070, 0x209f], [0x20a0, 0x20cf], [0x2100, 0x218f], [0x2190, 0x22ff], [0x2460, 0x24ff],
  [0x3000, 0x303f], [0x3040, 0x30ff], [0x4e00, 0x4fff], [0xac00, 0xad00], [0xfe00, 0xfe0f],
  [0xff00, 0xffef], [0x1d400, 0x1d4ff], [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f], [0x1f900, 0x1f9ff],
  [0x1f1e6, 0x1f1ff], [0x200b, 0x200d], [0x85, 0x85], [0xa0, 0xa0], [0x1680, 0x1680], [0x180e, 0x180e],
  [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0xfeff, 0xfeff], [0x1, 0x1f],
];
const words = ["the", "The", " cat", "I'm", "don't", "WE'LL", "'s", "'", "12345", "3.14", " ",
               "  ", "\n", "\r\n", "\t", "<|endoftext|>", "<|im_start|>", "<|begin_of_text|>"];
const out = [];
for (let i = 0; i < n; i++) {
  let str = "";
  const len = 1 + Math.floor(rnd() * 24);
  for (let j = 0; j < len; j++) {
    if (rnd() < 0.3) { str += pick(words); continue; }
    const [a, b] = pick(ranges);
    const cp = a + Math.floor(rnd() * (b - a + 1));
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    str += String.fromCodePoint(cp);
  }
  out.push(JSON.stringify({ text: str }));
}
console.log(out.join("\n"));
