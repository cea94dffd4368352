import { htmlEscape as h } from './format.js';
import { EXPLORER_DATA_DIR } from './explorer-data.js';
import { THUMBS_DIR } from './thumbnails.js';

/** The explorer's styles (added to report.html's style sheet). */
export const EXPLORER_STYLE = `
#explorer .controls{display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center;margin:.6em 0}
#explorer .pager{display:flex;gap:.5em;align-items:center;margin:.5em 0}
#explorer table{width:100%}#explorer td.opts{max-width:28em}
#explorer .thumb{width:96px;height:96px;object-fit:contain;border:1px solid #ddd;background:#fafafa}
a.cell{cursor:pointer}
`;

/**
 * The explorer's vanilla script (no framework, no network): reads window.PERCEIVE_EXPLORER
 * (report-data/index.js, loaded by a script tag before it), filters by benchmark, arm pair and 2x2
 * cell, sorts, paginates, and puts only the visible page's rows in the DOM; the selected pair's
 * columns (report-data/arm-<a>.js) and the rows' details (report-data/items-<k>.js) are loaded on
 * demand by script tags; thumbnails are <img loading="lazy">
 * from thumbs/. It sets #explorer's data-state to "ready" and window.PERCEIVE_EXPLORER_FIRST_PAGE_MS
 * (performance.now() at the first page's render) once the first page is shown, and counts finished
 * renders in data-renders (tests wait on it).
 */
