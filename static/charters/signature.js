// The signing page: choose typed or drawn; draw with mouse, pen or touch (pointer events).
// Strokes are sent as numbers ([[x, y], ...] per stroke, in canvas pixels); the server builds the SVG.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("sign-form");
  if (!form) return;
  const canvas = document.getElementById("signature-canvas");
  const input = form.querySelector("input[name=strokes]");
  const ctx = canvas.getContext("2d");
  let strokes = [];
  try { strokes = JSON.parse(input.value || "[]"); } catch (e) { strokes = []; }
  let current = null;

  const redraw = () => {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 3; ctx.lineCap = "round"; ctx.lineJoin = "round"; ctx.strokeStyle = "#1c2430";
    for (const stroke of strokes) {
      ctx.beginPath();
      stroke.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
    }
  };
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    const x = ((event.clientX - box.left) * canvas.width) / box.width;
    const y = ((event.clientY - box.top) * canvas.height) / box.height;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  };
  const save = () => { input.value = JSON.stringify(strokes); };

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    current.push(point(event));
    redraw();
  });
  const end = () => { if (current) { current = null; save(); redraw(); } };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  document.getElementById("signature-clear").addEventListener("click", () => { strokes = []; save(); redraw(); });
  redraw();

  // Show the panel of the chosen method only.
  const panels = form.querySelectorAll("[data-method-panel]");
  const sync = () => {
    const chosen = form.querySelector("input[name=method]:checked");
    panels.forEach((panel) => { panel.hidden = !chosen || panel.dataset.methodPanel !== chosen.value; });
  };
  form.querySelectorAll("input[name=method]").forEach((radio) => radio.addEventListener("change", sync));
  sync();

  const typed = form.querySelector("input[name=typed_name]");
  const sample = document.getElementById("typed-sample");
  if (typed && sample) typed.addEventListener("input", () => { sample.textContent = typed.value; });
});
