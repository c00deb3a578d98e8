// SPDX-License-Identifier: Apache-2.0
// Vigil web console: plain JavaScript, no library. It uses only the hub's JSON API
// (docs/hub.md, docs/console.md) with the token the user pasted (sessionStorage).
//
// Every string shown comes from alerts, i.e. from attackers' processes (command
// lines, file names): the DOM is built with createElement and textContent only,
// never innerHTML; the Content-Security-Policy forbids inline script and eval.
'use strict';

(function () {
  const TOKEN_KEY = 'vigil.token';
  const SVGNS = 'http://www.w3.org/2000/svg';
  const PRIOS = ['Emergency', 'Alert', 'Critical', 'Error', 'Warning', 'Notice', 'Informational', 'Debug'];
  const PRIO_COLORS = { Emergency: '#7a271a', Alert: '#912018', Critical: '#d92d20', Error: '#f04438',
    Warning: '#f79009', Notice: '#2e90fa', Informational: '#84caff', Debug: '#d0d5dd' };
  const FILTERS = ['cluster', 'node', 'namespace', 'pod', 'container', 'image', 'rule', 'priority',
    'tactic', 'technique', 'since', 'until'];

  let me = null;            // {role, name}
  let streamAbort = null;   // the live stream's AbortController
  let viewSeq = 0;          // bumps on each navigation: late answers of an old view are dropped

  // ---- DOM helpers: text only ----
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else if (k === 'href') e.setAttribute('href', safeHref(v));
      else e.setAttribute(k, String(v));
    }
    for (const kid of kids) add(e, kid);
    return e;
  }
  function add(parent, ...kids) {
    for (const kid of kids) {
      if (kid === null || kid === undefined || kid === false) continue;
      if (Array.isArray(kid)) { kid.forEach((k) => add(parent, k)); continue; }
      parent.appendChild(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
  }
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'text') e.textContent = String(v);
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else e.setAttribute(k, String(v));
    }
    for (const kid of kids) add(e, kid);
    return e;
  }
  // links are the console's own routes only
  function safeHref(h) { return typeof h === 'string' && h.startsWith('#/') ? h : '#/'; }
  function clear(e) { while (e.firstChild) e.removeChild(e.firstChild); return e; }
  function $(id) { return document.getElementById(id); }
  function str(v) { return v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v); }
  function get(o, path) { return path.split('.').reduce((a, k) => (a && typeof a === 'object' ? a[k] : undefined), o); }

  // ---- the API ----
  function token() { return sessionStorage.getItem(TOKEN_KEY); }
  class ApiError extends Error { constructor(status, msg) { super(msg); this.status = status; } }
  async function api(path, opts) {
    const o = Object.assign({ method: 'GET' }, opts || {});
    const headers = { Authorization: 'Bearer ' + token() };
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    const init = { method: o.method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body),
      cache: 'no-store', credentials: 'omit', signal: o.signal };
    let r;
    // a request that never reached the hub (the network changed under it) is tried again,
    // twice; reads only: a POST is not sent twice
    for (let tries = 0; ; tries++) {
      try {
        r = await fetch(path, init);
        break;
      } catch (e) {
        if (o.method !== 'GET' || tries >= 2 || (o.signal && o.signal.aborted)) throw e;
        await new Promise((res) => setTimeout(res, 300));
      }
    }
    let body = null;
    try { body = await r.json(); } catch (e) { body = null; }
    if (r.status === 401) { logout('The token was refused (401).'); throw new ApiError(401, 'unauthorized'); }
    if (!r.ok) throw new ApiError(r.status, (body && body.error) || ('HTTP ' + r.status));
    return body;
  }
  function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) u.append(k, v);
    const s = u.toString();
    return s ? '?' + s : '';
  }

  // ---- session ----
  async function login(t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    try {
      me = await api('/api/v1/whoami');
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      me = null;
      throw e;
    }
  }
  function logout(why) {
    stopStream();
    sessionStorage.removeItem(TOKEN_KEY);
    me = null;
    showLogin(why || '');
  }
  function showLogin(msg) {
    $('login-view').hidden = false;
    $('nav').hidden = true;
    $('session').hidden = true;
    clear($('view'));
    $('login-error').textContent = msg || '';
    $('token').value = '';
    $('token').focus();
  }
  function showApp() {
    $('login-view').hidden = true;
    $('nav').hidden = false;
    $('session').hidden = false;
    $('whoami').textContent = (me.name || '(no name)') + ' · ' + me.role;
    $('whoami').setAttribute('data-role', me.role);
  }
  const isResponder = () => me && me.role === 'responder';

  // ---- router: #/alerts?..., #/alert/<uuid>, #/nodes, #/map ----
  function route() {
    stopStream();
    viewSeq++;
    if (!token() || !me) return;
    const h = location.hash || '#/alerts';
    const [path, query] = h.slice(1).split('?');
    const params = new URLSearchParams(query || '');
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', h.startsWith(a.getAttribute('href')));
    const view = clear($('view'));
    const seq = viewSeq;
    let p;
    if (path.startsWith('/alert/')) p = alertView(view, decodeURIComponent(path.slice(7)), seq);
    else if (path === '/nodes') p = nodesView(view, seq);
    else if (path === '/map') p = mapView(view, seq);
    else if (path === '/images') p = imagesView(view, params, seq);
    else if (path.startsWith('/image/')) p = imageView(view, decodeURIComponent(path.slice(7)), seq);
    else if (path === '/admissions') p = admissionsView(view, params, seq);
    else if (path === '/profiles') p = profilesView(view, params, seq);
    else if (path.startsWith('/profile/')) p = profileView(view, decodeURIComponent(path.slice(9)), seq);
    else p = alertsView(view, params, seq);
    view.removeAttribute('data-loaded');
    Promise.resolve(p).then(() => { if (seq === viewSeq) view.setAttribute('data-loaded', h); }).catch((e) => {
      if (e.status === 401 || seq !== viewSeq) return;
      add(view, el('p', { class: 'error', id: 'view-error', text: 'Error: ' + e.message }));
    });
  }

  // ---- alerts ----
  function fmtTime(t) { return str(t).replace('T', ' ').replace(/\.(\d{3})\d*Z$/, '.$1Z'); }
  function alertRow(r, fresh) {
    const a = r.alert || {};
    const ctr = get(a, 'vigil.event.container') || {};
    const k8s = get(a, 'vigil.event.k8s') || {};
    const tr = el('tr', { class: 'alert-row' + (fresh ? ' fresh' : ''), 'data-uuid': r.uuid,
      on: { click: () => { location.hash = '#/alert/' + encodeURIComponent(r.uuid); } } },
    el('td', { text: fmtTime(a.time) }),
    el('td', { class: 'prio prio-' + str(a.priority), text: a.priority }),
    el('td', { class: 'rule', text: a.rule }),
    el('td', { text: r.cluster + '/' + r.node }),
    el('td', { text: [k8s && k8s.namespace, k8s && k8s.pod].filter(Boolean).join('/') || '' }),
    el('td', { text: ctr.name || ctr.id || 'host' }),
    el('td', { class: 'out', text: a.output }),
    el('td', {}, r.ack ? el('span', { class: 'badge acked', text: 'acked by ' + r.ack.by }) : ''));
    return tr;
  }

  async function alertsView(view, params, seq) {
    const f = {};
    for (const k of FILTERS) f[k] = params.get(k) || '';
    const cursor = params.get('cursor') || '';
    const back = params.get('back') || '';
    const form = el('form', { class: 'filters', id: 'filters' });
    for (const k of FILTERS) {
      let input;
      if (k === 'priority') {
        input = el('select', { id: 'f-priority', name: k }, el('option', { value: '', text: 'any' }),
          PRIOS.map((p) => el('option', { value: p.toLowerCase(), text: 'at least ' + p })));
        input.value = f[k];
      } else if (k === 'since' || k === 'until') {
        input = el('input', { id: 'f-' + k, name: k, placeholder: '2026-12-06T08:00:00Z or 1h', value: f[k] });
      } else {
        input = el('input', { id: 'f-' + k, name: k, value: f[k],
          placeholder: k === 'tactic' ? 'execution' : k === 'technique' ? 'T1059' : '' });
      }
      add(form, el('label', {}, k, input));
    }
    add(form, el('div', {}, el('button', { id: 'apply', type: 'submit', class: 'primary', text: 'Apply' }), ' ',
      el('button', { id: 'reset', type: 'button', text: 'Reset', on: { click: () => { location.hash = '#/alerts'; } } })));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const p = {};
      for (const k of FILTERS) {
        const v = form.elements[k].value.trim();
        if (v) p[k] = v;
      }
      location.hash = '#/alerts' + qs(p);
    });
    const chartBox = el('div', { class: 'chart', id: 'chart' }, el('span', { class: 'muted', text: 'counts…' }));
    const live = el('span', { id: 'live', class: 'live off', text: 'live: connecting' });
    const table = el('table', { id: 'alerts-table' },
      el('thead', {}, el('tr', {}, ['time', 'priority', 'rule', 'node', 'namespace/pod', 'container', 'output', ''].map((h) => el('th', { text: h })))),
      el('tbody', {}));
    const pager = el('div', { class: 'pager' });
    add(view, el('h1', { text: 'Alerts' }), form, chartBox, el('div', { class: 'pager' }, live, el('span', { id: 'new-count', class: 'muted' })), table, pager);

    const q = apiFilters(f);
    const page = await api('/api/v1/alerts' + qs(Object.assign({}, q, { cursor, limit: 50 })));
    if (seq !== viewSeq) return;
    const tbody = table.tBodies[0];
    for (const r of page.alerts) tbody.appendChild(alertRow(r, false));
    if (!page.alerts.length) tbody.appendChild(el('tr', {}, el('td', { colspan: 8, class: 'muted', id: 'no-alerts', text: 'No alert matches.' })));
    const base = {};
    for (const k of FILTERS) if (f[k]) base[k] = f[k];
    if (cursor) add(pager, el('a', { id: 'first-page', href: '#/alerts' + qs(base), text: '« first' }));
    if (back !== '' && cursor) add(pager, el('a', { id: 'prev-page', href: '#/alerts' + qs(Object.assign({}, base, back !== '0' ? { cursor: back.split(',').pop(), back: back.split(',').slice(0, -1).join(',') } : {})), text: '‹ previous' }));
    if (page.next_cursor) {
      const nb = cursor ? (back ? back + ',' + cursor : cursor) : '0';
      add(pager, el('a', { id: 'next-page', href: '#/alerts' + qs(Object.assign({}, base, { cursor: page.next_cursor, back: nb })), text: 'next ›' }));
    }
    add(pager, el('span', { class: 'muted', id: 'page-info', text: page.alerts.length + ' on this page' }));
    drawCounts(chartBox, q, seq).catch((e) => { clear(chartBox); add(chartBox, el('span', { class: 'error', text: 'counts: ' + e.message })); });
    if (!cursor) startStream(q, tbody, live, seq);
    else live.textContent = 'live: on the first page only';
  }

  // relative times ("1h", "30m", "2d") become absolute; the rest goes to the API as typed
  function apiFilters(f) {
    const q = {};
    for (const k of FILTERS) {
      let v = f[k];
      if (!v) continue;
      if ((k === 'since' || k === 'until') && /^\d+[smhd]$/.test(v)) {
        const n = parseInt(v, 10) * { s: 1, m: 60, h: 3600, d: 86400 }[v.slice(-1)];
        v = new Date(Date.now() - n * 1000).toISOString();
      }
      q[k] = v;
    }
    return q;
  }

  async function drawCounts(box, q, seq) {
    const by = box.getAttribute('data-by') || 'priority';
    const c = await api('/api/v1/alerts/counts' + qs(Object.assign({}, q, { by })));
    if (seq !== viewSeq) return;
    clear(box);
    const since = Date.parse(c.since), until = Date.parse(c.until), bucket = c.bucket_s * 1000;
    const nb = Math.max(1, Math.ceil((until - since) / bucket));
    const keys = [...new Set(c.counts.map((x) => x.key))];
    if (by === 'priority') keys.sort((a, b) => PRIOS.indexOf(a) - PRIOS.indexOf(b));
    const palette = ['#1f6feb', '#d92d20', '#f79009', '#12b76a', '#7a5af8', '#ee46bc', '#0e9384', '#667085', '#b54708', '#2e90fa'];
    const color = (k, i) => (by === 'priority' ? PRIO_COLORS[k] : palette[i % palette.length]) || '#667085';
    const stacks = Array.from({ length: nb }, () => ({}));
    let max = 1;
    for (const x of c.counts) {
      const b = Math.min(nb - 1, Math.max(0, Math.floor((Date.parse(x.t) - since) / bucket)));
      stacks[b][x.key] = (stacks[b][x.key] || 0) + x.count;
    }
    for (const s of stacks) max = Math.max(max, Object.values(s).reduce((a, b) => a + b, 0));
    const W = 1000, H = 160, bw = W / nb;
    const g = svg('svg', { viewBox: '0 0 ' + W + ' ' + (H + 20), preserveAspectRatio: 'none', id: 'chart-svg' });
    stacks.forEach((s, i) => {
      let y = H;
      keys.forEach((k, ki) => {
        const n = s[k] || 0;
        if (!n) return;
        const h = (n / max) * (H - 10);
        y -= h;
        g.appendChild(svg('rect', { x: i * bw + 1, y, width: Math.max(1, bw - 2), height: h, fill: color(k, ki), class: 'bar',
          'data-key': k, 'data-count': n }, svg('title', { text: new Date(since + i * bucket).toISOString() + ' ' + k + ': ' + n })));
      });
    });
    g.appendChild(svg('text', { x: 2, y: H + 16, 'font-size': 12, fill: '#667085', text: fmtTime(c.since) }));
    g.appendChild(svg('text', { x: W - 2, y: H + 16, 'font-size': 12, fill: '#667085', 'text-anchor': 'end', text: fmtTime(c.until) }));
    g.appendChild(svg('text', { x: 2, y: 12, 'font-size': 12, fill: '#667085', text: 'max ' + max + ' per ' + c.bucket_s + ' s' }));
    const total = c.counts.reduce((a, x) => a + x.count, 0);
    add(box, el('div', { class: 'legend' },
      el('strong', { text: 'Counts by ' + by + ' (' + total + ') ' }),
      c.partial ? el('span', { class: 'muted', id: 'chart-partial', text: '(the newest ' + total + ' only, since ' + fmtTime(c.counted_since) + ') ' }) : null,
      el('button', { type: 'button', id: 'chart-by', text: by === 'priority' ? 'by rule' : 'by priority',
        on: { click: () => { box.setAttribute('data-by', by === 'priority' ? 'rule' : 'priority'); drawCounts(box, q, seq).catch(() => {}); } } }), ' ',
      keys.map((k, i) => { const i2 = el('i'); i2.style.background = color(k, i); return el('span', {}, i2, k); })), g);
  }

  // The live stream: fetch() with the Authorization header (EventSource cannot send
  // one), the text/event-stream parsed here. Reconnects after a pause, from the last id.
  function stopStream() { if (streamAbort) { streamAbort.abort(); streamAbort = null; } }
  function startStream(q, tbody, live, seq) {
    const ctl = new AbortController();
    streamAbort = ctl;
    let last = null, added = 0;
    const run = async () => {
      while (!ctl.signal.aborted && seq === viewSeq) {
        try {
          const p = Object.assign({}, q);
          if (last !== null) p.cursor = last;
          const r = await fetch('/api/v1/alerts/stream' + qs(p), { headers: { Authorization: 'Bearer ' + token() },
            cache: 'no-store', credentials: 'omit', signal: ctl.signal });
          if (r.status === 401) { logout('The token was refused (401).'); return; }
          if (!r.ok || !r.body) throw new Error('HTTP ' + r.status);
          live.className = 'live on';
          live.textContent = 'live';
          const rd = r.body.getReader();
          const dec = new TextDecoder();
          let buf = '';
          for (;;) {
            const { value, done } = await rd.read();
            if (done) break;
            buf += dec.decode(value, { stream: true });
            let i;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, i);
              buf = buf.slice(i + 2);
              let ev = 'message', id = null;
              const data = [];
              for (const line of block.split('\n')) {
                if (line.startsWith(':')) continue;
                const c = line.indexOf(':');
                const f = c < 0 ? line : line.slice(0, c);
                const v = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
                if (f === 'event') ev = v; else if (f === 'id') id = v; else if (f === 'data') data.push(v);
              }
              if (id !== null) last = id;
              if (ev === 'alerts' && seq === viewSeq) {
                const page = JSON.parse(data.join('\n'));
                const none = $('no-alerts');
                if (none) none.parentNode.remove();
                for (const row of page.alerts) {
                  tbody.insertBefore(alertRow(row, true), tbody.firstChild);
                  added++;
                }
                while (tbody.rows.length > 200) tbody.deleteRow(-1);
                $('new-count').textContent = ' ' + added + ' new since opened';
              }
            }
          }
        } catch (e) {
          if (ctl.signal.aborted) return;
        }
        live.className = 'live off';
        live.textContent = 'live: reconnecting';
        await new Promise((res) => setTimeout(res, 2000));
      }
    };
    run();
  }

  // ---- one alert ----
  function kv(pairs) {
    const dl = el('dl', { class: 'kv' });
    for (const [k, v] of pairs) if (v !== undefined && v !== null && v !== '') add(dl, [el('dt', { text: k }), el('dd', { text: str(v) })]);
    return dl;
  }
  function procLine(p, self) {
    return el('div', { class: 'proc' + (self ? ' self' : '') },
      el('span', { class: 'pname', text: p.name || '?' }), ' ',
      p.pid !== undefined && p.pid !== null ? el('span', { class: 'muted', text: '[' + p.pid + '] ' }) : '',
      el('span', { class: 'cmdline', text: p.cmdline || p.exe || '' }));
  }
  // The ancestry as a tree, root first: vigil.ancestry (parent first), else the event's
  // parent, else Falco's proc.aname[N] / proc.pname output fields.
  function processChain(a) {
    const ev = get(a, 'vigil.event') || {};
    const of = a.output_fields || {};
    const self = Object.assign({ name: of['proc.name'], cmdline: of['proc.cmdline'], pid: of['proc.pid'], exe: of['proc.exepath'] }, ev.process || {});
    let anc = (get(a, 'vigil.ancestry') || []).slice();
    if (!anc.length && ev.parent && (ev.parent.name || ev.parent.pid)) anc = [ev.parent];
    if (!anc.length) {
      const p = of['proc.pname'] ? [{ name: of['proc.pname'], cmdline: of['proc.pcmdline'], pid: of['proc.ppid'] }] : [];
      for (let i = 2; i < 10 && of['proc.aname[' + i + ']']; i++) p.push({ name: of['proc.aname[' + i + ']'] });
      anc = p;
    }
    return anc.reverse().concat([self]);
  }
  function processTree(chain) {
    const root = el('ul', { class: 'tree', id: 'proc-tree' });
    let cur = root;
    chain.forEach((p, i) => {
      const li = el('li', { class: 'proc-node', 'data-depth': i }, procLine(p, i === chain.length - 1));
      cur.appendChild(li);
      if (i < chain.length - 1) { const ul = el('ul'); li.appendChild(ul); cur = ul; }
    });
    return root;
  }

  async function alertView(view, uuid, seq) {
    const r = await api('/api/v1/alerts/' + encodeURIComponent(uuid));
    if (seq !== viewSeq) return;
    const a = r.alert || {};
    const ev = get(a, 'vigil.event') || {};
    const ctr = ev.container || {};
    const k8s = ev.k8s || {};
    const ackBox = el('div', { id: 'ack-box' });
    const cmdBox = el('div', { id: 'cmd-box' });
    add(view, el('p', {}, el('a', { href: '#/alerts', text: '‹ alerts' })),
      el('h1', { id: 'alert-title' }, el('span', { class: 'prio prio-' + str(a.priority), text: a.priority }), ' ', el('span', { text: a.rule })),
      el('p', { class: 'out', id: 'alert-output', text: a.output }),
      ackBox, cmdBox);
    renderAck(ackBox, r);
    renderCommands(cmdBox, r, ctr);
    const tags = Array.isArray(a.tags) ? a.tags : [];
    add(view, el('div', { class: 'cols' },
      el('div', { class: 'card' }, el('h2', { text: 'Process ancestry' }), processTree(processChain(a))),
      el('div', { class: 'card', id: 'container-ctx' }, el('h2', { text: 'Container and Kubernetes' }),
        kv([['cluster', r.cluster], ['node', r.node], ['container', ctr.name], ['container id', ctr.full_id || ctr.id || 'host'],
          ['image', ctr.image], ['image id', ctr.image_id], ['runtime', ctr.runtime], ['privileged', ctr.privileged],
          ['namespace', k8s && k8s.namespace], ['pod', k8s && k8s.pod], ['k8s container', k8s && k8s.container], ['pod uid', k8s && k8s.pod_uid]]))),
    el('div', { class: 'card' }, el('h2', { text: 'Event' }),
      kv([['time', a.time], ['received', r.received], ['uuid', r.uuid], ['sequence', r.seq], ['source', a.source], ['hostname', a.hostname],
        ['event type', ev.type], ['tags', tags.join(', ')], ['user', ev.user && ('uid ' + ev.user.uid + ' gid ' + ev.user.gid)]]),
      el('h2', { text: 'Output fields' }),
      kv(Object.entries(a.output_fields || {}))));
    const actCard = el('div', { class: 'card', id: 'actions' }, el('h2', { text: 'Actions taken' }));
    const nearCard = el('div', { class: 'card', id: 'nearby' }, el('h2', { text: 'Other alerts of this container, ±10 minutes' }));
    add(view, el('div', { class: 'cols' }, actCard, nearCard));
    // the responses in the alert, then the action records the node sent
    const responses = get(a, 'vigil.responses') || [];
    const planned = get(a, 'vigil.actions') || [];
    if (planned.length) add(actCard, el('p', { class: 'muted', text: 'rule actions: ' + planned.join(', ') }));
    const t = Date.parse(a.time);
    const cid = ctr.id || (ctr.full_id || '').slice(0, 12);
    const around = isNaN(t) ? {} : { since: new Date(t - 600000).toISOString(), until: new Date(t + 600000).toISOString() };
    const actRows = responses.map((x) => ({ time: a.time, action: x.action, target: x.target, outcome: x.outcome, detail: x.detail }));
    try {
      const acts = await api('/api/v1/actions' + qs(Object.assign({ node: r.node, cluster: r.cluster, rule: a.rule, limit: 100 },
        cid ? { container: cid } : { container: 'host' }, around)));
      for (const x of acts.actions) {
        const b = x.action || {};
        actRows.push({ time: b.time, action: b.action, target: b.target, outcome: b.outcome, detail: b.detail || b.error,
          evidence: b.action === 'capture' && b.outcome === 'done' ? x.uuid : null });
      }
    } catch (e) { if (e.status === 401) return; add(actCard, el('p', { class: 'error', text: 'actions: ' + e.message })); }
    if (seq !== viewSeq) return;
    if (!actRows.length) add(actCard, el('p', { class: 'muted', text: 'None.' }));
    else add(actCard, el('table', { id: 'actions-table' }, el('tr', {}, ['time', 'action', 'target', 'outcome', 'detail', 'evidence'].map((h) => el('th', { text: h }))),
      actRows.map((x) => el('tr', {}, [fmtTime(x.time), x.action, x.target, x.outcome, x.detail].map((v, i) =>
        el('td', i === 3 ? { class: 'badge ' + (x.outcome === 'done' || x.outcome === 'ok' ? 'ok' : 'failed'), text: str(v) } : { text: str(v) })),
        x.evidence ? evidenceCell(x.evidence) : el('td', {})))));
    const near = await api('/api/v1/alerts' + qs(Object.assign({ node: r.node, cluster: r.cluster, container: cid || 'host', limit: 50 }, around)));
    if (seq !== viewSeq) return;
    const others = near.alerts.filter((x) => x.uuid !== r.uuid);
    if (!others.length) add(nearCard, el('p', { class: 'muted', text: 'None.' }));
    else add(nearCard, el('table', { id: 'nearby-table' }, el('tbody', {}, others.map((x) => alertRow(x, false)))));
  }

  function renderAck(box, r) {
    clear(box);
    if (r.ack) {
      add(box, el('span', { class: 'badge acked', id: 'ack-status', text: 'acknowledged by ' + r.ack.by + ' at ' + fmtTime(r.ack.time) }));
      return;
    }
    add(box, el('span', { class: 'badge', id: 'ack-status', text: 'not acknowledged' }), ' ');
    if (!isResponder()) return;
    const b = el('button', { id: 'ack-btn', class: 'primary', type: 'button', text: 'Acknowledge' });
    b.addEventListener('click', async () => {
      b.disabled = true;
      try {
        await api('/api/v1/alerts/' + encodeURIComponent(r.uuid) + '/ack', { method: 'POST', body: {} });
        const again = await api('/api/v1/alerts/' + encodeURIComponent(r.uuid));
        renderAck(box, again);
      } catch (e) {
        b.disabled = false;
        add(box, el('span', { class: 'error', id: 'ack-error', text: ' ' + e.message }));
      }
    });
    add(box, b);
  }

  // Release an isolation, thaw a frozen container: POST /api/v1/commands (the fleet's
  // commands, docs/console.md). Responders only; a viewer does not see the buttons.
  function renderCommands(box, r, ctr) {
    if (!isResponder() || !(ctr.id || ctr.full_id)) return;
    const status = el('span', { id: 'cmd-status', class: 'muted' });
    const send = async (command, b) => {
      b.disabled = true;
      status.textContent = command + ': sending…';
      try {
        const res = await api('/api/v1/commands', { method: 'POST',
          body: { cluster: r.cluster, node: r.node, command, container: ctr.full_id || ctr.id } });
        // the agent's answer: only "ok" means something was undone (docs/hub.md)
        status.textContent = command + ': ' + str(res && res.outcome) + (res && res.detail ? ' (' + str(res.detail) + ')' : '');
      } catch (e) {
        status.textContent = command + ': ' + e.message;
      }
      b.disabled = false;
    };
    const rel = el('button', { id: 'release-btn', class: 'danger', type: 'button', text: 'Release isolation' });
    const thaw = el('button', { id: 'thaw-btn', type: 'button', text: 'Thaw' });
    rel.addEventListener('click', () => send('release', rel));
    thaw.addEventListener('click', () => send('thaw', thaw));
    add(box, el('p', {}, rel, ' ', thaw, ' ', status));
  }

  // ---- nodes ----
  async function nodesView(view, seq) {
    add(view, el('h1', { text: 'Nodes' }));
    const n = await api('/api/v1/nodes');
    if (seq !== viewSeq) return;
    const cols = [['cluster', (x) => x.cluster], ['node', (x) => x.node], ['health', null], ['last heartbeat', (x) => x.last_heartbeat ? fmtTime(x.last_heartbeat) + ' (' + x.heartbeat_age_s + ' s ago)' : 'never'],
      ['version', (x) => x.version], ['rules digest', (x) => x.rules_digest ? str(x.rules_digest).slice(0, 19) : ''], ['lost records', (x) => x.lost_records],
      ['ingest lag', (x) => x.ingest_lag_ms + ' ms'], ['outbox', (x) => x.outbox_depth], ['alerts', (x) => x.alerts], ['actions', (x) => x.actions],
      ['loss records', (x) => x.loss_records], ['seq gaps', (x) => x.seq_gaps]];
    add(view, el('table', { id: 'nodes-table' }, el('thead', {}, el('tr', {}, cols.map((c) => el('th', { text: c[0] })))),
      el('tbody', {}, n.nodes.map((x) => el('tr', { 'data-node': x.node }, cols.map((c) => c[1] ? el('td', { text: str(c[1](x)) })
        : el('td', {}, el('span', { class: 'badge ' + str(x.health), text: x.health }))))))));
    if (!n.nodes.length) add(view, el('p', { class: 'muted', text: 'No node yet.' }));
  }

  // ---- images: GET /api/v1/images, /api/v1/images/<digest>, .../sbom (docs/console.md) ----
  const SEVS = ['critical', 'high', 'medium', 'low', 'unknown'];
  // a page of a list with a cursor: next/first links to the same route
  function pager(route, base, page, cursor) {
    const box = el('div', { class: 'pager' });
    if (cursor) add(box, el('a', { class: 'first-page', href: route + qs(base), text: '« first' }));
    if (page.next_cursor) add(box, el('a', { class: 'next-page', href: route + qs(Object.assign({}, base, { cursor: page.next_cursor })), text: 'next ›' }));
    return box;
  }
  function filterForm(id, route, fields, values) {
    const inputs = {};
    const form = el('form', { class: 'filters', id },
      fields.map(([k, label, opts]) => {
        const input = opts ? el('select', { name: k }, opts.map((o) => el('option', { value: o, text: o || 'any' })))
          : el('input', { name: k, placeholder: label, value: values[k] || '' });
        if (opts) input.value = values[k] || '';
        inputs[k] = input;
        return el('label', {}, label, input);
      }),
      el('button', { type: 'submit', class: 'primary', text: 'Filter' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const p = {};
      for (const k of Object.keys(inputs)) p[k] = inputs[k].value.trim();
      location.hash = route + qs(p);
    });
    return form;
  }
  function sevCell(v, key) {
    const n = Number(v && v[key]) || 0;
    return el('td', { class: 'sev sev-' + key + (n ? ' some' : ''), text: String(n) });
  }
  async function imagesView(view, params, seq) {
    const keys = ['cluster', 'node', 'reference', 'severity'];
    const f = {};
    for (const k of keys) f[k] = params.get(k) || '';
    const cursor = params.get('cursor') || '';
    add(view, el('h1', { text: 'Images' }),
      filterForm('image-filters', '#/images', [['cluster', 'cluster'], ['node', 'node'], ['reference', 'reference contains'],
        ['severity', 'with a vulnerability at least', ['', 'critical', 'high', 'medium', 'low']]], f));
    const page = await api('/api/v1/images' + qs(Object.assign({ limit: 50 }, f, { cursor })));
    if (seq !== viewSeq) return;
    const head = el('tr', {}, ['image', 'digest', 'node', 'last scan', ...SEVS, 'packages', 'secrets', 'misconfigurations'].map((h) => el('th', { text: h })));
    add(view, el('table', { id: 'images-table' }, el('thead', {}, head),
      el('tbody', {}, page.images.map((x) => el('tr', { class: 'image-row', 'data-digest': x.digest,
        on: { click: () => { location.hash = '#/image/' + encodeURIComponent(x.digest); } } },
      el('td', { class: 'ref', text: x.reference }),
      el('td', { class: 'digest', text: str(x.digest).slice(0, 19) }),
      el('td', { text: x.cluster + '/' + x.node }),
      el('td', { text: fmtTime(x.scanned) }),
      SEVS.map((k) => sevCell(x.vulnerabilities, k)),
      el('td', { text: str(x.packages) }),
      el('td', { text: str(x.secrets) }),
      el('td', { text: str(x.misconfigurations) }))))));
    if (!page.images.length) add(view, el('p', { class: 'muted', text: 'No image scan yet (vigil scan image ... --nats).' }));
    add(view, pager('#/images', f, page, cursor));
  }
  // a capture's bundle (GET /api/v1/evidence/<action uuid>): a tar fetched from its node by the hub
  function evidenceCell(uuid) {
    const status = el('span', { class: 'muted evidence-status' });
    return el('td', {}, el('button', { class: 'evidence-download', type: 'button', text: 'Download evidence',
      on: { click: () => downloadBlob('/api/v1/evidence/' + encodeURIComponent(uuid), 'application/x-tar',
        'evidence-' + str(uuid).replace(/[^a-z0-9]/gi, '').slice(0, 32) + '.tar', status) } }), ' ', status);
  }
  // a download through fetch (the token is a header, not a cookie), saved from a blob: URL of our own
  async function downloadBlob(path, type, name, status) {
    status.textContent = 'downloading…';
    try {
      const r = await fetch(path, { headers: { Authorization: 'Bearer ' + token() }, cache: 'no-store', credentials: 'omit' });
      if (r.status === 401) { logout('The token was refused (401).'); return; }
      if (!r.ok) {
        let msg = 'HTTP ' + r.status;
        try { msg += ': ' + ((await r.json()).error || ''); } catch (e) { /* not JSON */ }
        throw new Error(msg);
      }
      const blob = new Blob([await r.arrayBuffer()], { type: type });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url; // a blob: URL made here, never a string from the API
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      status.textContent = 'saved (' + blob.size + ' bytes)';
      status.setAttribute('data-bytes', String(blob.size));
    } catch (e) {
      status.textContent = 'Error: ' + e.message;
    }
  }
  // the SBOM as scanned
  function downloadSbom(digest, status) {
    return downloadBlob('/api/v1/images/' + encodeURIComponent(digest) + '/sbom', 'application/json',
      str(digest).replace(/[^a-z0-9]/gi, '-').slice(0, 40) + '-sbom.json', status);
  }
  async function imageView(view, digest, seq) {
    add(view, el('p', {}, el('a', { href: '#/images', text: '‹ images' })));
    const d = await api('/api/v1/images/' + encodeURIComponent(digest));
    if (seq !== viewSeq) return;
    const img = d.image || {};
    const rep = d.report || {};
    const status = el('span', { id: 'sbom-status', class: 'muted' });
    add(view, el('h1', { id: 'image-title', text: img.reference }),
      el('div', { class: 'card' }, kv([['digest', img.digest], ['node', img.cluster + '/' + img.node], ['scanned', fmtTime(img.scanned)],
        ['received', fmtTime(img.received)], ['OS', img.os || 'none found'], ['packages', img.packages], ['secrets', img.secrets],
        ['misconfigurations', img.misconfigurations]]),
      el('p', {}, el('button', { id: 'sbom-download', type: 'button', text: 'Download SBOM (' + str(img.sbom_format) + ')',
        on: { click: () => downloadSbom(img.digest, status) } }), ' ', status)),
      el('p', { id: 'image-counts' }, SEVS.map((k) => el('span', { class: 'badge sev-' + k, text: k + ' ' + str(get(img, 'vulnerabilities.' + k) || 0) }))));
    const vulns = Array.isArray(rep.vulnerabilities) ? rep.vulnerabilities : [];
    add(view, el('h2', { text: 'Vulnerabilities (' + vulns.length + ')' }),
      el('table', { id: 'vulns-table' }, el('thead', {}, el('tr', {}, ['id', 'severity', 'package', 'version', 'fixed in', 'summary'].map((h) => el('th', { text: h })))),
        el('tbody', {}, vulns.map((v) => el('tr', { class: 'vuln-row' },
          el('td', { text: v.id }), el('td', { class: 'vsev sev-' + str(v.severity).toLowerCase(), text: v.severity }),
          el('td', { text: v.package }), el('td', { text: v.version }),
          el('td', { text: v.fixed || 'no fix' }), el('td', { class: 'out', text: v.summary }))))));
    const pkgs = Array.isArray(rep.packages) ? rep.packages : [];
    add(view, el('h2', { text: 'Packages (' + pkgs.length + ')' }),
      el('table', { id: 'packages-table' }, el('thead', {}, el('tr', {}, ['name', 'version', 'type', 'path', 'purl'].map((h) => el('th', { text: h })))),
        el('tbody', {}, pkgs.map((p) => el('tr', { class: 'pkg-row' }, el('td', { text: p.name }), el('td', { text: p.version }),
          el('td', { text: p.type }), el('td', { class: 'out', text: p.path }), el('td', { class: 'out', text: p.purl }))))));
  }

  // ---- behaviour profiles: GET /api/v1/profiles, /api/v1/profiles/<key>, POST .../mode (docs/hub.md) ----
  const MODES = ['learning', 'monitoring', 'protecting'];
  async function profilesView(view, params, seq) {
    const keys = ['cluster', 'namespace', 'image'];
    const f = {};
    for (const k of keys) f[k] = params.get(k) || '';
    const cursor = params.get('cursor') || '';
    add(view, el('h1', { text: 'Behaviour profiles' }),
      filterForm('profile-filters', '#/profiles', [['cluster', 'cluster'], ['namespace', 'namespace'], ['image', 'image (exact)']], f));
    const page = await api('/api/v1/profiles' + qs(Object.assign({ limit: 50 }, f, { cursor })));
    if (seq !== viewSeq) return;
    add(view, el('table', { id: 'profiles-table' },
      el('thead', {}, el('tr', {}, ['workload', 'image', 'namespace', 'mode (central)', 'modes on nodes', 'items', 'updated'].map((h) => el('th', { text: h })))),
      el('tbody', {}, page.profiles.map((x) => el('tr', { class: 'profile-row', 'data-key': x.kv_key,
        on: { click: () => { location.hash = '#/profile/' + encodeURIComponent(x.kv_key); } } },
        el('td', { class: 'out', text: x.owner || x.key }),
        el('td', { class: 'ref', text: x.image }),
        el('td', { text: x.namespace }),
        el('td', {}, x.mode ? el('span', { class: 'badge mode-' + str(x.mode), text: x.mode }) : el('span', { class: 'muted', text: 'not set' })),
        el('td', { text: (x.nodes || []).map((n) => n.node + ': ' + n.mode).join(', ') }),
        el('td', { text: str(x.items) }),
        el('td', { text: fmtTime(new Date(Number(x.updated_ns) / 1e6).toISOString()) }))))));
    if (!page.profiles.length) add(view, el('p', { class: 'muted', text: 'No profile yet (agents share what they learn with --nats).' }));
    add(view, pager('#/profiles', f, page, cursor));
  }
  async function profileView(view, key, seq) {
    add(view, el('p', {}, el('a', { href: '#/profiles', text: '‹ profiles' })));
    const d = await api('/api/v1/profiles/' + encodeURIComponent(key));
    if (seq !== viewSeq) return;
    add(view, el('h1', { id: 'profile-title', text: d.owner || d.image || d.key }),
      el('div', { class: 'card' }, kv([['key', d.key], ['image', d.image], ['digest', d.digest], ['namespace', d.namespace],
        ['mode (central)', d.mode || 'not set'], ['set by', d.mode_set_by], ['items', d.items]])));
    if (isResponder()) {
      const sel = el('select', { id: 'profile-mode' }, MODES.map((m) => el('option', { value: m, text: m })));
      sel.value = d.mode || 'monitoring';
      const status = el('span', { id: 'profile-mode-status', class: 'muted' });
      add(view, el('p', {}, 'Set the mode on every node: ', sel, ' ', el('button', { id: 'profile-mode-set', type: 'button', text: 'Set',
        on: { click: async () => {
          status.textContent = 'setting…';
          try {
            const r = await api('/api/v1/profiles/' + encodeURIComponent(d.kv_key) + '/mode', { method: 'POST', body: { mode: sel.value } });
            status.textContent = 'set to ' + str(r.mode) + ' (revision ' + str(r.revision) + ')';
          } catch (e) { status.textContent = 'Error: ' + e.message; }
        } } }), ' ', status));
    }
    add(view, el('h2', { text: 'Nodes' }), el('table', { id: 'profile-nodes' },
      el('tr', {}, ['node', 'mode', 'last message'].map((h) => el('th', { text: h }))),
      (d.nodes || []).map((n) => el('tr', {}, el('td', { text: n.cluster + '/' + n.node }), el('td', { text: n.mode }),
        el('td', { text: fmtTime(new Date(Number(n.last_ns) / 1e6).toISOString()) })))));
    for (const [kind, items] of Object.entries(d.kinds || {})) {
      if (!Array.isArray(items) || !items.length) continue;
      add(view, el('h2', { text: kind + ' (' + items.length + ')' }), el('table', { class: 'profile-items', 'data-kind': kind },
        items.map((it) => el('tr', {}, el('td', { class: 'out', text: it.value }), el('td', { class: 'muted', text: (it.nodes || []).join(', ') })))));
    }
  }

  // ---- admission decisions: GET /api/v1/admissions ----
  async function admissionsView(view, params, seq) {
    const keys = ['cluster', 'node', 'namespace', 'allowed', 'since', 'until'];
    const f = {};
    for (const k of keys) f[k] = params.get(k) || '';
    const cursor = params.get('cursor') || '';
    add(view, el('h1', { text: 'Admission decisions' }),
      filterForm('admission-filters', '#/admissions', [['cluster', 'cluster'], ['node', 'node'], ['namespace', 'namespace'],
        ['allowed', 'decision', ['', 'true', 'false']], ['since', 'since (30m, 2h, UTC time)'], ['until', 'until']], f));
    const page = await api('/api/v1/admissions' + qs(Object.assign({ limit: 50 }, f, { cursor })));
    if (seq !== viewSeq) return;
    add(view, el('table', { id: 'admissions-table' },
      el('thead', {}, el('tr', {}, ['time', 'decision', 'operation', 'kind', 'namespace', 'name', 'user', 'reason', 'reasons', 'policy', 'webhook'].map((h) => el('th', { text: h })))),
      el('tbody', {}, page.admissions.map((x) => el('tr', { class: 'adm-row' + (x.allowed ? '' : ' denied'), 'data-uid': x.uid },
        el('td', { text: fmtTime(x.time) }),
        el('td', {}, el('span', { class: 'badge ' + (x.allowed ? 'ok' : 'failed'), text: x.allowed ? 'allowed' : 'denied' })),
        el('td', { text: x.operation }), el('td', { text: x.kind }), el('td', { text: x.namespace }),
        el('td', { class: 'name', text: x.name }), el('td', { text: x.user }), el('td', { text: x.reason }),
        el('td', { class: 'out reasons', text: x.message }),
        el('td', { class: 'digest', text: str(x.policy_version).slice(0, 19) }),
        el('td', { text: x.cluster + '/' + x.node }))))));
    if (!page.admissions.length) add(view, el('p', { class: 'muted', text: 'No decision yet (vigil admission serve ... --nats).' }));
    add(view, pager('#/admissions', f, page, cursor));
  }

  // ---- service map: GET /api/v1/servicemap ----
  async function mapView(view, seq) {
    add(view, el('h1', { text: 'Service map' }));
    const m = await api('/api/v1/servicemap');
    if (seq !== viewSeq) return;
    const nodes = (m.nodes || []).map((n) => Object.assign({}, n));
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const edges = (m.edges || []).filter((e) => byId.has(e.from) && byId.has(e.to));
    const W = 1000, H = 560;
    // layout: workloads on an inner ring, external peers on an outer one, then a few
    // rounds of a spring model so that talkers come together
    const wl = nodes.filter((n) => n.kind !== 'external'), ex = nodes.filter((n) => n.kind === 'external');
    const ring = (list, rx, ry) => list.forEach((n, i) => {
      const t = (2 * Math.PI * i) / Math.max(1, list.length);
      n.x = W / 2 + rx * Math.cos(t); n.y = H / 2 + ry * Math.sin(t);
    });
    ring(wl, W * 0.22, H * 0.25);
    ring(ex, W * 0.42, H * 0.42);
    for (let it = 0; it < 120; it++) {
      for (const e of edges) {
        const a = byId.get(e.from), b = byId.get(e.to);
        const dx = b.x - a.x, dy = b.y - a.y, d = Math.hypot(dx, dy) || 1, f = (d - 160) * 0.01;
        a.x += (dx / d) * f; a.y += (dy / d) * f; b.x -= (dx / d) * f; b.y -= (dy / d) * f;
      }
      for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) {
        const a = nodes[i], b = nodes[j], dx = b.x - a.x, dy = b.y - a.y, d = Math.hypot(dx, dy) || 1;
        if (d < 90) { const f = (90 - d) * 0.5; a.x -= (dx / d) * f; a.y -= (dy / d) * f; b.x += (dx / d) * f; b.y += (dy / d) * f; }
      }
      for (const n of nodes) { n.x = Math.min(W - 40, Math.max(40, n.x)); n.y = Math.min(H - 30, Math.max(30, n.y)); }
    }
    const maxBytes = Math.max(1, ...edges.map((e) => (e.bytes_out || 0) + (e.bytes_in || 0)));
    const g = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, id: 'map-svg' });
    const edgeEls = edges.map((e) => {
      const a = byId.get(e.from), b = byId.get(e.to);
      const w = 1 + 7 * Math.sqrt(((e.bytes_out || 0) + (e.bytes_in || 0)) / maxBytes);
      const line = svg('line', { class: 'edge', x1: a.x, y1: a.y, x2: b.x, y2: b.y, 'stroke-width': w.toFixed(1), 'data-from': e.from, 'data-to': e.to },
        svg('title', { text: str(e.proto) + '/' + str(e.port) + ': ' + e.connections + ' connections, ' + e.bytes_out + ' B out, ' + e.bytes_in + ' B in' }));
      g.appendChild(line);
      return { e, line };
    });
    const details = el('div', { class: 'card', id: 'map-details' }, el('span', { class: 'muted', text: 'Select a node.' }));
    let selected = null;
    for (const n of nodes) {
      const cls = 'node ' + (n.kind === 'external' ? 'external' : 'workload') + (n.alerts > 0 ? ' alerting' : '');
      const r = 10 + Math.min(12, Math.sqrt(n.alerts || 0) * 2);
      const grp = svg('g', { class: cls, transform: 'translate(' + n.x + ',' + n.y + ')', 'data-id': n.id, tabindex: 0 },
        svg('circle', { r }),
        svg('text', { y: r + 13, 'text-anchor': 'middle', text: n.label || n.id }),
        n.alerts > 0 ? svg('text', { class: 'alerts', y: 4, 'text-anchor': 'middle', text: n.alerts }) : null,
        svg('title', { text: (n.label || n.id) + (n.alerts ? ' — ' + n.alerts + ' alerts' : '') }));
      n.el = grp;
      // drag to move; click to select
      let drag = null;
      grp.addEventListener('pointerdown', (ev) => { drag = { x: ev.clientX, y: ev.clientY, moved: false }; grp.setPointerCapture(ev.pointerId); });
      grp.addEventListener('pointermove', (ev) => {
        if (!drag) return;
        const box = g.getBoundingClientRect(), s = W / box.width;
        n.x += (ev.clientX - drag.x) * s; n.y += (ev.clientY - drag.y) * s;
        drag.x = ev.clientX; drag.y = ev.clientY; drag.moved = true;
        grp.setAttribute('transform', 'translate(' + n.x + ',' + n.y + ')');
        for (const { e, line } of edgeEls) {
          if (e.from === n.id) { line.setAttribute('x1', n.x); line.setAttribute('y1', n.y); }
          if (e.to === n.id) { line.setAttribute('x2', n.x); line.setAttribute('y2', n.y); }
        }
      });
      grp.addEventListener('pointerup', () => { const moved = drag && drag.moved; drag = null; if (!moved) select(n); });
      g.appendChild(grp);
    }
    function select(n) {
      if (selected) selected.el.classList.remove('selected');
      selected = n;
      n.el.classList.add('selected');
      for (const { e, line } of edgeEls) line.classList.toggle('hot', e.from === n.id || e.to === n.id);
      clear(details);
      const links = edges.filter((e) => e.from === n.id || e.to === n.id);
      add(details, el('h2', { text: n.label || n.id }),
        kv([['kind', n.kind], ['cluster', n.cluster], ['node', n.node], ['namespace', n.namespace], ['pod', n.pod], ['container', n.container], ['alerts', n.alerts]]),
        n.alerts > 0 && n.kind !== 'external'
          ? el('p', {}, el('a', { id: 'map-alerts-link', href: '#/alerts' + qs({ cluster: n.cluster, node: n.node, container: n.container || n.pod || '' }), text: 'its alerts ›' })) : null,
        el('table', {}, el('tr', {}, ['peer', 'proto/port', 'connections', 'bytes out', 'bytes in'].map((h) => el('th', { text: h }))),
          links.map((e) => el('tr', {}, [e.from === n.id ? '→ ' + str((byId.get(e.to) || {}).label || e.to) : '← ' + str((byId.get(e.from) || {}).label || e.from),
            str(e.proto) + '/' + str(e.port), e.connections, e.bytes_out, e.bytes_in].map((v) => el('td', { text: str(v) }))))));
    }
    add(view, el('div', { id: 'map' }, g), details,
      el('p', { class: 'muted', text: nodes.length + ' nodes, ' + edges.length + ' edges; edge width by bytes; red: nodes with alerts; drag to move, click for details.' }));
  }

  // ---- start ----
  function init() {
    $('login-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const t = $('token').value.trim();
      $('login-error').textContent = '';
      try {
        await login(t);
        showApp();
        if (!location.hash || location.hash === '#/') location.hash = '#/alerts';
        else route();
      } catch (e) {
        showLogin(e.status === 401 ? 'This token is not valid on this hub.' : 'Cannot log in: ' + e.message);
      }
    });
    $('logout').addEventListener('click', () => logout('Logged out.'));
    window.addEventListener('hashchange', route);
    if (token()) {
      api('/api/v1/whoami').then((w) => { me = w; showApp(); route(); }).catch(() => showLogin(''));
    } else showLogin('');
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
