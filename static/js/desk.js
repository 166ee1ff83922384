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

// A submit button with data-confirm="question" asks before it sends its form. With
// data-confirm-count="name", "{n}" in the question is how many boxes of that name are ticked —
// or data-confirm-all-count when the box named by data-confirm-all is ticked; with none ticked
// it does not ask (the desk answers that nothing was ticked).
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (!button || !button.matches("[data-confirm]")) return;
  const { confirm: question, confirmCount, confirmAll, confirmAllCount } = button.dataset;
  let n = 0;
  if (confirmCount) {
    const form = event.target;
    const all = confirmAll && form.querySelector(`input[name="${confirmAll}"]:checked`);
    n = all ? Number(confirmAllCount) : form.querySelectorAll(`input[name="${confirmCount}"]:checked`).length;
    if (n === 0) return;
  }
  if (!window.confirm(question.replace("{n}", n.toLocaleString("ja-JP")))) event.preventDefault();
});
