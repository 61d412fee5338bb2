// Writes tests/Riverbed.Core.Tests/Tokenization/Golden/*.jsonl: encodings by HF's Rust tokenizers (through the
// @anush008/tokenizers napi binding) for tokenizer configurations and options the shared fixtures do not cover:
// every normalizer, pre-tokenizer, model option, post-processor and decoder Riverbed supports, added-token flags,
// and truncation with strides, left direction, only_first/only_second and overflowing windows.
//
// Each file's first line is {"config": {...}}: a base fixture (or null) and a patch (see applyPatch, mirrored by
// the C# test). The other lines are cases. Run `npm install` here first, then `node make-goldens.js`.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');

const root = path.resolve(__dirname, '..', '..');
const fixtures = process.env.RIVERBED_SHARED_DIR
  ? path.join(process.env.RIVERBED_SHARED_DIR, 'fixtures', 'tokenizers')
  : path.resolve(root, '..', 'shared', 'fixtures', 'tokenizers');
const outDir = path.join(root, 'tests', 'Riverbed.Core.Tests', 'Tokenization', 'Golden');

// ------------------------------------------------------------------ texts

const EXTRA = [
  '', ' ', '   ', '\t\n', 'Hello world', 'Hello   world  ', '  leading and trailing  ',
  "don't can't I'm you're we've they'll she'd 'tis", 'He said: "It\'s 3.14159 — or 1,000,000?"',
  'x'.repeat(150), 'supercalifragilisticexpialidocious'.repeat(4),
  'naïve café Ωmega ﬁnance ½ ⅷ ² Å', 'e\u0301 a\u0300\u0301\u0302\u0303\u0304\u0305 o\u0323\u0302', '\u0130stanbul ΣΊΣΥΦΟΣ ß',
  '中文字符和日本語のテキスト', '𠀀𠀁 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '🤖👩‍👩‍👧 🇫🇷 1️⃣', '\u0000\u0007\u001b[31mred\u001b[0m\u007f',
  'zero\u200bwidth\u200djoin\ufeff', 'tab\there\r\nnew line\u2028sep\u00a0nbsp', '[MASK] [mask] <mask> <s> </s> [CLS] <|endoftext|>',
  ' <mask> mask <mask>end', 'emails: a.b@c.com https://x.y/z?q=1&r=2', 'def f(x):\n    return x**2  # comment',
  '١٢٣ ٤٥٦ 123 ⅛ ²³', 'Numbers: 12345678901234567890', 'a  b   c    d', '...!!!???', 'The quick brown fox jumps over the lazy dog.',
  'hello Hello HELLO hello-world xhello hellox', 'Foo foo FOO [NEW] [NEW]x x[NEW] ing singing',
  '𝔘𝔫𝔦! 𠀀𠀁123 x𝔘, 𝟙𝟚𝟛4 (𐐀𐐨) a\u{1D167}b 🤖x',
];

function clip(text, max) {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max).join('');
}

function loadCases() {
  const lines = fs.readFileSync(path.join(fixtures, 'cases.jsonl'), 'utf8').split('\n').filter(Boolean).map(JSON.parse);
  const perCategory = {};
  const singles = [];
  const pairs = [];
  for (const c of lines) {
    if (c.category.includes('+')) continue;
    const n = perCategory[c.category] = (perCategory[c.category] || 0) + 1;
    const limit = /^(halueval|alpaca|sharegpt|oig|oasst|riverbed)/.test(c.category) ? 2 : 3;
    if (n > limit) continue;
    if (c.pair !== undefined) pairs.push({ text: clip(c.text, 160), pair: clip(c.pair, 160) });
    else singles.push({ text: clip(c.text, 240) });
  }
  return { singles: [...EXTRA.map(text => ({ text })), ...singles], pairs };
}

// ------------------------------------------------------------------ configurations

const readFixture = (name) => JSON.parse(fs.readFileSync(path.join(fixtures, name, 'tokenizer.json'), 'utf8'));

// The same patch semantics as the C# test: replace top-level keys; merge "model_patch" into the model; append
// "vocab_append" to a Unigram vocab; append "added_tokens_append" to the added tokens.
function applyPatch(base, patch) {
  const json = base ? readFixture(base) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'model_patch') Object.assign(json.model, value);
    else if (key === 'vocab_append') json.model.vocab.push(...value);
    else if (key === 'added_tokens_append') json.added_tokens.push(...value);
    else json[key] = value;
  }
  return json;
}