const SCRIPT = `
(function () {
  'use strict';
  var root = document.getElementById('explorer');
  var D = window.PERCEIVE_EXPLORER;
  var $ = function (id) { return document.getElementById(id); };
  if (!D) {
    $('ex-status').textContent = 'The explorer data (DATA_DIR/index.js) was not found beside report.html: copy the report with its DATA_DIR/ and THUMBS_DIR/ folders.';
    root.dataset.state = 'no-data';
    return;
  }
  var N = D.n, CH = D.chunk;
  var CELLS = [['all', 'all'], ['both', 'both right'], ['arm', 'only arm right'], ['baseline', 'only baseline right'], ['neither', 'neither'], ['excluded', 'excluded (failed or missing)']];
  var state = { bench: -1, pair: 0, cell: 'all', sort: 'id', size: 50, page: 0 };
  var view = new Uint32Array(0);
  var loaded = {}, waiting = {};
  var renderToken = 0, filterToken = 0, renders = 0;
  var EMPTY = { outcome: '', prediction: '', margin: new Float32Array(0) };
  function arrived(name, data) {
    loaded[name] = data;
    var w = waiting[name];
    delete waiting[name];
    if (w) w.forEach(function (f) { f(); });
  }
  window.PERCEIVE_EXPLORER_CHUNK = function (k, data) { arrived('items-' + k, data); };
  window.PERCEIVE_EXPLORER_ARM = function (a, d) {
    var bin = atob(d.margin), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    arrived('arm-' + a, { outcome: d.outcome, prediction: d.prediction, margin: new Float32Array(bytes.buffer) });
  };
  /** Loads DATA_DIR/<name>.js by a script tag (once); resolves when its data has arrived, or it failed (then marked missing). */
  function load(name) {
    if (loaded[name]) return Promise.resolve();
    return new Promise(function (resolve) {
      if (waiting[name]) { waiting[name].push(resolve); return; }
      waiting[name] = [resolve];
      var s = document.createElement('script');
      s.src = 'DATA_DIR/' + name + '.js';
      s.onerror = function () { arrived(name, { missing: true }); };
      document.head.appendChild(s);
    });
  }
  function arm(a) {
    var d = loaded['arm-' + a];
    return d && !d.missing ? d : EMPTY;
  }
  function cellOf(i, a, b) {
    var x = a.outcome.charCodeAt(i), y = b.outcome.charCodeAt(i);
    var R = 114, W = 119;
    if ((x !== R && x !== W) || (y !== R && y !== W)) return 'excluded';
    if (x === R) return y === R ? 'both' : 'arm';
    return y === R ? 'baseline' : 'neither';
  }
  function option(sel, value, text) {
    var o = document.createElement('option');
    o.value = String(value);
    o.textContent = text;
    sel.appendChild(o);
    return o;
  }
  function fmt(n) { return n.toLocaleString('en'); }
  function setup() {
    var bs = $('ex-bench');
    option(bs, -1, 'all benchmarks (' + fmt(N) + ' items)');
    D.benchmarks.forEach(function (b, k) { option(bs, k, b[0] + ' (' + fmt(b[2] - b[1]) + ' items)'); });
    var ps = $('ex-pair');
    D.pairs.forEach(function (p, k) { option(ps, k, D.arms[p[0]] + ' vs ' + D.arms[p[1]]); });
    var cs = $('ex-cell');
    CELLS.forEach(function (c) { option(cs, c[0], c[1]); });
    bs.onchange = function () { state.bench = Number(bs.value); state.page = 0; refilter(); };
    ps.onchange = function () { state.pair = Number(ps.value); state.page = 0; refilter(); };
    cs.onchange = function () { state.cell = cs.value; state.page = 0; refilter(); };
    $('ex-sort').onchange = function () { state.sort = $('ex-sort').value; state.page = 0; refilter(); };
    $('ex-size').onchange = function () { state.size = Number($('ex-size').value); state.page = 0; render(); };
    $('ex-first').onclick = function () { go(0); };
    $('ex-prev').onclick = function () { go(state.page - 1); };
    $('ex-next').onclick = function () { go(state.page + 1); };
    $('ex-last').onclick = function () { go(Infinity); };
    document.querySelectorAll('a.cell').forEach(function (el) {
      el.onclick = function (ev) {
        ev.preventDefault();
        var name = el.getAttribute('data-bench'), k = -1;
        D.benchmarks.forEach(function (b, j) { if (b[0] === name) k = j; });
        var pk = 0;
        D.pairs.forEach(function (p, j) { if (D.arms[p[0]] === el.getAttribute('data-arm') && D.arms[p[1]] === el.getAttribute('data-baseline')) pk = j; });
        select({ bench: k, pair: pk, cell: el.getAttribute('data-cell') });
        root.scrollIntoView();
      };
    });
  }
  function select(s) {
    if (s.bench !== undefined) { state.bench = s.bench; $('ex-bench').value = String(s.bench); }
    if (s.pair !== undefined) { state.pair = s.pair; $('ex-pair').value = String(s.pair); }
    if (s.cell !== undefined) { state.cell = s.cell; $('ex-cell').value = s.cell; }
    if (s.sort !== undefined) { state.sort = s.sort; $('ex-sort').value = s.sort; }
    if (s.size !== undefined) { state.size = s.size; $('ex-size').value = String(s.size); }
    state.page = s.page || 0;
    refilter();
  }
  function go(p) {
    var pages = Math.max(1, Math.ceil(view.length / state.size));
    state.page = Math.max(0, Math.min(pages - 1, p));
    render();
  }
  function refilter() {
    var token = ++filterToken, pair = D.pairs[state.pair];
    var need = pair ? [load('arm-' + pair[0]), load('arm-' + pair[1])] : [];
    Promise.all(need).then(function () { if (token === filterToken) filterNow(); });
  }
  function filterNow() {
    var lo = 0, hi = N;
    if (state.bench >= 0) { lo = D.benchmarks[state.bench][1]; hi = D.benchmarks[state.bench][2]; }
    var pair = D.pairs[state.pair], a = arm(pair ? pair[0] : -1), b = arm(pair ? pair[1] : -1);
    var counts = { all: 0, both: 0, arm: 0, baseline: 0, neither: 0, excluded: 0 };
    var out = new Uint32Array(hi - lo), m = 0;
    for (var i = lo; i < hi; i++) {
      var c = cellOf(i, a, b);
      counts[c]++;
      counts.all++;
      if (state.cell === 'all' || state.cell === c) out[m++] = i;
    }
    view = out.subarray(0, m);
    var cs = $('ex-cell');
    CELLS.forEach(function (c, k) { cs.options[k].textContent = c[1] + ' (' + fmt(counts[c[0]]) + ')'; });
    var sort = state.sort;
    if (sort !== 'id') {
      var mg = (sort.indexOf('base') === 0 ? b : a).margin, dir = sort.slice(-4) === 'desc' ? -1 : 1;
      view = Uint32Array.from(view).sort(function (x, y) {
        var p = mg[x], q = mg[y];
        var pn = p === undefined || p !== p, qn = q === undefined || q !== q;
        if (pn) return qn ? x - y : 1;
        if (qn) return -1;
        return p === q ? x - y : (p - q) * dir;
      });
    }
    render();
  }
  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]; }); }
  function benchOf(i) {
    for (var k = 0; k < D.benchmarks.length; k++) if (i < D.benchmarks[k][2]) return D.benchmarks[k][0];
    return '';
  }
  function marginText(v) { return v === undefined || v !== v ? '' : 'margin ' + (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(3) : v.toExponential(2)); }
  function armCell(i, k, row, local, opts) {
    var d = arm(k), o = d.outcome.charAt(i);
    if (o === '.' || o === '') return '<span class="muted">no sample</span>';
    if (o === 'f') {
      var e = row && local.errors && local.errors[local.j] && local.errors[local.j][k];
      return '<span class="bad">failed' + (e ? ': ' + esc(e) : '') + '</span>';
    }
    var p = d.prediction.charAt(i), picked = p === '' || p === '.' || p === '?' ? '' : opts[parseInt(p, 36)];
    return '<span class="' + (o === 'r' ? 'ok">&#10003;' : 'bad">&#10007;') + '</span> ' + esc(picked === undefined ? '' : picked) +
      '<br><span class="muted">' + marginText(d.margin[i]) + '</span>';
  }
  function rowHtml(i, n) {
    var ch = loaded['items-' + Math.floor(i / CH)], j = i % CH;
    var pair = D.pairs[state.pair];
    if (!ch || ch.missing) return '<tr><td class="num">' + n + '</td><td colspan="5" class="bad">item details missing (DATA_DIR/items-' + Math.floor(i / CH) + '.js)</td></tr>';
    var r = ch.rows[j], bench = benchOf(i);
    var id = r[0].charAt(0) === '=' ? r[0].slice(1) : bench + '/' + r[0];
    var imgs = r[1].map(function (t) {
      return t.charAt(0) === '!' ? '<span class="muted">' + esc(t.slice(1)) + ' (unreadable)</span>' : '<img class="thumb" loading="lazy" alt="" src="THUMBS_DIR/' + t + '.jpg">';
    }).join(' ');
    var opts = r[2].map(function (k) { return ch.s[k]; });
    var optHtml = opts.map(function (o, k) { return k === r[3] ? '<b>' + esc(o) + '</b>' : esc(o); }).join('<br>');
    var local = { errors: ch.errors, j: j };
    return '<tr data-item="' + esc(id) + '"><td class="num">' + n + '</td><td>' + esc(id) + '</td><td>' + imgs + '</td><td class="opts">' + optHtml + '</td><td>' +
      (pair ? armCell(i, pair[0], r, local, opts) : '') + '</td><td>' + (pair ? armCell(i, pair[1], r, local, opts) : '') + '</td></tr>';
  }
  function render() {
    var token = ++renderToken;
    var pages = Math.max(1, Math.ceil(view.length / state.size));
    if (state.page >= pages) state.page = pages - 1;
    var from = state.page * state.size, to = Math.min(view.length, from + state.size);
    var need = {};
    for (var k = from; k < to; k++) need[Math.floor(view[k] / CH)] = true;
    $('ex-status').textContent = 'loading...';
    Promise.all(Object.keys(need).map(function (c) { return load('items-' + c); })).then(function () {
      if (token !== renderToken) return;
      var pair = D.pairs[state.pair];
      $('ex-head').innerHTML = '<tr><th>#</th><th>item</th><th>images</th><th>options (correct in bold)</th><th>' + (pair ? esc(D.arms[pair[0]]) : 'arm') + '</th><th>' + (pair ? esc(D.arms[pair[1]]) : 'baseline') + '</th></tr>';
      var html = [];
      for (var k = from; k < to; k++) html.push(rowHtml(view[k], k + 1));
      $('ex-rows').innerHTML = html.join('');
      var status = view.length === 0 ? '0 items' : 'items ' + fmt(from + 1) + '\\u2013' + fmt(to) + ' of ' + fmt(view.length);
      $('ex-status').textContent = status;
      $('ex-status').setAttribute('data-count', String(view.length));
      $('ex-page').textContent = 'page ' + fmt(state.page + 1) + ' of ' + fmt(pages);
      $('ex-prev').disabled = $('ex-first').disabled = state.page === 0;
      $('ex-next').disabled = $('ex-last').disabled = state.page >= pages - 1;
      if (root.dataset.state !== 'ready') {
        window.PERCEIVE_EXPLORER_FIRST_PAGE_MS = performance.now();
        root.dataset.state = 'ready';
      }
      root.dataset.page = String(state.page);
      root.dataset.renders = String(++renders);
    });
  }
  setup();
  window.PERCEIVE_EXPLORER_SELECT = select;
  refilter();
})();
`
  .replaceAll('DATA_DIR', EXPLORER_DATA_DIR)
  .replaceAll('THUMBS_DIR', THUMBS_DIR);

