// Small behaviours shared by every page; everything else is plain HTML + htmx.
document.addEventListener("change", (event) => {
  // A checkbox with data-select-all="name" ticks every checkbox with that name.
  const box = event.target;
  if (box.matches("input[type=checkbox][data-select-all]")) {
    document.querySelectorAll(`input[type=checkbox][name="${box.dataset.selectAll}"]`)
      .forEach((other) => { other.checked = box.checked; });
  }
});

// A form with data-autosubmit sends itself when one of its fields changes (filters).
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-autosubmit]");
  if (form) form.requestSubmit();
});

// A form with data-confirm="question" asks before it is sent (destructive actions).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