const special = (id, content, extra = {}) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...extra,
});
const template = (single, pair, tokens) => ({
  type: 'TemplateProcessing',
  single: single.split(' ').map(piece),
  pair: pair.split(' ').map(piece),
  special_tokens: Object.fromEntries(tokens.map(([t, id]) => [t, { id: t, ids: [id], tokens: [t] }])),
});
function piece(text) {
  const [name, type] = text.split(':');
  const typeId = type ? Number(type) : 0;
  return name.startsWith('$') ? { Sequence: { id: name.slice(1), type_id: typeId } } : { SpecialToken: { id: name, type_id: typeId } };
}
const byteTokens = () => Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);

function llamaLikeBpe() {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (const t of byteTokens()) vocab[t] = Object.keys(vocab).length;
  const chars = '▁abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'"-:;()';
  for (const c of chars) vocab[c] = Object.keys(vocab).length;
  const merges = [];
  const words = ['▁the', '▁and', '▁of', '▁to', 'ing', 'er', 'on', 'an', 're', '▁a', '▁in', '▁is', '▁it', 'ou', 'at', 'en', 'th', 'he',
    '▁he', '▁be', 'ed', 'es', '▁wor', 'ld', '▁Hel', 'lo', '▁hello'];
  for (const word of words) {
    // merge left to right: w[0..i] + w[i]
    let current = word[0] === '▁' ? '▁' + word[1] : word[0];
    let start = word[0] === '▁' ? 2 : 1;
    if (word[0] === '▁') {
      if (!merges.includes(`▁ ${word[1]}`)) merges.push(`▁ ${word[1]}`);
      if (!(current in vocab)) vocab[current] = Object.keys(vocab).length;
    }
    for (let i = start; i < word.length; i++) {
      const next = current + word[i];
      const merge = `${current} ${word[i]}`;
      if (!merges.includes(merge)) merges.push(merge);
      if (!(next in vocab)) vocab[next] = Object.keys(vocab).length;
      current = next;
    }
  }
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '<unk>'), special(1, '<s>'), special(2, '</s>')],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: template('<s> $A', '<s> $A <s>:1 $B:1', [['<s>', 1]]),
    decoder: { type: 'Sequence', decoders: [
      { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
      { type: 'Strip', content: ' ', start: 1, stop: 0 }] },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
}

