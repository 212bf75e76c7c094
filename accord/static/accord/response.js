/* Accord's incident pages: the incident map and the focus of a form's error summary. Vanilla JavaScript and the
 * bundled Leaflet; no tile server: the base layer is the bundled outline of the SCO member states.
 *
 * The map draws the affected members with dashes, each named region with its bundled outline (through
 * static/accord/regions.js, fetched only when the incident names a region; a region without an outline is a label
 * on its member), and the linked alerts' areas in red. It sets data-ready="true" once drawn (the browser tests wait
 * for it).
 */
(function () {
  "use strict";

  var SCO_BOUNDS = [[6, 22], [72, 142]];
  var OUTLINE_STYLE = { color: "#8795a5", weight: 1, fillColor: "#fbf8f1", fillOpacity: 1 };
  var AFFECTED_STYLE = { color: "#b71c1c", weight: 2, dashArray: "6 4", fillColor: "#e53935", fillOpacity: 0.08 };
  var AREA_STYLE = { color: "#b71c1c", weight: 2, fillColor: "#e53935", fillOpacity: 0.3 };
  var REGION_STYLE = { color: "#b71c1c", weight: 2, fillColor: "#e53935", fillOpacity: 0.15 };

  function label(text) {
    // As text in an isolating element: a string given to Leaflet would be parsed as HTML.
    var element = document.createElement("bdi");
    element.textContent = text;
    return element;
  }

  function incidentMap(element) {
    var data = JSON.parse(document.getElementById("incident-map-data").textContent || "{}") || {};
    var members = data.members || [];
    var regions = data.regions || [];
    var map = L.map(element, { zoomSnap: 0.25, minZoom: 1, maxZoom: 12 });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth · Leaflet");
    map.createPane("outlines");
    map.getPane("outlines").style.zIndex = 350;
    map.fitBounds(SCO_BOUNDS);
    var bounds = null;
    function extend(layer) {
      var b = layer.getBounds();
      if (b.isValid()) bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
    }
    var areas = L.geoJSON(
      { type: "FeatureCollection", features: data.areas || [] },
      {
        style: AREA_STYLE,
        onEachFeature: function (feature, layer) {
          var desc = feature.properties && feature.properties.areaDesc;
          if (desc) layer.bindTooltip(label(desc));
        },
      }
    ).addTo(map);
    if ((data.areas || []).length) extend(areas);
    fetch(element.dataset.outlines, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("outlines: HTTP " + response.status);
        return response.json();
      })
      .then(function (outlines) {
        L.geoJSON(outlines, { pane: "outlines", style: OUTLINE_STYLE, interactive: false }).addTo(map);
        return regionOutlines(element, regions).then(function (byCode) {
          outlines.features.forEach(function (feature) {
            var code = feature.properties.code;
            if (members.indexOf(code) < 0) return;
            var layer = L.geoJSON(feature, { style: AFFECTED_STYLE }).addTo(map);
            var unmapped = [];
            regions.forEach(function (r) {
              if (r.code.split("-")[0] !== code) return;
              if (!byCode[r.code]) {
                unmapped.push(r.name);
                return;
              }
              var drawn = L.geoJSON(byCode[r.code], { style: REGION_STYLE }).addTo(map);
              drawn.bindTooltip(label(r.name), { permanent: true, direction: "center" });
              extend(drawn);
            });
            layer.bindTooltip(label(code + (unmapped.length ? ": " + unmapped.join(", ") : "")), {
              permanent: unmapped.length > 0,
              direction: "center",
            });
            extend(layer);
          });
        });
      })
      .finally(function () {
        if (bounds) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 6, animate: false });
        element.dataset.ready = "true";
      });
  }

  /* The outlines of the named regions, by ISO 3166-2 code ({} when none is named or the file cannot be read). */
  function regionOutlines(element, regions) {
    return regions.length ? window.accordRegions(element.dataset.regions) : Promise.resolve({});
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    if (typeof L === "undefined") return;
    var element = document.getElementById("incident-map");
    if (element) incidentMap(element);
  });
})();
