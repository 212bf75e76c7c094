/* The bundled outlines of the members' first-level regions (static/accord/regions.geojson, about 75 kB compressed),
 * for the maps that draw a region named by its ISO 3166-2 code (the composer, the incident page).
 * window.accordRegions(url) fetches the file once per page, on the first call, and resolves to
 * {ISO 3166-2 code: GeoJSON feature}; to {} when the file cannot be read, so the caller falls back to the member. */
(function () {
  "use strict";

  var loaded = {};

  window.accordRegions = function (url) {
    if (!url) return Promise.resolve({});
    if (!loaded[url]) {
      loaded[url] = fetch(url, { credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) throw new Error("regions: HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          var byCode = {};
          data.features.forEach(function (feature) {
            byCode[feature.properties.code] = feature;
          });
          return byCode;
        })
        .catch(function () {
          return {};
        });
    }
    return loaded[url];
  };
})();
