namespace Riverbed.Runner.Report;

/// <summary>
/// The explorer's style and script. The script decides exactly as <c>DecisionPolicy.Decide</c> does, on the very
/// values <c>riverbed filter</c> reads (float64, embedded bit for bit): a threshold "&lt;" triggers when the score is
/// strictly below it, "&gt;" when strictly above; a missing (null or NaN) score never triggers; any: removed when at
/// least one threshold that is on triggers; all: removed when every threshold that is on does; none on: all kept.
/// </summary>
internal static partial class ReportAssets
{
    private const string ExplorerStyle = """
        .x-controls { display: flex; flex-wrap: wrap; gap: 8px 20px; align-items: center; margin: 8px 0 12px; }
        .x-scores { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 12px 20px; }
        .x-score { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; }
        .x-score.off { opacity: .55; }
        .x-score .x-head { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; }
        .x-score .x-name { font-weight: 600; }
        .x-score input[type=number] { width: 9em; font: inherit; }
        .x-score .x-alone { color: var(--muted); font-size: 12px; }
        svg.xhist { width: 100%; height: auto; touch-action: none; cursor: ew-resize; user-select: none; }
        svg.xhist .xb.kept { fill: #7cc49a; } svg.xhist .xb.removed { fill: #e8877f; } svg.xhist .xb.mixed { fill: #c9bf98; } svg.xhist .xb.none { fill: #9db0c8; }
        svg.xhist .xt { stroke: var(--remove); stroke-width: 2; }
        svg.xhist .xt.beyond { stroke-dasharray: 4 3; }
        svg.xhist .xh { fill: var(--remove); }
        svg.xhist .axis { font-size: 11px; fill: var(--muted); }
        svg.xhist .base { stroke: var(--line); }
        .x-table td.x-kept { color: var(--keep); } .x-table td.x-removed { color: var(--remove); }
        pre.x-command { background: var(--wash); padding: 8px; border-radius: 6px; white-space: pre-wrap; overflow-wrap: anywhere; font-size: 12px; }
        .x-side > h4 { margin: 0 0 6px; font-size: 13px; }
        .x-place { font-size: 12px; color: var(--muted); margin: 0 0 2px; }
        """;