function classicBpe() {
  const vocab = { '[UNK]': 0, '[CLS]': 1, '[SEP]': 2 };
  const add = (t) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  for (const c of 'abcdefghijklmnopqrstuvwxyz') { add(c); add('##' + c); add(c + '</w>'); add('##' + c + '</w>'); }
  const merges = [];
  for (const word of ['the', 'and', 'hello', 'world', 'ing', 'quick', 'brown', 'over', 'lazy']) {
    // left-to-right merges inside a word, the last symbol carrying </w>
    let current = word[0];
    for (let i = 1; i < word.length; i++) {
      const last = i === word.length - 1;
      const right = '##' + word[i] + (last ? '</w>' : '');
      merges.push([current, right]);
      current = current + word[i] + (last ? '</w>' : '');
      add(current);
      add(right);
    }
  }
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '[UNK]'), special(1, '[CLS]'), special(2, '[SEP]')],
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 2], cls: ['[CLS]', 1] },
    decoder: { type: 'BPEDecoder', suffix: '</w>' },
    model: { type: 'BPE', dropout: null, unk_token: '[UNK]', continuing_subword_prefix: '##', end_of_word_suffix: '</w>',
      fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

function bertWithAddedTokens() {
  const json = readFixture('bert-base-uncased');
  const vocab = json.model.vocab;
  let next = Object.keys(vocab).length;
  const idOf = (content) => (content in vocab ? vocab[content] : next++);
  const extra = [
    { content: 'hello', single_word: true, lstrip: true, rstrip: false, normalized: false, special: false },
    { content: 'ing', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
    { content: '[NEW]', single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
    { content: 'Foo', single_word: false, lstrip: true, rstrip: true, normalized: true, special: false },
  ].map(t => ({ id: idOf(t.content), ...t }));
  return { added_tokens_append: extra };
}

const GPT4_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const CONFIGS = [
  { name: 'wordpiece-whitespace', base: 'bert-base-uncased', patch: {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] },
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] } } },
  { name: 'wordpiece-nfkc-punctuation-digits', base: 'bert-base-uncased', patch: {
    normalizer: { type: 'NFKC' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Punctuation', behavior: 'Removed' },
      { type: 'Digits', individual_digits: true }] },
    post_processor: template('$A:0 [SEP]', '[CLS]:2 $A:0 [SEP] $B:1 [SEP]:1', [['[CLS]', 101], ['[SEP]', 102]]) } },
  { name: 'wordpiece-split-behaviors', base: 'bert-base-uncased', patch: {
    normalizer: { type: 'Lowercase' },
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Removed', invert: false },
      { type: 'Split', pattern: { Regex: '[,.!?]' }, behavior: 'MergedWithNext', invert: false },
      { type: 'Split', pattern: { String: 'e' }, behavior: 'MergedWithPrevious', invert: false },
      { type: 'Split', pattern: { Regex: '\\d' }, behavior: 'Contiguous', invert: false },
      { type: 'Split', pattern: { Regex: '\\w+|[^\\w\\s]+' }, behavior: 'Removed', invert: true },
      { type: 'Punctuation', behavior: 'MergedWithPrevious' }, { type: 'Digits', individual_digits: false }] } } },
  { name: 'wordpiece-bert-options', base: 'bert-base-uncased', patch: {
    normalizer: { type: 'BertNormalizer', clean_text: false, handle_chinese_chars: false, strip_accents: false, lowercase: false } } },
  { name: 'wordpiece-bert-accents-kept', base: 'bert-base-uncased', patch: {
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: true } } },
  { name: 'wordpiece-replace-prepend-strip', base: 'bert-base-uncased', patch: {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Strip', strip_left: true, strip_right: false }, { type: 'NFC' },
      { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Replace', pattern: { String: 'a' }, content: 'aa' },
      { type: 'Prepend', prepend: '_' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'WhitespaceSplit' } } },
  { name: 'wordpiece-nmt-nfkd-delimiter', base: 'bert-base-uncased', patch: {
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Nmt' }, { type: 'NFKD' }, { type: 'Lowercase' }] },
    pre_tokenizer: { type: 'CharDelimiterSplit', delimiter: ' ' } } },
  { name: 'wordpiece-added-tokens', base: 'bert-base-uncased', patch: bertWithAddedTokens() },
  { name: 'wordlevel', base: 'bert-base-uncased', patch: {
    model_patch: { type: 'WordLevel', unk_token: '[UNK]' }, pre_tokenizer: { type: 'Whitespace' }, post_processor: null, decoder: null } },
  { name: 'bytelevel-prefix-space', base: 'gpt2', patch: {
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true } } },
  { name: 'bytelevel-regex-split-template', base: 'gpt2', patch: {
    pre_tokenizer: { type: 'Sequence', pretokenizers: [
      { type: 'Split', pattern: { Regex: GPT4_SPLIT }, behavior: 'Isolated', invert: false },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] },
    post_processor: { type: 'Sequence', processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      template('<|endoftext|> $A', '<|endoftext|> $A <|endoftext|>:1 $B:1', [['<|endoftext|>', 50256]])] } } },
  { name: 'bytelevel-ignore-merges', base: 'gpt2', patch: { model_patch: { ignore_merges: true } } },
  { name: 'roberta-prefix-space', base: 'roberta-base', patch: {
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: true } } },
  { name: 'roberta-untrimmed', base: 'roberta-base', patch: {
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: false, add_prefix_space: false } } },
  { name: 'bpe-byte-fallback', base: null, patch: llamaLikeBpe() },
  { name: 'bpe-affixes', base: null, patch: classicBpe() },
  { name: 'unigram-byte-fallback', base: 'deberta-v3-style-unigram', patch: {
    model_patch: { byte_fallback: true },
    vocab_append: byteTokens().map(t => [t, -30.0]),
    added_tokens: readFixture('deberta-v3-style-unigram').added_tokens.map(t => (t.content === '[MASK]' ? { ...t, id: 8256 } : t)),
    decoder: { type: 'Sequence', decoders: [{ type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
      { type: 'ByteFallback' }, { type: 'Fuse' }] } } },
  { name: 'unigram-prepend-first-unsplit', base: 'deberta-v3-style-unigram', patch: {
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false } } },
  { name: 'unigram-prepend-never', base: 'deberta-v3-style-unigram', patch: {
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'never', split: true } } },
];

