// API keys page: progressive enhancement only (every form works without this file).
// - A list's revoke form (form[data-revoke]) goes to a confirmation page without scripts; with them, console.js
//   asks in a dialog first, and once confirmed this adds confirm=yes so the key is revoked in one step.
// - The copy button of a new key says what happened in its live region.

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-revoke") || event.defaultPrevented) return;
  if (!form.querySelector('input[name="confirm"]')) {
    const confirm = document.createElement("input");
    confirm.type = "hidden";
    confirm.name = "confirm";
    confirm.value = "yes";
    form.append(confirm);
  }
});

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  const status = document.getElementById("copy-status");
  if (!button || !status) return;
  // console.js does the copying and relabels the button; this repeats the outcome for screen readers
  setTimeout(() => { status.textContent = button.textContent === "Copied" ? "Key copied to the clipboard" : button.textContent; }, 50);
});
