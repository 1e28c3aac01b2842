/* coopgraph: the cooperation map, our own equirectangular SVG projection (no tiles,
 * nothing fetched but /api/network.json).
 *
 * Markers: one circle per located place (a duty station, or the seat/territory of
 * actors), sized by the actors there; lines: partnership ties between actors in different
 * places; diamonds: offers (employment ties) at their duty station. Sets data-markers,
 * data-lines and data-offers on the SVG once drawn (tests read them).
 */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var svg = document.getElementById("map");
  if (!svg) { return; }
  var status = document.getElementById("map-status");
  var unlocated = document.getElementById("map-unlocated");
  var lang = svg.getAttribute("data-lang") || "fr";
  var W = 1000, H = 700, M = 40;

  function el(name, attrs, parent) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }
  function label(d) { return d["label_" + lang] || d.label || d.id; }
  function slug(iri) { var s = iri.split("/").pop(); return s.charAt(0).toUpperCase() + s.slice(1); }
  function say(fr, en) { if (status) { status.textContent = lang === "fr" ? fr : en; } }
  function go(href) { if (href) { window.location.assign(href); } }

  function draw(data) {
    var byId = {}, places = {};
    data.nodes.forEach(function (d) { byId[d.id] = d; });
    data.nodes.forEach(function (d) {
      if (d.lat === undefined || d.long === undefined || !d.location) { return; }
      var p = places[d.location];
      if (!p) {
        var own = byId[d.location];
        p = places[d.location] = { id: d.location, lat: d.lat, long: d.long, actors: [],
          name: own ? label(own) : slug(d.location), href: d.location_href || (own && own.href) };
      }
      if (d.id !== d.location) { p.actors.push(d); }
    });
    var list = Object.keys(places).map(function (k) { return places[k]; });
    if (!list.length) { say("Aucun lieu localisé.", "No located place."); return; }

    // equirectangular projection fitted to the located places, x scaled by cos(mid-latitude)
    var lat0 = Math.min.apply(null, list.map(function (p) { return p.lat; })) - 1.5;
    var lat1 = Math.max.apply(null, list.map(function (p) { return p.lat; })) + 1.5;
    var lon0 = Math.min.apply(null, list.map(function (p) { return p.long; })) - 2;
    var lon1 = Math.max.apply(null, list.map(function (p) { return p.long; })) + 2;
    var c = Math.cos((lat0 + lat1) / 2 * Math.PI / 180);
    var s = Math.min((W - 2 * M) / ((lon1 - lon0) * c), (H - 2 * M) / (lat1 - lat0));
    var ox = (W - (lon1 - lon0) * c * s) / 2, oy = (H - (lat1 - lat0) * s) / 2;
    function x(lon) { return ox + (lon - lon0) * c * s; }
    function y(lat) { return oy + (lat1 - lat) * s; }

    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    var grid = el("g", { "class": "graticule-layer" }, svg);
    var span = Math.max(lat1 - lat0, lon1 - lon0), step = span > 40 ? 10 : span > 16 ? 5 : span > 6 ? 2 : 1;
    for (var lo = Math.ceil(lon0 / step) * step; lo <= lon1; lo += step) {
      el("line", { "class": "graticule", x1: x(lo), y1: y(lat1), x2: x(lo), y2: y(lat0) }, grid);
      el("text", { "class": "graticule-label", x: x(lo) + 2, y: H - 6 }, grid).textContent = lo + "°";
    }
    for (var la = Math.ceil(lat0 / step) * step; la <= lat1; la += step) {
      el("line", { "class": "graticule", x1: x(lon0), y1: y(la), x2: x(lon1), y2: y(la) }, grid);
      el("text", { "class": "graticule-label", x: 4, y: y(la) - 2 }, grid).textContent = la + "°";
    }

    // partnership lines between places (aggregated per pair of places)
    var lineLayer = el("g", { "class": "lines" }, svg), pairs = {};
    data.links.forEach(function (l) {
      if (l.type !== "partnership") { return; }
      var a = byId[l.source], b = byId[l.target];
      if (!a || !b || !a.location || !b.location || a.location === b.location) { return; }
      if (!places[a.location] || !places[b.location]) { return; }
      var key = [a.location, b.location].sort().join(" ");
      if (!pairs[key]) { pairs[key] = { a: places[a.location], b: places[b.location], ties: [] }; }
      pairs[key].ties.push(label(a) + " — " + label(b) + (l.via_label ? " (" + l.via_label + ")" : ""));
    });
    var lines = Object.keys(pairs).map(function (k) { return pairs[k]; });
    lines.forEach(function (p) {
      var line = el("line", { "class": "map-line", x1: x(p.a.long), y1: y(p.a.lat), x2: x(p.b.long),
        y2: y(p.b.lat), "stroke-width": Math.min(1.5 + p.ties.length, 7) }, lineLayer);
      el("title", {}, line).textContent = p.a.name + " — " + p.b.name + "\n• " + p.ties.join("\n• ");
    });

    // place markers
    var markerLayer = el("g", { "class": "markers" }, svg);
    list.sort(function (a, b) { return b.actors.length - a.actors.length || (a.id < b.id ? -1 : 1); });
    var labels = [];
    list.forEach(function (p) {
      var r = 5 + Math.min(Math.sqrt(p.actors.length) * 3, 14);
      var dot = el("circle", { "class": "marker" + (p.actors.length ? "" : " place-only"), r: r,
        cx: x(p.long), cy: y(p.lat), "data-iri": p.id }, markerLayer);
      el("title", {}, dot).textContent = p.name + (p.actors.length ? "\n• " +
        p.actors.map(label).join("\n• ") : "");
      dot.addEventListener("click", function () { go(p.href); });
      // label unless it would overprint the label of a busier place (drawn first)
      var lx = x(p.long) + r + 3, ly = y(p.lat) + 4;
      var clash = labels.some(function (q) { return Math.abs(q[1] - ly) < 13 && Math.abs(q[0] - lx) < 90; });
      if (!clash) {
        labels.push([lx, ly]);
        el("text", { "class": "marker-label", x: lx, y: ly }, markerLayer).textContent = p.name;
      }
    });

    // offers at their duty stations
    var offerLayer = el("g", { "class": "offers" }, svg), offers = 0, perPlace = {}, missing = [];
    data.links.forEach(function (l) {
      if (l.type !== "employment") { return; }
      var place = byId[l.target];
      var where = place && place.location && places[place.location];
      if (!where) { missing.push((l.via_label || l.via || "?") + " → " + (place ? label(place) : l.target)); return; }
      var n = perPlace[where.id] = (perPlace[where.id] || 0) + 1;
      var cx = x(where.long) - 4 - 12 * n, cy = y(where.lat) - 14;
      var d = "M" + cx + " " + (cy - 7) + "L" + (cx + 7) + " " + cy + "L" + cx + " " + (cy + 7) + "L" + (cx - 7) + " " + cy + "Z";
      var shape = el("path", { "class": "offer", d: d, "data-iri": l.via || "" }, offerLayer);
      el("title", {}, shape).textContent = (lang === "fr" ? "Offre : " : "Offer: ") + (l.via_label || l.via) +
        "\n" + (place ? label(place) : "") + (l.end ? " (→ " + l.end + ")" : "");
      shape.addEventListener("click", function () { go(l.via_href); });
      offers += 1;
    });
    if (unlocated) {
      missing.forEach(function (text) {
        var li = document.createElement("li");
        li.textContent = (lang === "fr" ? "Offre sans coordonnées : " : "Offer without coordinates: ") + text;
        unlocated.appendChild(li);
      });
    }

    svg.setAttribute("data-markers", String(list.length));
    svg.setAttribute("data-lines", String(lines.length));
    svg.setAttribute("data-offers", String(offers));
    say(list.length + " lieux, " + lines.length + " liaisons, " + offers + " offres" + (data.asOf ? " (au " + data.asOf + ")" : ""),
        list.length + " places, " + lines.length + " links, " + offers + " offers" + (data.asOf ? " (as of " + data.asOf + ")" : ""));
  }

  fetch(svg.getAttribute("data-src"), { headers: { Accept: "application/json" } })
    .then(function (r) { if (!r.ok) { throw new Error("HTTP " + r.status); } return r.json(); })
    .then(draw)
    .catch(function (err) {
      svg.setAttribute("data-error", String(err));
      say("La carte n'a pas pu être chargée : " + err, "The map could not be loaded: " + err);
    });
}());