// Truncation on the fixtures as they are: strides, left direction, every strategy, overflowing windows.
const TRUNCATIONS_SINGLE = [
  { max_length: 12, stride: 3, strategy: 'longest_first', direction: 'right' },
  { max_length: 12, stride: 0, strategy: 'longest_first', direction: 'left' },
  { max_length: 10, stride: 4, strategy: 'only_first', direction: 'left' },
];
const TRUNCATIONS_PAIR = [
  { max_length: 20, stride: 2, strategy: 'longest_first', direction: 'right' },
  { max_length: 16, stride: 1, strategy: 'only_first', direction: 'right' },
  { max_length: 16, stride: 0, strategy: 'only_second', direction: 'left' },
  { max_length: 14, stride: 3, strategy: 'longest_first', direction: 'left' },
];
for (const base of ['bert-base-uncased', 'roberta-base', 'gpt2', 'deberta-v3-style-unigram']) {
  CONFIGS.push({ name: `truncation-${base}`, base, patch: {}, truncation: true });
}
// Random concatenations of awkward pieces (seeded, so the files are reproducible) on the fixtures as they are.
for (const base of ['bert-base-uncased', 'roberta-base', 'gpt2', 'deberta-v3-style-unigram']) {
  CONFIGS.push({ name: `fuzz-${base}`, base, patch: {}, fuzz: true });
}

const FUZZ_PIECES = ['a', 'b', 'Z', 'é', 'e\u0301', '\u0301', '\u0323', 'ß', 'İ', 'Σ', 'ς', 'ﬁ', '½', '²', '中', '日本', '한국어',
  '\u1100\u1161\u11A8', '🤖', '👩‍👩‍👧', '🇫🇷', '1️⃣', '𠀀', '𝔘', '\u200b', '\u200d', '\ufeff', '\u00a0', '\u3000', ' ', '  ',
  '\t', '\n', '\r\n', '\u2028', '\u0000', '\u0007', '\u007f', '\u0085', '\u00ad', '\ufffd', '\ue000', '.', ',', '!', '?', "'",
  '"', '(', '-', '—', '…', '$', '+', '^', '`', '[MASK]', '[CLS]', '<mask>', ' <mask>', '<s>', '</s>', '<|endoftext|>', '[UNK]',
  "don't", "'s", "'ll", 'hello', 'Hello', 'HELLO', 'world', 'the', '123', '4567', '3.14', '٣', 'Ⅷ', 'aaaaaaaaaaaaaaaaaaaa',
  'xyz', 'ing', '##', '▁', 'Ġ', 'ł', 'ñ', 'ç', 'Ω', 'Å', 'ﬀ', 'ℌ', '™', '\u0e01\u0e33', '\u0915\u094d\u0937', '\u0627\u0644'];

function fuzzInputs(count) {
  let seed = 20260101;
  const next = (n) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const text = () => Array.from({ length: 1 + next(12) }, () => FUZZ_PIECES[next(FUZZ_PIECES.length)]).join('');
  return Array.from({ length: count }, () => {
    const input = { text: text(), add: next(4) !== 0 };
    if (next(3) === 0) input.pair = text();
    return input;
  });
}

