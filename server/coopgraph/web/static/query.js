/* coopgraph query page: YASGUI (vendored, static/vendor/yasgui) wired to coopgraph only.
 * Completion comes from /prefixes.json and /completions.json (never prefix.cc or LOV);
 * known prefixes a pasted query uses are declared for it, visibly; syntax errors from the
 * endpoint are shown in words and marked in the editor; shared links are short and run.
 * Written for coopgraph (Apache-2.0). Server data is only set as textContent. */
(function () {
  "use strict";
  var page = document.getElementById("query-page");
  if (!page || !window.Yasgui) { return; }
  var data = page.dataset;
  var endpoint = new URL(data.endpoint, window.location.href).href;
  var addedNotice = document.getElementById("added-prefixes");
  var truncated = document.getElementById("truncated");
  var errorBox = document.getElementById("syntax-error");
  var share = document.getElementById("share");
  var prefixes = {};
  var labelsByIri = {};
  var Yasqe = window.Yasgui.Yasqe;
  var _ = window.coopgraphI18n.gettext;

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) { throw new Error(url + " → " + r.status); }
      return r.json();
    });
  }

  /* Class and property completion from the store, with labels beside the names. */
  function storeCompleter(base, kind) {
    return {
      name: "coopgraph-" + kind,
      bulk: false,
      autoShow: true,
      get: function (yasqe, token) {
        var text = (token && (token.autocompletionString || token.string)) || "";
        return getJSON(data.completions + "?kind=" + kind + "&lang=" + data.lang +
                       "&q=" + encodeURIComponent(text)).then(function (terms) {
          return terms.map(function (term) {
            if (term.label) { labelsByIri[term.iri] = term.label; }
            return term.iri;
          });
        });
      },
      postprocessHints: function (yasqe, hints) {
        hints.forEach(function (hint) {
          var iri = hint.text.charAt(0) === "<" ? hint.text.slice(1, -1) : expand(hint.text);
          var label = labelsByIri[iri];
          hint.displayText = label ? hint.text + " — " + label : hint.text;
        });
        return hints;
      },
      isValidCompletionPosition: Yasqe.Autocompleters[kind].isValidCompletionPosition,
      preProcessToken: Yasqe.Autocompleters[kind].preProcessToken,
      postProcessSuggestion: Yasqe.Autocompleters[kind].postProcessSuggestion
    };
  }

  function expand(name) {
    var i = name.indexOf(":");
    return i >= 0 && prefixes[name.slice(0, i)] ? prefixes[name.slice(0, i)] + name.slice(i + 1) : name;
  }

  /* Prefixes used in the text but not declared (strings, IRIs and comments skipped). */
  var TOKENS = /("""[\s\S]*?"""|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|<[^<>"{}|^`\\\s]*>|#[^\n]*)|(?:^|[\s{(;,.\/|^!])(PREFIX\s+)?([A-Za-z][\w.-]*)?:/gi;
  function missingPrefixes(text) {
    var declared = {}, used = [], m;
    TOKENS.lastIndex = 0;
    while ((m = TOKENS.exec(text)) !== null) {
      if (m[1]) { continue; }
      var name = m[3] || "";
      if (m[2]) { declared[name] = true; } else if (used.indexOf(name) < 0) { used.push(name); }
    }
    return used.filter(function (p) { return !declared[p] && prefixes[p]; });
  }

  function declareMissing(yasqe) {
    var missing = missingPrefixes(yasqe.getValue());
    if (!missing.length) { return; }
    var add = {};
    missing.forEach(function (p) { add[p] = prefixes[p]; });
    yasqe.addPrefixes(add);
    addedNotice.textContent = _("Known prefixes added to the query:") + " " + missing.map(function (p) {
      return "PREFIX " + p + ": <" + prefixes[p] + ">";
    }).join(", ");
    addedNotice.hidden = false;
  }

  /* Known PREFIX lines are left out of shared links: the page declares them again. */
  function shortLink(query) {
    var example = document.querySelector('button.cg-load-example[data-query="' + CSS.escape(query) + '"]');
    var url = new URL(data.page, window.location.href);
    if (example) {
      url.searchParams.set("example", example.dataset.name);
    } else {
      var body = query.split("\n").filter(function (line) {
        var m = /^\s*PREFIX\s+([\w.-]*):\s*<([^>]*)>\s*$/i.exec(line);
        return !(m && prefixes[m[1]] === m[2]);
      }).join("\n").trim();
      url.searchParams.set("query", body);
    }
    url.searchParams.set("lang", data.lang);
    return url.href;
  }

  function downloadLinks(yasqe) {
    var type = yasqe.getQueryType();
    var graph = type === "CONSTRUCT" || type === "DESCRIBE";
    document.getElementById("downloads-select").hidden = graph;
    document.getElementById("downloads-graph").hidden = !graph;
    var q = encodeURIComponent(yasqe.getValue());
    document.querySelectorAll("#downloads a[data-format]").forEach(function (a) {
      a.href = data.endpoint + "?query=" + q + "&format=" + a.dataset.format + "&download=1";
    });
    share.href = shortLink(yasqe.getValue());
  }

  var marks = [];
  function clearError() {
    errorBox.hidden = true;
    errorBox.replaceChildren();
    marks.forEach(function (m) { m.clear(); });
    marks = [];
  }

  function showError(yasqe, body) {
    clearError();
    var title = document.createElement("strong");
    title.textContent = _("SPARQL syntax error.") + " ";
    var detail = document.createElement("span");
    detail.className = "cg-error-detail";
    detail.textContent = body.detail;
    errorBox.append(title, detail);
    if (body.declare) {
      var code = document.createElement("code");
      code.textContent = body.declare;
      errorBox.append(" ", code);
    }
    errorBox.hidden = false;
    if (body.line) {
      var line = body.line - 1;
      var ch = Math.max(0, (body.column || 1) - 1);
      var length = yasqe.getLine(line) ? yasqe.getLine(line).length : 0;
      ch = Math.min(ch, Math.max(0, length - 1));
      marks.push(yasqe.markText({ line: line, ch: ch }, { line: line, ch: Math.max(ch + 1, length) },
                                { className: "cg-error-mark", attributes: { title: body.detail } }));
      errorBox.dataset.line = body.line;
      errorBox.dataset.column = body.column;
    }
  }

  /* Result tables: compact names or labels, the full IRI on hover, local entity links. */
  var pending = {};
  function decorate(root) {
    var wanted = [];
    root.querySelectorAll("a.iri:not([data-cg])").forEach(function (a) {
      var iri = a.getAttribute("href");
      a.dataset.cg = "1";
      a.title = iri;
      if (iri.indexOf(data.idBase) === 0) {
        a.href = data.idRoute + iri.slice(data.idBase.length);
        a.target = "_self";
      } else if (!/^https?:\/\//i.test(iri)) {
        a.removeAttribute("href");
      }
      if (labelsByIri[iri]) { a.textContent = labelsByIri[iri]; }
      else if (!(iri in pending)) { pending[iri] = true; wanted.push(iri); }
    });
    if (!wanted.length) { return; }
    fetch(data.labels + "?lang=" + data.lang, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ iris: wanted.slice(0, 500) })
    }).then(function (r) { return r.ok ? r.json() : {}; }).then(function (found) {
      Object.keys(found).forEach(function (iri) { labelsByIri[iri] = found[iri]; });
      root.querySelectorAll("a.iri[data-cg]").forEach(function (a) {
        if (labelsByIri[a.title]) { a.textContent = labelsByIri[a.title]; }
      });
    });
  }

  function configure(yasgui) {
    var tabs = {};
    function wire(tab) {
      if (!tab || tabs[tab.getId()]) { return; }
      var yasqe = tab.getYasqe();
      var yasr = tab.getYasr();
      if (!yasqe || !yasr) { return; }
      tabs[tab.getId()] = true;
      yasqe.on("change", function () { clearError(); downloadLinks(yasqe); });
      yasqe.on("paste", function () { window.setTimeout(function () { declareMissing(yasqe); }, 0); });
      yasqe.on("queryBefore", function () { clearError(); declareMissing(yasqe); });
      yasqe.on("queryResponse", function (_y, response) {
        if (response instanceof Error) {
          var body = null;
          try { body = JSON.parse(response.message); } catch (ignored) { body = null; }
          if (body && body.detail) { showError(yasqe, body); }
          return;
        }
        var headers = response && response.headers;
        truncated.hidden = !(headers && headers.get && headers.get("X-Coopgraph-Truncated") === "true");
      });
      new MutationObserver(function () { decorate(yasr.resultsEl); })
        .observe(yasr.resultsEl, { childList: true, subtree: true });
      downloadLinks(yasqe);
    }
    wire(yasgui.getTab());
    yasgui.on("tabSelect", function (_y, id) { window.setTimeout(function () { wire(yasgui.getTab(id)); }, 0); });
    yasgui.on("tabAdd", function (_y, id) { window.setTimeout(function () { wire(yasgui.getTab(id)); }, 0); });
    yasgui.on("tabChange", function (_y, tab) { wire(tab); });
    yasgui.on("queryResponse", function (_y, tab) { wire(tab); });
  }

  function openTab(yasgui, name, query, run) {
    var tab = yasgui.addTab(true, { name: name, yasqe: { value: query } });
    tab.show();
    var yasqe = tab.getYasqe();
    if (yasqe) { yasqe.setValue(query); }
    if (run) { tab.query(); }
    return tab;
  }

  /* A YASR view: a bar chart of the first numeric column against the first other one
   * (e.g. ?class and COUNT), up to 50 bars, drawn in SVG with textContent only. */
  var SVG = "http://www.w3.org/2000/svg";
  function ChartPlugin(yasr) { this.yasr = yasr; this.priority = 5; this.label = _("Chart"); }
  function numericColumn(yasr) {
    var vars = yasr.results.getVariables ? yasr.results.getVariables() : [];
    var rows = yasr.results.getBindings ? yasr.results.getBindings() : [];
    if (!rows || !rows.length) { return null; }
    var number = vars.find(function (v) {
      return rows.every(function (r) { return r[v] && r[v].type !== "uri" && r[v].value !== "" && !isNaN(Number(r[v].value)); });
    });
    if (!number) { return null; }
    return { number: number, label: vars.find(function (v) { return v !== number; }) || number, rows: rows };
  }
  ChartPlugin.prototype.canHandleResults = function () {
    return !!(this.yasr.results && numericColumn(this.yasr));
  };
  ChartPlugin.prototype.getIcon = function () {
    var icon = document.createElement("span");
    icon.className = "cg-chart-icon";
    icon.textContent = "▇";
    return icon;
  };
  ChartPlugin.prototype.draw = function () {
    var found = numericColumn(this.yasr);
    var rows = found.rows.slice(0, 50);
    var max = Math.max.apply(null, rows.map(function (r) { return Number(r[found.number].value); }).concat([0])) || 1;
    var height = 22 * rows.length + 10;
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "cg-chart");
    svg.setAttribute("viewBox", "0 0 900 " + height);
    svg.setAttribute("role", "img");
    rows.forEach(function (r, i) {
      var term = r[found.label];
      var name = term ? (labelsByIri[term.value] || compactName(term)) : "";
      var value = Number(r[found.number].value);
      var text = document.createElementNS(SVG, "text");
      text.setAttribute("x", "0"); text.setAttribute("y", String(22 * i + 16));
      text.textContent = name.length > 38 ? name.slice(0, 37) + "…" : name;
      var bar = document.createElementNS(SVG, "rect");
      bar.setAttribute("x", "300"); bar.setAttribute("y", String(22 * i + 4));
      bar.setAttribute("height", "16"); bar.setAttribute("width", String(Math.max(1, 520 * value / max)));
      var title = document.createElementNS(SVG, "title");
      title.textContent = (term ? term.value : "") + " — " + value;
      bar.appendChild(title);
      var figure = document.createElementNS(SVG, "text");
      figure.setAttribute("x", String(306 + 520 * value / max)); figure.setAttribute("y", String(22 * i + 16));
      figure.textContent = String(value);
      svg.append(text, bar, figure);
    });
    this.yasr.resultsEl.appendChild(svg);
  };
  function compactName(term) {
    if (term.type !== "uri") { return term.value; }
    var best = "";
    Object.keys(prefixes).forEach(function (p) {
      if (term.value.indexOf(prefixes[p]) === 0 && prefixes[p].length > (prefixes[best] || "").length) { best = p; }
    });
    return best ? best + ":" + term.value.slice(prefixes[best].length) : term.value;
  }

  /* DataTables asks every cell for its "type", "filter" and "sort" text, and measures every
   * row for column widths, when a table is built; YASR answers through DOMPurify, which
   * took ~10 s for 3,000 rows. That text is only compared, never shown, so the cell's own
   * value is given, and widths come from CSS; what is shown (one page of rows) still goes
   * through YASR's sanitised rendering. */
  function fastTableIndex(Table) {
    if (!Table || !Table.prototype.getColumns) { return; }
    if (Table.defaults && Table.defaults.tableConfig) {
      Table.defaults.tableConfig.autoWidth = false;  // no width pass over every row
    }
    var getColumns = Table.prototype.getColumns;
    Table.prototype.getColumns = function () {
      return getColumns.call(this).map(function (column, i) {
        if (i === 0 || typeof column.render !== "function") { return column; }
        var render = column.render;
        column.render = function (cell, type, row, meta) {
          if (cell && (type === "filter" || type === "sort" || type === "type")) {
            return String(cell.value);
          }
          return render(cell, type, row, meta);
        };
        return column;
      });
    };
  }

  function start(known) {
    prefixes = known;
    // YASQE rethrows a failed request after drawing it: the error is shown, not uncaught.
    var query = Yasqe.prototype.query;
    Yasqe.prototype.query = function () {
      var running = query.apply(this, arguments);
      if (running && running.catch) { running.catch(function () { return null; }); }
      return running;
    };
    window.Yasgui.Yasr.registerPlugin("chart", ChartPlugin);
    fastTableIndex(window.Yasgui.Yasr.plugins.table);
    Yasqe.registerAutocompleter(storeCompleter("class", "class"), false);
    Yasqe.registerAutocompleter(storeCompleter("property", "property"), false);
    window.Yasgui.Tab.prototype.getShareableLink = function () { return shortLink(this.getQuery()); };
    var yasgui = new window.Yasgui(document.getElementById("yasgui"), {
      requestConfig: {
        endpoint: endpoint,
        method: "POST",
        acceptHeaderSelect: "application/sparql-results+json",
        acceptHeaderGraph: "text/turtle",
        acceptHeaderUpdate: "text/plain"
      },
      copyEndpointOnNewTab: true,
      populateFromUrl: false,
      autofocus: true,
      persistenceId: "coopgraph-query",
      endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; }, keys: [] },
      yasqe: {
        value: data.defaultQuery,
        prefixCcApi: data.prefixes,
        autocompleters: ["prefixes", "variables", "coopgraph-class", "coopgraph-property"],
        resizeable: true,
        editorHeight: "18rem"
      },
      yasr: {
        prefixes: known,
        pluginOrder: ["table", "chart", "response"],
        defaultPlugin: "table",
        plugins: { table: { dynamicConfig: { pageSize: 50, compact: true } } }
      }
    });
    window.coopgraphYasgui = yasgui;
    configure(yasgui);
    document.querySelectorAll("button.cg-load-example").forEach(function (button) {
      button.addEventListener("click", function () {
        openTab(yasgui, button.dataset.title, button.dataset.query, false);
      });
    });
    if (data.sharedQuery) {
      var tab = openTab(yasgui, data.sharedName || _("Query"), data.sharedQuery, false);
      declareMissing(tab.getYasqe());
      tab.query();
    }
    page.dataset.ready = "true";
  }

  getJSON(data.prefixes).then(start).catch(function (err) {
    page.dataset.error = String(err);
  });
}());
