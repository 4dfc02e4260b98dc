// The "try it" form: sent by a script, the result swapped in without reloading the page (the form works without it).
import { csrfToken } from "./console.js";

const form = document.getElementById("trial-form");
const result = document.getElementById("trial-result");

if (form && result) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    result.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(new FormData(form)),
        headers: { "X-CSRF-Token": csrfToken(), "X-Console-Fragment": "1" },
        credentials: "same-origin",
      });
      result.innerHTML = await response.text();
    } catch {
      form.submit();  // the network failed the script: send the form the plain way
    } finally {
      result.removeAttribute("aria-busy");
      if (button) button.disabled = false;
    }
  });
}
