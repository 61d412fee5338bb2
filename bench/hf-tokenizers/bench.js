// Single-threaded throughput of HF's Rust tokenizers (the @anush008/tokenizers napi binding) on the benchmark corpus.
// Run `npm install` here first. Usage: node bench.js [tokenizer-folder-name ...] (default: bert-base-uncased roberta-base)
// Parallelism is off (TOKENIZERS_PARALLELISM=false, RAYON_NUM_THREADS=1 are set before the binding loads), so
// encodeBatch runs on one core: one call for the whole corpus measures the Rust code with no per-text binding cost;
// the per-text awaited encode() adds the binding's per-call overhead and is reported for information.
'use strict';
process.env.TOKENIZERS_PARALLELISM = 'false';
process.env.RAYON_NUM_THREADS = '1';
const path = require('path');
const { Tokenizer } = require('@anush008/tokenizers');
const { loadCorpus } = require('./corpus');

const shared = process.env.RIVERBED_SHARED_DIR || path.resolve(__dirname, '..', '..', '..', 'shared');
const names = process.argv.slice(2).length ? process.argv.slice(2) : ['bert-base-uncased', 'roberta-base'];
const rounds = Number(process.env.ROUNDS || 5);

async function main() {
  const texts = loadCorpus();
  const chars = texts.reduce((n, t) => n + t.length, 0);
  console.log(`corpus: ${texts.length} texts, ${chars} UTF-16 code units`);
  for (const name of names) {
    const tokenizer = Tokenizer.fromFile(path.join(shared, 'fixtures', 'tokenizers', name, 'tokenizer.json'));
    let tokens = 0;
    for (const e of await tokenizer.encodeBatch(texts, { addSpecialTokens: true })) tokens += e.getLength();

    const batchTimes = [];
    for (let r = 0; r < rounds; r++) {
      const start = process.hrtime.bigint();
      await tokenizer.encodeBatch(texts, { addSpecialTokens: true });
      batchTimes.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    const perCallTimes = [];
    for (let r = 0; r < Math.min(rounds, 3); r++) {
      const start = process.hrtime.bigint();
      for (const text of texts) await tokenizer.encode(text, null, { addSpecialTokens: true });
      perCallTimes.push(Number(process.hrtime.bigint() - start) / 1e9);
    }
    const best = (times) => Math.min(...times);
    const median = (times) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
    console.log(`${name}: ${tokens} tokens`);
    console.log(`  encodeBatch, 1 thread : median ${(tokens / median(batchTimes) / 1e6).toFixed(3)} M tokens/s ` +
      `(best ${(tokens / best(batchTimes) / 1e6).toFixed(3)}; ${batchTimes.map(t => t.toFixed(3)).join(' ')} s)`);
    console.log(`  encode per text       : median ${(tokens / median(perCallTimes) / 1e6).toFixed(3)} M tokens/s ` +
      `(${perCallTimes.map(t => t.toFixed(3)).join(' ')} s)`);
  }
}

main().catch(error => { console.error(error); process.exit(1); });
