/* sins site: the survey table (every filter and the selection in the URL, facet counts that follow the
   filter, clickable tags, downloads) and copy buttons. Catalog strings are only ever placed with
   textContent, never innerHTML. */
(function () {
  "use strict";

  function copyButtons() {
    document.querySelectorAll("button.sins-copy").forEach(function (b) {
      b.addEventListener("click", function () {
        var el = document.getElementById(b.getAttribute("data-copy"));
        if (!el) return;
        var text = el.textContent;
        var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy BibTeX"; }, 1500); };
        if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, function () {});
        else { var r = document.createRange(); r.selectNodeContents(el); var s = getSelection(); s.removeAllRanges(); s.addRange(r); document.execCommand("copy"); done(); }
      });
    });
  }

  // facet: URL parameter, taxonomy group, paper field, legend
  var FACETS = [
    ["loss", "losses", "losses", "Loss terms"],
    ["exclude", "losses", "losses", "Exclude loss terms"],
    ["supervision", "supervision", "supervision", "Trained on"],
    ["input", "inputs", "input", "Test-time input"],
    ["architecture", "architectures", "architecture", "Architecture"],
    ["domain", "domains", "domains", "Domain"],
    ["dataset", "datasets", "datasets", "Dataset"]
  ];
  var PAGE = 100;
  var LEVELS = ["code", "paper", "abstract"];
  var EV_LABEL = { code: "official code", paper: "paper text", abstract: "abstract only" };
  var SORTS = ["title", "year", "venue", "supervision", "losses", "architecture"];
  var YEAR_HELP = "a year or a range: 2019, 2017-2020, 2018- or -2018";

  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
  function list(v) { return (v || "").split(",").map(function (x) { return x.trim(); }).filter(Boolean); }

  function parseYears(t) {
    if (!t) return null;
    var m = /^\s*(\d{4})?\s*(-)?\s*(\d{4})?\s*$/.exec(t);
    if (!m || (!m[1] && !m[3]) || (!m[2] && m[3])) return false;
    var a = m[1] ? +m[1] : null, b = m[3] ? +m[3] : (m[2] ? null : a);
    if (a !== null && b !== null && a > b) return false;
    return [a, b];
  }

  var METRICS = ["abs_rel", "sq_rel", "rmse", "rmse_log", "a1", "a2", "a3", "epe", "d1_all", "d1_noc", "d1_bg", "d1_fg", "bad3"];
  var HIGHER = { a1: 1, a2: 1, a3: 1 };
  var METRIC_LABEL = { abs_rel: "AbsRel", sq_rel: "SqRel", rmse: "RMSE", rmse_log: "RMSE log", a1: "δ<1.25", a2: "δ<1.25²",
    a3: "δ<1.25³", epe: "EPE", d1_all: "D1-all", d1_noc: "D1-noc", d1_bg: "D1-bg", d1_fg: "D1-fg", bad3: "bad 3 px" };

  // one component for two pages: the survey (one item per paper) and a leaderboard (one item per reported
  // result of one protocol, filtered by its paper's facets)
  function survey(root) {
    var RESULTS = root.getAttribute("data-mode") === "results";
    var papers, tax, state, shown = PAGE, sortCol = RESULTS ? (root.getAttribute("data-sort") || "abs_rel") : "year", sortDir = 1, selected = new Set(), byKey = {};
    var body = document.getElementById("survey-body"), count = document.getElementById("survey-count");
    var notice = document.getElementById("survey-notice"), warning = document.getElementById("survey-warning");
    var more = document.getElementById("survey-more"), active = document.getElementById("survey-active");
    var boxes = {}; // facet -> {id: checkbox}
    var labels = {}; // facet -> {id: count span}
    var current = [];

    // ---------------------------------------------------------------- state <-> URL
    function readURL() {
      var p = new URLSearchParams(location.search), s = {}, bad = [];
      FACETS.forEach(function (f) {
        s[f[0]] = list(p.get(f[0])).filter(function (id) {
          var ok = Object.prototype.hasOwnProperty.call(tax[f[1]], id);
          if (!ok) bad.push(f[0] + "=" + id);
          return ok;
        });
      });
      s.match = p.get("match") || "all";
      if (s.match !== "all" && s.match !== "any") { bad.push("match=" + s.match); s.match = "all"; }
      s.ev = list(p.get("ev")).filter(function (x) { var ok = LEVELS.indexOf(x) >= 0; if (!ok) bad.push("ev=" + x); return ok; })
        .sort(function (x, y) { return LEVELS.indexOf(x) - LEVELS.indexOf(y); })
        .filter(function (x, i, a) { return a.indexOf(x) === i; }).join(",");
      if (p.get("setting")) bad.push("setting=" + p.get("setting") + " (the setting is now two filters: supervision= and input=)");
      if (p.get("q")) bad.push("q=" + p.get("q") + " (the survey's text search is text=)");
      s.year = p.get("year") || "";
      s.code = p.get("code") || "";
      if (s.code && s.code !== "1" && s.code !== "0") { bad.push("code=" + s.code); s.code = ""; }
      s.venue = p.get("venue") || "";
      s.text = p.get("text") || "";
      var sort = p.get("sort") || "";
      if (sort) {
        var col = sort.replace(/^-/, "");
        if (SORTS.indexOf(col) >= 0 || (RESULTS && METRICS.indexOf(col) >= 0)) { sortCol = col; sortDir = sort[0] === "-" ? -1 : 1; }
        else bad.push("sort=" + sort);
      } else { sortCol = defaultSort; sortDir = 1; }
      selected = new Set(list(p.get("sel")).filter(function (k) { var ok = !!byKey[k]; if (!ok) bad.push("sel=" + k); return ok; }));
      if (bad.length) { notice.hidden = false; notice.textContent = "Ignored unknown filter values: " + bad.join(", "); }
      else { notice.hidden = true; notice.textContent = ""; }
      return s;
    }

    function query() {
      var p = new URLSearchParams();
      FACETS.forEach(function (f) { if (state[f[0]].length) p.set(f[0], state[f[0]].join(",")); });
      if (state.match === "any") p.set("match", "any");
      ["ev", "year", "code", "venue", "text"].forEach(function (k) { if (state[k]) p.set(k, state[k]); });
      if (sortCol !== defaultSort || sortDir !== 1) p.set("sort", (sortDir < 0 ? "-" : "") + sortCol);
      if (selected.size) p.set("sel", Array.from(selected).sort().join(","));
      return p.toString().replace(/%2C/g, ",");
    }

    function writeURL(replace) {
      var qs = query(), url = location.pathname + (qs ? "?" + qs : "");
      if (url === location.pathname + location.search) return;
      if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
    }

    function fromForm() {
      FACETS.forEach(function (f) {
        state[f[0]] = Object.keys(boxes[f[0]]).filter(function (id) { return boxes[f[0]][id].checked; });
      });
      state.match = document.getElementById("f-match").value;
      state.ev = document.getElementById("f-ev").value;
      state.year = document.getElementById("f-year").value.trim();
      state.code = document.getElementById("f-code").value;
      state.venue = document.getElementById("f-venue").value.trim();
      state.text = document.getElementById("f-text").value.trim();
    }

    function toForm() {
      FACETS.forEach(function (f) {
        Object.keys(boxes[f[0]]).forEach(function (id) { boxes[f[0]][id].checked = state[f[0]].indexOf(id) >= 0; });
        var n = state[f[0]].length;
        document.getElementById("sum-" + f[0]).textContent = f[3] + (n ? " (" + n + " chosen)" : "");
      });
      document.getElementById("f-match").value = state.match;
      var evSel = document.getElementById("f-ev");
      if (state.ev && !Array.prototype.some.call(evSel.options, function (o) { return o.value === state.ev; })) {
        evSel.appendChild(el("option", state.ev.split(",").map(function (x) { return EV_LABEL[x]; }).join(" or "))).value = state.ev;
      }
      evSel.value = state.ev;
      document.getElementById("f-year").value = state.year;
      document.getElementById("f-code").value = state.code;
      document.getElementById("f-venue").value = state.venue;
      document.getElementById("f-text").value = state.text;
    }

    // ---------------------------------------------------------------- matching
    function hasTag(p, id) {
      if (!p._losses.has(id)) return false;
      return !state._levels || state._levels.indexOf(p.evidence[id]) >= 0;
    }

    // one test per facet, so that a facet's counts can leave that facet out
    function tests() {
      var s = state;
      return {
        loss: function (p) {
          if (!s.loss.length) return true;
          if (s.match === "all") return s.loss.every(function (x) { return hasTag(p, x); });
          return s.loss.some(function (x) { return hasTag(p, x); });
        },
        exclude: function (p) { return !s.exclude.some(function (x) { return p._losses.has(x); }); },
        supervision: function (p) { return !s.supervision.length || s.supervision.indexOf(p.supervision) >= 0; },
        input: function (p) { return !s.input.length || s.input.indexOf(p.input) >= 0; },
        architecture: function (p) { return !s.architecture.length || s.architecture.some(function (x) { return p._arch.has(x); }); },
        domain: function (p) { return !s.domain.length || s.domain.some(function (x) { return p._dom.has(x); }); },
        dataset: function (p) { return !s.dataset.length || s.dataset.some(function (x) { return p._data.has(x); }); },
        other: function (p) {
          if (s._years) { if (s._years[0] !== null && p.year < s._years[0]) return false; if (s._years[1] !== null && p.year > s._years[1]) return false; }
          if (s.code === "1" && !p.code) return false;
          if (s.code === "0" && p.code) return false;
          if (s._venue && p._venue.indexOf(s._venue) < 0) return false;
          for (var i = 0; i < s._words.length; i++) if (p._hay.indexOf(s._words[i]) < 0) return false;
          return true;
        }
      };
    }

    function sortKey(p) {
      if (METRICS.indexOf(sortCol) >= 0) {
        var v = p._row.metrics[sortCol];
        return v === undefined ? Infinity : (HIGHER[sortCol] ? -v : v);
      }
      if (sortCol === "losses") return p.losses.join(",");
      if (sortCol === "architecture") return p.architecture.join(",");
      var v = p[sortCol];
      return typeof v === "string" ? v.toLowerCase() : v;
    }

    function warn() {
      var w = [];
      var both = state.loss.filter(function (x) { return state.exclude.indexOf(x) >= 0; });
      if (both.length) w.push(both.join(", ") + (both.length > 1 ? " are" : " is") + " both required and excluded: no paper can match. Remove it from one of the two.");
      var y = parseYears(state.year);
      if (y === false) w.push("Years: '" + state.year + "' is not " + YEAR_HELP + "; the years filter is off until it is.");
      if (state.code === "0" && state.ev === "code") w.push("Loss tags from the official code cannot match papers without code.");
      warning.hidden = !w.length;
      warning.textContent = w.join(" ");
      document.getElementById("f-year").setAttribute("aria-invalid", y === false ? "true" : "false");
    }

    function apply() {
      state._years = parseYears(state.year) || null;
      state._venue = state.venue.toLowerCase();
      state._words = state.text.toLowerCase().split(/\s+/).filter(Boolean);
      state._levels = state.ev ? state.ev.split(",") : null;
      warn();
      var t = tests(), names = Object.keys(t);
      var ok = papers.map(function (p) { var r = {}; names.forEach(function (n) { r[n] = t[n](p); }); return r; });
      current = papers.filter(function (p, i) { return names.every(function (n) { return ok[i][n]; }); });
      current.sort(function (a, b) {
        var x = sortKey(a), y = sortKey(b);
        if (x === Infinity && y === Infinity) return a._i - b._i;
        if (x < y) return -sortDir; if (x > y) return sortDir;
        return a._i - b._i;
      });
      count.textContent = String(current.length);
      facetCounts(ok, names);
      document.querySelectorAll("#survey-table th[data-col]").forEach(function (th) {
        if (th.getAttribute("data-col") === sortCol) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      activeChips();
      shown = PAGE;
      render();
    }

    // counts that follow the filter: each option shows how many papers would match with it, all other facets kept
    function facetCounts(ok, names) {
      FACETS.forEach(function (f) {
        var key = f[0], field = f[2];
        var own = key === "loss" && state.match === "all" ? null : key;
        var base = papers.filter(function (p, i) { return names.every(function (n) { return n === own || ok[i][n]; }); });
        Object.keys(boxes[key]).forEach(function (id) {
          var n;
          if (key === "exclude") n = base.filter(function (p) { return !p._losses.has(id); }).length;
          else if (key === "loss") n = base.filter(function (p) { return hasTag(p, id); }).length;
          else n = base.filter(function (p) { var v = p[field]; return Array.isArray(v) ? v.indexOf(id) >= 0 : v === id; }).length;
          labels[key][id].textContent = String(n);
          boxes[key][id].parentNode.classList.toggle("sins-zero", n === 0);
        });
      });
    }

    function activeChips() {
      active.replaceChildren();
      var items = [];
      FACETS.forEach(function (f) {
        state[f[0]].forEach(function (id) {
          items.push([f[0] === "exclude" ? "not " + id : f[3].replace(/s$/, "") + ": " + id, function () {
            state[f[0]] = state[f[0]].filter(function (x) { return x !== id; });
          }]);
        });
      });
      if (state.match === "any" && state.loss.length > 1) items.push(["any of the loss terms", function () { state.match = "all"; }]);
      if (state.ev) items.push(["tags from " + state.ev.split(",").map(function (x) { return EV_LABEL[x]; }).join(" or "), function () { state.ev = ""; }]);
      if (state.year) items.push(["years " + state.year, function () { state.year = ""; }]);
      if (state.code) items.push([state.code === "1" ? "with code" : "without code", function () { state.code = ""; }]);
      if (state.venue) items.push(["venue " + state.venue, function () { state.venue = ""; }]);
      if (state.text) items.push(["text " + state.text, function () { state.text = ""; }]);
      if (!items.length) { active.hidden = true; return; }
      active.hidden = false;
      active.appendChild(el("span", "Active filters: ", "sins-active-label"));
      items.forEach(function (it) {
        var b = el("button", it[0] + " ×", "sins-chip sins-chip-active");
        b.type = "button"; b.setAttribute("aria-label", "Remove filter " + it[0]);
        b.addEventListener("click", function () { it[1](); toForm(); writeURL(false); apply(); });
        active.appendChild(b);
      });
    }

    // ---------------------------------------------------------------- rows
    function chip(facet, group, id, evidence) {
      var b = el("button", id, "sins-tag sins-chip");
      b.type = "button";
      var name = tax[group][id] || id;
      b.title = name + (evidence ? " (tag read from the " + EV_LABEL[evidence] + ")" : "") + ": click to filter by it" + (facet === "loss" ? ", Shift+click to exclude it" : "");
      if (evidence) { b.className += " sins-ev-" + evidence; b.setAttribute("data-ev", evidence); }
      b.setAttribute("data-facet", facet); b.setAttribute("data-id", id);
      b.addEventListener("click", function (e) {
        var key = facet === "loss" && (e.shiftKey || e.altKey) ? "exclude" : facet;
        if (state[key].indexOf(id) < 0) state[key].push(id);
        if (key === "exclude") state.loss = state.loss.filter(function (x) { return x !== id; });
        toForm(); writeURL(false); apply();
      });
      return b;
    }

    function chips(td, facet, group, ids, evidence) {
      ids.forEach(function (id, i) {
        td.appendChild(chip(facet, group, id, evidence ? evidence[id] : null));
        if (i < ids.length - 1) td.appendChild(document.createTextNode(" "));
      });
    }

    function link(text, href) { var a = el("a", text); a.href = href; a.rel = "noopener"; return a; }

    // as papers print them: three decimals, the stereo outlier rates in per cent
    function fmtMetric(m, v) { return /^(d1|bad)/.test(m) ? (100 * v).toFixed(2) + " %" : v.toFixed(3); }

    function resultRow(p) {
      var r = p._row, tr = el("tr"), td = el("td", null, "c-select"), cb = el("input");
      cb.type = "checkbox"; cb.checked = selected.has(p.key); cb.setAttribute("aria-label", "Select " + p.title + ", " + (r.model || "row"));
      cb.addEventListener("change", function () { if (cb.checked) selected.add(p.key); else selected.delete(p.key); selectionChanged(); });
      td.appendChild(cb); tr.appendChild(td);
      td = el("td", null, "c-paper");
      var a = el("a", p.title, "sins-title"); a.href = root.getAttribute("data-papers") + encodeURIComponent(p.paper) + "/"; td.appendChild(a);
      var meta = el("div", null, "sins-meta");
      meta.appendChild(el("span", (r.model ? r.model + " · " : "") + p.venue + (p.venue.indexOf(String(p.year)) >= 0 ? "" : ", " + p.year)));
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(link("source", r.source));
      meta.appendChild(document.createTextNode(" (" + r.where + ")"));
      td.appendChild(meta);
      tr.appendChild(td);
      metricCols.forEach(function (m) {
        var v = r.metrics[m];
        var c = el("td", v === undefined ? "—" : fmtMetric(m, v), "c-metric");
        if (v !== undefined) c.setAttribute("data-value", String(v));
        c.setAttribute("data-label", METRIC_LABEL[m]);
        tr.appendChild(c);
      });
      td = el("td", null, "c-losses");
      if (p.losses.length) chips(td, "loss", "losses", p.losses, p.evidence);
      else td.appendChild(el("span", "not read yet", "sins-unread"));
      tr.appendChild(td);
      return tr;
    }

    function row(p) {
      if (RESULTS) return resultRow(p);
      var tr = el("tr"), td = el("td", null, "c-select"), cb = el("input");
      cb.type = "checkbox"; cb.checked = selected.has(p.key); cb.setAttribute("aria-label", "Select " + p.title);
      cb.addEventListener("change", function () { if (cb.checked) selected.add(p.key); else selected.delete(p.key); selectionChanged(); });
      td.appendChild(cb); tr.appendChild(td);
      td = el("td", null, "c-paper");
      var a = el("a", p.title, "sins-title"); a.href = root.getAttribute("data-papers") + encodeURIComponent(p.key) + "/"; td.appendChild(a);
      var au = p.authors.length > 4 ? p.authors.slice(0, 3).join(", ") + " et al." : p.authors.join(", ");
      var meta = el("div", null, "sins-meta");
      meta.appendChild(el("span", au, "sins-authors"));
      meta.appendChild(document.createTextNode(" · "));
      meta.appendChild(el("span", p.venue + (p.venue.indexOf(String(p.year)) >= 0 ? "" : ", " + p.year), "sins-venue"));
      var links = [];
      if (p.arxiv) { links.push(link("arXiv", "https://arxiv.org/abs/" + encodeURIComponent(p.arxiv))); links.push(link("PDF", "https://arxiv.org/pdf/" + encodeURIComponent(p.arxiv))); }
      else if (p.doi) links.push(link("DOI", "https://doi.org/" + p.doi));
      else if (p.url && /^https?:\/\//.test(p.url)) links.push(link("page", p.url));
      if (p.code && /^https?:\/\//.test(p.code)) links.push(link("code", p.code));
      links.forEach(function (l) { meta.appendChild(document.createTextNode(" · ")); meta.appendChild(l); });
      td.appendChild(meta);
      var line = el("div", null, "sins-summary-line");
      var sum = el("p", null, "sins-summary sins-clamp"); sum.appendChild(document.createTextNode(p.summary));
      var tog = el("button", "more", "sins-more"); tog.type = "button"; tog.setAttribute("aria-expanded", "false");
      tog.setAttribute("aria-label", "Show the whole summary of " + p.title);
      tog.addEventListener("click", function () {
        var open = sum.classList.toggle("sins-clamp") === false;
        tog.textContent = open ? "less" : "more"; tog.setAttribute("aria-expanded", String(open));
      });
      line.appendChild(sum); line.appendChild(tog);
      td.appendChild(line);
      tr.appendChild(td);
      td = el("td", null, "c-setting");
      td.appendChild(chip("supervision", "supervision", p.supervision)); td.appendChild(document.createTextNode(" "));
      td.appendChild(chip("input", "inputs", p.input));
      tr.appendChild(td);
      td = el("td", null, "c-losses");
      if (p.losses.length) chips(td, "loss", "losses", p.losses, p.evidence);
      else td.appendChild(el("span", "not read yet", "sins-unread"));
      tr.appendChild(td);
      td = el("td", null, "c-more");
      chips(td, "architecture", "architectures", p.architecture);
      if (p.datasets.length) { td.appendChild(el("br")); chips(td, "dataset", "datasets", p.datasets); }
      tr.appendChild(td);
      return tr;
    }

    function render() {
      var frag = document.createDocumentFragment(), n = Math.min(shown, current.length);
      for (var i = 0; i < n; i++) frag.appendChild(row(current[i]));
      body.replaceChildren(frag);
      more.hidden = current.length <= shown;
      more.textContent = "Show more (" + (current.length - n) + " not shown)";
      selectionChanged(true);
    }

    function selectionChanged(quiet) {
      document.getElementById("selected-count").textContent = String(selected.size);
      ["bib-selected", "csv-selected", "json-selected", "select-none"].forEach(function (id) { document.getElementById(id).disabled = !selected.size; });
      if (!quiet) writeURL(true);
    }

    // ---------------------------------------------------------------- downloads
    var COLUMNS = ["key", "title", "authors", "year", "venue", "arxiv", "doi", "url", "code", "supervision", "input", "domains", "architecture", "losses", "evidence", "datasets", "summary"];
    function record(p) {
      var r = {};
      COLUMNS.forEach(function (c) { r[c] = p[c] === undefined ? null : p[c]; });
      if (RESULTS) {
        r.key = p.paper; r.protocol_id = p._row.protocol_id; r.model = p._row.model; r.source = p._row.source; r.where = p._row.where;
        METRICS.forEach(function (m) { r[m] = p._row.metrics[m] === undefined ? null : p._row.metrics[m]; });
      }
      return r;
    }
    function csvCell(v) {
      if (v === null || v === undefined) return "";
      if (Array.isArray(v)) v = v.join(";");
      else if (typeof v === "object") v = Object.keys(v).map(function (k) { return k + "=" + v[k]; }).join(";");
      v = String(v);
      return /[",\n\r]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
    }
    function save(text, type, name) {
      var blob = new Blob([text], { type: type + ";charset=utf-8" });
      var a = document.createElement("a"); a.href = URL.createObjectURL(blob); a.download = name;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    }
    function download(items, kind, which) {
      var name = "sins-" + which + "." + kind;
      var cols = RESULTS ? COLUMNS.concat(["protocol_id", "model", "source", "where"], METRICS) : COLUMNS;
      if (kind === "bib") save(items.filter(function (p, i, a) { return a.findIndex(function (q) { return q.bib === p.bib; }) === i; })
        .map(function (p) { return p.bib; }).join("\n"), "application/x-bibtex", name);
      else if (kind === "json") save(JSON.stringify(items.map(record), null, 1) + "\n", "application/json", name);
      else save([cols.join(",")].concat(items.map(function (p) { var r = record(p); return cols.map(function (c) { return csvCell(r[c]); }).join(","); })).join("\r\n") + "\r\n", "text/csv", name);
    }
    function chosen() { return papers.filter(function (p) { return selected.has(p.key); }); }

    // ---------------------------------------------------------------- facets
    function buildFacets() {
      var box = document.getElementById("survey-facets");
      FACETS.forEach(function (f) {
        var d = el("details", null, "sins-facet"), s = el("summary", f[3]), fs = el("fieldset"), lg = el("legend", f[3]);
        s.id = "sum-" + f[0]; d.appendChild(s); fs.appendChild(lg); boxes[f[0]] = {}; labels[f[0]] = {};
        Object.keys(tax[f[1]]).forEach(function (id) {
          var lab = el("label"), cb = el("input"), n = el("span", "0", "sins-count");
          cb.type = "checkbox"; cb.name = f[0]; cb.value = id; cb.id = "f-" + f[0] + "-" + id;
          lab.appendChild(cb); lab.appendChild(document.createTextNode(" " + tax[f[1]][id] + " (" + id + ") "));
          lab.appendChild(n);
          fs.appendChild(lab); boxes[f[0]][id] = cb; labels[f[0]][id] = n;
        });
        d.appendChild(fs); box.appendChild(d);
      });
    }

    function changed() { fromForm(); writeURL(false); toForm(); apply(); }

    // ---------------------------------------------------------------- scroll kept across a visit to a paper
    var SCROLL = "sins-survey-scroll";
    function rememberScroll() { try { sessionStorage.setItem(SCROLL, JSON.stringify({ url: location.pathname + location.search, y: window.scrollY, shown: shown })); } catch (e) { /* private mode */ } }
    function restoreScroll() {
      try {
        var s = JSON.parse(sessionStorage.getItem(SCROLL) || "null");
        if (s && s.url === location.pathname + location.search && s.y > 0) {
          if (s.shown > shown) { shown = s.shown; render(); }
          window.scrollTo(0, s.y);
        }
      } catch (e) { /* nothing to restore */ }
    }

    var defaultSort = sortCol, metricCols = [];
    var loads = [fetch(root.getAttribute("data-src")).then(function (r) { return r.json(); })];
    if (RESULTS) loads.push(fetch(root.getAttribute("data-results")).then(function (r) { return r.json(); }));
    Promise.all(loads).then(function (got) {
      var d = got[0];
      tax = d.taxonomy;
      var items = d.papers;
      if (RESULTS) {
        var pid = root.getAttribute("data-protocol"), paperOf = {};
        d.papers.forEach(function (p) { paperOf[p.key] = p; });
        items = got[1].rows.filter(function (r) { return r.protocol_id === pid && paperOf[r.key]; }).map(function (r, i) {
          var p = Object.assign({}, paperOf[r.key]);
          p.paper = r.key; p.key = r.key + "#" + i; p._row = r;
          return p;
        });
        metricCols = METRICS.filter(function (m) { return items.some(function (p) { return p._row.metrics[m] !== undefined; }); });
        var head = document.querySelector("#survey-table thead tr");
        var lossTh = head.querySelector("th[data-col=losses]");
        metricCols.forEach(function (m) {
          var th = el("th", null, "c-metric"); th.scope = "col"; th.setAttribute("data-col", m);
          var b = el("button", METRIC_LABEL[m]); b.type = "button";
          b.title = HIGHER[m] ? "higher is better" : "lower is better"; th.appendChild(b);
          head.insertBefore(th, lossTh);
        });
      }
      papers = items.map(function (p, i) {
        p._i = i; p._losses = new Set(p.losses); p._arch = new Set(p.architecture); p._dom = new Set(p.domains); p._data = new Set(p.datasets);
        p._hay = (p.title + " " + p.authors.join(" ") + " " + p.summary).toLowerCase(); p._venue = p.venue.toLowerCase();
        byKey[p.key] = p;
        return p;
      });
      if ("scrollRestoration" in history) history.scrollRestoration = "manual";
      if (window.matchMedia && window.matchMedia("(max-width: 44rem)").matches) document.getElementById("survey-filters").open = false;
      buildFacets();
      state = readURL(); toForm(); apply();
      restoreScroll();
      var form = document.getElementById("survey-form");
      form.addEventListener("change", changed);
      var timer; form.addEventListener("input", function (e) { if (e.target.type === "checkbox") return; clearTimeout(timer); timer = setTimeout(changed, 250); });
      document.getElementById("f-reset").addEventListener("click", function () { selected = new Set(); history.pushState(null, "", location.pathname); state = readURL(); toForm(); apply(); });
      window.addEventListener("popstate", function () { state = readURL(); toForm(); apply(); });
      window.addEventListener("pagehide", rememberScroll);
      document.addEventListener("click", function (e) { if (e.target.closest && e.target.closest("a.sins-title")) rememberScroll(); });
      more.addEventListener("click", function () { shown += PAGE * 5; render(); });
      document.getElementById("select-shown").addEventListener("click", function () { current.forEach(function (p) { selected.add(p.key); }); render(); selectionChanged(); });
      document.getElementById("select-none").addEventListener("click", function () { selected = new Set(); render(); selectionChanged(); });
      ["bib", "csv", "json"].forEach(function (kind) {
        document.getElementById(kind + "-filtered").addEventListener("click", function () { download(current, kind, "filtered"); });
        document.getElementById(kind + "-selected").addEventListener("click", function () { download(chosen(), kind, "selected"); });
      });
      document.querySelectorAll("#survey-table th[data-col] button").forEach(function (b) {
        b.addEventListener("click", function () {
          var col = b.getAttribute("data-sort") || b.parentNode.getAttribute("data-col");
          if (col === sortCol) sortDir = -sortDir; else { sortCol = col; sortDir = 1; }
          writeURL(false); apply();
        });
      });
      root.setAttribute("data-ready", "1");
    }).catch(function (e) { notice.hidden = false; notice.textContent = "Could not load the catalog: " + e; });
  }

  function init() {
    copyButtons();
    // the theme's search dialog has no accessible name
    document.querySelectorAll(".md-search[role=dialog]:not([aria-label])").forEach(function (d) { d.setAttribute("aria-label", "Search"); });
    var root = document.getElementById("survey");
    if (root) survey(root);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
