/* coopgraph: the actor network, drawn with our own SVG force layout (no library).
 *
 * Reads the JSON named by the SVG's data-src (/api/network.json), lays it out
 * (deterministic Fruchterman–Reingold), draws one line per (pair, tie type) and one circle
 * per node, then sets data-drawn-nodes / data-drawn-links on the SVG (tests read them).
 * Wheel: zoom; drag background: pan; drag node: move it; click node: its entity page;
 * the tie-type checkboxes hide or show lines.
 */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("network");
  if (!svg) { return; }
  var status = document.getElementById("network-status");
  var lang = svg.getAttribute("data-lang") || "fr";
  var W = 1000, H = 700;

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function say(fr, en) { if (status) { status.textContent = lang === "fr" ? fr : en; } }
  function short(text, n) { return text.length > n ? text.slice(0, n - 1) + "…" : text; }
  function label(d) { return d["label_" + lang] || d.label || d.id; }

  function layout(nodes, pairs) {
    var n = nodes.length, k = Math.sqrt(W * H / Math.max(n, 1)) * 0.7, t = W / 8;
    var index = {};
    nodes.forEach(function (d, i) {
      var a = 2 * Math.PI * i / Math.max(n, 1);
      d.x = W / 2 + W / 3 * Math.cos(a); d.y = H / 2 + H / 3 * Math.sin(a);
      index[d.id] = d;
    });
    var edges = pairs.map(function (p) { return [index[p.a], index[p.b]]; });
    for (var it = 0; it < 350; it++) {
      nodes.forEach(function (d) { d.dx = 0; d.dy = 0; });
      for (var i = 0; i < n; i++) {
        for (var j = i + 1; j < n; j++) {
          var a = nodes[i], b = nodes[j], dx = a.x - b.x, dy = a.y - b.y;
          var dist = Math.max(Math.sqrt(dx * dx + dy * dy), 0.01), f = k * k / dist;
          a.dx += dx / dist * f; a.dy += dy / dist * f; b.dx -= dx / dist * f; b.dy -= dy / dist * f;
        }
      }
      edges.forEach(function (e) {
        var a = e[0], b = e[1], dx = a.x - b.x, dy = a.y - b.y;
        var dist = Math.max(Math.sqrt(dx * dx + dy * dy), 0.01), f = dist * dist / k;
        a.dx -= dx / dist * f; a.dy -= dy / dist * f; b.dx += dx / dist * f; b.dy += dy / dist * f;
      });
      nodes.forEach(function (d) {
        // gravity keeps the components (and lone nodes) together
        d.dx += (W / 2 - d.x) * 0.05 * k / 10; d.dy += (H / 2 - d.y) * 0.05 * k / 10;
        var disp = Math.max(Math.sqrt(d.dx * d.dx + d.dy * d.dy), 0.01);
        d.x += d.dx / disp * Math.min(disp, t); d.y += d.dy / disp * Math.min(disp, t);
      });
      t = Math.max(t * 0.985, 0.5);
    }
    // fit the drawing into the view box, keeping its proportions (room left for labels)
    var x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    nodes.forEach(function (d) {
      x0 = Math.min(x0, d.x); x1 = Math.max(x1, d.x); y0 = Math.min(y0, d.y); y1 = Math.max(y1, d.y);
    });
    var s = Math.min((W - 220) / Math.max(x1 - x0, 1), (H - 60) / Math.max(y1 - y0, 1));
    nodes.forEach(function (d) {
      d.x = 30 + (d.x - x0) * s + (W - 220 - (x1 - x0) * s) / 2;
      d.y = 30 + (d.y - y0) * s + (H - 60 - (y1 - y0) * s) / 2;
    });
  }

  function draw(data) {
    var nodes = data.nodes, byId = {};
    nodes.forEach(function (d) { byId[d.id] = d; });
    // one line per (pair, type); parallel ties of one type thicken it
    var lines = {}, pairs = {};
    data.links.forEach(function (l) {
      var a = l.source < l.target ? l.source : l.target, b = l.source < l.target ? l.target : l.source;
      var key = a + " " + b + " " + l.type;
      if (!lines[key]) { lines[key] = { a: a, b: b, type: l.type, ties: [] }; }
      lines[key].ties.push(l);
      pairs[a + " " + b] = { a: a, b: b };
    });
    layout(nodes, Object.keys(pairs).map(function (k) { return pairs[k]; }));

    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var view = el("g", { id: "network-viewport" }, svg);
    var linkLayer = el("g", { "class": "links" }, view);
    var nodeLayer = el("g", { "class": "nodes" }, view);
    var typeLabel = {};
    data.types.forEach(function (t) { typeLabel[t.name] = t[lang] || t.name; });

    var lineEls = Object.keys(lines).map(function (key) {
      var line = lines[key], a = byId[line.a], b = byId[line.b];
      var node = el("line", {
        "class": "link tie-" + line.type, "data-type": line.type,
        x1: a.x, y1: a.y, x2: b.x, y2: b.y, "stroke-width": Math.min(1.5 + line.ties.length, 6)
      }, linkLayer);
      var text = typeLabel[line.type] + " : " + label(a) + " — " + label(b);
      line.ties.forEach(function (tie) {
        var when = (tie.start || "…") + " → " + (tie.end || "…");
        text += "\n• " + (tie.via_label || typeLabel[tie.type]) + " (" + when + ")";
      });
      el("title", {}, node).textContent = text;
      return { el: node, a: a, b: b };
    });

    nodes.forEach(function (d) {
      var g = el("g", { "class": "node kind-" + (d.kind || "other"), "data-iri": d.id,
                        transform: "translate(" + d.x + "," + d.y + ")" }, nodeLayer);
      var r = 5 + Math.min(Math.sqrt(d.weighted_degree || 0) * 2.2, 14);
      el("circle", { "class": "node", r: r, "data-iri": d.id }, g);
      var text = el("text", { x: r + 3, y: 4 }, g);
      text.textContent = short(label(d), 32);
      el("title", {}, g).textContent = label(d) + " (" + (d.category || d.kind) + ")\n" +
        (lang === "fr" ? "degré " : "degree ") + d.degree + " · " +
        (lang === "fr" ? "intermédiarité " : "betweenness ") + d.betweenness;
      d.g = g;
    });

    // zoom and pan (transform of the viewport group), drag and click nodes
    var zoom = { x: 0, y: 0, k: 1 };
    function apply() { view.setAttribute("transform", "translate(" + zoom.x + "," + zoom.y + ") scale(" + zoom.k + ")"); }
    function point(evt) {
      var p = svg.createSVGPoint(); p.x = evt.clientX; p.y = evt.clientY;
      return p.matrixTransform(svg.getScreenCTM().inverse());
    }
    svg.addEventListener("wheel", function (evt) {
      evt.preventDefault();
      var p = point(evt), k = Math.min(8, Math.max(0.2, zoom.k * Math.exp(-evt.deltaY * 0.0015)));
      zoom.x = p.x - (p.x - zoom.x) * k / zoom.k; zoom.y = p.y - (p.y - zoom.y) * k / zoom.k; zoom.k = k;
      apply();
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (evt) {
      var target = evt.target.closest ? evt.target.closest("g.node") : null;
      var p = point(evt);
      drag = { node: target ? byId[target.getAttribute("data-iri")] : null, start: p, last: p, moved: 0 };
      if (!drag.node) { svg.classList.add("panning"); }
      svg.setPointerCapture(evt.pointerId);
    });
    svg.addEventListener("pointermove", function (evt) {
      if (!drag) { return; }
      var p = point(evt), dx = p.x - drag.last.x, dy = p.y - drag.last.y;
      drag.moved += Math.abs(dx) + Math.abs(dy); drag.last = p;
      if (drag.node) {
        var d = drag.node; d.x += dx / zoom.k; d.y += dy / zoom.k;
        d.g.setAttribute("transform", "translate(" + d.x + "," + d.y + ")");
        lineEls.forEach(function (l) {
          if (l.a === d) { l.el.setAttribute("x1", d.x); l.el.setAttribute("y1", d.y); }
          if (l.b === d) { l.el.setAttribute("x2", d.x); l.el.setAttribute("y2", d.y); }
        });
      } else { zoom.x += dx; zoom.y += dy; apply(); }
    });
    function release() {
      var d = drag && drag.node;
      if (d && drag.moved < 4 && d.href) { window.location.assign(d.href); }
      drag = null; svg.classList.remove("panning");
    }
    svg.addEventListener("pointerup", release);
    svg.addEventListener("pointercancel", function () { drag = null; svg.classList.remove("panning"); });

    // filter by tie type
    function refilter() {
      var shown = {};
      document.querySelectorAll("#network-filter input[name=type]").forEach(function (box) {
        shown[box.value] = box.checked;
      });
      var visible = 0;
      lineEls.forEach(function (l) {
        var on = shown[l.el.getAttribute("data-type")] !== false;
        l.el.classList.toggle("hidden", !on);
        if (on) { visible += 1; }
      });
      svg.setAttribute("data-visible-links", String(visible));
    }
    document.querySelectorAll("#network-filter input[name=type]").forEach(function (box) {
      box.addEventListener("change", refilter);
    });
    refilter();

    svg.setAttribute("data-drawn-nodes", String(nodes.length));
    svg.setAttribute("data-drawn-links", String(lineEls.length));
    svg.setAttribute("data-drawn-ties", String(data.links.length));
    say(nodes.length + " nœuds, " + data.links.length + " liens" + (data.asOf ? " valides le " + data.asOf : ""),
        nodes.length + " nodes, " + data.links.length + " ties" + (data.asOf ? " valid on " + data.asOf : ""));
  }

  fetch(svg.getAttribute("data-src"), { headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(draw)
    .catch(function (err) {
      svg.setAttribute("data-error", String(err));
      say("Le réseau n'a pas pu être chargé : " + err, "The network could not be loaded: " + err);
    });
}());
