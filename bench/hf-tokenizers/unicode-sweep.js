// Writes tests/Riverbed.Core.Tests/Tokenization/Golden/unicode-sweep.json: for every code point of the swept ranges,
// what HF's normalizers and pre-tokenizers make of it, condensed to one SHA-256 per behavior (the C# test recomputes
// them). With --dump FILE it also writes the per-code-point results, to find the code points behind a mismatch.
// Run `npm install` here first.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const t = require('@anush008/tokenizers');

const root = path.resolve(__dirname, '..', '..');
const shared = process.env.RIVERBED_SHARED_DIR || path.resolve(root, '..', 'shared');
const deberta = JSON.parse(fs.readFileSync(path.join(shared, 'fixtures', 'tokenizers', 'deberta-v3-style-unigram', 'tokenizer.json')));
const charsmap = Buffer.from(deberta.normalizer.normalizers[1].precompiled_charsmap, 'base64');

// Planes 0-3 (everything assigned but the supplementary private use planes), tags and variation selectors, and a
// sample of each private use plane.
const RANGES = [[0x0, 0xD7FF], [0xE000, 0x3FFFF], [0xE0000, 0xE01FF], [0xF0000, 0xF00FF], [0x10FF00, 0x10FFFF]];
const NORMALIZERS = {
  'bert': t.bertNormalizer(), 'nfc': t.nfcNormalizer(), 'nfd': t.nfdNormalizer(), 'nfkc': t.nfkcNormalizer(),
  'nfkd': t.nfkdNormalizer(), 'lowercase': t.lowercase(), 'strip-accents': t.stripAccentsNormalizer(),
  'precompiled': t.precompiled(Array.from(charsmap)),
};
const PRE_TOKENIZERS = {
  'bert-pre-tokenizer': [t.bertPreTokenizer(), 'a', 'a'], 'byte-level': [t.byteLevelPreTokenizer(false, true), 'a', 'a'],
  'byte-level-after-space': [t.byteLevelPreTokenizer(false, true), ' ', '1'], 'whitespace': [t.whitespacePreTokenizer(), 'a', 'a'],
  'digits': [t.digitsPreTokenizer(true), 'a', 'a'], 'punctuation': [t.punctuationPreTokenizer('isolated'), 'a', 'a'],
};

// Canonical text of one result: code points in hex for a normalized string; "start-end" char ranges for splits.
const hexOf = (text) => Array.from(text).map(c => c.codePointAt(0).toString(16)).join(' ');
const rangesOf = (splits) => splits.map(([, [s, e]]) => `${s}-${e}`).join(',');

const hashes = {};
for (const name of [...Object.keys(NORMALIZERS), ...Object.keys(PRE_TOKENIZERS)]) hashes[name] = crypto.createHash('sha256');
const dump = process.argv.indexOf('--dump') >= 0 ? fs.openSync(process.argv[process.argv.indexOf('--dump') + 1], 'w') : null;
let count = 0;
for (const [low, high] of RANGES) {
  for (let cp = low; cp <= high; cp++) {
    const c = String.fromCodePoint(cp);
    const row = [cp.toString(16)];
    for (const [name, normalizer] of Object.entries(NORMALIZERS)) {
      const value = hexOf(normalizer.normalizeString(c));
      hashes[name].update(`${cp.toString(16)}:${value}\n`);
      row.push(value);
    }
    for (const [name, [preTokenizer, before, after]] of Object.entries(PRE_TOKENIZERS)) {
      const value = rangesOf(preTokenizer.preTokenizeString(before + c + after));
      hashes[name].update(`${cp.toString(16)}:${value}\n`);
      row.push(value);
    }
    if (dump !== null) fs.writeSync(dump, row.join('\t') + '\n');
    count++;
  }
}
const result = { generator: 'bench/hf-tokenizers/unicode-sweep.js (@anush008/tokenizers 0.6.0, Rust tokenizers 0.22.2)',
  code_points: count, ranges: RANGES, sha256: Object.fromEntries(Object.entries(hashes).map(([k, h]) => [k, h.digest('hex')])) };
fs.writeFileSync(path.join(root, 'tests', 'Riverbed.Core.Tests', 'Tokenization', 'Golden', 'unicode-sweep.json'),
  JSON.stringify(result, null, 2) + '\n');
console.log(`${count} code points`);
