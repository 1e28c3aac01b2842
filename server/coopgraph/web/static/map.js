/* coopgraph: the cooperation map with Leaflet over an offline Natural Earth base map
 * (world-atlas countries, public domain), all vendored under static/vendor.
 *
 * Draws every place with coordinates (/api/map.json), clustered where they crowd; each
 * offer at its duty station (or the place it lies in, or its country's centre on the base
 * map); partnership ties (/api/network.json) as lines between the actors' places; popups
 * with links. With ?asOf=, offers not valid on that date are left out and offers whose
 * dates are missing are shown as "undated". data-places / data-offers / data-lines /
 * data-countries are set on the container once drawn (tests read them).
 * Written for coopgraph (Apache-2.0); server data is only set as textContent.
 */
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || !window.L || !window.topojson) { return; }
  var L = window.L;
  var data = box.dataset;
  var lang = data.lang || "fr";
  var status = document.getElementById("map-status");
  var unlocated = document.getElementById("map-unlocated");
  var i18n = window.coopgraphI18n;
  var _ = i18n.gettext, ngettext = i18n.ngettext, fill = i18n.fill;
  function label(d) { return d["label_" + lang] || d.label || d.id; }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function link(text, href) {
    return href ? el("a", text, { href: href + (href.indexOf("?") < 0 ? "?lang=" + lang : "") }) : el("span", text);
  }
  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " → HTTP " + r.status); }
      return r.json();
    });
  }

  var map = L.map(box, { zoomSnap: 0.5, minZoom: 2, maxZoom: 12, worldCopyJump: true });
  map.setView([42, 3], 4);
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Natural Earth (public domain) · Leaflet");
  window.coopgraphMap = map;

  function baseMap(atlas) {
    var countries = window.topojson.feature(atlas, atlas.objects.countries);
    var layer = L.geoJSON(countries, {
      interactive: false,
      style: function () { return { className: "cg-land", weight: 0.7 }; }
    }).addTo(map);
    layer.bringToBack();
    box.dataset.countries = String(countries.features.length);
    var centres = {};
    countries.features.forEach(function (f) {
      if (f.properties && f.properties.name) {
        centres[f.properties.name.toLowerCase()] = L.geoJSON(f).getBounds().getCenter();
      }
    });
    return centres;
  }

  function draw(atlas, places, net, undatedShown) {
    var centres = baseMap(atlas);
    var cluster = L.markerClusterGroup({ maxClusterRadius: 40, showCoverageOnHover: false });
    var byPlace = {}, bounds = [];
    places.places.forEach(function (p) { byPlace[p.id] = p; p.actors = []; });
    var byNode = {};
    net.nodes.forEach(function (n) {
      byNode[n.id] = n;
      if (n.location && byPlace[n.location] && n.id !== n.location) { byPlace[n.location].actors.push(n); }
    });

    places.places.forEach(function (p) {
      var icon = L.divIcon({ className: "", iconSize: [14, 14],
        html: "<div class=\"cg-place-marker" + (p.actors.length ? " has-actors" : "") + "\"></div>" });
      var marker = L.marker([p.lat, p.long], { icon: icon, title: p.label, riseOnHover: true });
      var popup = el("div", null, { "class": "cg-popup" });
      var title = el("h3"); title.appendChild(link(p.label, p.href)); popup.appendChild(title);
      if (p.actors.length) {
        popup.appendChild(el("strong", _("Actors")));
        var ul = el("ul");
        p.actors.forEach(function (a) { var li = el("li"); li.appendChild(link(label(a), a.href)); ul.appendChild(li); });
        popup.appendChild(ul);
      }
      marker.bindPopup(popup);
      marker.on("add", function () {
        var dot = marker.getElement() && marker.getElement().firstChild;
        if (dot) { dot.dataset.iri = p.id; }
      });
      cluster.addLayer(marker);
      bounds.push([p.lat, p.long]);
    });

    var shown = 0, undated = 0;
    places.offers.forEach(function (o) {
      var status = o.status || "valid";
      if (status === "expired" || status === "not-yet") { return; }
      if (status === "undated") { undated += 1; if (!undatedShown) { return; } }
      var located = false;
      o.stations.forEach(function (s) {
        var at = s.lat !== undefined ? [s.lat, s.long]
          : (s.country_label_en && centres[s.country_label_en.toLowerCase()]);
        if (!at) { return; }
        located = true;
        var icon = L.divIcon({ className: "", iconSize: [14, 14],
          html: "<div class=\"cg-offer-marker status-" + status + "\"></div>" });
        var marker = L.marker(at, { icon: icon, title: fill(_("Offer: {title}"), { title: o.title }) });
        var popup = el("div", null, { "class": "cg-popup" });
        var title = el("h3"); title.appendChild(link(o.title, o.href)); popup.appendChild(title);
        if (o.employer_label) { popup.appendChild(el("div", fill(_("Employer: {name}"), { name: o.employer_label }))); }
        popup.appendChild(el("div", s.label));
        var when = [];
        if (o.posted) { when.push(fill(_("posted on {date}"), { date: o.posted })); }
        if (o.deadline) { when.push(fill(_("deadline {date}"), { date: o.deadline })); }
        popup.appendChild(el("div", when.join(" · ")));
        if (status === "undated") { popup.appendChild(el("span", _("undated"), { "class": "cg-badge-undated" })); }
        marker.bindPopup(popup);
        marker.on("add", function () {
          var dot = marker.getElement() && marker.getElement().firstChild;
          if (dot) { dot.dataset.iri = o.id; dot.dataset.status = status; }
        });
        cluster.addLayer(marker);
      });
      if (located) { shown += 1; } else {
        unlocated.appendChild(el("li", fill(_("Offer with no place on the map: {title}"), { title: o.title })));
      }
    });

    var lines = 0, pairs = {};
    net.links.forEach(function (l) {
      if (l.type !== "partnership") { return; }
      var a = byNode[l.source], b = byNode[l.target];
      if (!a || !b || a.lat === undefined || b.lat === undefined || a.location === b.location) { return; }
      var key = [a.location, b.location].sort().join(" ");
      if (pairs[key]) { pairs[key].push(label(a) + " — " + label(b)); return; }
      pairs[key] = [label(a) + " — " + label(b)];
      var line = L.polyline([[a.lat, a.long], [b.lat, b.long]], { className: "cg-partnership", weight: 3 });
      line.bindPopup(function () {
        var popup = el("div", null, { "class": "cg-popup" });
        var ul = el("ul");
        pairs[key].forEach(function (t) { ul.appendChild(el("li", t)); });
        popup.appendChild(ul);
        return popup;
      });
      line.addTo(map);
      lines += 1;
    });

    map.addLayer(cluster);
    window.coopgraphCluster = cluster;
    if (bounds.length) { map.fitBounds(bounds, { padding: [30, 30] }); } else { map.setView([30, 0], 2); }
    box.dataset.places = String(places.places.length);
    box.dataset.offers = String(shown);
    box.dataset.undated = String(undated);
    box.dataset.lines = String(lines);
    var text = [
      fill(ngettext("{n} place", "{n} places", places.places.length), { n: places.places.length }),
      fill(ngettext("{n} offer", "{n} offers", shown), { n: shown }),
      fill(ngettext("{n} partnership", "{n} partnerships", lines), { n: lines })
    ].join(", ");
    if (places.asOf) { text += fill(ngettext(" (offers valid on {d}; {n} undated)", " (offers valid on {d}; {n} undated)", undated),
                                  { d: places.asOf, n: undated }); }
    status.textContent = text;
  }

  var undatedBox = document.querySelector("#map-filter input[name=undated]");
  var params = new URLSearchParams(window.location.search);
  undatedBox.checked = params.get("undated") !== "0";
  undatedBox.addEventListener("change", function () {
    var url = new URL(window.location.href);
    if (undatedBox.checked) { url.searchParams.delete("undated"); } else { url.searchParams.set("undated", "0"); }
    window.location.assign(url.href);
  });

  Promise.all([getJSON(data.atlas), getJSON(data.mapSrc), getJSON(data.src)]).then(function (all) {
    draw(all[0], all[1], all[2], undatedBox.checked);
  }).catch(function (err) {
    box.dataset.error = String(err);
    status.textContent = _("The map could not be loaded:") + " " + String(err);
  });
}());
