/* quinesim report: draws the runs' data (the JSON in #qs-data, written by analysis/report.c)
 * with uPlot, and the phylogeny as SVG. When done it writes what it drew (points per
 * chart) and any error into #qs-status, which the tests read. */
(function () {
  'use strict';
  var status = { errors: window.qsErrors, charts: {}, runs: 0 };
  var PAL = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#8C6D31', '#000000'];
  var W = 560, H = 290;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }
  function num(v, d) {
    if (v == null || !isFinite(v)) return '–';
    if (Number.isInteger(v)) return v.toLocaleString('en');
    return Number(v).toPrecision(d || 4);
  }
  function rgba(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }
  function range(n) { var a = []; for (var i = 0; i < n; i++) a.push(i); return a; }
  function finiteCount(arrs) {
    var c = 0;
    arrs.forEach(function (a) { a.forEach(function (v) { if (v != null && isFinite(v)) c++; }); });
    return c;
  }
  function clean(a) { return a.map(function (v) { return v == null || !isFinite(v) ? null : v; }); }

  /* A uPlot chart in parent; key names it in the status. */
  function chart(parent, key, title, series, data, extra) {
    var box = el('div', { 'class': 'card', 'data-chart': key });
    parent.appendChild(box);
    var opts = Object.assign({
      title: title, width: W, height: H,
      scales: { x: { time: false } },
      series: [{ label: 'generation' }].concat(series),
      axes: [{ label: 'generation' }, { label: '' }],
      cursor: { drag: { x: true, y: false } },
      legend: { live: true }
    }, extra || {});
    var n = finiteCount(data.slice(1));
    status.charts[key] = n;
    new uPlot(opts, data.map(clean), box);
    return box;
  }
  function line(label, color, w, dash) {
    return { label: label, stroke: color, width: w || 2, dash: dash, points: { show: false } };
  }
  function edge(label, color) { /* a band's edge: drawn faintly, named in the legend */
    return { label: label, stroke: rgba(color, 0.35), width: 1, points: { show: false } };
  }
  function hasData(a) { return a && a.some(function (v) { return v != null && isFinite(v); }); }

  /* Median with 25-75% and 10-90% bands, plus more lines. */
  function bandChart(parent, key, title, gens, p, color, lines, yLabel, yRange) {
    var g = range(gens.population.length);
    var series = [edge('p10', color), edge('p90', color), edge('p25', color), edge('p75', color),
                  line('median', color, 2)];
    var data = [g, p[0], p[4], p[1], p[3], p[2]];
    lines.forEach(function (l) { series.push(line(l[0], l[1], 2, l[3])); data.push(l[2]); });
    return chart(parent, key, title, series, data, {
      bands: [{ series: [2, 1], fill: rgba(color, 0.12) }, { series: [4, 3], fill: rgba(color, 0.25) }],
      axes: [{ label: 'generation' }, { label: yLabel }],
      scales: { x: { time: false }, y: yRange ? { range: yRange } : {} }
    });
  }

  function r2Range(u, lo, hi) { return [Math.max(lo == null ? -1 : lo, -1) - 0.02, Math.min(hi == null ? 1 : hi, 1) + 0.02]; }

  function facts(parent, rows, cls) {
    var t = el('table', { 'class': 'facts' + (cls ? ' ' + cls : '') });
    rows.forEach(function (r) {
      var tr = el('tr');
      r.forEach(function (c, i) { tr.appendChild(el(i === 0 ? 'th' : 'td', null, c)); });
      t.appendChild(tr);
    });
    parent.appendChild(t);
    return t;
  }

  /* ---- phylogeny --------------------------------------------------------------------- */
  var RAMP = ['#440154', '#3b528b', '#21918c', '#5ec962', '#fde725'];
  function fidelityColor(v) {
    if (v == null || !isFinite(v)) return '#9aa0a6';
    var t = Math.max(0, Math.min(1, v)) * (RAMP.length - 1), i = Math.min(Math.floor(t), RAMP.length - 2);
    var a = parseInt(RAMP[i].slice(1), 16), b = parseInt(RAMP[i + 1].slice(1), 16), f = t - i;
    var c = [16, 8, 0].map(function (s) { return Math.round(((a >> s) & 255) * (1 - f) + ((b >> s) & 255) * f); });
    return 'rgb(' + c.join(',') + ')';
  }

  function drawTree(parent, run, key) {
    var T = run.report.tree, names = run.report.species_names;
    var box = el('div', { 'class': 'card' });
    parent.appendChild(box);
    box.appendChild(el('div', { 'class': 'chart-title' }, 'Phylogeny'));
    if (T.which === 'none') {
      box.appendChild(el('p', { 'class': 'note' }, 'Not drawn: the survivors\' ancestry has ' + T.organisms +
        ' organisms (at most 3,000 are drawn); use analyze --newick with a tree viewer.'));
      status.charts[key] = 0;
      return;
    }
    var n = T.id.length, kids = range(n).map(function () { return []; }), roots = [];
    for (var i = 0; i < n; i++) (T.parent[i] < 0 ? roots : kids[T.parent[i]]).push(i);
    /* One row per organism, in preorder (children in birth order below their parent). */
    var row = new Array(n), r = 0, stack = roots.slice().reverse();
    while (stack.length) {
      var v = stack.pop();
      row[v] = r++;
      for (var k = kids[v].length - 1; k >= 0; k--) stack.push(kids[v][k]);
    }
    var gmax = 0;
    for (i = 0; i < n; i++) gmax = Math.max(gmax, T.died[i] + 1);
    var NS = 'http://www.w3.org/2000/svg';
    var bar = el('div', { 'class': 'tree-bar' });
    var info = el('span');
    bar.appendChild(el('span', null, (T.which === 'whole' ? 'every organism' : 'the survivors\' ancestry') +
      ' (' + n + '), one row each: a line from its birth to its last generation, coloured by the replication R² of the copy that made it'));
    var ramp = el('span', { 'class': 'ramp' });
    ramp.style.background = 'linear-gradient(to right,' + RAMP.join(',') + ')';
    bar.appendChild(el('span', null, 'R² ≤ 0'));
    bar.appendChild(ramp);
    bar.appendChild(el('span', null, '1 · grey: founder · thick: alive at the end'));
    box.appendChild(bar);
    var wrap = el('div', { 'class': 'tree-wrap' });
    box.appendChild(wrap);
    var svg = document.createElementNS(NS, 'svg');
    svg.setAttribute('class', 'tree-svg');
    svg.setAttribute('preserveAspectRatio', 'none');
    wrap.appendChild(svg);
    var tip = el('div', { 'class': 'tip' });
    wrap.appendChild(tip);
    var g = document.createElementNS(NS, 'g');
    svg.appendChild(g);
    var paths = {};
    function add(color, wdt, d) {
      var k = color + '|' + wdt;
      (paths[k] = paths[k] || { c: color, w: wdt, d: [] }).d.push(d);
    }
    for (i = 0; i < n; i++) {
      var y = row[i] + 0.5, c = fidelityColor(T.link[i]), w = T.survivor[i] ? 3 : 1.4;
      add(c, w, 'M' + T.born[i] + ' ' + y + 'H' + (T.died[i] + 1));
      if (T.parent[i] >= 0) add('#b8bcc2', 0.8, 'M' + T.born[i] + ' ' + (row[T.parent[i]] + 0.5) + 'V' + y);
    }
    Object.keys(paths).sort(function (a, b) { return paths[a].c === '#b8bcc2' ? -1 : paths[b].c === '#b8bcc2' ? 1 : 0; })
      .forEach(function (k) {
        var p = document.createElementNS(NS, 'path');
        p.setAttribute('d', paths[k].d.join(''));
        p.setAttribute('stroke', paths[k].c);
        p.setAttribute('stroke-width', paths[k].w);
        p.setAttribute('fill', 'none');
        p.setAttribute('vector-effect', 'non-scaling-stroke');
        g.appendChild(p);
      });
    status.charts[key] = n;
    box.appendChild(info);
    info.className = 'note';
    var full = [-0.5, 0, gmax + 1, n], vb = full.slice();
    function show() {
      svg.setAttribute('viewBox', vb.join(' '));
      info.textContent = 'showing generations ' + Math.max(0, Math.floor(vb[0])) + '–' + Math.ceil(vb[0] + vb[2]) +
        ', rows ' + Math.max(0, Math.floor(vb[1])) + '–' + Math.min(n, Math.ceil(vb[1] + vb[3])) +
        ' · wheel: zoom · drag: pan · double-click: reset · hover a line for its organism';
    }
    show();
    function at(ev) {
      var b = svg.getBoundingClientRect();
      return [vb[0] + (ev.clientX - b.left) / b.width * vb[2], vb[1] + (ev.clientY - b.top) / b.height * vb[3]];
    }
    svg.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var p = at(ev), f = ev.deltaY < 0 ? 0.8 : 1.25;
      vb = [p[0] - (p[0] - vb[0]) * f, p[1] - (p[1] - vb[1]) * f, vb[2] * f, vb[3] * f];
      show();
    }, { passive: false });
    var drag = null;
    svg.addEventListener('mousedown', function (ev) { drag = [ev.clientX, ev.clientY, vb[0], vb[1]]; });
    window.addEventListener('mouseup', function () { drag = null; });
    svg.addEventListener('dblclick', function () { vb = full.slice(); show(); });
    var byRow = new Array(n);
    for (i = 0; i < n; i++) byRow[row[i]] = i;
    svg.addEventListener('mousemove', function (ev) {
      var b = svg.getBoundingClientRect();
      if (drag) {
        vb[0] = drag[2] - (ev.clientX - drag[0]) / b.width * vb[2];
        vb[1] = drag[3] - (ev.clientY - drag[1]) / b.height * vb[3];
        show();
        return;
      }
      var p = at(ev), rr = Math.floor(p[1]), o = byRow[rr];
      if (o == null || p[0] < T.born[o] - 0.5 || p[0] > T.died[o] + 1.5) { tip.style.display = 'none'; return; }
      tip.innerHTML = '';
      [['organism', T.id[o]], ['species', names[T.species[o]] || T.species[o]],
       ['parent', T.parent[o] >= 0 ? T.id[T.parent[o]] : 'none (founder)'],
       ['born', 'generation ' + T.born[o]], ['last alive', 'generation ' + T.died[o] + (T.survivor[o] ? ' (alive at the end)' : '')],
       ['lives', T.lives[o]], ['accuracy', num(T.acc[o])], ['self-prediction R²', num(T.r2[o])],
       ['replication R²', num(T.link[o])]].forEach(function (kv) {
        var d = el('div'); d.appendChild(el('b', null, kv[0] + ': ')); d.appendChild(document.createTextNode(kv[1])); tip.appendChild(d);
      });
      tip.style.display = 'block';
      tip.style.left = Math.min(ev.clientX - b.left + 14, b.width - 230) + 'px';
      tip.style.top = (ev.clientY - b.top + 14) + 'px';
    });
    svg.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  }

  /* ---- one run ----------------------------------------------------------------------- */
  function scatter(parent, run, key) {
    var S = run.report.scatter, names = run.report.species_names;
    var idx = range(S.link_r2.length).filter(function (i) { return S.link_r2[i] >= -1; });
    var off = S.link_r2.length - idx.length;
    idx.sort(function (a, b) { return S.link_r2[a] - S.link_r2[b]; });
    var xs = idx.map(function (i) { return S.link_r2[i]; }), data = [xs], series = [];
    names.forEach(function (nm, s) {
      if (!idx.some(function (i) { return S.species[i] === s; })) return;
      data.push(idx.map(function (i) { return S.species[i] === s ? S.accuracy[i] : null; }));
      series.push({ label: nm, stroke: PAL[s % PAL.length], paths: function () { return null; },
                    points: { show: true, size: 5, width: 1, fill: rgba(PAL[s % PAL.length], 0.55) } });
    });
    var title = 'Accuracy against replication fidelity (' + num(S.organisms) + ' organisms born by replication' +
      (S.every > 1 ? ', every ' + S.every + 'th' : '') + (off ? '; ' + off + ' with R² < -1 not shown' : '') + ')';
    chart(parent, key, title, series, data, {
      series: [{ label: 'replication R²' }].concat(series),
      axes: [{ label: 'replication R² (child before mutation vs parent)' }, { label: 'test accuracy' }],
      cursor: { drag: { x: true, y: true } }
    });
  }

  function runSection(main, run, ri) {
    var R = run.report, G = R.generations, gens = range(G.population.length), key = 'run' + ri + '.';
    var sec = el('section');
    main.appendChild(sec);
    sec.appendChild(el('h2', null, run.name + (run.seed != null && run.name === run.run ? ' (seed ' + run.seed + ')' : '')));
    var card = el('div', { 'class': 'card' });
    sec.appendChild(card);
    var best = run.best || {}, ph = run.phylogeny || {}, sv = ph.survivors || {}, wh = ph.whole || {};
    facts(card, [
      ['status', (run.complete ? run.end_reason : 'incomplete') + ' after ' + run.generations + ' generations' +
        (run.planned_generations ? ' (of ' + run.planned_generations + ')' : '')],
      ['selection on', run.fitness],
      ['organisms', num(run.organisms) + ': ' + num(run.founders) + ' founders, ' + num(run.births) + ' births; ' +
        num(run.alive_at_end) + ' alive at the end'],
      ['species', (run.species || []).map(function (s) { return s.name + ' (' + num(s.params) + ' params, ' + s.outcome + ')'; }).join(', ')],
      ['best organism', best.id != null ? best.id + ' (' + best.species + ', generation ' + best.generation + '): accuracy ' +
        num(best.accuracy) + ', self-prediction R² ' + num(best.r2) : '–'],
      ['survivors\' tree', sv.taxa ? 'PD ' + num(sv.phylogenetic_diversity) + ', mean pairwise distance ' + num(sv.mean_pairwise_distance) +
        ', Sackin ' + num(sv.sackin) + ', Colless ' + num(sv.colless) + ', MRCA ' + (sv.mrca != null ? sv.mrca + ' (depth ' + sv.mrca_depth + ')' : 'none') : '–'],
      ['whole tree', 'PD ' + num(wh.phylogenetic_diversity) + ', mean pairwise distance ' + num(wh.mean_pairwise_distance) +
        ', Sackin ' + num(wh.sackin) + ', Colless ' + num(wh.colless)],
      ['spent', num(run.flops, 3) + ' FLOPs, ' + num(run.wall_seconds, 3) + ' s wall time'],
      ['log', run.path]
    ]);
    var det = el('details');
    det.appendChild(el('summary', null, 'scenario'));
    det.appendChild(el('pre', { 'class': 'scenario' }, R.scenario || '(the log\'s header was lost)'));
    card.appendChild(det);
    var grid = el('div', { 'class': 'grid' });
    sec.appendChild(grid);
    var accQ = [G.accuracy_p10, G.accuracy_p25, G.accuracy_p50, G.accuracy_p75, G.accuracy_p90];
    if (hasData(G.accuracy_p50))
      bandChart(grid, key + 'accuracy', 'Test accuracy per generation (median, 25–75% and 10–90% of the population)', G, accQ,
        PAL[0], [['best', '#D55E00', G.best_accuracy], ['mean', '#555', G.mean_accuracy, [4, 3]]], 'accuracy');
    bandChart(grid, key + 'fidelity', 'Self-prediction R² per generation (median and bands), replication R² of the births',
      G, [G.r2_p10, G.r2_p25, G.r2_p50, G.r2_p75, G.r2_p90], PAL[2],
      [['mean replication R²', PAL[3], G.mean_link_r2]], 'R² (axis cut at -1)', r2Range);
    if (hasData(R.scatter.link_r2)) scatter(grid, run, key + 'scatter');
    chart(grid, key + 'species', 'Population by species', R.species_names.map(function (nm, s) {
      return line(nm, PAL[s % PAL.length], 2);
    }), [gens].concat(G.species), { axes: [{ label: 'generation' }, { label: 'organisms' }] });
    chart(grid, key + 'phylo', 'Tree of the living: phylogenetic diversity and mean pairwise distance',
      [line('PD (living)', PAL[0], 2), line('PD (whole tree so far)', PAL[4], 1.5, [4, 3]),
       Object.assign(line('mean pairwise distance', PAL[1], 2), { scale: 'mpd' })],
      [gens, G.phylogenetic_diversity, G.whole_phylogenetic_diversity, G.mean_pairwise_distance],
      { axes: [{ label: 'generation' }, { label: 'PD (generations)' },
               { scale: 'mpd', side: 1, label: 'MPD (generations)', grid: { show: false } }] });
    chart(grid, key + 'ltt', 'Lineages through time (survivors) and MRCA depth of the living',
      [line('lineages (survivors\' tree)', PAL[2], 2), Object.assign(line('MRCA depth', PAL[5], 2), { scale: 'd' })],
      [gens, G.ltt, G.mrca_depth],
      { axes: [{ label: 'generation' }, { label: 'lineages' },
               { scale: 'd', side: 1, label: 'MRCA depth (generations)', grid: { show: false } }] });
    drawTree(sec, run, key + 'tree');
  }

  /* ---- several runs ------------------------------------------------------------------ */
  function comparison(main, runs) {
    var sec = el('section');
    main.appendChild(sec);
    sec.appendChild(el('h2', null, 'Comparison of ' + runs.length + ' runs'));
    var card = el('div', { 'class': 'card' });
    sec.appendChild(card);
    var rows = [['run', 'generations', 'organisms', 'alive at end', 'best accuracy', 'PD (survivors)', 'MPD (survivors)',
                 'Sackin', 'Colless', 'MRCA depth']];
    runs.forEach(function (r) {
      var s = (r.phylogeny || {}).survivors || {};
      rows.push([r.name, num(r.generations), num(r.organisms), num(r.alive_at_end),
                 num((r.best || {}).accuracy), num(s.phylogenetic_diversity), num(s.mean_pairwise_distance),
                 num(s.sackin), num(s.colless), num(s.mrca_depth)]);
    });
    facts(card, rows, 'cmp');
    var grid = el('div', { 'class': 'grid' });
    sec.appendChild(grid);
    var ng = Math.max.apply(null, runs.map(function (r) { return r.report.generations.population.length; }));
    function compare(key, title, field, yLabel, yRange) {
      var series = [edge('mean − sd', '#333'), edge('mean + sd', '#333'), line('mean of runs', '#222', 2.5, [6, 3])];
      var mean = [], lo = [], hi = [];
      for (var g = 0; g < ng; g++) {
        var v = runs.map(function (r) { return r.report.generations[field][g]; })
          .filter(function (x) { return x != null && isFinite(x); });
        var m = v.reduce(function (a, b) { return a + b; }, 0) / v.length;
        var sd = v.length > 1 ? Math.sqrt(v.reduce(function (a, b) { return a + (b - m) * (b - m); }, 0) / (v.length - 1)) : 0;
        mean.push(v.length ? m : null); lo.push(v.length ? m - sd : null); hi.push(v.length ? m + sd : null);
      }
      var data = [range(ng), lo, hi, mean];
      runs.forEach(function (r, i) {
        series.push(line(r.name, PAL[i % PAL.length], 1.5));
        var a = r.report.generations[field].slice();
        while (a.length < ng) a.push(null);
        data.push(a);
      });
      chart(grid, key, title, series, data, {
        bands: [{ series: [2, 1], fill: 'rgba(0,0,0,0.09)' }],
        axes: [{ label: 'generation' }, { label: yLabel }],
        scales: { x: { time: false }, y: yRange ? { range: yRange } : {} }
      });
    }
    if (runs.some(function (r) { return hasData(r.report.generations.accuracy_p50); }))
      compare('compare.accuracy', 'Median test accuracy per generation: each run, and the runs\' mean ± sd', 'accuracy_p50', 'accuracy');
    compare('compare.fidelity', 'Mean replication R² of the births: each run, and mean ± sd', 'mean_link_r2', 'R² (axis cut at -1)', r2Range);
    compare('compare.phylo', 'Phylogenetic diversity of the living: each run, and mean ± sd', 'phylogenetic_diversity', 'PD (generations)');
  }

  try {
    var runs = JSON.parse(document.getElementById('qs-data').textContent);
    status.runs = runs.length;
    /* Runs of one scenario share a name: tell them apart by seed (else by position). */
    runs.forEach(function (r, i) {
      var same = runs.filter(function (q) { return q.run === r.run; }).length > 1;
      r.name = !same ? r.run : r.run + (r.seed != null ? ' seed ' + r.seed : ' #' + (i + 1));
    });
    var main = el('main');
    document.body.appendChild(main);
    main.appendChild(el('h1', null, 'quinesim report: ' + runs.map(function (r) { return r.name; }).join(', ')));
    main.appendChild(el('p', { 'class': 'sub' }, 'From the lineage log' + (runs.length > 1 ? 's' : '') +
      ' by quinesim analyze --html. Drag across a chart to zoom (double-click resets); the legend shows the values under the cursor.'));
    if (runs.length > 1) comparison(main, runs);
    runs.forEach(function (r, i) { runSection(main, r, i); });
  } catch (e) {
    window.qsErrors.push(String(e && e.stack || e));
  }
  var st = document.getElementById('qs-status');
  st.textContent = JSON.stringify(status);
  document.title = 'quinesim report: ' + status.runs + ' run' + (status.runs === 1 ? '' : 's');
})();
