// Renders the page's plotly figures (built on the server, in the "metrics-figures" JSON block) into every
// element with data-chart="<id>". A click on a point that carries a link (customdata) opens the responses
// behind it; the data table under each chart offers the same links without a pointer.
(function () {
  "use strict";

  function render() {
    var source = document.getElementById("metrics-figures");
    if (!source || !window.Plotly) return;
    var figures = JSON.parse(source.textContent);
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var figure = figures[element.dataset.chart];
      if (!figure) return;
      element.textContent = "";
      window.Plotly.newPlot(element, figure.data, figure.layout, {
        displayModeBar: false,
        responsive: true,
      });
      element.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        var url = point && point.customdata;
        if (typeof url === "string" && url.charAt(0) === "/") window.location.assign(url);
      });
      element.classList.add("chart-ready");
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", render);
  else render();
})();
