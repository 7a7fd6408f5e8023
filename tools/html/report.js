/* report.js - draws snapalloc's HTML report from the JSON embedded in the
 * page (#sa-data, written by tools/out_html.c or, for a leak check, by
 * tools/leak_report.c): no library, no network.  Three kinds of page:
 *   snapshots  one snapshot (show) or every snapshot of a process (report):
 *              memory over time with a marker per snapshot, and for the
 *              chosen one its flame graph, top-groups tables, histogram;
 *   diff       a differential flame graph and the top changes;
 *   leak       check's lost blocks by kind and call site, with stacks.
 * Everything is drawn into the DOM (not a canvas), so a headless browser's
 * DOM dump shows what a reader sees.
 */
(function () {
  'use strict';
  var started = performance.now();
  var D = JSON.parse(document.getElementById('sa-data').textContent);
  var app = document.getElementById('app');
  var tip = document.getElementById('tip');

  /* ---- helpers ---------------------------------------------------- */

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'cls') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) {
      if (c !== null && c !== undefined)
        e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    return e;
  }
  /* tracemalloc's sizes: 512 B, 40.0 KiB, 1024 KiB ... */
  function human(n, sign) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'], a = Math.abs(n), i = 0;
    var s = sign && n > 0 ? '+' : n < 0 ? '-' : '';
    while (a >= 10240 && i < units.length - 1) { a /= 1024; i++; }
    if (i === 0 && a >= 1024) { a /= 1024; i = 1; }
    return s + (i === 0 ? String(a) : a.toFixed(a < 10 ? 1 : 0)) + ' ' + units[i];
  }
  function exact(n, sign) {
    return (sign && n > 0 ? '+' : '') + Number(n).toLocaleString('en-US');
  }
  function pct(part, whole) {
    return whole ? (100 * part / whole).toFixed(part / whole < 0.001 ? 3 : 2) + '%' : '-';
  }
  function base(path) {
    return path ? String(path).replace(/.*\//, '') : '';
  }
  function when(ms) {
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  }
  /* a duration in ms, in the unit that shows it */
  function span(ms) {
    return ms === 0 ? '0 s' : ms < 1 ? (ms * 1000).toFixed(0) + ' \u00b5s' : ms < 1000 ? ms.toFixed(ms < 10 ? 2 : 0) + ' ms'
         : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + ' s';
  }
  function hue(s) {
    var h = 0;
    for (var i = 0; i < (s || '').length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
    return h % 360;
  }
  function showTip(ev, text) {
    tip.textContent = text;
    tip.hidden = false;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 8;
    if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 8;
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.hidden = true; }
  function card(label, value, title) {
    return el('div', {cls: 'card', title: title || ''}, [el('span', {cls: 'muted', text: label}),
                                                         el('b', {text: value})]);
  }

  /* ---- the flame graph -------------------------------------------- */

  /* The tree of a "flame" object: nodes in preorder, [parent, frame,
   * size, count(, new size, new count)]; frame -1 sums the smaller
   * callees left out of the file. */
  function buildTree(flame, diff) {
    var nodes = [];
    flame.nodes.forEach(function (r, i) {
      var n = {i: i, frame: r[1] < 0 ? null : flame.frames[r[1]], rest: r[0] >= 0 && r[1] < 0,
               size: diff ? r[4] : r[2], count: diff ? r[5] : r[3],
               old: diff ? r[2] : 0, oldCount: diff ? r[3] : 0, kids: [], parent: null, depth: 0};
      n.w = diff ? Math.max(n.size, n.old) : n.size;
      if (r[0] >= 0) {
        n.parent = nodes[r[0]];
        n.depth = n.parent.depth + 1;
        n.parent.kids.push(n);
      }
      nodes.push(n);
    });
    nodes.forEach(function (n) {
      n.kids.sort(function (a, b) { return (a.rest - b.rest) || (b.w - a.w) || (a.i - b.i); });
    });
    return {root: nodes[0], nodes: nodes, by: flame.by};
  }
  function frameName(n) {
    if (!n.parent) return 'all';
    if (n.rest) return '(smaller frames)';
    var f = n.frame, name = f[0] || (f[1] ? base(f[1]) : f[3]) || '??';
    return f[2] ? name + ' (' + base(f[1]) + ':' + f[2] + ')' : name;
  }
  function frameWhere(n) {
    if (!n.frame) return '';
    var f = n.frame, w = [];
    if (f[1] && f[1] !== '??') w.push(f[2] ? f[1] + ':' + f[2] : f[1]);
    if (f[3]) w.push(f[3]);
    return w.join('  ');
  }
  function frameText(n) {
    return n.frame ? [n.frame[0], n.frame[1], n.frame[3]].join('\u0001').toLowerCase() : '';
  }

  function Flame(host, tree, diff, total) {
    this.host = host;
    this.tree = tree;
    this.diff = diff;
    this.total = total;
    this.focus = tree.root;
    this.flameUp = false;
    this.query = '';
  }
  Flame.prototype.layout = function () {
    var W = Math.max(this.host.clientWidth - 2, 300), rows = [], minW = 0.6, chain = [];
    for (var n = this.focus; n; n = n.parent) chain.unshift(n);
    chain.forEach(function (c, d) { rows.push({n: c, x: 0, w: W, d: d, anc: c !== chain[chain.length - 1]}); });
    (function walk(p, x, w, d) {
      var cx = x;
      p.kids.forEach(function (c) {
        var cw = p.w ? w * c.w / p.w : 0;
        if (cw >= minW) {
          rows.push({n: c, x: cx, w: cw, d: d + 1});
          walk(c, cx, cw, d + 1);
        }
        cx += cw;
      });
    })(this.focus, 0, W, chain.length - 1);
    return rows;
  };
  Flame.prototype.colour = function (n) {
    if (!this.diff) return 'hsl(' + hue(n.frame && n.frame[3]) + ',62%,' + (70 + (n.depth % 3) * 4) + '%)';
    var d = n.size - n.old, r = n.w ? Math.abs(d) / n.w : 0;
    if (!d) return 'hsl(220,8%,86%)';
    var light = 88 - Math.round(38 * Math.min(1, 0.25 + r));
    return d > 0 ? 'hsl(3,75%,' + light + '%)' : 'hsl(214,75%,' + light + '%)';
  };
  Flame.prototype.tipText = function (n) {
    var lines = [frameName(n)], where = frameWhere(n);
    if (where) lines.push(where);
    if (this.diff) {
      lines.push('new: ' + exact(n.size) + ' B (' + human(n.size) + ') in ' + exact(n.count) + ' blocks');
      lines.push('old: ' + exact(n.old) + ' B in ' + exact(n.oldCount) + ' blocks');
      lines.push('change: ' + exact(n.size - n.old, 1) + ' B (' + human(n.size - n.old, 1) + '), ' +
                 exact(n.count - n.oldCount, 1) + ' blocks');
    } else {
      lines.push(exact(n.size) + ' B (' + human(n.size) + ') in ' + exact(n.count) + ' blocks');
      lines.push(pct(n.size, this.total) + ' of all live memory' +
                 (this.focus !== this.tree.root ? ', ' + pct(n.size, this.focus.w) + ' of the zoomed frame' : ''));
    }
    if (n.rest) lines.push('callees too small to draw, summed');
    return lines.join('\n');
  };
  Flame.prototype.matches = function (n) {
    var q = this.query;
    if (!q || !n.frame) return false;
    if (q instanceof RegExp) return q.test(n.frame[0] || '') || q.test(n.frame[1] || '') || q.test(n.frame[3] || '');
    return frameText(n).indexOf(q) >= 0;
  };
  Flame.prototype.draw = function () {
    var self = this, rows = this.layout(), H = 18, maxD = 0;
    rows.forEach(function (r) { maxD = Math.max(maxD, r.d); });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) {
      var n = r.n, hit = self.matches(n);
      var d = el('div', {cls: 'fr' + (n.rest ? ' rest' : '') + (!n.parent ? ' root' : '') +
                              (r.anc ? ' anc' : '') + (hit ? ' hit' : self.query ? ' dim' : ''),
                         'data-i': n.i, 'data-size': n.size, 'data-count': n.count,
                         text: r.w > 28 ? frameName(n) : ''});
      d.style.left = r.x + 'px';
      d.style.width = Math.max(r.w, 1) + 'px';
      d.style.top = (self.flameUp ? (maxD - r.d) * H : r.d * H) + 'px';
      d.style.background = self.colour(n);
      frag.appendChild(d);
    });
    this.host.textContent = '';
    this.host.style.height = (maxD + 1) * H + 2 + 'px';
    this.host.appendChild(frag);
    this.host.setAttribute('data-frames-drawn', rows.length);
    this.host.setAttribute('data-total', this.tree.root.size);
    this.host.onmousemove = function (ev) {
      var t = ev.target.closest('.fr');
      if (t) showTip(ev, self.tipText(self.tree.nodes[+t.getAttribute('data-i')])); else hideTip();
    };
    this.host.onmouseleave = hideTip;
    this.host.onclick = function (ev) {
      var t = ev.target.closest('.fr');
      if (!t) return;
      var n = self.tree.nodes[+t.getAttribute('data-i')];
      self.focus = n.rest ? n.parent : n;
      self.draw();
    };
  };
  /* The search: frames matching q (text, or /regex/) highlighted; their
   * total counts each byte once (a match inside a match is not added). */
  Flame.prototype.search = function (q) {
    var m = /^\/(.+)\/([i]*)$/.exec(q);
    try { this.query = !q ? '' : m ? new RegExp(m[1], m[2]) : q.toLowerCase(); } catch (e) { this.query = q.toLowerCase(); }
    var self = this, size = 0, count = 0, old = 0, frames = 0;
    (function walk(n, inside) {
      var hit = !inside && self.matches(n);
      if (self.matches(n)) frames++;
      if (hit) { size += n.size; count += n.count; old += n.old; }
      n.kids.forEach(function (c) { walk(c, inside || hit); });
    })(this.tree.root, false);
    this.draw();
    return {size: size, count: count, old: old, frames: frames};
  };

  function flameSection(tree, diff, total, title) {
    var host = el('div', {id: 'flame'});
    var f = new Flame(host, tree, diff, total);
    var result = el('span', {id: 'search-result', cls: 'muted'});
    var input = el('input', {type: 'search', id: 'search', placeholder: 'search frames (text or /regex/)',
                             'aria-label': 'search frames'});
    function runSearch() {
      var q = input.value.trim(), r = f.search(q);
      result.setAttribute('data-query', q);
      result.setAttribute('data-bytes', q ? r.size : '');
      result.setAttribute('data-count', q ? r.count : '');
      if (!q) result.textContent = '';
      else if (diff)
        result.textContent = 'matched ' + r.frames + ' frames: ' + exact(r.size) + ' B in ' + exact(r.count) +
          ' blocks (' + exact(r.size - r.old, 1) + ' B)';
      else
        result.textContent = 'matched ' + r.frames + ' frames: ' + exact(r.size) + ' B in ' + exact(r.count) +
          ' blocks (' + human(r.size) + ', ' + pct(r.size, total) + ')';
    }
    input.addEventListener('input', runSearch);
    var icicle = el('button', {cls: 'on', text: 'icicle', title: 'callers on top'});
    var flameBtn = el('button', {text: 'flame', title: 'callers at the bottom'});
    function orient(up) {
      f.flameUp = up;
      icicle.className = up ? '' : 'on';
      flameBtn.className = up ? 'on' : '';
      f.draw();
    }
    icicle.onclick = function () { orient(false); };
    flameBtn.onclick = function () { orient(true); };
    var reset = el('button', {id: 'reset-zoom', text: 'reset zoom', onclick: function () { f.focus = tree.root; f.draw(); }});
    var sec = el('section', {id: 'flame-section'}, [
      el('h2', {text: title}),
      el('div', {cls: 'toolbar'}, [input, result, el('span', {style: 'flex:1'}), icicle, flameBtn, reset]),
      host,
      el('div', {cls: 'muted', id: 'flame-note'})]);
    window.onresize = function () { f.draw(); };
    /* drawn once in the document (the width is the page's) */
    return {section: sec, flame: f, note: sec.querySelector('#flame-note'), start: runSearch};
  }

  /* ---- tables of the top groups ------------------------------------- */

  function siteCells(st, by) {
    var s = st.site, name, where = [];
    if (by === 'line' || by === 'function') name = s.function;
    else if (by === 'file') name = s.file && s.file !== '??' ? s.file : s.module;
    else name = s.module;
    if (by === 'line' && s.file) where.push(s.file + ':' + s.line);
    if (by !== 'module' && s.module && name !== s.module) where.push(s.module + (s.module_unloaded ? ' (unloaded)' : ''));
    return el('td', {cls: 'site'}, [el('div', {text: name || '??'}), el('div', {cls: 'where', text: where.join('  ')})]);
  }
  function siteKey(st, by) {
    var s = st.site;
    return [s.function, s.file, s.line, s.module].join(' ');
  }

  function tableSection(tables, diff, title) {
    var bys = ['line', 'function', 'file', 'module'], cur = 'line', sortCol = null, asc = false;
    var host = el('div', {id: 'table-host'});
    var tabs = el('div', {cls: 'toolbar'}, [el('span', {cls: 'muted', text: 'group by'})]);
    var buttons = {};
    bys.forEach(function (b) {
      buttons[b] = el('button', {text: b, 'data-by': b, onclick: function () { cur = b; sortCol = null; draw(); }});
      tabs.appendChild(buttons[b]);
    });
    var cols = diff ? [
      {name: 'Size', key: function (s) { return s.size; }, cell: function (s) { return human(s.size); }},
      {name: 'Change (bytes)', key: function (s) { return s.size_diff; },
       cell: function (s) { return exact(s.size_diff, 1); }, cls: function (s) { return s.size_diff > 0 ? 'grew' : s.size_diff < 0 ? 'shrank' : ''; }},
      {name: 'Blocks', key: function (s) { return s.count; }, cell: function (s) { return exact(s.count); }},
      {name: 'Change (blocks)', key: function (s) { return s.count_diff; }, cell: function (s) { return exact(s.count_diff, 1); }}
    ] : [
      {name: 'Size', key: function (s) { return s.size; }, cell: function (s) { return human(s.size); }},
      {name: 'Bytes', key: function (s) { return s.size; }, cell: function (s) { return exact(s.size); }},
      {name: 'Blocks', key: function (s) { return s.count; }, cell: function (s) { return exact(s.count); }},
      {name: 'Average', key: function (s) { return s.count ? s.size / s.count : 0; },
       cell: function (s) { return s.count ? human(Math.round(s.size / s.count)) : '-'; }},
      {name: 'Share', key: function (s) { return s.size; }, cell: function (s, t) { return pct(s.size, t.total_size); }}
    ];
    function draw() {
      var t = tables[cur], stats = t.stats.slice();
      bys.forEach(function (b) { buttons[b].className = b === cur ? 'on' : ''; });
      if (sortCol !== null) {
        var k = cols[sortCol] ? cols[sortCol].key : null;
        stats.sort(function (a, b) {
          var x = k ? k(a) : siteKey(a, cur), y = k ? k(b) : siteKey(b, cur);
          var c = x < y ? -1 : x > y ? 1 : 0;
          return asc ? c : -c;
        });
      }
      var head = el('tr');
      cols.concat([{name: 'Call site'}]).forEach(function (c, i) {
        head.appendChild(el('th', {cls: (i < cols.length ? 'num' : '') + (i === sortCol ? ' sorted' + (asc ? ' asc' : '') : ''), text: c.name,
          onclick: function () { asc = sortCol === i ? !asc : false; sortCol = i; draw(); }}));
      });
      var body = el('tbody');
      stats.forEach(function (s) {
        var tr = el('tr', {'data-site': s.site.function || '', 'data-file': s.site.file || '', 'data-line': s.site.line === null ? '' : s.site.line,
                           'data-size': s.size, 'data-count': s.count});
        if (diff) { tr.setAttribute('data-size-diff', s.size_diff); tr.setAttribute('data-count-diff', s.count_diff); }
        cols.forEach(function (c) { tr.appendChild(el('td', {cls: 'num ' + (c.cls ? c.cls(s) : ''), text: c.cell(s, t)})); });
        tr.appendChild(siteCells(s, cur));
        body.appendChild(tr);
      });
      var foot = t.groups > t.stats.length ?
        el('p', {cls: 'muted', text: exact(t.groups - t.stats.length) + ' more groups: ' + exact(t.rest_size) + ' B in ' +
                 exact(t.rest_count) + ' blocks (--top ' + t.stats.length + ' rows shown)'}) :
        el('p', {cls: 'muted', text: exact(t.groups) + ' groups, ' + exact(t.total_size) + ' B in ' + exact(t.total_count) + ' blocks'});
      host.textContent = '';
      host.appendChild(el('table', {id: 'groups', 'data-by': cur}, [el('thead', {}, [head]), body]));
      host.appendChild(foot);
    }
    draw();
    return el('section', {id: 'table-section'}, [el('h2', {text: title}), tabs, host]);
  }

  /* ---- the size histogram ------------------------------------------- */

  function bucketLabel(i) {
    if (i === 0) return '0 B';
    var lo = Math.pow(2, i - 1), hi = Math.pow(2, i) - 1;
    return lo === hi ? human(lo) : human(lo) + ' \u2013 ' + human(hi);
  }
  function histogramSection(hist) {
    var sec = el('section', {id: 'histogram'}, [el('h2', {text: 'Live blocks by size'})]);
    if (!hist) {
      sec.appendChild(el('p', {cls: 'muted', text: 'This snapshot has no size histogram (written by a snapalloc that did not record one).'}));
      return sec;
    }
    var max = 0, grid = el('div', {cls: 'hist'});
    hist.forEach(function (b) { max = Math.max(max, b[2]); });
    ['size (requested)', 'bytes', 'blocks', 'bytes'].forEach(function (h, i) {
      grid.appendChild(el('b', {cls: i > 1 ? 'num' : '', text: i === 1 ? '' : h}));
    });
    hist.forEach(function (b) {
      var bar = el('div', {cls: 'bar'});
      bar.style.width = (max ? 100 * b[2] / max : 0) + '%';
      grid.appendChild(el('span', {text: bucketLabel(b[0])}));
      grid.appendChild(el('div', {}, [bar]));
      grid.appendChild(el('span', {cls: 'num', 'data-bucket': b[0], 'data-count': b[1], text: exact(b[1])}));
      grid.appendChild(el('span', {cls: 'num', 'data-bucket': b[0], 'data-size': b[2], text: exact(b[2]) + ' B'}));
    });
    if (!hist.length) grid.appendChild(el('span', {cls: 'muted', text: 'no live blocks'}));
    sec.appendChild(grid);
    return sec;
  }

  /* ---- memory over time --------------------------------------------- */

  function timelineSection(snaps, onPick) {
    var pts = [];
    snaps.forEach(function (s) { if (s.timeline.length > pts.length) pts = s.timeline; });
    var sec = el('section', {id: 'timeline'}, [el('h2', {text: 'Memory over time'})]);
    var marks = snaps.map(function (s, i) { return {i: i, t: s.time_ms, v: s.snapshot.traced_current, s: s}; });
    var traced = pts.length >= 2 ? pts.map(function (p) { return [p[0], p[1]]; })
                                 : marks.map(function (m) { return [m.t, m.v]; });
    var rss = pts.length >= 2 ? pts.map(function (p) { return [p[0], p[2]]; }) : [];
    if (pts.length < 2)
      sec.appendChild(el('p', {cls: 'muted', text: pts.length ? '' :
        'No timeline in ' + (snaps.length > 1 ? 'these snapshots' : 'this snapshot') +
        ' (written by a snapalloc that did not record one): the line joins the snapshots themselves.'}));
    var all = traced.concat(rss).concat(marks.map(function (m) { return [m.t, m.v]; }));
    var t0 = Infinity, t1 = -Infinity, vmax = 1;
    all.forEach(function (p) { t0 = Math.min(t0, p[0]); t1 = Math.max(t1, p[0]); vmax = Math.max(vmax, p[1]); });
    if (t1 <= t0) { t0 -= 500; t1 += 500; }
    var W = Math.max((app.clientWidth || 900) - 40, 320), H = 170, L = 70, R = 14, T = 10, B = 26;
    var X = function (t) { return L + (W - L - R) * (t - t0) / (t1 - t0); };
    var Y = function (v) { return T + (H - T - B) * (1 - v / vmax); };
    var g = svg('svg', {width: W, height: H, id: 'timeline-chart', role: 'img', 'aria-label': 'memory over time'});
    g.appendChild(svg('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, 'class': 'axis'}));
    g.appendChild(svg('line', {x1: L, y1: T, x2: L, y2: H - B, 'class': 'axis'}));
    [0, 0.5, 1].forEach(function (f) {
      g.appendChild(svg('text', {x: L - 6, y: Y(vmax * f) + 4, 'text-anchor': 'end', text: human(Math.round(vmax * f))}));
      g.appendChild(svg('text', {x: X(t0 + (t1 - t0) * f), y: H - 8, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle',
                                 text: span((t1 - t0) * f)}));
    });
    function line(p, cls) {
      if (p.length < 2) return;
      g.appendChild(svg('polyline', {'class': cls, points: p.map(function (q) { return X(q[0]).toFixed(1) + ',' + Y(q[1]).toFixed(1); }).join(' ')}));
    }
    line(rss, 'rss');
    line(traced, 'traced');
    var circles = marks.map(function (m) {
      var c = svg('circle', {'class': 'marker' + (m.s.snapshot.trigger === 'peak' ? ' peak' : ''), cx: X(m.t), cy: Y(m.v), r: 6,
                             'data-i': m.i, id: 'marker-' + m.i});
      c.appendChild(svg('title', {text: '#' + (m.i + 1) + ' ' + m.s.snapshot.trigger + ' at ' + when(m.t) + ': ' +
                                        exact(m.v) + ' B traced (' + human(m.v) + ')'}));
      c.addEventListener('click', function () { onPick(m.i); });
      g.appendChild(c);
      return c;
    });
    sec.appendChild(g);
    sec.appendChild(el('div', {cls: 'legend muted'}, [
      el('span', {text: '\u2014 traced memory'}), rss.length ? el('span', {text: '- - resident set size (RSS)'}) : null,
      el('span', {text: '\u25CB a snapshot (click: its flame graph; red: the peak)'})]));
    var list = el('div', {cls: 'toolbar', id: 'snapshot-list'});
    var buttons = snaps.map(function (s, i) {
      var b = el('button', {'data-i': i, text: '#' + (i + 1) + ' ' + s.snapshot.trigger + ' ' + human(s.snapshot.traced_current),
                            title: base(s.snapshot.path) + ', ' + when(s.time_ms), onclick: function () { onPick(i); }});
      list.appendChild(b);
      return b;
    });
    if (snaps.length > 1) sec.appendChild(list);
    return {section: sec, select: function (i) {
      circles.forEach(function (c, j) { c.classList.toggle('sel', j === i); });
      buttons.forEach(function (b, j) { b.className = j === i ? 'on' : ''; });
    }};
  }

  /* ---- pages --------------------------------------------------------- */

  function header(title, meta, cards) {
    return el('header', {}, [el('h1', {text: title}), el('div', {cls: 'meta', text: meta}),
                             el('div', {cls: 'cards', id: 'cards'}, cards)]);
  }

  function snapshotsPage() {
    var snaps = D.snapshots, first = snaps[0].snapshot;
    document.title = 'snapalloc: ' + base(first.exe) + ' (pid ' + first.pid + ')';
    var head = el('div', {id: 'head'}), body = el('div', {id: 'snapshot-body'});
    var tl = timelineSection(snaps, pick);
    app.appendChild(head);
    app.appendChild(tl.section);
    app.appendChild(body);
    function pick(i) {
      var s = snaps[i], h = s.snapshot;
      app.setAttribute('data-snapshot', i);
      tl.select(i);
      var cards = [card('snapshot', '#' + (i + 1) + ' of ' + snaps.length + ' (' + h.trigger + ')', h.path),
                   card('live (traced)', human(h.total_size), exact(h.total_size) + ' bytes'),
                   card('blocks', exact(h.total_count)),
                   card('stacks', exact(h.nstacks)),
                   card('traced peak so far', human(h.traced_peak), exact(h.traced_peak) + ' bytes'),
                   card('taken', when(s.time_ms))];
      if (s.sample_interval) cards.push(card('sampled', 'every ' + human(s.sample_interval), 'sizes and counts are estimates'));
      head.textContent = '';
      head.appendChild(header('snapalloc report: ' + base(h.exe), 'pid ' + h.pid + '  \u2022  ' + (h.cmdline || h.exe) +
                              '  \u2022  ' + h.path, cards));
      var tree = buildTree(s.flame, false);
      var fs = flameSection(tree, false, h.total_size, 'Live memory by stack (frames by ' + s.flame.by + ')');
      if (s.flame.nodes_total > s.flame.nodes.length)
        fs.note.textContent = 'The ' + exact(s.flame.stacks) + ' stacks make ' + exact(s.flame.nodes_total) +
          ' frames; the heaviest are drawn, the rest of each frame\u2019s callees as one grey "(smaller frames)" (--max-nodes).';
      body.textContent = '';
      body.appendChild(fs.section);
      fs.start();
      body.appendChild(tableSection(s.tables, false, 'Top groups (as snapalloc show)'));
      body.appendChild(histogramSection(s.histogram));
    }
    pick(Math.min(D.initial || 0, snaps.length - 1));
  }

  function diffPage() {
    var o = D.old, n = D.new, d = n.total_size - o.total_size;
    document.title = 'snapalloc diff: ' + base(o.path) + ' \u2192 ' + base(n.path);
    app.appendChild(header('snapalloc diff: ' + base(n.exe), base(o.path) + ' \u2192 ' + base(n.path), [
      card('old', human(o.total_size), exact(o.total_size) + ' bytes'),
      card('new', human(n.total_size), exact(n.total_size) + ' bytes'),
      card('change', human(d, 1), exact(d, 1) + ' bytes'),
      card('blocks', exact(n.total_count - o.total_count, 1))]));
    var tree = buildTree(D.flame, true);
    var fs = flameSection(tree, true, Math.max(n.total_size, o.total_size),
                          'Differential flame graph (width: the larger of old and new; red grew, blue shrank)');
    app.appendChild(fs.section);
    fs.start();
    app.appendChild(tableSection(D.tables, true, 'Top changes (as snapalloc diff)'));
    app.appendChild(histogramSection(D.histogram));
  }

  function leakFrame(f) {
    var s = f.function || '??';
    if (f.file) s += '  ' + f.file + (f.line ? ':' + f.line : '');
    else if (f.module) s += '  (' + base(f.module) + '+0x' + f.offset.toString(16) + ')';
    return el('li', {text: s});
  }
  function leakPage() {
    var r = D.report, kinds = ['definite', 'indirect', 'possible', 'reachable'];
    var labels = {definite: 'definitely lost', indirect: 'indirectly lost', possible: 'possibly lost', reachable: 'still reachable'};
    document.title = 'snapalloc check: ' + (r.program || 'leak report');
    var cards = [card('verdict', r.passed ? 'passed' : 'failed', 'exit status ' + r.status)];
    kinds.forEach(function (k) {
      if (r.summary[k]) cards.push(card(labels[k], exact(r.summary[k].bytes) + ' B', exact(r.summary[k].blocks) + ' blocks'));
    });
    app.appendChild(header('snapalloc check: ' + (r.program || ''), r.not_checked || ('exit status ' + r.status +
                           (r.failed.length ? ', failed on ' + r.failed.join(', ') : '')), cards));
    var sec = el('section', {id: 'leaks'}, [el('h2', {text: 'Lost blocks by kind and call site'})]);
    kinds.forEach(function (k) {
      var ls = r.leaks.filter(function (l) { return l.kind === k; });
      if (!ls.length) return;
      var tot = r.summary[k];
      sec.appendChild(el('h2', {'data-kind': k, text: labels[k] + (tot ? ': ' + exact(tot.bytes) + ' bytes in ' + exact(tot.blocks) + ' blocks' : '')}));
      ls.forEach(function (l) {
        var site = l.site ? (l.site.function || '??') + (l.site.file ? ' ' + base(l.site.file) + ':' + l.site.line : '') : '<allocated before tracing started>';
        sec.appendChild(el('details', {cls: 'leak', 'data-kind': l.kind, 'data-site': l.site ? l.site.function : '', 'data-bytes': l.bytes,
                                       'data-blocks': l.blocks, open: ''}, [
          el('summary', {}, [el('span', {cls: 'kind' + (l.fails ? ' fails' : ''), text: l.kind}), ' ',
                             el('b', {text: exact(l.bytes) + ' bytes in ' + exact(l.blocks) + ' blocks'}), ' at ' + site +
                             (l.pid ? ' (pid ' + l.pid + ')' : '') + (l.suppressed_by ? ', suppressed by ' + l.suppressed_by : '')]),
          el('ol', {start: 0}, l.frames.map(leakFrame))]));
      });
    });
    if (!r.leaks.length) sec.appendChild(el('p', {cls: 'muted', text: 'No leak of the kinds reported.'}));
    app.appendChild(sec);
    if (r.growth) {
      var g = el('section', {id: 'growth'}, [el('h2', {text: 'Growth (budget ' + exact(r.growth.max_growth) + ' bytes)'})]);
      r.growth.processes.forEach(function (p) {
        g.appendChild(el('p', {text: 'pid ' + p.pid + ': ' + (p.baseline ? exact(p.growth_bytes, 1) + ' bytes from the baseline' +
                                                              (p.exceeded ? ' (over budget)' : '') : 'no baseline taken')}));
      });
      app.appendChild(g);
    }
  }

  try {
    if (D.kind === 'diff') diffPage();
    else if (D.kind === 'leak') leakPage();
    else snapshotsPage();
    document.body.setAttribute('data-rendered', 'yes');
    /* the script's own time (parse the data, draw), for bench/RESULTS.md */
    document.body.setAttribute('data-render-ms', Math.round(performance.now() - started));
  } catch (e) {
    app.appendChild(el('pre', {id: 'error', text: 'snapalloc report: cannot draw this page: ' + e}));
    throw e;
  }
})();
