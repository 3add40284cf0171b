"use strict";
// rnnkit's explorer page. Every number shown here was computed by rnnkit in Python
// (gates(), memory(), explain()) and stored in the JSON block above; this script decodes
// it, draws it and compares hidden states with the search threshold. Nothing else.
(function () {
  const D = JSON.parse(document.getElementById("explorer-data").textContent);
  const S = { seq: 0, layer: 0, pos: 0, unit: 0, output: 0, range: null, threshold: 0.5,
              minUnits: null, picked: [], matches: [] };
  const tier = [];          // per layer: Uint8Array codes [sequence][step][unit]
  const detail = {};        // per sequence: per layer: {tensor: Uint16Array [row][unit]}
  let curves = null;        // Float32Array [output][sequence][step]
  const $ = (id) => document.getElementById(id);
  const STATES = { h: true, c: true };
  const NAMES = { h: "h", c: "c", i: "i", f: "f", c_tilde: "c\u0303", o: "o", z: "z", r: "r",
                  h_tilde: "h\u0303", pre_activation: "x\u00b7W + b + h\u00b7U" };
  const WHAT = { h: "hidden state", c: "cell state", i: "input gate", f: "forget gate",
                 c_tilde: "candidate", o: "output gate", z: "update gate", r: "reset gate",
                 h_tilde: "candidate", pre_activation: "before the activation" };
  const UNSIGNED = { i: true, f: true, o: true, z: true, r: true };

  // ------------------------------------------------------------------ decoding
  function bytesOf(text) {
    const bin = atob(text), out = new Uint8Array(bin.length);
    for (let k = 0; k < bin.length; k++) out[k] = bin.charCodeAt(k);
    return out;
  }
  async function inflate(text) {
    const stream = new Blob([bytesOf(text)]).stream()
      .pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer();
  }
  // Undo the delta coding along time: blocks of rows x width, summed over the rows.
  function undelta(a, blocks, rows, width) {
    for (let b = 0; b < blocks; b++) {
      const base = b * rows * width;
      for (let r = 1; r < rows; r++) {
        const o = base + r * width, p = o - width;
        for (let u = 0; u < width; u++) a[o + u] = a[o + u] + a[p + u];  // wraps, as coded
      }
    }
    return a;
  }
  async function loadTier() {
    for (let l = 0; l < D.layers.length; l++) {
      const a = new Uint8Array(await inflate(D.tier[l]));
      tier.push(undelta(a, D.sequences, D.steps, D.layers[l].units));
    }
  }
  // The hidden states of every sequence: decoded once, after the first view is drawn
  // (that view needs them only when its sequence has no stored gates).
  let tierPromise = null;
  function ensureTier() { tierPromise = tierPromise || loadTier(); return tierPromise; }
  function tierLoaded() { return tier.length === D.layers.length; }
  async function loadDetail(seq) {
    if (detail[seq] || !D.detail[String(seq)]) return detail[seq] || null;
    // one stream: every layer's tensors in order, states with the initial state as row 0
    const all = new Uint16Array(await inflate(D.detail[String(seq)]));
    const out = [];
    let at = 0;
    for (const L of D.layers) {
      const per = {};
      for (const name of L.tensors) {
        const rows = STATES[name] ? D.steps + 1 : D.steps;
        per[name] = undelta(all.subarray(at, at + rows * L.units), 1, rows, L.units);
        at += rows * L.units;
      }
      out.push(per);
    }
    detail[seq] = out;
    return out;
  }
  function hasDetail(seq) { return Object.prototype.hasOwnProperty.call(D.detail, String(seq)); }

  // ------------------------------------------------------------------ values
  const inverse = D.layers.map((L) => { const inv = new Array(L.order.length);
    L.order.forEach((pos, k) => { inv[pos] = k; }); return inv; });
  function decode(code, lo, step) { return code === 0 ? NaN : lo + (code - 1) * step; }
  // The value of a tensor at an input position (row "prev": the state before that step).
  function value(seq, l, name, pos, unit, prev) {
    const L = D.layers[l], k = inverse[l][pos];
    const det = detail[seq];
    if (det) {
      const sc = L.detail_scale[name];
      const row = STATES[name] ? (prev ? k : k + 1) : k;
      return decode(det[l][name][row * L.units + unit], sc.lo[unit], sc.step[unit]);
    }
    if (name === "h" && !prev) return tierValue(seq, l, k, unit);
    return undefined;
  }
  function tierValue(seq, l, k, unit) {   // k: processing step
    const L = D.layers[l];
    const code = tier[l][(seq * D.steps + k) * L.units + unit];
    return decode(code, L.tier.lo[unit], L.tier.step[unit]);
  }
  function fmt(v, digits) {
    if (v === undefined) return "?";
    if (Number.isNaN(v)) return "NaN";
    const d = digits === undefined ? (detail[S.seq] ? 4 : 2) : digits;
    const s = v.toFixed(d);
    return s === "-" + (0).toFixed(d) ? (0).toFixed(d) : s;
  }
  function sci(v) { return v === 0 ? "0" : v.toExponential(2); }
  function labelAt(seq, pos) { return D.labels[seq][pos]; }

  // ------------------------------------------------------------------ layout
  function cellW() { return Math.max(3, Math.min(44, Math.floor(1000 / D.steps))); }
  function cellH(units) { return Math.max(2, Math.min(22, Math.floor(220 / units))); }
  const LEFT = 0;

  function color(name, v, lo, hi) {
    if (Number.isNaN(v)) return [190, 190, 190];
    if (UNSIGNED[name]) {            // 0 .. 1: white to dark teal
      const t = Math.max(0, Math.min(1, v));
      return [255 - 235 * t, 255 - 165 * t, 255 - 145 * t];
    }
    const m = Math.max(Math.abs(lo), Math.abs(hi), 1e-9);
    const t = Math.max(-1, Math.min(1, v / m));
    return t >= 0 ? [255 - 77 * t, 255 - 231 * t, 255 - 212 * t]
                  : [255 + 222 * t, 255 + 153 * t, 255 + 83 * t];
  }

  // ------------------------------------------------------------------ heatmaps
  let maps = [];   // {name, canvas, image, cw, ch}
  let dragStart = null;   // where a range selection on the label strip began
  function tensorRange(L, name) {
    const sc = name === "h" && !detail[S.seq] ? L.tier : L.detail_scale[name];
    let lo = Infinity, hi = -Infinity;
    const levels = name === "h" && !detail[S.seq] ? 254 : 65534;
    for (let u = 0; u < L.units; u++) {
      lo = Math.min(lo, sc.lo[u]); hi = Math.max(hi, sc.lo[u] + levels * sc.step[u]);
    }
    return [lo, hi];
  }
  function buildHeatmaps() {
    const box = $("heatmaps");
    box.textContent = "";
    maps = [];
    const L = D.layers[S.layer], cw = cellW(), ch = cellH(L.units);
    const width = D.steps * cw;
    // the label strip: the time axis, and where a range is selected
    const strip = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    strip.id = "strip";
    strip.setAttribute("width", width);
    strip.setAttribute("height", 20);
    const row = document.createElement("div");
    row.className = "hm";
    const lab = document.createElement("div");
    lab.className = "hm-label";
    lab.textContent = "input (drag to select)";
    row.append(lab, strip);
    box.append(row);
    drawStrip(strip, cw);
    const names = hasDetail(S.seq) ? L.tensors : ["h"];
    for (const name of names) {
      const r = document.createElement("div");
      r.className = "hm";
      const label = document.createElement("div");
      label.className = "hm-label";
      label.innerHTML = "<b></b> ";
      label.firstChild.textContent = NAMES[name];
      label.append(WHAT[name]);
      const canvas = document.createElement("canvas");
      canvas.width = width; canvas.height = L.units * ch;
      canvas.dataset.tensor = name;
      r.append(label, canvas);
      box.append(r);
      // one pixel per cell, scaled up when drawn
      const image = document.createElement("canvas");
      image.width = D.steps; image.height = L.units;
      const ctx = image.getContext("2d"), pixels = ctx.createImageData(D.steps, L.units);
      const [lo, hi] = tensorRange(L, name);
      for (let pos = 0; pos < D.steps; pos++) {
        for (let u = 0; u < L.units; u++) {
          const [cr, cg, cb] = color(name, value(S.seq, S.layer, name, pos, u), lo, hi);
          const o = (u * D.steps + pos) * 4;
          pixels.data[o] = cr; pixels.data[o + 1] = cg; pixels.data[o + 2] = cb;
          pixels.data[o + 3] = 255;
        }
      }
      ctx.putImageData(pixels, 0, 0);
      maps.push({ name, canvas, image, cw, ch });
      canvas.addEventListener("mousemove", (e) => hover(e, name, canvas, cw, ch));
      canvas.addEventListener("mouseleave", () => { $("tooltip").hidden = true; });
      canvas.addEventListener("click", (e) => {
        const [pos, u] = cellAt(e, canvas, cw, ch);
        S.pos = pos; S.unit = u; renderStep(); renderCursor(); renderMemory();
      });
    }
    if (!hasDetail(S.seq)) {
      const p = document.createElement("p");
      p.className = "note warn";
      p.id = "no-detail";
      const have = Object.keys(D.detail).map((k) => D.names[+k]).join(", ");
      p.textContent = "Only the hidden state of this sequence is stored in this page (its size " +
        "budget); gates and cell states are stored for: " + have + ".";
      box.append(p);
    }
    renderCursor();
  }
  function drawStrip(strip, cw) {
    strip.textContent = "";
    const ns = "http://www.w3.org/2000/svg";
    const every = Math.max(1, Math.ceil(10 / cw));
    if (S.range) {
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", S.range[0] * cw); rect.setAttribute("y", 0);
      rect.setAttribute("width", (S.range[1] - S.range[0] + 1) * cw);
      rect.setAttribute("height", 20); rect.setAttribute("fill", "#ffd56a");
      strip.append(rect);
    }
    for (let pos = 0; pos < D.steps; pos += every) {
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", pos * cw + cw / 2); t.setAttribute("y", 14);
      t.setAttribute("text-anchor", "middle");
      const text = labelAt(S.seq, pos);
      t.textContent = text.length > Math.max(1, Math.floor(cw * every / 7))
        ? text.slice(0, Math.max(1, Math.floor(cw * every / 7))) : text;
      strip.append(t);
    }
    const at = (e) => Math.max(0, Math.min(D.steps - 1,
      Math.floor((e.clientX - strip.getBoundingClientRect().left) / cw)));
    strip.onmousedown = (e) => { dragStart = at(e); S.range = [dragStart, dragStart];
                                  drawStrip(strip, cw); e.preventDefault(); };
    strip.onmousemove = (e) => {
      if (dragStart === null) return;
      const p = at(e);
      S.range = [Math.min(dragStart, p), Math.max(dragStart, p)];
      drawStripRect(strip, cw);
    };
    const finish = () => { if (dragStart === null) return; dragStart = null;
                           drawStrip(strip, cw); search(); renderCursor(); };
    strip.onmouseup = finish;
    strip.onmouseleave = finish;
  }
  function drawStripRect(strip, cw) {
    const rect = strip.querySelector("rect");
    if (!rect) { drawStrip(strip, cw); return; }
    rect.setAttribute("x", S.range[0] * cw);
    rect.setAttribute("width", (S.range[1] - S.range[0] + 1) * cw);
  }
  function cellAt(e, canvas, cw, ch) {
    const box = canvas.getBoundingClientRect();
    const L = D.layers[S.layer];
    const pos = Math.max(0, Math.min(D.steps - 1, Math.floor((e.clientX - box.left) / cw)));
    const u = Math.max(0, Math.min(L.units - 1, Math.floor((e.clientY - box.top) / ch)));
    return [pos, u];
  }
  function hover(e, name, canvas, cw, ch) {
    const [pos, u] = cellAt(e, canvas, cw, ch);
    const v = value(S.seq, S.layer, name, pos, u);
    const tip = $("tooltip");
    tip.textContent = NAMES[name] + "  unit " + u + "  position " + pos + " \u2018" +
      labelAt(S.seq, pos) + "\u2019\n= " + fmt(v);
    tip.dataset.value = fmt(v);
    tip.hidden = false;
    tip.style.left = (e.clientX + 14) + "px";
    tip.style.top = (e.clientY + 12) + "px";
  }
  function renderCursor() {
    for (const m of maps) {
      const ctx = m.canvas.getContext("2d");
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(m.image, 0, 0, m.canvas.width, m.canvas.height);
      ctx.strokeStyle = "rgba(0,0,0,0.8)";
      ctx.lineWidth = 1;
      ctx.strokeRect(S.pos * m.cw + 0.5, 0.5, m.cw - 1, m.canvas.height - 1);
      ctx.strokeStyle = "rgba(0,0,0,0.5)";
      ctx.strokeRect(0.5, S.unit * m.ch + 0.5, m.canvas.width - 1, m.ch - 1);
      if (S.range) {   // outlined, so the colours inside stay readable
        ctx.strokeStyle = "rgba(240, 150, 0, 0.95)";
        ctx.lineWidth = 2;
        ctx.strokeRect(S.range[0] * m.cw + 1, 1, (S.range[1] - S.range[0] + 1) * m.cw - 2,
                       m.canvas.height - 2);
        ctx.lineWidth = 1;
        ctx.fillStyle = "rgba(255, 160, 0, 0.9)";
        for (const u of S.picked) ctx.fillRect(0, u * m.ch, 3, m.ch);
      }
    }
  }

  // ------------------------------------------------------------------ one step
  function act(name) {
    return { sigmoid: "\u03c3", hard_sigmoid: "hard_sigmoid", tanh: "tanh" }[name] || name;
  }
  function num(key, v) {
    return '<span class="num" data-v="' + key + '">' + fmt(v) + "</span>";
  }
  // An operand of a product: a negative number in brackets, 0.62·(−0.13).
  function arg(key, v) { return v < 0 ? "(" + num(key, v) + ")" : num(key, v); }
  function line(html, why) {
    return "<div>" + html + (why ? ' <span class="why">' + why + "</span>" : "") + "</div>";
  }
  function renderStep() {
    const L = D.layers[S.layer], seq = S.seq, p = S.pos, u = S.unit;
    $("step-slider").value = p;
    $("unit-input").value = u;
    $("step-label").textContent = p + " \u2018" + labelAt(seq, p) + "\u2019";
    const v = (name, prev) => value(seq, S.layer, name, p, u, prev);
    const k = inverse[S.layer][p];
    const out = [];
    const prevWhere = k === 0 ? "the initial state"
      : "the state after input position " + L.order[k - 1];
    out.push(line("layer " + L.label + " (" + L.cell + (L.cell === "GRU" ? ", reset_after=" +
      (L.reset_after ? "True" : "False") : "") + "), unit " + u + ", input position " + p +
      " \u2018" + labelAt(seq, p) + "\u2019, step " + (k + 1) + " of " + D.steps,
      L.direction === "backward" ? "(this direction reads the sequence backwards)" : ""));
    if (!hasDetail(seq)) {
      out.push(line("h_t = " + num("h", v("h")), "(only h is stored for this sequence)"));
      $("equations").innerHTML = out.join("");
      return;
    }
    const a = act(L.activation), ra = act(L.recurrent_activation);
    const gateNames = L.tensors.filter((n) => !STATES[n]);
    if (gateNames.length && Number.isNaN(v(gateNames[0]))) {
      out.push(line("masked step: the layer skips it and carries its state: h_t = h_{t\u22121} = " +
        num("h", v("h")) + (L.cell === "LSTM" ? ", c_t = c_{t\u22121} = " + num("c", v("c")) : "")));
      $("equations").innerHTML = out.join("");
      return;
    }
    const hp = arg("h_prev", v("h", true));
    if (L.cell === "LSTM") {
      const g = (n, sym, f) => line(sym + "_t = " + f + "(x_t\u00b7W_" + n + " + h_{t\u22121}\u00b7U_" +
        n + " + b_" + n + ") = " + num(n === "c" ? "c_tilde" : n, v(n === "c" ? "c_tilde" : n)));
      out.push(g("i", "i", ra), g("f", "f", ra), g("c", "c\u0303", a), g("o", "o", ra));
      out.push(line("c_t = f_t\u00b7c_{t\u22121} + i_t\u00b7c\u0303_t = " + num("f", v("f")) + "\u00b7" +
        arg("c_prev", v("c", true)) + " + " + num("i", v("i")) +
        "\u00b7" + arg("c_tilde", v("c_tilde")) + ' = <span class="result">' + num("c", v("c")) +
        "</span>", "(c_{t\u22121}: " + prevWhere + ")"));
      out.push(line("h_t = o_t\u00b7" + a + "(c_t) = " + num("o", v("o")) + "\u00b7" + a + "(" +
        num("c", v("c")) + ') = <span class="result">' + num("h", v("h")) + "</span>"));
    } else if (L.cell === "GRU") {
      out.push(line("z_t = " + ra + "(x_t\u00b7W_z + h_{t\u22121}\u00b7U_z + b_z) = " + num("z", v("z"))));
      out.push(line("r_t = " + ra + "(x_t\u00b7W_r + h_{t\u22121}\u00b7U_r + b_r) = " + num("r", v("r"))));
      const cand = L.reset_after
        ? "h\u0303_t = " + a + "(x_t\u00b7W_h + b_h + r_t\u2299(h_{t\u22121}\u00b7U_h + b\u2032_h))"
        : "h\u0303_t = " + a + "(x_t\u00b7W_h + b_h + (r_t\u2299h_{t\u22121})\u00b7U_h)";
      out.push(line(cand + " = " + num("h_tilde", v("h_tilde")),
        L.reset_after ? "(reset_after=True: r scales the recurrent product)"
                      : "(reset_after=False: r scales h before the product)"));
      out.push(line("h_t = z_t\u00b7h_{t\u22121} + (1 \u2212 z_t)\u00b7h\u0303_t = " + num("z", v("z")) +
        "\u00b7" + hp + " + (1 \u2212 " + num("z", v("z")) + ")\u00b7" + arg("h_tilde", v("h_tilde")) +
        ' = <span class="result">' + num("h", v("h")) + "</span>", "(h_{t\u22121}: " + prevWhere + ")"));
    } else {
      out.push(line("h_t = " + a + "(x_t\u00b7W + b + h_{t\u22121}\u00b7U) = " + a + "(" +
        num("pre_activation", v("pre_activation")) + ') = <span class="result">' +
        num("h", v("h")) + "</span>", "(h_{t\u22121} = " + hp + ": " + prevWhere + ")"));
    }
    $("equations").innerHTML = out.join("");
  }

  // ------------------------------------------------------------------ memory
  function renderMemory() {
    const svg = $("memory-chart"), ns = "http://www.w3.org/2000/svg";
    const cw = cellW(), width = D.steps * cw, height = 150, left = 56, top = 8, bottom = 22;
    svg.setAttribute("width", left + width + 10);
    svg.setAttribute("height", height + top + bottom);
    svg.textContent = "";
    const base = (S.output * D.sequences + S.seq) * D.steps;
    const ys = Array.from(curves.subarray(base, base + D.steps));
    const positive = ys.filter((y) => y > 0);
    const hi = Math.max(...positive, 1e-30), lo = Math.max(Math.min(...positive, hi), hi * 1e-8);
    const yOf = (y) => top + height * (1 - (Math.log10(Math.max(y, lo)) - Math.log10(lo)) /
      Math.max(Math.log10(hi) - Math.log10(lo), 1e-9));
    const xOf = (pos) => left + pos * cw + cw / 2;
    const axis = document.createElementNS(ns, "path");
    axis.setAttribute("class", "axis");
    axis.setAttribute("d", "M" + left + " " + top + " V" + (top + height) + " H" + (left + width));
    svg.append(axis);
    for (const [y, text] of [[hi, sci(hi)], [lo, sci(lo)]]) {
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", left - 4); t.setAttribute("y", yOf(y) + 4);
      t.setAttribute("text-anchor", "end"); t.textContent = text;
      svg.append(t);
    }
    const xl = document.createElementNS(ns, "text");
    xl.setAttribute("x", left + width / 2); xl.setAttribute("y", top + height + 16);
    xl.setAttribute("text-anchor", "middle");
    xl.textContent = "input position (log scale: \u2016\u2202y/\u2202x_t\u2016)";
    svg.append(xl);
    const path = document.createElementNS(ns, "path");
    path.setAttribute("class", "curve");
    path.setAttribute("d", ys.map((y, p) => (p ? "L" : "M") + xOf(p).toFixed(1) + " " +
      yOf(y).toFixed(1)).join(" "));
    svg.append(path);
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("class", "marker");
    dot.setAttribute("cx", xOf(S.pos)); dot.setAttribute("cy", yOf(ys[S.pos]));
    dot.setAttribute("r", 4);
    svg.append(dot);
    const y = ys[S.pos];
    $("memory-readout").innerHTML = "influence of input position " + S.pos + " (" +
      (D.steps - 1 - S.pos) + " steps before the end) on " + D.memory.outputs[S.output] +
      ': <b id="memory-value" data-value="' + y.toExponential(6) + '">' + sci(y) +
      "</b>, " + (y / hi).toFixed(3) + " of the largest";
  }

  // ------------------------------------------------------------------ hypothesis search
  function isOn(seq, k, u) { return tierValue(seq, S.layer, k, u) >= S.threshold; }
  function search() {
    if (!tierLoaded()) { ensureTier().then(() => { search(); renderCursor(); }); return; }
    const L = D.layers[S.layer];
    S.picked = []; S.matches = [];
    if (!S.range) { renderSearch(); return; }
    const inv = inverse[S.layer], [a, b] = S.range;
    for (let u = 0; u < L.units; u++) {
      let ok = true;
      for (let p = a; p <= b && ok; p++) ok = isOn(S.seq, inv[p], u);
      if (ok && a > 0) ok = !isOn(S.seq, inv[a - 1], u);
      if (ok && b < D.steps - 1) ok = !isOn(S.seq, inv[b + 1], u);
      if (ok) S.picked.push(u);
    }
    const need = Math.min(S.picked.length, Math.max(1, S.minUnits || S.picked.length));
    $("min-units").max = Math.max(1, S.picked.length);
    $("min-units").value = need;
    if (S.picked.length) {
      for (let seq = 0; seq < D.sequences; seq++) {
        let start = -1;
        for (let p = 0; p <= D.steps; p++) {
          let on = false;
          if (p < D.steps) {
            let count = 0;
            for (const u of S.picked) if (isOn(seq, inv[p], u)) count++;
            on = count >= need;
          }
          if (on && start < 0) start = p;
          if (!on && start >= 0) { S.matches.push([seq, start, p - 1]); start = -1; }
        }
      }
    }
    renderSearch();
  }
  function snippet(seq, a, b) {
    const parts = D.labels[seq].slice(a, b + 1);
    const glue = parts.every((t) => t.length <= 1) ? "" : " ";
    const text = parts.join(glue);
    return text.length > 60 ? text.slice(0, 57) + "\u2026" : text;
  }
  function renderSearch() {
    $("threshold-label").textContent = S.threshold.toFixed(2);
    const list = $("matches");
    list.textContent = "";
    if (!S.range) {
      $("search-summary").textContent = "No range selected.";
      return;
    }
    const [a, b] = S.range;
    const seqs = new Set(S.matches.map((m) => m[0]));
    $("search-summary").innerHTML = "Selected positions " + a + "\u2013" + b + " of " +
      D.names[S.seq] + ' (<code></code>). Units picked (h \u2265 ' + S.threshold.toFixed(2) +
      " over the range, below just before and after): " +
      (S.picked.length ? S.picked.map((u) => '<span class="chip">' + u + "</span>").join("")
                       : "none") + ". " + S.matches.length + " matching ranges in " +
      seqs.size + " sequences.";
    $("search-summary").querySelector("code").textContent = snippet(S.seq, a, b);
    for (const [seq, s, e] of S.matches.slice(0, 500)) {
      const li = document.createElement("li");
      li.dataset.seq = seq; li.dataset.start = s; li.dataset.end = e;
      if (seq === S.seq && s === a && e === b) li.className = "current";
      li.innerHTML = D.names[seq] + ", positions " + s + "\u2013" + e + " <code></code>";
      li.querySelector("code").textContent = snippet(seq, s, e);
      li.addEventListener("click", () => openMatch(seq, s, e));
      list.append(li);
    }
  }
  async function openMatch(seq, s, e) {
    // The range is the match's from the click on, not only once the sequence's detail has
    // loaded: nothing may read the old range against the new sequence in between.
    S.range = [s, e]; S.pos = s;
    await setSequence(seq, false);
    $("time-view").scrollIntoView({ block: "start" });
  }

  // ------------------------------------------------------------------ wiring
  async function setSequence(seq, resetRange = true) {
    S.seq = seq;
    $("seq-select").value = String(seq);
    await loadDetail(seq);
    if (!hasDetail(seq)) await ensureTier();
    if (resetRange) { S.range = null; S.picked = []; S.matches = []; }
    const out = D.outputs[seq];
    $("seq-output").textContent = D.output_note + ": " + out.map((v) => fmt(v, 4)).join(", ");
    buildHeatmaps(); renderStep(); renderMemory(); renderSearch();
  }
  function setLayer(l, draw = true) {
    S.layer = l;
    S.unit = Math.min(S.unit, D.layers[l].units - 1);
    for (const b of $("layer-tabs").children) b.setAttribute("aria-selected", +b.dataset.layer === l);
    $("unit-input").max = D.layers[l].units - 1;
    const L = D.layers[l];
    const lo = Math.min(...L.tier.lo), hi = Math.max(...L.tier.lo.map((v, u) => v + 254 * L.tier.step[u]));
    const th = $("threshold");
    th.min = Math.floor(lo * 100) / 100; th.max = Math.ceil(hi * 100) / 100;
    S.threshold = Math.min(Math.max(S.threshold, +th.min), +th.max);
    th.value = S.threshold;
    $("time-note").textContent = "layer " + L.label + " (" + L.cell + ", " + L.units +
      " units" + (L.direction === "backward" ? "; columns are input positions, this direction " +
      "reads them from the end" : "") + ")";
    if (draw) { buildHeatmaps(); search(); renderStep(); }
  }
  function setup() {
    $("title").textContent = D.title;
    document.title = D.title;
    const kept = Object.keys(D.detail).length;
    $("about").textContent = "Model " + D.model + (D.source ? ", data " + D.source : "") + ": " +
      D.sequences + " sequences of " + D.steps + " steps. Hidden states of every sequence " +
      "stored to \u00b1" + D.tier_error.toPrecision(2) + "; gates and cell states of " + kept +
      " sequence" + (kept === 1 ? "" : "s") + " to \u00b1" + D.detail_error.toPrecision(2) +
      ". Every number comes from rnnkit's gates(), memory() and explain()." +
      (D.skipped.length ? " Not shown: " + D.skipped.join(", ") + "." : "");
    const sel = $("seq-select");
    D.names.forEach((name, k) => {
      const o = document.createElement("option");
      o.value = String(k);
      o.textContent = name + (hasDetail(k) ? "" : " (h only)");
      sel.append(o);
    });
    sel.addEventListener("change", () => setSequence(+sel.value));
    $("seq-prev").addEventListener("click", () => setSequence((S.seq + D.sequences - 1) % D.sequences));
    $("seq-next").addEventListener("click", () => setSequence((S.seq + 1) % D.sequences));
    D.layers.forEach((L, l) => {
      const b = document.createElement("button");
      b.textContent = L.label + " (" + L.cell + ")";
      b.dataset.layer = l;
      b.setAttribute("role", "tab");
      b.addEventListener("click", () => setLayer(l));
      $("layer-tabs").append(b);
    });
    const slider = $("step-slider");
    slider.max = D.steps - 1;
    slider.addEventListener("input", () => { S.pos = +slider.value; renderStep(); renderCursor();
                                             renderMemory(); });
    $("unit-input").addEventListener("input", () => {
      const u = Math.max(0, Math.min(D.layers[S.layer].units - 1, +$("unit-input").value || 0));
      S.unit = u; renderStep(); renderCursor();
    });
    D.memory.outputs.forEach((name, k) => {
      const o = document.createElement("option");
      o.value = String(k); o.textContent = name;
      $("output-select").append(o);
    });
    $("output-select").addEventListener("change", () => { S.output = +$("output-select").value;
                                                         renderMemory(); });
    $("memory-note").textContent = "Gradient norm of " + (D.memory.last_step
      ? "the last step of the output" : "the output") + " with respect to " + D.memory.wrt +
      " at each input position, for this sequence (rnnkit.inspect.memory).";
    $("threshold").addEventListener("input", () => { S.threshold = +$("threshold").value; search(); renderCursor(); });
    $("min-units").addEventListener("input", () => { S.minUnits = +$("min-units").value; search(); });
    $("clear-range").addEventListener("click", () => { S.range = null; buildHeatmaps(); search(); });
    $("formulas").textContent = D.formulas.join("\n");
  }
  async function start() {
    try {
      const times = window.explorerTimings = { start: performance.now() };
      setup();
      curves = new Float32Array(await inflate(D.memory.curves));
      await loadDetail(0);
      times.detail = performance.now();
      setLayer(0, false);
      await setSequence(0);
      times.drawn = performance.now();
      window.explorerReadyMs = performance.now();
      document.body.dataset.ready = "1";
      await ensureTier();        // the search's data: every sequence's hidden states
      window.explorerLoadedMs = times.tier = performance.now();
      document.body.dataset.loaded = "1";
    } catch (error) {
      document.body.dataset.ready = "error";
      const p = document.createElement("p");
      p.className = "warn";
      p.textContent = "The explorer could not start: " + error;
      document.body.prepend(p);
      throw error;
    }
  }
  // For tests and for people: where a cell of a heatmap is on the screen.
  window.explorer = {
    state: S,
    cellCenter(name, pos, unit) {
      const m = maps.find((x) => x.name === name);
      const box = m.canvas.getBoundingClientRect();
      return { x: box.left + pos * m.cw + m.cw / 2, y: box.top + unit * m.ch + m.ch / 2 };
    },
    stripPoint(pos) {
      const box = $("strip").getBoundingClientRect(), cw = cellW();
      return { x: box.left + pos * cw + cw / 2, y: box.top + 10 };
    },
  };
  start();
})();
