// The ballot: drag rows (Sortable) or use the ↑ ↓ buttons; the hidden "order" inputs follow the rows,
// so the form posts the order shown. Without JavaScript the buttons and position fields post instead.
document.addEventListener("DOMContentLoaded", () => {
  const list = document.getElementById("ballot-list");
  if (!list) return;
  const status = document.getElementById("ballot-status");

  const renumber = () => {
    list.querySelectorAll(".ballot-item").forEach((row, index) => {
      const position = row.querySelector(".ballot-position input");
      position.value = "";
      position.placeholder = String(index + 1);
    });
  };
  const announce = (row) => {
    const index = Array.from(list.children).indexOf(row) + 1;
    const title = row.querySelector(".ballot-title strong").textContent;
    status.textContent = `${title} is now number ${index} of ${list.children.length}.`;
  };

  if (window.Sortable) {
    window.Sortable.create(list, {
      handle: ".drag-handle, .ballot-title",
      animation: 150,
      onEnd: (event) => { renumber(); announce(event.item); },
    });
  }
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[name=move]");
    if (!button) return;
    event.preventDefault();
    const row = button.closest(".ballot-item");
    const up = button.value.endsWith(":up");
    const sibling = up ? row.previousElementSibling : row.nextElementSibling;
    if (!sibling) return;
    if (up) list.insertBefore(row, sibling); else list.insertBefore(sibling, row);
    renumber();
    button.focus();
    announce(row);
  });
});
