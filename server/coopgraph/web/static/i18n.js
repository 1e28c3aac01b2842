/* coopgraph: the pages' scripts translate with the server's message catalogues.
 * base.html puts the messages the scripts use, in the visitor's language, on <body
 * data-cg-messages> (JSON: a text per message id, or the plural forms, singular first);
 * Babel extracts the _() / ngettext() calls of static/*.js into the catalogues.
 * Written for coopgraph (Apache-2.0). */
(function () {
  "use strict";
  var body = document.body;
  var messages = {};
  try { messages = JSON.parse(body.dataset.cgMessages || "{}"); } catch (ignored) { messages = {}; }
  var rules = new Intl.PluralRules(body.dataset.cgLang || "fr");
  window.coopgraphI18n = {
    lang: body.dataset.cgLang || "fr",
    gettext: function (text) {
      var found = messages[text];
      return typeof found === "string" ? found : text;
    },
    /* French says "1 ligne", "0 ligne"; English and Dutch "0 rows": the browser's plural
     * rules of the page's language pick the form (one or other, as the catalogues have). */
    ngettext: function (singular, plural, n) {
      var one = rules.select(n) === "one";
      var forms = messages[singular];
      if (Array.isArray(forms) && forms.length) { return forms[one ? 0 : forms.length - 1]; }
      return one ? singular : plural;
    },
    /* "{n} actors" with {n} replaced by values.n */
    fill: function (text, values) {
      return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
    }
  };
}());