/** The explorer's section of report.html: its controls, an empty table, the data file's script tag and the script. */
export function explorerSection(items: number): string {
  return [
    '<h2 id="explorer-title">Per-item explorer</h2>',
    `<p>Every item (${h(items.toLocaleString('en'))}), an arm against its baseline: filter by benchmark, arm pair and cell of the 2x2, sort, and page through; the counts above link here. The margin is the first image's score of the correct option minus the best other option's. Data in <code>${EXPLORER_DATA_DIR}/</code>, thumbnails in <code>${THUMBS_DIR}/</code> beside this file.</p>`,
    '<div id="explorer" data-state="loading">',
    '<div class="controls">',
    '<label>benchmark <select id="ex-bench"></select></label>',
    '<label>arm pair <select id="ex-pair"></select></label>',
    '<label>cell <select id="ex-cell"></select></label>',
    '<label>sort <select id="ex-sort"><option value="id">item id</option><option value="arm-asc">arm margin, lowest first</option><option value="arm-desc">arm margin, highest first</option><option value="base-asc">baseline margin, lowest first</option><option value="base-desc">baseline margin, highest first</option></select></label>',
    '<label>rows <select id="ex-size"><option>25</option><option selected>50</option><option>100</option><option>200</option></select></label>',
    '</div>',
    '<div class="pager"><button id="ex-first">first</button><button id="ex-prev">previous</button><span id="ex-page"></span><button id="ex-next">next</button><button id="ex-last">last</button><span id="ex-status" class="muted">loading...</span></div>',
    '<table><thead id="ex-head"></thead><tbody id="ex-rows"></tbody></table>',
    '</div>',
    `<script src="${EXPLORER_DATA_DIR}/index.js"></script>`,
    `<script>${SCRIPT}</script>`,
  ].join('\n');
}
