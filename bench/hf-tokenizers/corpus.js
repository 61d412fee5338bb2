// The benchmark corpus, identical to bench/Riverbed.Bench/TokenizationCorpus.cs: real instruction/chat texts from
// ../shared/fixtures/datasets, in file order.
'use strict';
const fs = require('fs');
const path = require('path');

function datasetsFolder() {
  const shared = process.env.RIVERBED_SHARED_DIR || path.resolve(__dirname, '..', '..', '..', 'shared');
  return path.join(shared, 'fixtures', 'datasets');
}

function loadCorpus() {
  const folder = datasetsFolder();
  const texts = [];
  const add = (value) => { if (typeof value === 'string' && value.length > 0) texts.push(value); };
  for (const line of fs.readFileSync(path.join(folder, 'halueval', 'general_data.json'), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const row = JSON.parse(line);
    add(row.user_query);
    add(row.chatgpt_response);
  }
  for (const row of JSON.parse(fs.readFileSync(path.join(folder, 'alpaca', 'alpaca_data_first2000.json'), 'utf8'))) {
    add(row.instruction);
    add(row.input);
    add(row.output);
  }
  for (const conversation of JSON.parse(fs.readFileSync(path.join(folder, 'fastchat-sharegpt', 'dummy_conversation.json'), 'utf8'))) {
    for (const turn of conversation.conversations) add(turn.value);
  }
  return texts;
}

module.exports = { loadCorpus };
