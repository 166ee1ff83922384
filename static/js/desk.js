// Small behaviours shared by every page; everything else is plain HTML + htmx.
document.addEventListener("change", (event) => {
  // A checkbox with data-select-all="name" ticks every checkbox with that name.
  const box = event.target;
  if (box.matches("input[type=checkbox][data-select-all]")) {
    document.querySelectorAll(`input[type=checkbox][name="${box.dataset.selectAll}"]`)
      .forEach((other) => { other.checked = box.checked; });
  }
});
