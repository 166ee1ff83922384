// Template editor: a click on a tag inserts it at the cursor of the last focused field.
(() => {
  let target = null;
  document.addEventListener("focusin", (event) => {
    if (event.target.matches("[data-tag-target]")) target = event.target;
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-insert-tag]");
    if (!button) return;
    const field = target || document.querySelector("textarea[data-tag-target]");
    if (!field) return;
    const tag = button.dataset.insertTag;
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? start;
    field.setRangeText(tag, start, end, "end");
    field.focus();
    // Refresh the preview as typing does.
    field.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
  });
})();