    private const string ExplorerScript = """
        (function () {
          'use strict';
          var holder = document.getElementById('x-data');
          if (!holder) { return; }
          var data = JSON.parse(holder.getAttribute('data-explorer'));
          if (!data.rows) { return; }
          var BINS = 300, W = 660, H = 150, L = 46, R = 10, T = 14, B = 24;
          var SVGNS = 'http://www.w3.org/2000/svg';
          var EVIDENCE = { fill: 'fill_compare_min', entity: 'replaced_entity_max', contradiction: 'contradiction_max' };

          function bytesOf(base64) {
            var text = atob(base64), bytes = new Uint8Array(text.length);
            for (var i = 0; i < text.length; i++) { bytes[i] = text.charCodeAt(i); }
            return bytes;
          }
          function doubles(base64) {
            var bytes = bytesOf(base64), view = new DataView(bytes.buffer), out = new Float64Array(bytes.length / 8);
            for (var i = 0; i < out.length; i++) { out[i] = view.getFloat64(i * 8, true); }
            return out;
          }
          function indices(text) {
            var width = text.slice(0, 4) === 'u16:' ? 2 : 4;
            var bytes = bytesOf(text.slice(4)), view = new DataView(bytes.buffer), out = new Uint32Array(bytes.length / width);
            for (var i = 0; i < out.length; i++) { out[i] = width === 2 ? view.getUint16(i * 2, true) : view.getUint32(i * 4, true); }
            return out;
          }
          function el(name, attributes, text) {
            var node = name.indexOf('svg:') === 0 ? document.createElementNS(SVGNS, name.slice(4)) : document.createElement(name);
            Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
            if (text !== undefined) { node.textContent = text; }
            return node;
          }
          function number(n) { return n.toLocaleString('en-US'); }
          function percent(part, whole) { return whole ? (100 * part / whole).toFixed(1) + '%' : '\u2014'; }

          var sourceOf = indices(data.sourceIndex);
          var groupOf = data.groupIndex ? indices(data.groupIndex) : null;
          var scores = data.scores.map(function (s) {
            var values = doubles(s.values);
            var natural = s.lowerIsWorse ? '<' : '>';
            var first = s.start || s.base;
            var score = {
              name: s.name, values: values, base: s.base, start: s.start, natural: natural,
              on: !!s.start, dir: first ? first.dir : natural, value: first ? first.value : (s.lowerIsWorse ? 0 : 0.5),
              moved: false
            };
            // The axis spans the values, so the bins are fine where the rows are: a tail such as 0.95 to 1 gets dozens
            // of bins, not one. A threshold beyond the values (where it removes all or none) sits dashed at the edge.
            var low = Infinity, high = -Infinity, missing = 0;
            for (var i = 0; i < values.length; i++) {
              var v = values[i];
              if (v !== v) { missing++; continue; }
              if (v < low) { low = v; }
              if (v > high) { high = v; }
            }
            if (!(low <= high)) { low = s.lowerIsWorse ? -1 : 0; high = 1; }
            var pad = (high - low) * 0.02 || Math.max(Math.abs(low) * 0.01, 0.01);
            score.low = low - pad; score.high = high + pad; score.missing = missing;
            // Dragging moves in steps of about a ten-thousandth of the axis, so the command shows a short number.
            score.decimals = Math.max(0, Math.min(12, 4 - Math.floor(Math.log10(score.high - score.low))));
            score.bins = new Array(BINS).fill(0);
            for (var j = 0; j < values.length; j++) {
              var x = values[j];
              if (x !== x) { continue; }
              score.bins[Math.min(BINS - 1, Math.max(0, Math.floor((x - score.low) / (score.high - score.low) * BINS)))]++;
            }
            return score;
          });
          var byName = {};
          scores.forEach(function (s) { byName[s.name] = s; });
          var combine = data.startCombine;
          var focus = (scores.filter(function (s) { return s.on; })[0] || scores[0]).name;

          // The decision, as DecisionPolicy.Decide makes it: NaN compares false both ways, so a missing score never triggers.
          function triggers(score, v) { return score.dir === '<' ? v < score.value : v > score.value; }
          function removes(valueOf) {
            var active = scores.filter(function (s) { return s.on; });
            if (active.length === 0) { return false; }
            var hits = 0;
            for (var k = 0; k < active.length; k++) { if (triggers(active[k], valueOf(active[k].name))) { hits++; } }
            return combine === 'all' ? hits === active.length : hits > 0;
          }

          // Controls, one card per score.
          var combineSelect = document.getElementById('x-combine');
          var logToggle = document.getElementById('x-log');
          var container = document.getElementById('x-scores');
          scores.forEach(function (score) {
            var card = el('div', { 'class': 'x-score', 'data-score': score.name });
            var head = el('div', { 'class': 'x-head' });
            var label = el('label');
            score.toggle = el('input', { type: 'checkbox', 'class': 'x-on' });
            score.toggle.checked = score.on;
            label.appendChild(score.toggle);
            label.appendChild(el('span', { 'class': 'x-name' }, ' ' + score.name));
            head.appendChild(label);
            head.appendChild(el('span', { 'class': 'x-dir' }, 'remove when ' + (score.dir === '<' ? 'below' : 'above')));
            score.input = el('input', { type: 'number', step: 'any', 'class': 'x-value' });
            score.input.value = String(score.value);
            head.appendChild(score.input);
            score.alone = el('span', { 'class': 'x-alone' });
            head.appendChild(score.alone);
            card.appendChild(head);
            score.svg = el('svg:svg', { 'class': 'xhist', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'histogram of ' + score.name + ' with a draggable threshold' });
            score.svg.appendChild(el('svg:line', { 'class': 'base', x1: L, y1: H - B, x2: W - R, y2: H - B }));
            score.bars = score.bins.map(function (count, i) {
              var bar = el('svg:rect', { 'class': 'xb', x: (L + i * (W - L - R) / BINS).toFixed(2), width: ((W - L - R) / BINS).toFixed(2) });
              var from = score.low + i * (score.high - score.low) / BINS, to = score.low + (i + 1) * (score.high - score.low) / BINS;
              bar.appendChild(el('svg:title', {}, '[' + from.toFixed(score.decimals) + ', ' + to.toFixed(score.decimals) + '): ' + number(count)));
              score.svg.appendChild(bar);
              return bar;
            });
            [[score.low, 'start', L], [(score.low + score.high) / 2, 'middle', (L + W - R) / 2], [score.high, 'end', W - R]].forEach(function (tick) {
              score.svg.appendChild(el('svg:text', { 'class': 'axis', x: tick[2], y: H - 6, 'text-anchor': tick[1] }, String(Number(tick[0].toFixed(Math.max(3, score.decimals - 1))))));
            });
            score.maxLabel = el('svg:text', { 'class': 'axis', x: L - 6, y: T + 4, 'text-anchor': 'end' });
            score.svg.appendChild(score.maxLabel);
            score.svg.appendChild(el('svg:text', { 'class': 'axis', x: L - 6, y: H - B, 'text-anchor': 'end' }, '0'));
            score.line = el('svg:line', { 'class': 'xt', y1: T - 8, y2: H - B });
            score.handle = el('svg:circle', { 'class': 'xh', r: 5, cy: T - 8 });
            score.svg.appendChild(score.line);
            score.svg.appendChild(score.handle);
            card.appendChild(score.svg);
            container.appendChild(card);
            score.card = card;

            score.toggle.addEventListener('change', function () {
              score.on = score.toggle.checked;
              score.moved = true;
              if (score.on) { focus = score.name; }
              update();
            });
            score.input.addEventListener('input', function () {
              var v = Number(score.input.value);
              if (score.input.value.trim() !== '' && isFinite(v)) { set(score, v, false); }
            });
            var dragging = false;
            function fromPointer(event) {
              var box = score.svg.getBoundingClientRect();
              var x = (event.clientX - box.left) * W / box.width;
              var v = score.low + (x - L) / (W - L - R) * (score.high - score.low);
              v = Math.min(score.high, Math.max(score.low, v));
              // Typing gives any value; dragging rounds (see decimals).
              set(score, Number(v.toFixed(score.decimals)), true);
            }
            score.svg.addEventListener('pointerdown', function (event) { dragging = true; score.svg.setPointerCapture(event.pointerId); fromPointer(event); event.preventDefault(); });
            score.svg.addEventListener('pointermove', function (event) { if (dragging) { fromPointer(event); } });
            score.svg.addEventListener('pointerup', function () { dragging = false; });
            score.svg.addEventListener('pointercancel', function () { dragging = false; });
          });

          function set(score, value, fromDrag) {
            score.value = value;
            score.moved = true;
            if (!score.on) { score.on = true; score.toggle.checked = true; }
            if (fromDrag) { score.input.value = String(value); }
            focus = score.name;
            update();
          }

          combineSelect.value = combine;
          combineSelect.addEventListener('change', function () { combine = combineSelect.value; update(); });
          logToggle.addEventListener('change', function () { update(); });
          document.getElementById('x-reset').addEventListener('click', function () {
            scores.forEach(function (score) {
              var first = score.start || score.base;
              score.on = !!score.start; score.toggle.checked = score.on;
              score.dir = first ? first.dir : score.natural;
              score.value = first ? first.value : score.value; score.input.value = String(score.value);
              score.moved = false;
            });
            combine = data.startCombine; combineSelect.value = combine;
            update();
          });

          function drawHistogram(score) {
            var log = logToggle.checked, max = Math.max.apply(null, score.bins.concat([1]));
            var height = H - T - B, plot = W - L - R;
            score.maxLabel.textContent = number(max);
            score.bins.forEach(function (count, i) {
              var h = count === 0 ? 0 : Math.max(1.5, height * (log ? Math.log(1 + count) / Math.log(1 + max) : count / max));
              var bar = score.bars[i];
              bar.setAttribute('y', (T + height - h).toFixed(2));
              bar.setAttribute('height', h.toFixed(2));
              var from = score.low + i * (score.high - score.low) / BINS, to = score.low + (i + 1) * (score.high - score.low) / BINS;
              var side = !score.on ? 'none'
                : score.dir === '<' ? (to <= score.value ? 'removed' : from >= score.value ? 'kept' : 'mixed')
                : (from >= score.value ? 'removed' : to <= score.value ? 'kept' : 'mixed');
              bar.setAttribute('class', 'xb ' + side);
            });
            var position = Math.min(1, Math.max(0, (score.value - score.low) / (score.high - score.low)));
            var x = (L + position * plot).toFixed(2);
            score.line.setAttribute('x1', x); score.line.setAttribute('x2', x);
            score.handle.setAttribute('cx', x);
            score.line.classList.toggle('beyond', score.value < score.low || score.value > score.high);
            score.line.style.display = score.on ? '' : 'none';
            score.handle.style.display = score.on ? '' : 'none';
            score.card.classList.toggle('off', !score.on);
            var hits = 0;
            for (var i = 0; i < score.values.length; i++) { if (triggers(score, score.values[i])) { hits++; } }
            score.alone.textContent = 'this threshold alone: ' + number(hits) + ' (' + percent(hits, data.rows) + ')' +
              (score.missing ? '; ' + number(score.missing) + ' without a score' : '');
          }

          function tally() {
            var result = { kept: 0, removed: 0, sources: data.sources.map(function () { return [0, 0]; }), groups: (data.groups || []).map(function () { return [0, 0]; }) };
            var row = 0;
            function valueOf(name) { return byName[name].values[row]; }
            for (row = 0; row < data.rows; row++) {
              var out = removes(valueOf) ? 1 : 0;
              if (out) { result.removed++; } else { result.kept++; }
              result.sources[sourceOf[row]][out]++;
              if (groupOf) { result.groups[groupOf[row]][out]++; }
            }
            return result;
          }

          function table(id, heading, names, counts, totals) {
            var node = document.getElementById(id);
            if (!node) { return; }
            while (node.firstChild) { node.removeChild(node.firstChild); }
            var head = el('tr');
            [heading, 'rows', 'kept', 'removed', 'removed %'].forEach(function (title, i) { head.appendChild(el('th', i ? { 'class': 'num' } : {}, title)); });
            node.appendChild(head);
            names.forEach(function (name, i) {
              var kept = counts[i][0], removed = counts[i][1];
              var tr = el('tr', { 'data-name': name });
              var first = el('td'); first.appendChild(el('code', {}, name)); tr.appendChild(first);
              tr.appendChild(el('td', { 'class': 'num x-rows' }, number(kept + removed) + (totals && totals[i] !== kept + removed ? ' of ' + number(totals[i]) : '')));
              tr.appendChild(el('td', { 'class': 'num x-kept' }, number(kept)));
              tr.appendChild(el('td', { 'class': 'num x-removed' }, number(removed)));
              tr.appendChild(el('td', { 'class': 'num x-share' }, percent(removed, kept + removed)));
              node.appendChild(tr);
            });
          }

          function quote(argument) {
            return /^[A-Za-z0-9_.\/=:,+@-]+$/.test(argument) ? argument : "'" + argument.replace(/'/g, "'\\''") + "'";
          }
          function same(a, b) { return (!a && !b) || (!!a && !!b && a.dir === b.dir && a.value === b.value); }
          function command() {
            var folder = data.folder.replace(/\/+$/, '');
            var args = ['riverbed', 'filter', quote(folder), '-o', quote(folder + '-filtered')];
            scores.forEach(function (score) {
              var now = score.on ? { dir: score.dir, value: score.value } : null;
              if (data.baseKnown && same(now, score.base)) { return; }
              if (!now) { args.push('--threshold', score.name + '=off'); return; }
              var text = score.name + (score.dir === score.natural ? '=' : score.dir) + String(score.value);
              args.push('--threshold', quote(text));
            });
            if (!data.baseKnown || combine !== data.baseCombine) { args.push('--combine', combine); }
            return args.join(' ');
          }

          // Evidence flags follow a moved threshold: a fill is flagged when its position score crosses the
          // fill_compare_min threshold, an entity or sentence pair when its score crosses its threshold.
          var evidence = [].slice.call(document.querySelectorAll('article.example [data-score]'));
          evidence.forEach(function (node) { node.setAttribute('data-flag0', node.classList.contains('flagged') || (node.classList.contains('note') && !node.classList.contains('ok') && !node.classList.contains('quiet')) ? '1' : '0'); });
          function reflag() {
            evidence.forEach(function (node) {
              var kind = node.classList.contains('k-fill') || node.classList.contains('n-fill') ? 'fill'
                : node.classList.contains('k-entity') || node.classList.contains('n-entity') ? 'entity'
                : node.classList.contains('k-contradiction') || node.classList.contains('n-contra') ? 'contradiction' : null;
              if (!kind) { return; }
              var score = byName[EVIDENCE[kind]];
              var flagged = score.on && score.moved ? triggers(score, Number(node.getAttribute('data-score'))) : node.getAttribute('data-flag0') === '1';
              var quietClass = kind === 'fill' ? 'ok' : kind === 'contradiction' ? 'quiet' : null;
              if (node.tagName.toLowerCase() === 'mark') { node.classList.toggle('flagged', flagged); }
              if (quietClass) { node.classList.toggle(quietClass, !flagged); }
            });
          }

          function near() {
            var score = byName[focus];
            document.getElementById('x-near-score').textContent = focus;
            var box = document.getElementById('x-near');
            while (box.firstChild) { box.removeChild(box.firstChild); }
            var seen = {}, pool = [];
            [].slice.call(document.querySelectorAll('article.example')).forEach(function (article) {
              if (box.contains(article)) { return; }
              var key = article.getAttribute('data-file') + '\u001f' + article.getAttribute('data-row');
              var raw = article.getAttribute('data-v-' + focus);
              if (seen[key] || raw === null) { return; }
              seen[key] = true;
              pool.push({ article: article, value: Number(raw) });
            });
            var past = pool.filter(function (p) { return triggers(score, p.value); });
            var short = pool.filter(function (p) { return !triggers(score, p.value); });
            function distance(p) { return Math.abs(p.value - score.value); }
            past.sort(function (a, b) { return distance(a) - distance(b); });
            short.sort(function (a, b) { return distance(a) - distance(b); });
            [[short, 'short of the threshold (it does not trigger)', 'kept-side'], [past, 'past the threshold (it triggers)', 'removed-side']].forEach(function (side) {
              var column = el('div', { 'class': 'x-side ' + side[2] });
              column.appendChild(el('h4', {}, side[1] + ': nearest ' + Math.min(3, side[0].length) + ' of ' + side[0].length));
              side[0].slice(0, 3).forEach(function (p) {
                var article = p.article;
                var decision = removes(function (name) { var v = article.getAttribute('data-v-' + name); return v === null ? NaN : Number(v); });
                column.appendChild(el('p', { 'class': 'x-place' }, focus + ' = ' + p.value + ' \u00b7 with these thresholds: ' + (decision ? 'removed' : 'kept')));
                var copy = article.cloneNode(true);
                copy.removeAttribute('id');
                column.appendChild(copy);
              });
              box.appendChild(column);
            });
          }

          function update() {
            scores.forEach(drawHistogram);
            var counts = tally();
            var overall = document.getElementById('x-overall');
            while (overall.firstChild) { overall.removeChild(overall.firstChild); }
            [['x-total', number(data.rows), data.sampled ? 'rows in the sample (of ' + number(data.total) + ')' : 'rows', ''],
             ['x-kept', number(counts.kept), 'kept (' + percent(counts.kept, data.rows) + ')', ' keep'],
             ['x-removed', number(counts.removed), 'removed (' + percent(counts.removed, data.rows) + ')', ' remove']].forEach(function (card) {
              var node = el('div', { 'class': 'card' + card[3], id: card[0], 'data-count': card[1].replace(/,/g, '') });
              node.appendChild(el('div', { 'class': 'v' }, card[1]));
              node.appendChild(el('div', { 'class': 'k' }, card[2]));
              overall.appendChild(node);
            });
            table('x-sources', 'source', data.sources.map(function (s) { return s.name; }), counts.sources, data.sources.map(function (s) { return s.total; }));
            if (data.groups) { table('x-groups', data.groupColumn, data.groups, counts.groups, null); }
            document.getElementById('x-command').textContent = command();
            reflag();
            near();
          }

          document.getElementById('x-copy').addEventListener('click', function () {
            var text = document.getElementById('x-command').textContent;
            var said = document.getElementById('x-copied');
            function fallback() {
              var range = document.createRange();
              range.selectNodeContents(document.getElementById('x-command'));
              var selection = window.getSelection();
              selection.removeAllRanges(); selection.addRange(range);
              said.textContent = document.execCommand && document.execCommand('copy') ? ' copied' : ' selected: press Ctrl+C';
            }
            if (navigator.clipboard && navigator.clipboard.writeText) {
              navigator.clipboard.writeText(text).then(function () { said.textContent = ' copied'; }, fallback);
            } else { fallback(); }
          });
          update();
        })();
        """;
}
