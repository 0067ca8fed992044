// Draws the plotly figures the server built: <div class="chart" data-figure="<json_script id>">.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".chart[data-figure]").forEach((element) => {
    const source = document.getElementById(element.dataset.figure);
    if (!source || !window.Plotly) return;
    const figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(element, figure.data, figure.layout, { displayModeBar: false, responsive: true });
  });
});
