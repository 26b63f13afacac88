/* sins site: survey table (filters in the URL, live count, BibTeX export) and copy buttons.
   Catalog strings are only ever placed with textContent, never innerHTML. */
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

  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }

  function parseYears(t) {
    if (!t) return null;
    var m = /^\s*(\d{4})?\s*(-)?\s*(\d{4})?\s*$/.exec(t);
    if (!m || (!m[1] && !m[3]) || (!m[2] && m[3])) return false;
    var a = m[1] ? +m[1] : null, b = m[3] ? +m[3] : (m[2] ? null : a);
    if (a !== null && b !== null && a > b) return false;
    return [a, b];
  }

  function survey(root) {
    var data, papers, tax, state, shown = PAGE, sortCol = "year", sortDir = 1, selected = new Set();
    var body = document.getElementById("survey-body"), count = document.getElementById("survey-count");
    var notice = document.getElementById("survey-notice"), more = document.getElementById("survey-more");
    var boxes = {}; // facet -> {id: checkbox}
    var current = [];

    function readURL() {
      var p = new URLSearchParams(location.search), s = {}, bad = [];
      FACETS.forEach(function (f) {
        var ids = (p.get(f[0]) || "").split(",").map(function (x) { return x.trim(); }).filter(Boolean);
        s[f[0]] = ids.filter(function (id) {
          var ok = Object.prototype.hasOwnProperty.call(tax[f[1]], id);
          if (!ok) bad.push(f[0] + "=" + id);
          return ok;
        });
      });
      s.match = p.get("match") || "all";
      if (s.match !== "all" && s.match !== "any") { bad.push("match=" + s.match); s.match = "all"; }
      s.year = p.get("year") || "";
      if (s.year && parseYears(s.year) === false) { bad.push("year=" + s.year); s.year = ""; }
      s.ev = (p.get("ev") || "").split(",").map(function (x) { return x.trim(); }).filter(Boolean).filter(function (x) {
        var ok = LEVELS.indexOf(x) >= 0; if (!ok) bad.push("ev=" + x); return ok;
      }).sort(function (x, y) { return LEVELS.indexOf(x) - LEVELS.indexOf(y); }).filter(function (x, i, a) { return a.indexOf(x) === i; }).join(",");
      if (p.get("setting")) bad.push("setting=" + p.get("setting") + " (the setting is now two filters: supervision= and input=)");
      s.code = p.get("code") || "";
      if (s.code && s.code !== "1" && s.code !== "0") { bad.push("code=" + s.code); s.code = ""; }
      s.venue = p.get("venue") || "";
      s.q = p.get("q") || "";
      var sort = p.get("sort") || "";
      if (sort) {
        var col = sort.replace(/^-/, "");
        if (["title", "year", "venue", "supervision", "input", "losses", "architecture", "datasets", "code"].indexOf(col) >= 0) { sortCol = col; sortDir = sort[0] === "-" ? -1 : 1; }
        else bad.push("sort=" + sort);
      } else { sortCol = "year"; sortDir = 1; }
      if (bad.length) { notice.hidden = false; notice.textContent = "Ignored unknown filter values: " + bad.join(", "); }
      else { notice.hidden = true; notice.textContent = ""; }
      return s;
    }

    function writeURL(replace) {
      var p = new URLSearchParams();
      FACETS.forEach(function (f) { if (state[f[0]].length) p.set(f[0], state[f[0]].join(",")); });
      if (state.match === "any") p.set("match", "any");
      ["ev", "year", "code", "venue", "q"].forEach(function (k) { if (state[k]) p.set(k, state[k]); });
      if (sortCol !== "year" || sortDir !== 1) p.set("sort", (sortDir < 0 ? "-" : "") + sortCol);
      var qs = p.toString().replace(/%2C/g, ",");
      var url = location.pathname + (qs ? "?" + qs : "");
      if (url === location.pathname + location.search) return;
      if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
    }

    function fromForm() {
      FACETS.forEach(function (f) {
        state[f[0]] = Object.keys(boxes[f[0]]).filter(function (id) { return boxes[f[0]][id].checked; });
      });
      state.match = document.getElementById("f-match").value;
      var y = document.getElementById("f-year").value.trim();
      state.year = parseYears(y) === false ? state.year : y;
      state.ev = document.getElementById("f-ev").value;
      state.code = document.getElementById("f-code").value;
      state.venue = document.getElementById("f-venue").value.trim();
      state.q = document.getElementById("f-q").value.trim();
    }

    function toForm() {
      FACETS.forEach(function (f) {
        Object.keys(boxes[f[0]]).forEach(function (id) { boxes[f[0]][id].checked = state[f[0]].indexOf(id) >= 0; });
        var n = state[f[0]].length, sum = document.getElementById("sum-" + f[0]);
        sum.textContent = f[3] + (n ? " (" + n + ")" : "");
      });
      document.getElementById("f-match").value = state.match;
      document.getElementById("f-year").value = state.year;
      var evSel = document.getElementById("f-ev");
      if (state.ev && !Array.prototype.some.call(evSel.options, function (o) { return o.value === state.ev; })) {
        evSel.appendChild(el("option", state.ev.split(",").map(function (x) { return EV_LABEL[x]; }).join(" or "))).value = state.ev;
      }
      evSel.value = state.ev;
      document.getElementById("f-code").value = state.code;
      document.getElementById("f-venue").value = state.venue;
      document.getElementById("f-q").value = state.q;
    }

    // a loss tag counts for the loss filter only when its evidence is one of the chosen levels (ev=)
    function hasTag(p, id) {
      if (!p._losses.has(id)) return false;
      return !state._levels || state._levels.indexOf(p.evidence[id]) >= 0;
    }

    function matches(p) {
      var s = state, i;
      if (s.loss.length) {
        if (s.match === "all") { for (i = 0; i < s.loss.length; i++) if (!hasTag(p, s.loss[i])) return false; }
        else { for (i = 0; i < s.loss.length; i++) if (hasTag(p, s.loss[i])) break; if (i === s.loss.length) return false; }
      }
      for (i = 0; i < s.exclude.length; i++) if (p._losses.has(s.exclude[i])) return false;
      if (s.supervision.length && s.supervision.indexOf(p.supervision) < 0) return false;
      if (s.input.length && s.input.indexOf(p.input) < 0) return false;
      if (s.architecture.length && !s.architecture.some(function (x) { return p._arch.has(x); })) return false;
      if (s.domain.length && !s.domain.some(function (x) { return p._dom.has(x); })) return false;
      if (s.dataset.length && !s.dataset.some(function (x) { return p._data.has(x); })) return false;
      if (s._years) { if (s._years[0] !== null && p.year < s._years[0]) return false; if (s._years[1] !== null && p.year > s._years[1]) return false; }
      if (s.code === "1" && !p.code) return false;
      if (s.code === "0" && p.code) return false;
      if (s._venue && p._venue.indexOf(s._venue) < 0) return false;
      for (i = 0; i < s._words.length; i++) if (p._hay.indexOf(s._words[i]) < 0) return false;
      return true;
    }

    function sortKey(p) {
      var v = p[sortCol];
      if (sortCol === "code") return p.code ? 0 : 1;
      if (Array.isArray(v)) return v.join(",");
      return typeof v === "string" ? v.toLowerCase() : v;
    }

    function apply() {
      state._years = parseYears(state.year) || null;
      state._levels = state.ev ? state.ev.split(",") : null;
      state._venue = state.venue.toLowerCase();
      state._words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
      current = papers.filter(matches);
      current.sort(function (a, b) {
        var x = sortKey(a), y = sortKey(b);
        if (x < y) return -sortDir; if (x > y) return sortDir;
        return a._i - b._i;
      });
      count.textContent = String(current.length);
      document.querySelectorAll("#survey-table th[data-col]").forEach(function (th) {
        if (th.getAttribute("data-col") === sortCol) th.setAttribute("aria-sort", sortDir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      shown = PAGE;
      render();
    }

    function cellList(ids, group, evidence) {
      var td = el("td");
      ids.forEach(function (id, i) {
        var s = el("span", id, "sins-tag"); s.title = tax[group][id] || id;
        if (evidence) { s.className += " sins-ev-" + evidence[id]; s.title += " (tag read from the " + EV_LABEL[evidence[id]] + ")"; s.setAttribute("data-ev", evidence[id]); }
        td.appendChild(s); if (i < ids.length - 1) td.appendChild(document.createTextNode(" "));
      });
      return td;
    }

    function row(p) {
      var tr = el("tr"), td = el("td"), cb = el("input");
      cb.type = "checkbox"; cb.checked = selected.has(p.key); cb.setAttribute("aria-label", "Select " + p.title);
      cb.addEventListener("change", function () { if (cb.checked) selected.add(p.key); else selected.delete(p.key); document.getElementById("selected-count").textContent = String(selected.size); });
      td.appendChild(cb); tr.appendChild(td);
      td = el("td"); var a = el("a", p.title); a.href = root.getAttribute("data-papers") + encodeURIComponent(p.key) + "/"; td.appendChild(a);
      td.appendChild(el("div", p.authors.join(", "), "sins-authors")); tr.appendChild(td);
      tr.appendChild(el("td", String(p.year))); tr.appendChild(el("td", p.venue)); tr.appendChild(el("td", p.supervision)); tr.appendChild(el("td", p.input));
      if (p.losses.length) tr.appendChild(cellList(p.losses, "losses", p.evidence));
      else tr.appendChild(el("td", "not read yet", "sins-unread")); tr.appendChild(cellList(p.architecture, "architectures")); tr.appendChild(cellList(p.datasets, "datasets"));
      td = el("td");
      if (p.code && /^https?:\/\//.test(p.code)) { a = el("a", "code"); a.href = p.code; a.rel = "noopener"; td.appendChild(a); }
      tr.appendChild(td);
      return tr;
    }

    function render() {
      var frag = document.createDocumentFragment(), n = Math.min(shown, current.length);
      for (var i = 0; i < n; i++) frag.appendChild(row(current[i]));
      body.replaceChildren(frag);
      more.hidden = current.length <= shown;
      more.textContent = "Show more (" + (current.length - n) + " not shown)";
    }

    function download(list, name) {
      var text = list.map(function (p) { return p.bib; }).join("\n");
      var blob = new Blob([text], { type: "application/x-bibtex;charset=utf-8" });
      var a = document.createElement("a"); a.href = URL.createObjectURL(blob); a.download = name;
      document.body.appendChild(a); a.click(); a.remove();
      setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
    }

    function buildFacets() {
      var box = document.getElementById("survey-facets");
      var used = {};
      papers.forEach(function (p) {
        [["losses", p.losses], ["supervision", [p.supervision]], ["inputs", [p.input]], ["architectures", p.architecture], ["domains", p.domains], ["datasets", p.datasets]].forEach(function (g) {
          used[g[0]] = used[g[0]] || {}; g[1].forEach(function (id) { used[g[0]][id] = (used[g[0]][id] || 0) + 1; });
        });
      });
      FACETS.forEach(function (f) {
        var d = el("details", null, "sins-facet"), s = el("summary", f[3]), fs = el("fieldset"), lg = el("legend", f[3]);
        s.id = "sum-" + f[0]; d.appendChild(s); fs.appendChild(lg); boxes[f[0]] = {};
        Object.keys(tax[f[1]]).forEach(function (id) {
          var lab = el("label"), cb = el("input"), n = (used[f[1]] || {})[id] || 0;
          cb.type = "checkbox"; cb.name = f[0]; cb.value = id; cb.id = "f-" + f[0] + "-" + id;
          lab.appendChild(cb); lab.appendChild(document.createTextNode(" " + tax[f[1]][id] + " (" + id + ", " + n + ")"));
          fs.appendChild(lab); boxes[f[0]][id] = cb;
        });
        d.appendChild(fs); box.appendChild(d);
      });
    }

    function changed() { fromForm(); writeURL(false); toForm(); apply(); }

    fetch(root.getAttribute("data-src")).then(function (r) { return r.json(); }).then(function (d) {
      data = d; tax = d.taxonomy;
      papers = d.papers.map(function (p, i) {
        p._i = i; p._losses = new Set(p.losses); p._arch = new Set(p.architecture); p._dom = new Set(p.domains); p._data = new Set(p.datasets);
        p._hay = (p.title + " " + p.authors.join(" ") + " " + p.summary).toLowerCase(); p._venue = p.venue.toLowerCase();
        return p;
      });
      buildFacets();
      state = readURL(); toForm(); apply();
      var form = document.getElementById("survey-form");
      form.addEventListener("change", changed);
      var timer; form.addEventListener("input", function (e) { if (e.target.type === "checkbox") return; clearTimeout(timer); timer = setTimeout(changed, 250); });
      document.getElementById("f-reset").addEventListener("click", function () { history.pushState(null, "", location.pathname); state = readURL(); toForm(); apply(); });
      window.addEventListener("popstate", function () { state = readURL(); toForm(); apply(); });
      more.addEventListener("click", function () { shown += PAGE * 5; render(); });
      document.getElementById("bib-filtered").addEventListener("click", function () { download(current, "sins-filtered.bib"); });
      document.getElementById("bib-selected").addEventListener("click", function () { download(papers.filter(function (p) { return selected.has(p.key); }), "sins-selected.bib"); });
      document.querySelectorAll("#survey-table th[data-col] button").forEach(function (b) {
        b.addEventListener("click", function () {
          var col = b.parentNode.getAttribute("data-col");
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
