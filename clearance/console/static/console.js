// Clearance console: progressive enhancement only; every page works without this file.
// - form[data-confirm]: asks before sending (the server still needs the form's own confirmation field, if any).
// - button[data-copy="#id"]: copies the text of the element with that id to the clipboard.

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  try {
    await navigator.clipboard.writeText(source.textContent.trim());
    button.textContent = "Copied";
  } catch {
    button.textContent = "Select the text and copy it";
  }
});

// The CSRF token of this page, for a script's POST (header X-CSRF-Token).
export function csrfToken() {
  const field = document.querySelector('input[name="csrf"]');
  return field ? field.value : "";
}
