// The draft editor: in the matrix, Enter saves a prompt (Shift+Enter starts a new line).
document.addEventListener("keydown", (event) => {
  const field = event.target;
  if (event.key !== "Enter" || event.shiftKey || !(field instanceof HTMLTextAreaElement)) return;
  if (!field.closest("#matrix-editor")) return;
  event.preventDefault();
  field.form.requestSubmit();
});
