// Encodes texts with Hugging Face's tokenizers.js and derives each token's
// byte offsets from its bytes laid end to end over the input (tokenizers.js
// returns none); null when they do not tile the input (NFC changed it).
// As a program: node encode-js.mjs NPM_DIR TOKENIZER.json CONFIG.json CORPUS.jsonl
// prints {"text","ids","offsets"} lines.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// GPT-2's byte-level alphabet, built from its definition (not copied).
function byteLevel() {
  const printable = (b) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  const toChar = new Map(), toByte = new Map();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const cp = printable(b) ? b : 256 + n++;
    toChar.set(b, String.fromCodePoint(cp));
    toByte.set(String.fromCodePoint(cp), b);
  }
  return { toChar, toByte };
}

function tokenBytes(tok, id, added) {
  if (added.has(id)) return Buffer.from(added.get(id), "utf8");
  const out = [];
  for (const ch of tok) {
    if (!toByte.has(ch)) throw new Error(`token ${id} has char outside the byte alphabet`);
    out.push(toByte.get(ch));
  }
  return Buffer.from(out);
}

// Offsets from the tokens' bytes, checked against the input byte by byte.
function deriveOffsets(text, enc, added) {
  const input = Buffer.from(text, "utf8");
  const offsets = [];
  let at = 0;
  for (let i = 0; i < enc.ids.length; i++) {
    const b = tokenBytes(enc.tokens[i], enc.ids[i], added);
    if (!input.subarray(at, at + b.length).equals(b)) return null;
    offsets.push([at, at + b.length]);
    at += b.length;
  }
  return at === input.length ? offsets : null;
}

const { toByte } = byteLevel();

export function encodeAll(Tokenizer, json, config, texts) {
  const tok = new Tokenizer(json, config);
  const added = new Map(json.added_tokens.map((a) => [a.id, a.content]));
  return texts.map((text) => {
    const enc = tok.encode(text, { add_special_tokens: false });
    return { text, ids: enc.ids, offsets: deriveOffsets(text, enc, added) };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [npmDir, tokFile, cfgFile, corpusFile] = process.argv.slice(2);
  const require = createRequire(path.join(npmDir, "x.js"));
  const { Tokenizer } = require("@huggingface/tokenizers");
  const json = JSON.parse(fs.readFileSync(tokFile, "utf8"));
  const cfg = JSON.parse(fs.readFileSync(cfgFile, "utf8"));
  const texts = fs.readFileSync(corpusFile, "utf8").split("\n").filter((l) => l).map((l) => JSON.parse(l).text);
  for (const r of encodeAll(Tokenizer, json, cfg, texts)) console.log(JSON.stringify(r));
}
