/* coopgraph query page: SPARQL highlighting, running through /sparql, results table,
 * download and share links. Written for coopgraph (Apache-2.0); no dependency.
 * Data from the server or the user is only ever set as textContent, never parsed as HTML. */
(function () {
  "use strict";
  var page = document.getElementById("query-page");
  if (!page) { return; }
  var endpoint = page.dataset.endpoint;
  var idBase = page.dataset.idBase;
  var idRoute = page.dataset.idRoute;
  var textarea = document.getElementById("query");
  var highlight = document.getElementById("highlight");
  var share = document.getElementById("share");
  var form = document.getElementById("query-form");
  var results = document.getElementById("results");
  var status = document.getElementById("status");
  var truncated = document.getElementById("truncated");
  var selectLinks = document.getElementById("downloads-select");
  var graphLinks = document.getElementById("downloads-graph");

  var TOKENS = new RegExp([
    "(#[^\\n]*)",                                   // 1 comment
    "(\"\"\"[\\s\\S]*?\"\"\"|'''[\\s\\S]*?'''|\"(?:[^\"\\\\\\n]|\\\\.)*\"|'(?:[^'\\\\\\n]|\\\\.)*')", // 2 string
    "(<[^<>\"{}|^`\\\\\\s]*>)",                     // 3 IRI
    "([?$][\\w]+)",                                 // 4 variable
    "((?:[A-Za-z][\\w.-]*)?:[\\w.:%-]*)",           // 5 prefixed name
    "\\b(SELECT|ASK|CONSTRUCT|DESCRIBE|WHERE|FROM|NAMED|PREFIX|BASE|OPTIONAL|FILTER|UNION|MINUS|GRAPH|BIND|VALUES|AS|DISTINCT|REDUCED|ORDER|BY|GROUP|HAVING|LIMIT|OFFSET|ASC|DESC|EXISTS|NOT|IN|a)\\b" // 6 keyword
  ].join("|"), "gi");
  var CLASSES = [null, "c-comment", "c-string", "c-iri", "c-var", "c-pname", "c-keyword"];

  function paint() {
    var text = textarea.value;
    var fragment = document.createDocumentFragment();
    var last = 0;
    var match;
    TOKENS.lastIndex = 0;
    while ((match = TOKENS.exec(text)) !== null) {
      if (match[0].length === 0) { TOKENS.lastIndex += 1; continue; }
      if (match.index > last) { fragment.appendChild(document.createTextNode(text.slice(last, match.index))); }
      var span = document.createElement("span");
      for (var i = 1; i < CLASSES.length; i += 1) {
        if (match[i] !== undefined) { span.className = CLASSES[i]; break; }
      }
      span.textContent = match[0];
      fragment.appendChild(span);
      last = match.index + match[0].length;
    }
    fragment.appendChild(document.createTextNode(text.slice(last) + "\n"));
    highlight.replaceChildren(fragment);
    highlight.scrollTop = textarea.scrollTop;
    highlight.scrollLeft = textarea.scrollLeft;
  }

  function updateLinks() {
    var q = encodeURIComponent(textarea.value);
    share.href = page.dataset.page + "?query=" + q;
    document.querySelectorAll("#downloads a[data-format]").forEach(function (a) {
      a.href = endpoint + "?query=" + q + "&format=" + a.dataset.format + "&download=1";
    });
  }

  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri") {
      var a = document.createElement("a");
      a.textContent = term.value;
      if (term.value.indexOf(idBase) === 0) {
        a.href = idRoute + term.value.slice(idBase.length);
      } else if (/^https?:\/\//i.test(term.value)) {
        a.href = term.value;  // only web IRIs become links (never javascript: or data:)
        a.rel = "noopener";
      } else {
        td.textContent = term.value;
        return td;
      }
      td.appendChild(a);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.textContent = term.value;
      var extra = term["xml:lang"] ? "@" + term["xml:lang"] : "";
      if (!extra && term.datatype) { extra = "^^" + term.datatype.split(/[#/]/).pop(); }
      if (extra) {
        var small = document.createElement("small");
        small.textContent = " " + extra;
        td.appendChild(small);
      }
    }
    return td;
  }

  function showTable(data) {
    var table = document.createElement("table");
    table.className = "cg-table";
    if (data.boolean !== undefined) {
      status.textContent = "ASK → " + String(data.boolean);
      return;
    }
    var vars = data.head.vars;
    var head = table.createTHead().insertRow();
    vars.forEach(function (v) {
      var th = document.createElement("th");
      th.textContent = "?" + v;
      head.appendChild(th);
    });
    var body = table.createTBody();
    data.results.bindings.forEach(function (binding) {
      var tr = body.insertRow();
      vars.forEach(function (v) { tr.appendChild(cell(binding[v])); });
    });
    var n = data.results.bindings.length;
    status.textContent = n ? n + " " + page.dataset.textRows : page.dataset.textNoResults;
    results.appendChild(table);
  }

  function showText(text) {
    var pre = document.createElement("pre");
    pre.className = "cg-rdf";
    pre.textContent = text;
    results.appendChild(pre);
    status.textContent = "";
  }

  function run(event) {
    event.preventDefault();
    results.replaceChildren();
    truncated.hidden = true;
    status.textContent = page.dataset.textRunning;
    updateLinks();
    fetch(endpoint, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
        "Accept": "application/sparql-results+json, text/turtle;q=0.9"
      },
      body: new URLSearchParams({ query: textarea.value })
    }).then(function (response) {
      truncated.hidden = response.headers.get("X-Coopgraph-Truncated") !== "true";
      var type = response.headers.get("Content-Type") || "";
      if (!response.ok) {
        return response.json().then(function (err) {
          status.textContent = page.dataset.textError + " " + err.status + " — " + err.error + " : " + err.detail;
        });
      }
      var graph = type.indexOf("json") === -1;
      selectLinks.hidden = graph;
      graphLinks.hidden = !graph;
      return graph ? response.text().then(showText) : response.json().then(showTable);
    }).catch(function (err) {
      status.textContent = page.dataset.textError + " " + String(err);
    });
  }

  document.querySelectorAll("button.cg-load-example").forEach(function (button) {
    button.addEventListener("click", function () {
      textarea.value = button.dataset.query;
      paint();
      updateLinks();
      textarea.focus();
    });
  });
  textarea.addEventListener("input", function () { paint(); updateLinks(); });
  textarea.addEventListener("scroll", function () {
    highlight.scrollTop = textarea.scrollTop;
    highlight.scrollLeft = textarea.scrollLeft;
  });
  form.addEventListener("submit", run);
  paint();
  updateLinks();
}());
