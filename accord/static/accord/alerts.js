/* Accord's alert pages: the maps and the composer. Vanilla JavaScript and the bundled Leaflet.
 *
 * No tile server: the base layer is the bundled outline of the SCO member states
 * (static/accord/members.geojson); alert areas are drawn on top, a region named by its ISO 3166-2 code with its
 * bundled outline (static/accord/regions.geojson, through static/accord/regions.js in the composer). Every map sets
 * data-ready="true" on its element once the outlines are drawn (the browser tests wait for it).
 */
(function () {
  "use strict";

  var SCO_BOUNDS = [[6, 22], [72, 142]];
  var OUTLINE_STYLE = { color: "#8795a5", weight: 1, fillColor: "#fbf8f1", fillOpacity: 1 };
  var AREA_STYLE = { color: "#b71c1c", weight: 2, fillColor: "#e53935", fillOpacity: 0.3 };
  var SKETCH_STYLE = { color: "#1f5fa8", weight: 2, dashArray: "4 4" };
  var REGION_STYLE = { color: "#b71c1c", weight: 2, dashArray: "6 4", fillColor: "#e53935", fillOpacity: 0.08 };

  function round(value) {
    return Math.round(value * 10000) / 10000;
  }

  function baseMap(element) {
    var map = L.map(element, { zoomSnap: 0.25, minZoom: 1, maxZoom: 12 });
    map.attributionControl.setPrefix(false);
    map.attributionControl.addAttribution("Natural Earth · Leaflet");
    map.createPane("outlines");
    map.getPane("outlines").style.zIndex = 350; // below the overlay pane (400): areas stay on top
    map.fitBounds(SCO_BOUNDS);
    return map;
  }

  function loadOutlines(map, url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("outlines: HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        L.geoJSON(data, {
          pane: "outlines",
          style: OUTLINE_STYLE,
          interactive: false,
        }).addTo(map);
        return data;
      });
  }

  /* ---- an alert's page: its areas over the members ---------------------------------------- */

  function alertMap(element) {
    var map = baseMap(element);
    var areas = JSON.parse(document.getElementById("alert-areas").textContent || "[]") || [];
    var bbox = JSON.parse(document.getElementById("alert-bbox").textContent || "null");
    L.geoJSON(
      { type: "FeatureCollection", features: areas },
      {
        style: AREA_STYLE,
        onEachFeature: function (feature, layer) {
          var desc = feature.properties && feature.properties.areaDesc;
          if (desc) {
            // As text in an isolating element: a string given to Leaflet would be parsed as HTML.
            var text = document.createElement("bdi");
            text.textContent = desc;
            layer.bindTooltip(text);
          }
        },
      }
    ).addTo(map);
    if (bbox) {
      map.fitBounds(
        [
          [bbox[1], bbox[0]],
          [bbox[3], bbox[2]],
        ],
        { padding: [24, 24], maxZoom: 6, animate: false }
      );
    }
    loadOutlines(map, element.dataset.outlines).then(function () {
      element.dataset.ready = "true";
    });
  }

  /* ---- the composer ----------------------------------------------------------------------- */

  function fromTemplate(id, index) {
    var template = document.getElementById(id);
    var holder = document.createElement("div");
    holder.innerHTML = template.innerHTML.split("__N__").join(String(index)).trim();
    return holder.firstElementChild;
  }

  function nextIndex(selector) {
    var highest = -1;
    document.querySelectorAll(selector).forEach(function (element) {
      var index = parseInt(element.dataset.index, 10);
      if (!isNaN(index) && index > highest) highest = index;
    });
    return highest + 1;
  }

  function parsePolygon(text) {
    var points = [];
    text
      .trim()
      .split(/\s+/)
      .forEach(function (pair) {
        var parts = pair.split(",");
        if (parts.length !== 2) return;
        var lat = parseFloat(parts[0]);
        var lon = parseFloat(parts[1]);
        if (isFinite(lat) && isFinite(lon)) points.push([lat, lon]);
      });
    return points;
  }

  /* Publishing an Actual alert asks first: it goes to the members at once and can only be followed by a Cancel. */
  function confirmActual(form) {
    form.addEventListener("submit", function (event) {
      var button = event.submitter;
      if (!button || button.value !== "publish" || !button.dataset.confirmActual) return;
      var status = form.elements.status;
      var value = status && (status.value || (status[0] && status[0].value));
      if (value === "actual" && !window.confirm(button.dataset.confirmActual)) event.preventDefault();
    });
  }

  function composer(form) {
    confirmActual(form);
    var mapElement = document.getElementById("compose-map");
    var areaList = document.getElementById("areas");
    var noAreas = document.getElementById("no-areas");
    var map = baseMap(mapElement);
    var outlines = {};
    var layers = new Map();

    function rows() {
      return Array.prototype.slice.call(areaList.querySelectorAll(".area-row"));
    }

    function value(row, selector) {
      var input = row.querySelector(selector);
      return input ? input.value : "";
    }

    function drawRow(row) {
      var old = layers.get(row);
      if (old) map.removeLayer(old);
      layers.delete(row);
      var kind = row.dataset.kind;
      var layer = null;
      if (kind === "polygon") {
        var points = parsePolygon(value(row, ".area-polygon"));
        if (points.length >= 2) layer = L.polygon(points, AREA_STYLE);
      } else if (kind === "circle") {
        var lat = parseFloat(value(row, ".area-lat"));
        var lon = parseFloat(value(row, ".area-lon"));
        var km = parseFloat(value(row, ".area-radius"));
        if (isFinite(lat) && isFinite(lon)) {
          layer = L.circle([lat, lon], Object.assign({ radius: Math.max(isFinite(km) ? km : 0, 0) * 1000 }, AREA_STYLE));
        }
      } else if (kind === "member") {
        var feature = outlines[value(row, ".area-member")];
        if (feature) layer = L.geoJSON(feature, { style: AREA_STYLE });
      } else if (/^ISO ?3166-2$/i.test(value(row, ".area-geocode-name").trim())) {
        // A region by its ISO 3166-2 code: its bundled outline once loaded; until then, or for a region without
        // one, its member state outlined with dashes. The region is named in the tooltip.
        var code = value(row, ".area-geocode-value").trim().toUpperCase();
        var member = outlines[code.split("-")[0]];
        if (member) layer = named(L.geoJSON(member, { style: REGION_STYLE }), row);
        // Fetched once (static/accord/regions.js); a failed fetch leaves the dashed member outline.
        window.accordRegions(mapElement.dataset.regions).then(function (byCode) {
          var region = byCode[code];
          if (!region || !row.isConnected || (layers.get(row) || null) !== layer) return;
          if (layer) map.removeLayer(layer);
          var drawn = named(L.geoJSON(region, { style: AREA_STYLE }), row).addTo(map);
          layers.set(row, drawn);
          fitAreas();
        });
      }
      if (layer) {
        layer.addTo(map);
        layers.set(row, layer);
      }
    }

    function named(layer, row) {
      var label = document.createElement("bdi");
      label.textContent = value(row, ".area-desc");
      return layer.bindTooltip(label, { permanent: true, direction: "center" });
    }

    function fitAreas() {
      var bounds = null;
      layers.forEach(function (layer) {
        var b = layer.getBounds();
        if (b.isValid()) bounds = bounds ? bounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast());
      });
      if (bounds) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 6, animate: false });
    }

    function refreshEmpty() {
      noAreas.hidden = rows().length > 0;
    }

    function wire(row) {
      row.addEventListener("input", function () {
        drawRow(row);
      });
      row.addEventListener("change", function () {
        drawRow(row);
      });
      row.querySelector(".remove-area").addEventListener("click", function () {
        var layer = layers.get(row);
        if (layer) map.removeLayer(layer);
        layers.delete(row);
        row.remove();
        refreshEmpty();
      });
    }

    function addRow(kind, values) {
      var row = fromTemplate("area-template-" + kind, nextIndex("#areas .area-row"));
      Object.keys(values).forEach(function (key) {
        var input = row.querySelector(".area-" + key);
        if (input) input.value = values[key];
      });
      areaList.appendChild(row);
      wire(row);
      drawRow(row);
      refreshEmpty();
      return row;
    }

    rows().forEach(function (row) {
      wire(row);
      drawRow(row);
    });
    loadOutlines(map, mapElement.dataset.outlines).then(function (data) {
      data.features.forEach(function (feature) {
        outlines[feature.properties.code] = feature;
      });
      rows().forEach(drawRow);
      fitAreas();
      mapElement.dataset.ready = "true";
    });

    /* Drawing: a polygon corner by corner, or a circle from its centre. */
    var toolPolygon = document.getElementById("tool-polygon");
    var toolClose = document.getElementById("tool-close");
    var toolCircle = document.getElementById("tool-circle");
    var labels = { polygon: toolPolygon.textContent, circle: toolCircle.textContent };
    var mode = null;
    var corners = [];
    var sketch = L.layerGroup().addTo(map);

    function endMode() {
      mode = null;
      corners = [];
      sketch.clearLayers();
      toolClose.disabled = true;
      toolPolygon.textContent = labels.polygon;
      toolCircle.textContent = labels.circle;
      toolPolygon.classList.remove("active");
      toolCircle.classList.remove("active");
      mapElement.classList.remove("drawing");
    }

    function startMode(name, button) {
      endMode();
      mode = name;
      button.textContent = button.dataset.labelDrawing;
      button.classList.add("active");
      mapElement.classList.add("drawing");
    }

    function closePolygon() {
      if (corners.length < 3) return;
      var ring = corners.concat([corners[0]]);
      var text = ring
        .map(function (p) {
          return p[0] + "," + p[1];
        })
        .join(" ");
      var row = addRow("polygon", { polygon: text });
      endMode();
      row.querySelector(".area-desc").focus();
    }

    function redrawSketch() {
      sketch.clearLayers();
      if (corners.length > 1) L.polyline(corners, SKETCH_STYLE).addTo(sketch);
      corners.forEach(function (corner, index) {
        var marker = L.circleMarker(corner, { radius: index === 0 ? 7 : 5, color: "#1f5fa8", fillOpacity: 1 });
        if (index === 0) {
          marker.on("click", function (event) {
            L.DomEvent.stopPropagation(event);
            closePolygon();
          });
        }
        marker.addTo(sketch);
      });
      toolClose.disabled = corners.length < 3;
    }

    toolPolygon.addEventListener("click", function () {
      if (mode === "polygon") endMode();
      else startMode("polygon", toolPolygon);
    });
    toolCircle.addEventListener("click", function () {
      if (mode === "circle") endMode();
      else startMode("circle", toolCircle);
    });
    toolClose.addEventListener("click", closePolygon);
    map.on("click", function (event) {
      var point = event.latlng.wrap();
      if (mode === "polygon") {
        corners.push([round(point.lat), round(point.lng)]);
        redrawSketch();
      } else if (mode === "circle") {
        var row = addRow("circle", {
          lat: round(point.lat),
          lon: round(point.lng),
          radius: document.getElementById("circle-radius").value || "25",
        });
        endMode();
        row.querySelector(".area-desc").focus();
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && mode) endMode();
    });

    document.getElementById("tool-member").addEventListener("click", function () {
      var select = document.getElementById("member-outline");
      var option = select.options[select.selectedIndex];
      if (!option) return;
      addRow("member", { member: option.value, desc: option.textContent.trim() });
      fitAreas();
    });

    /* Areas typed (a polygon's points, a circle's centre and radius) or chosen from the first-level regions. */
    function focusFirst(row) {
      var field = row.querySelector("textarea, input:not([type=hidden])");
      if (field) field.focus();
    }
    document.getElementById("type-polygon").addEventListener("click", function () {
      focusFirst(addRow("polygon", {}));
    });
    document.getElementById("type-circle").addEventListener("click", function () {
      var radius = document.getElementById("circle-radius").value || "25";
      focusFirst(addRow("circle", { radius: radius }));
    });
    document.getElementById("tool-region").addEventListener("click", function () {
      var select = document.getElementById("region-choice");
      var option = select.options[select.selectedIndex];
      if (!option) return;
      var name = option.textContent.replace(/^[A-Z0-9]+ · /, "").replace(/ \([A-Z0-9-]+\)$/, "").trim();
      addRow("geocode", { desc: name, "geocode-name": "ISO3166-2", "geocode-value": option.value });
    });

    /* Info blocks: one per language. */
    var infos = document.getElementById("infos");

    function renumber() {
      var blocks = infos.querySelectorAll(".info-block");
      blocks.forEach(function (block, position) {
        block.querySelector("legend .number").textContent = String(position + 1);
        block.querySelector(".remove-info").hidden = blocks.length < 2;
      });
    }

    document.getElementById("add-info").addEventListener("click", function () {
      var used = Array.prototype.map.call(infos.querySelectorAll(".info-language"), function (s) {
        return s.value;
      });
      var block = fromTemplate("info-template", nextIndex("#infos .info-block"));
      var language = ["en-US", "ru-RU", "zh-CN"].filter(function (code) {
        return used.indexOf(code) < 0;
      })[0];
      if (language) block.querySelector(".info-language").value = language;
      // The blocks of one alert share category, urgency, severity, certainty and expiry: copy them.
      var first = infos.querySelector(".info-block");
      if (first) {
        ["category", "urgency", "severity", "certainty", "expires"].forEach(function (name) {
          var from = first.querySelector('[name$="-' + name + '"]');
          var to = block.querySelector('[name$="-' + name + '"]');
          if (!from || !to) return;
          if (from.multiple) {
            Array.prototype.forEach.call(from.options, function (option, i) {
              to.options[i].selected = option.selected;
            });
          } else {
            to.value = from.value;
          }
        });
      }
      infos.appendChild(block);
      renumber();
      block.querySelector('[name$="-event"]').focus();
    });
    infos.addEventListener("click", function (event) {
      var button = event.target.closest(".remove-info");
      if (!button || infos.querySelectorAll(".info-block").length < 2) return;
      button.closest(".info-block").remove();
      renumber();
    });
    renumber();

    /* Audience: the member choices matter only for "the members chosen here". */
    var choices = document.getElementById("member-choices");
    function audienceChanged() {
      var named = form.querySelector('input[name="audience"][value="named"]');
      choices.classList.toggle("inactive", !(named && named.checked));
    }
    form.querySelectorAll('input[name="audience"]').forEach(function (radio) {
      radio.addEventListener("change", audienceChanged);
    });
    audienceChanged();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof L === "undefined") return;
    var detail = document.getElementById("alert-map");
    if (detail) alertMap(detail);
    var form = document.getElementById("composer");
    if (form && document.getElementById("compose-map")) composer(form);
  });
})();
