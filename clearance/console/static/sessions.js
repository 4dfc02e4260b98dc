// The sessions filter form: an empty field is no filter, so it is left out of the link the form makes (the
// server ignores empty fields too; this only keeps a filtered view's address short enough to share).
const form = document.getElementById("session-filters");
if (form) {
  form.addEventListener("submit", () => {
    for (const field of form.querySelectorAll("input, select")) {
      if (field.value.trim() === "") field.disabled = true;
    }
  });
  // a back navigation restores the page as it was: fields left disabled would then be lost
  window.addEventListener("pageshow", () => {
    for (const field of form.querySelectorAll("input, select")) field.disabled = false;
  });
}