// ------------------------------------------------------------------ encoding

const STRATEGY = { longest_first: 'LongestFirst', only_first: 'OnlyFirst', only_second: 'OnlySecond' };

function utf16Offsets(text, offsets) {
  const map = [0];
  for (const ch of text) map.push(map[map.length - 1] + ch.length);
  return offsets.map(([s, e]) => [map[s], map[e]]);
}

function describe(encoding, text, pair) {
  const sequenceIds = encoding.getSequenceIds();
  const offsets = encoding.getOffsets().map((o, i) => {
    const source = sequenceIds[i] === 1 ? pair : text;
    return sequenceIds[i] === null || sequenceIds[i] === undefined ? [o[0], o[1]] : utf16Offsets(source, [o])[0];
  });
  return {
    ids: encoding.getIds(), type_ids: encoding.getTypeIds(), tokens: encoding.getTokens(), offsets,
    special_tokens_mask: encoding.getSpecialTokensMask(),
    word_ids: encoding.getWordIds().map(w => (w === undefined ? null : w)),
    sequence_ids: sequenceIds.map(s => (s === undefined ? null : s)),
    overflowing: encoding.getOverflowing().map(o => describe(o, text, pair)),
  };
}

async function main() {
  const { singles, pairs } = loadCases();
  fs.mkdirSync(outDir, { recursive: true });
  for (const config of CONFIGS) {
    const json = applyPatch(config.base, config.patch);
    const tokenizer = Tokenizer.fromString(JSON.stringify(json));
    const lines = [JSON.stringify({ config: { base: config.base, patch: config.patch } })];
    const inputs = [];
    if (config.fuzz) {
      inputs.push(...fuzzInputs(250));
    } else if (config.truncation) {
      // Short texts keep the overflowing windows (and the file) small.
      singles.forEach((c, i) => inputs.push({ text: clip(c.text, 100), add: true, truncation: TRUNCATIONS_SINGLE[i % TRUNCATIONS_SINGLE.length] }));
      pairs.forEach((c, i) => {
        const pair = { text: clip(c.text, 80), pair: clip(c.pair, 80) };
        inputs.push({ ...pair, add: true, truncation: TRUNCATIONS_PAIR[i % TRUNCATIONS_PAIR.length] });
        inputs.push({ ...pair, add: i % 2 === 0, truncation: TRUNCATIONS_PAIR[(i + 1) % TRUNCATIONS_PAIR.length] });
      });
    } else {
      singles.forEach((c, i) => inputs.push({ ...c, add: i % 4 !== 3 }));
      pairs.forEach((c, i) => inputs.push({ ...c, add: i % 3 !== 2 }));
    }
    let index = 0;
    for (const input of inputs) {
      const caseId = `${config.name}-${String(index++).padStart(3, '0')}`;
      const line = { id: caseId, text: input.text, add_special_tokens: input.add, truncation: input.truncation ?? null };
      if (input.pair !== undefined) line.pair = input.pair;
      if (input.truncation) {
        const t = input.truncation;
        tokenizer.setTruncation(t.max_length, { stride: t.stride, strategy: STRATEGY[t.strategy], direction: t.direction });
      } else {
        tokenizer.disableTruncation();
      }
      try {
        const encoding = await tokenizer.encode(input.text, input.pair ?? null, { addSpecialTokens: input.add });
        Object.assign(line, describe(encoding, input.text, input.pair));
        line.decoded = await tokenizer.decode(encoding.getIds(), true);
        line.decoded_with_special = await tokenizer.decode(encoding.getIds(), false);
      } catch (error) {
        line.error = String(error.message || error);
      }
      lines.push(JSON.stringify(line));
    }
    fs.writeFileSync(path.join(outDir, `${config.name}.jsonl`), lines.join('\n') + '\n');
    console.log(`${config.name}: ${inputs.length} cases`);
  }
}

main().catch(error => { console.error(error); process.exit(1); });
