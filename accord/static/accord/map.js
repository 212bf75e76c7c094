/* The common operating picture (desk/map.html): everything current from GET /api/v1/map.geojson over the bundled
 * member outlines (no tile server). Markers that fall close together on screen are drawn as one numbered cluster
 * (click or zoom in to separate them). Every marker is focusable: Tab reaches it, Enter opens its popup (a single
 * item) or zooms in (a cluster); the list beside the map follows its bounds and is the other way to every item.
 * Text from the data is always set as text, never parsed as HTML. Sets data-ready="true" on the map element when
 * the data is drawn (the browser tests wait for it). */
(function () {
  "use strict";

  var SCO_BOUNDS = [[6, 22], [72, 142]];
  var OUTLINE_STYLE = { color: "#8795a5", weight: 1, fillColor: "#fbf8f1", fillOpacity: 1 };
  var SEVERITY_COLOURS = { Extreme: "#8a1c1c", Severe: "#c0392b", Moderate: "#b36b00", Minor: "#1e6b34", Unknown: "#5b6775" };
  var KIND_COLOURS = { incident: "#5e35b1", signal: "#00727d", deployment: "#1f5fa8" };
  var CELL = 44; // px: markers closer than this on screen are clustered

  function colour(props) {
    if (props.kind === "alert") return SEVERITY_COLOURS[props.severity] || SEVERITY_COLOURS.Unknown;
    return KIND_COLOURS[props.kind] || "#1d2733";
  }

  function query(form, base) {
    var params = new URLSearchParams();
    var kinds = [];
    form.querySelectorAll("input[name=kind]").forEach(function (box) { if (box.checked) kinds.push(box.value); });
    if (kinds.length && kinds.length < 4) params.set("kind", kinds.join(","));
    ["severity", "member", "hazard"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.value.trim()) params.set(name, field.value.trim());
    });
    var days = form.elements.days && form.elements.days.value;
    if (days) {
      var since = new Date(Date.now() - Number(days) * 86400000);
      params.set("since", since.toISOString().replace(/\.\d+Z$/, "Z"));
    }
    var text = params.toString();
    return { url: base + (text ? "?" + text : ""), none: kinds.length === 0 };
  }

  function ready() {
    var element = document.getElementById("cop-map");
    var form = document.querySelector("[data-map-filters]");
    if (!element || !form || typeof L === "undefined") return;
    var labels = element.dataset;
    var list = document.querySelector("[data-cop-list]");
    var count = document.querySelector("[data-cop-count]");
    var empty = document.querySelector("[data-cop-empty]");
    var failed = document.querySelector("[data-cop-error]");
    var link = document.querySelector("[data-geojson-link]");
    var map = L.map(element, { zoomSnap: 0.25, minZoom: 1, maxZoom: 12 });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth · Leaflet");
    map.createPane("outlines");
    map.getPane("outlines").style.zIndex = 350;
    map.fitBounds(SCO_BOUNDS);
    var areas = L.layerGroup().addTo(map);
    var markers = L.layerGroup().addTo(map);
    var features = [];

    function describe(props) {
      var parts = [labels["label" + props.kind.charAt(0).toUpperCase() + props.kind.slice(1)] || props.kind];
      if (props.kind === "alert") parts.push(props.severity_label || props.severity);
      if (props.kind === "incident") parts.push(labels.labelLevel + " " + props.level);
      if (props.member) parts.push(props.member);
      return parts.join(" · ");
    }

    function itemLink(props) {
      var a = document.createElement("a");
      a.href = props.url;
      var title = document.createElement("bdi");
      title.textContent = props.title || props.record;
      a.appendChild(title);
      return a;
    }

    function popup(props) {
      var box = document.createElement("div");
      box.appendChild(itemLink(props));
      var meta = document.createElement("div");
      meta.textContent = describe(props);
      box.appendChild(meta);
      return box;
    }

    function anchor(feature) {
      if (feature.geometry.type === "Point") {
        return L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]);
      }
      return L.geoJSON(feature).getBounds().getCenter();
    }

    function drawMarkers() {
      markers.clearLayers();
      var cells = {};
      features.forEach(function (feature) {
        var point = map.latLngToLayerPoint(feature.anchor);
        var key = Math.floor(point.x / CELL) + ":" + Math.floor(point.y / CELL);
        (cells[key] = cells[key] || []).push(feature);
      });
      Object.keys(cells).forEach(function (key) {
        var group = cells[key];
        if (group.length === 1) {
          // A focusable dot (Tab reaches it, Enter opens its popup), named by its title and kind in words.
          var props = group[0].properties;
          var size = props.kind === "incident" ? 22 : 18;
          var dot = L.divIcon({ className: "cop-dot cop-dot-" + props.kind, html: "", iconSize: [size, size] });
          var single = L.marker(group[0].anchor, { icon: dot, keyboard: true, title: describe(props) });
          single.on("add", function () {
            var node = single.getElement();
            if (!node) return;
            node.style.backgroundColor = colour(props);
            node.setAttribute("aria-label", (props.title || props.record) + " · " + describe(props));
          });
          single.bindPopup(popup(props)).addTo(markers);
          return;
        }
        var bounds = L.latLngBounds(group.map(function (f) { return f.anchor; }));
        var icon = L.divIcon({ className: "cop-cluster", html: "", iconSize: [34, 34] });
        var marker = L.marker(bounds.getCenter(), { icon: icon, keyboard: true, title: group.length + " " + labels.labelCluster });
        marker.on("add", function () {
          var node = marker.getElement();
          if (!node) return;
          node.textContent = String(group.length);
          node.setAttribute("aria-label", group.length + " " + labels.labelCluster);
        });
        marker.on("click", function () {
          if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
            map.setView(bounds.getCenter(), Math.min(map.getZoom() + 3, map.getMaxZoom()));
          } else {
            map.fitBounds(bounds.pad(0.3));
          }
        });
        marker.addTo(markers);
      });
    }

    function drawList() {
      var bounds = map.getBounds();
      list.textContent = "";
      var shown = 0;
      features.forEach(function (feature) {
        if (!bounds.contains(feature.anchor)) return;
        shown += 1;
        var li = document.createElement("li");
        li.className = "cop-item cop-" + feature.properties.kind;
        var mark = document.createElement("span");
        mark.className = "legend-mark legend-" + feature.properties.kind + " sev-" + String(feature.properties.severity || "").toLowerCase();
        mark.setAttribute("aria-hidden", "true");
        li.appendChild(mark);
        li.appendChild(itemLink(feature.properties));
        var meta = document.createElement("span");
        meta.className = "cop-meta";
        meta.textContent = describe(feature.properties);
        li.appendChild(meta);
        list.appendChild(li);
      });
      count.textContent = "(" + shown + ")";
      empty.hidden = shown > 0;
    }

    function redraw() {
      drawMarkers();
      drawList();
    }

    function load() {
      var asked = query(form, element.dataset.api);
      if (link) link.href = asked.url;
      element.dataset.ready = "false";
      failed.hidden = true;
      var answer = asked.none
        ? Promise.resolve({ features: [] })
        : fetch(asked.url, { credentials: "same-origin", headers: { Accept: "application/geo+json, application/json" } })
          .then(function (response) {
            if (!response.ok) throw new Error("map: HTTP " + response.status);
            return response.json();
          });
      return answer.then(function (data) {
        areas.clearLayers();
        features = (data.features || []).map(function (feature) {
          feature.anchor = anchor(feature);
          if (feature.properties.kind === "alert" && feature.geometry.type !== "Point") {
            var c = colour(feature.properties);
            L.geoJSON(feature, { style: { color: c, weight: 2, fillColor: c, fillOpacity: 0.15 }, interactive: false }).addTo(areas);
          }
          return feature;
        });
        redraw();
        element.dataset.ready = "true";
      }).catch(function () {
        failed.hidden = false;
        element.dataset.ready = "error";
      });
    }

    fetch(element.dataset.outlines, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        L.geoJSON(data, { pane: "outlines", style: OUTLINE_STYLE, interactive: false }).addTo(map);
      })
      .catch(function () { /* the markers still show without the outlines */ })
      .then(load);
    map.on("zoomend moveend", redraw);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      load();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
