"use strict";
// Keeps the server-rendered page current from the event stream (or, where
// EventSource is missing, by polling the status JSON), and redraws the
// listener graphs from the history JSON.
(function () {
  var $ = function (s, el) { return (el || document).querySelector(s); };
  var $$ = function (s, el) { return Array.prototype.slice.call((el || document).querySelectorAll(s)); };
  var mbps = function (bps) { return (bps / 1e6).toFixed(1); };
  var set = function (el, text) { if (el && el.textContent !== String(text)) el.textContent = text; };
  var playing = function () { return $$("audio").some(function (a) { return !a.paused; }); };

  function show(st) {
    var shown = $$("article.mount").map(function (a) { return a.dataset.mount; });
    var mounts = st.mounts.map(function (m) { return m.path; });
    var nodes = st.nodes.map(function (n) { return n.name; });
    var shownNodes = $$("tr[data-node]").map(function (r) { return r.dataset.node; });
    if ((shown.join() !== mounts.join() || shownNodes.join() !== nodes.join()) && !playing()) {
      location.reload(); // mounts or nodes came or went
      return;
    }
    set($("#listeners"), st.listeners);
    set($("#peak"), st.peak_today);
    set($("#bandwidth"), mbps(st.bandwidth_bps));
    set($("#nodes-up"), st.nodes_up);
    set($("#nodes"), st.nodes.length);
    set($("#master"), st.master || "none elected");
    set($("#generated"), new Date(st.generated_at).toLocaleString());
    st.mounts.forEach(function (m) {
      var a = $('article.mount[data-mount="' + CSS.escape(m.path) + '"]');
      if (!a) return;
      set($(".title", a), m.title || "");
      var s = $(".state", a);
      s.className = "state " + (m.live ? "ok" : "bad");
      set(s, m.live ? "live" : "off air");
      set($(".bitrate", a), m.bitrate_kbps ? m.bitrate_kbps + " kbit/s" : "");
      set($(".listeners", a), m.listeners);
      set($(".peak", a), m.peak_today);
      set($(".pernode", a), (m.per_node || []).map(function (n) { return n.node + ": " + n.listeners; }).join(", "));
    });
    st.nodes.forEach(function (n) {
      var r = $('tr[data-node="' + CSS.escape(n.name) + '"]');
      if (!r) return;
      set($(".listeners", r), n.listeners);
      set($(".bandwidth", r), mbps(n.bandwidth_bps));
    });
  }

  // spark draws what html.go's sparkPoints draws.
  function spark(points, mount) {
    if (!points.length) return "";
    var v = function (p) { return mount ? (p.mounts || {})[mount] || 0 : p.total; };
    var peak = Math.max.apply(null, [1].concat(points.map(v)));
    var t0 = points[0].t, span = Math.max(points[points.length - 1].t - t0, 1);
    return points.map(function (p) {
      return ((p.t - t0) * 300 / span).toFixed(1) + "," + (40 - v(p) * 38 / peak - 1).toFixed(1);
    }).join(" ");
  }

  function history() {
    fetch("/_history.json").then(function (r) { return r.json(); }).then(function (h) {
      $$("svg.spark").forEach(function (svg) {
        $("polyline", svg).setAttribute("points", spark(h.points, svg.dataset.mount));
      });
    }).catch(function () {});
  }

  if (window.EventSource) {
    new EventSource("/_events").addEventListener("status", function (e) { show(JSON.parse(e.data)); });
  } else {
    setInterval(function () {
      fetch("/_status.json").then(function (r) { return r.json(); }).then(show).catch(function () {});
    }, 5000);
  }
  var every = Math.min(Math.max(Number(document.body.dataset.interval) || 60, 1), 60);
  setInterval(history, every * 1000);
})();
