// Drag a card to another column: the move is POSTed (htmx) to the same transition the card's form uses.
// A refused move comes back with an "kanban-refused" event and the card returns to where it was.
document.addEventListener("DOMContentLoaded", () => {
  const board = document.querySelector(".kanban");
  if (!board || !window.Sortable || !window.htmx) return;
  const moveUrl = board.dataset.moveUrl;
  let last = null;
  board.querySelectorAll(".kanban-cards").forEach((list) => {
    window.Sortable.create(list, {
      group: "kanban",
      animation: 150,
      filter: "select, button, .kanban-empty",
      preventOnFilter: false,
      onEnd: (event) => {
        if (event.from === event.to) return;
        last = { item: event.item, from: event.from, index: event.oldIndex };
        const url = moveUrl.replace("/0/", `/${event.item.dataset.id}/`);
        window.htmx.ajax("POST", url, { target: "#kanban-message", values: { status: event.to.dataset.status } });
      },
    });
  });
  document.body.addEventListener("kanban-refused", () => {
    if (!last) return;
    last.from.insertBefore(last.item, last.from.children[last.index] || null);
    last = null;
  });
});
