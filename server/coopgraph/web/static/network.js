/* coopgraph: the actor network with sigma.js (WebGL), graphology and ForceAtlas2, all
 * vendored under static/vendor/sigma (nothing fetched from outside).
 *
 * Reads /api/network.json (the container's data-src, with ?focus=&depth=&limit= passed
 * on; the same cut is applied here too, so the page is right whichever server answers),
 * lays it out with ForceAtlas2, and draws it. Labels are placed by sigma's label grid:
 * they never overlap, appear as you zoom in, best connected nodes first. Hover: the node,
 * its neighbours and their ties stand out, with a tooltip. Search: focus on an actor.
 * Tie-type filters, focus, depth and the number of actors shown live in the URL.
 * The container's data-drawn-nodes / data-drawn-ties / data-visible-links are for tests.
 * Written for coopgraph (Apache-2.0); server data is only set as textContent.
 */
(function () {
  "use strict";
  var box = document.getElementById("network");
  if (!box || !window.Sigma || !window.graphology) { return; }
  var data = box.dataset;
  var lang = data.lang || "fr";
  var status = document.getElementById("network-status");
  var tooltip = document.getElementById("network-tooltip");
  var search = document.getElementById("network-search");
  var names = document.getElementById("network-names");
  var unfocus = document.getElementById("network-unfocus");
  var fa2 = window.graphologyLayoutForceAtlas2 && window.graphologyLayoutForceAtlas2.default;
  var KIND_COLORS = { organisation: "#1d6fb8", programme: "#d17a00", call: "#e0b000", place: "#2a9d4b" };
  var TIE_COLORS = {
    partnership: "#e63946", funding: "#2a9d4b", employment: "#6a4c93", membership: "#1d6fb8",
    suborganisation: "#7d8597", programme: "#d17a00", offer: "#c9184a"
  };
  var i18n = window.coopgraphI18n;
  var _ = i18n.gettext, ngettext = i18n.ngettext;
  var KIND_NAMES = {
    organisation: _("organisation"), programme: _("programme"), call: _("call for projects"), place: _("place")
  };

  var params = new URLSearchParams(window.location.search);
  var hiddenTypes = (params.get("hide") || "").split(",").filter(Boolean);
  var focus = params.get("focus") || "";
  var depth = parseInt(params.get("depth") || data.depth || "1", 10);
  var limit = parseInt(params.has("limit") ? params.get("limit") : (data.limit || "0"), 10);
  var graph, renderer, hovered = null, neighbours = null, totalNodes = 0;

  var fill = i18n.fill;
  function label(d) { return d["label_" + lang] || d.label || d.id; }

  function keepInUrl() {
    var url = new URL(window.location.href);
    [["focus", focus], ["depth", focus ? String(depth) : ""], ["limit", focus ? "" : String(limit)],
     ["hide", hiddenTypes.join(",")]].forEach(function (kv) {
      if (kv[1]) { url.searchParams.set(kv[0], kv[1]); } else { url.searchParams.delete(kv[0]); }
    });
    window.history.replaceState(null, "", url.href);
    unfocus.hidden = !focus;
  }

  /* The focus neighbourhood (breadth-first, `depth` steps) or the top-N by weighted degree. */
  function cut(json) {
    var nodes = json.nodes, links = json.links;
    totalNodes = (json.total && json.total.nodes) || nodes.length;  // the server may have cut already
    var keep = null;
    if (focus) {
      var adjacent = {};
      links.forEach(function (l) {
        (adjacent[l.source] = adjacent[l.source] || []).push(l.target);
        (adjacent[l.target] = adjacent[l.target] || []).push(l.source);
      });
      keep = {}; keep[focus] = true;
      var frontier = [focus];
      for (var step = 0; step < depth; step += 1) {
        var next = [];
        frontier.forEach(function (n) {
          (adjacent[n] || []).forEach(function (m) { if (!keep[m]) { keep[m] = true; next.push(m); } });
        });
        frontier = next;
      }
    } else if (limit > 0 && nodes.length > limit) {
      keep = {};
      nodes.slice().sort(function (a, b) {
        return (b.weighted_degree || 0) - (a.weighted_degree || 0) || (a.id < b.id ? -1 : 1);
      }).slice(0, limit).forEach(function (n) { keep[n.id] = true; });
    }
    if (!keep) { return json; }
    return {
      nodes: nodes.filter(function (n) { return keep[n.id]; }),
      links: links.filter(function (l) { return keep[l.source] && keep[l.target]; })
    };
  }

  /* A fixed start (a circle, ordered by id) so that the same data gives the same picture. */
  function build(json) {
    var g = new window.graphology.MultiUndirectedGraph();
    var nodes = json.nodes.slice().sort(function (a, b) { return a.id < b.id ? -1 : 1; });
    var maxDegree = 1;
    nodes.forEach(function (n) { maxDegree = Math.max(maxDegree, n.weighted_degree || 0); });
    nodes.forEach(function (n, i) {
      var angle = 2 * Math.PI * i / Math.max(nodes.length, 1);
      g.addNode(n.id, {
        x: Math.cos(angle) * 100, y: Math.sin(angle) * 100,
        size: 4 + 14 * Math.sqrt((n.weighted_degree || 0) / maxDegree),
        label: label(n), color: KIND_COLORS[n.kind] || "#999", data: n
      });
    });
    json.links.forEach(function (l) {
      if (!g.hasNode(l.source) || !g.hasNode(l.target)) { return; }
      g.addEdgeWithKey(l.id + "|" + l.source + "|" + l.target, l.source, l.target, {
        type: "line", tie: l.type, color: TIE_COLORS[l.type] || "#aaa", size: 1.5, data: l
      });
    });
    if (fa2 && g.order > 1) {
      var settings = fa2.inferSettings(g);
      settings.barnesHutOptimize = g.order > 500;
      settings.adjustSizes = g.order <= 500;
      fa2.assign(g, { iterations: g.order > 2000 ? 100 : 300, settings: settings });
    }
    return g;
  }

  function nodeReducer(node, attrs) {
    var out = Object.assign({}, attrs);
    if (hovered && node !== hovered && !neighbours[node]) {
      out.color = "#d9dde5"; out.label = ""; out.zIndex = 0;
    } else if (hovered) {
      out.highlighted = node === hovered; out.forceLabel = true; out.zIndex = 1;
    }
    if (focus && node === focus) { out.highlighted = true; out.forceLabel = true; }
    return out;
  }

  function edgeReducer(edge, attrs) {
    var out = Object.assign({}, attrs);
    if (hiddenTypes.indexOf(attrs.tie) >= 0) { out.hidden = true; return out; }
    if (hovered && graph.extremities(edge).indexOf(hovered) < 0) { out.hidden = true; }
    else if (hovered) { out.size = 3; }
    return out;
  }

  function countVisible() {
    var visible = 0;
    graph.forEachEdge(function (e, a) { if (hiddenTypes.indexOf(a.tie) < 0) { visible += 1; } });
    box.dataset.visibleLinks = String(visible);
  }

  function showTooltip(node, event) {
    var d = graph.getNodeAttribute(node, "data");
    var title = document.createElement("strong");
    title.textContent = label(d);
    var facts = document.createElement("dl");
    [[_("type"), KIND_NAMES[d.kind] || d.category || d.kind], [_("ties"), String(graph.degree(node))],
     [_("betweenness"), d.betweenness !== undefined ? String(d.betweenness) : ""]].forEach(function (kv) {
      if (!kv[1]) { return; }
      var dt = document.createElement("dt"); dt.textContent = kv[0];
      var dd = document.createElement("dd"); dd.textContent = kv[1];
      facts.append(dt, dd);
    });
    tooltip.replaceChildren(title, facts);
    tooltip.hidden = false;
    tooltip.style.left = (event.x + 14) + "px";
    tooltip.style.top = (event.y + 14) + "px";
    tooltip.dataset.node = node;
  }

  function setHover(node, event) {
    hovered = node;
    neighbours = {};
    if (node) {
      graph.forEachNeighbor(node, function (m) { neighbours[m] = true; });
      showTooltip(node, event);
    } else {
      tooltip.hidden = true;
    }
    box.dataset.hovered = node || "";
    renderer.refresh({ skipIndexation: true });
  }

  function findNode(text) {
    var needle = text.trim().toLowerCase();
    if (!needle) { return null; }
    var exact = null, partial = null;
    graphNodes.forEach(function (n) {
      var names = [label(n), n.label || "", n.id].map(function (s) { return s.toLowerCase(); });
      if (names.indexOf(needle) >= 0) { exact = exact || n.id; }
      else if (names.some(function (s) { return s.indexOf(needle) >= 0; })) { partial = partial || n.id; }
    });
    return exact || partial;
  }

  var graphNodes = [];
  var fullData = null;

  function draw() {
    var json = cut(fullData);
    if (renderer) { renderer.kill(); }
    graph = build(json);
    renderer = new window.Sigma(graph, box, {
      nodeReducer: nodeReducer,
      edgeReducer: edgeReducer,
      labelDensity: 0.8,
      labelGridCellSize: 90,
      labelRenderedSizeThreshold: 7,
      labelFont: "system-ui, sans-serif",
      zIndex: true
    });
    renderer.on("enterNode", function (e) { setHover(e.node, e.event); });
    renderer.on("leaveNode", function () { setHover(null); });
    renderer.on("clickNode", function (e) {
      var d = graph.getNodeAttribute(e.node, "data");
      if (d.href) { window.location.href = d.href + (d.href.indexOf("?") < 0 ? "?lang=" + lang : ""); }
    });
    window.coopgraphNetwork = { graph: graph, renderer: renderer };
    box.dataset.drawnNodes = String(graph.order);
    box.dataset.drawnTies = String(graph.size);
    box.dataset.focus = focus;
    countVisible();
    var text = fill(ngettext("{n} actor", "{n} actors", graph.order), { n: graph.order }) + " · " +
      fill(ngettext("{n} tie", "{n} ties", graph.size), { n: graph.size });
    if (focus && graph.hasNode(focus)) {
      text = fill(_("Neighbourhood of {label} (depth {d})"), { label: graph.getNodeAttribute(focus, "label"), d: depth }) + " — " + text;
    } else if (graph.order < totalNodes) {
      text += fill(ngettext(" (the best connected of {m}; search an actor to see its neighbourhood)",
                          " (the {n} best connected of {m}; search an actor to see its neighbourhood)",
                          graph.order), { n: graph.order, m: totalNodes });
    }
    status.textContent = text;
    keepInUrl();
  }

  function load() {
    var src = new URL(data.src, window.location.href);
    if (focus) { src.searchParams.set("focus", focus); src.searchParams.set("depth", String(depth)); }
    else if (limit > 0) { src.searchParams.set("limit", String(limit)); }
    return fetch(src.href, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(r.status + " " + r.statusText); }
      return r.json();
    }).then(function (json) {
      fullData = json;
      graphNodes = json.nodes;
      if (!names.childElementCount || !focus) {
        names.replaceChildren.apply(names, json.nodes.map(function (n) {
          var option = document.createElement("option");
          option.value = label(n);
          return option;
        }));
      }
      draw();
    }).catch(function (err) {
      box.dataset.error = String(err);
      status.textContent = _("The network could not be loaded:") + " " + String(err);
    });
  }

  document.querySelectorAll("#network-filter input[name=type]").forEach(function (input) {
    input.checked = hiddenTypes.indexOf(input.value) < 0;
    input.addEventListener("change", function () {
      hiddenTypes = Array.prototype.filter.call(
        document.querySelectorAll("#network-filter input[name=type]"),
        function (i) { return !i.checked; }
      ).map(function (i) { return i.value; });
      countVisible();
      keepInUrl();
      renderer.refresh({ skipIndexation: true });
    });
  });
  document.getElementById("network-controls").addEventListener("submit", function (event) {
    event.preventDefault();
    var node = findNode(search.value);
    if (!node) { status.textContent = _("No actor matches."); return; }
    focus = node;
    load();
  });
  search.addEventListener("change", function () {
    var node = findNode(search.value);
    if (node && node !== focus) { focus = node; load(); }
  });
  document.getElementById("network-depth").addEventListener("change", function (event) {
    depth = parseInt(event.target.value, 10);
    if (focus) { load(); }
  });
  document.getElementById("network-limit").addEventListener("change", function (event) {
    limit = parseInt(event.target.value, 10);
    focus = "";
    load();
  });
  unfocus.addEventListener("click", function (event) {
    event.preventDefault();
    focus = "";
    search.value = "";
    load();
  });
  load();
}());
