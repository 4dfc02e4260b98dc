// The approvals pages, live: an EventSource on /console/approvals/events (the admin API's event stream, under the
// console session). On the inbox, each change re-fetches the lists (GET /console/approvals/list) and says what
// changed in the polite live region; on an approval's page, a change of that approval is announced with a link to
// reload it. Without this file the pages still work: a reload shows what changed.

const CHANGES = [
  "requested", "approved_step", "approved", "denied", "cancelled", "expired", "escalated", "used", "break_glass",
  "acknowledged",
];
const SAID = {
  requested: "new request", approved_step: "one approval given", approved: "approved", denied: "denied",
  cancelled: "cancelled", expired: "expired", escalated: "escalated", used: "used", break_glass: "break-glass grant",
  acknowledged: "review acknowledged",
};

const status = document.querySelector("[data-live-status]");
const lists = document.querySelector("[data-live-lists]");
const shownApproval = status ? status.dataset.approval : undefined;

function say(text) {
  if (status) status.textContent = text;
}

function describe(name, approval) {
  const who = approval.requester.email || approval.requester.subject;
  return `${who} → ${approval.model}: ${SAID[name] || name}`;
}

let refreshing = null;
let again = false;

async function refreshLists() {
  if (refreshing) {
    again = true; // one more fetch once this one is in: it reads everything that happened meanwhile
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        again = false;
        let response;
        try {
          // a redirect is the sign-in: the session ended, and only a reload by the user may sign in again
          response = await fetch("/console/approvals/list", { credentials: "same-origin", redirect: "manual" });
        } catch {
          response = null;
        }
        if (!response || !response.ok) {
          say("Could not refresh the list: reload the page (sign in again if asked).");
          return;
        }
        lists.innerHTML = await response.text(); // the server's own autoescaped HTML
      } while (again);
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function reloadLink(text) {
  if (!status) return;
  status.textContent = `${text}. `;
  const link = document.createElement("a");
  link.href = window.location.pathname;
  link.textContent = "Reload to see it";
  status.append(link);
}

if (status && "EventSource" in window && (lists || shownApproval)) {
  const source = new EventSource("/console/approvals/events");
  source.addEventListener("open", () => {
    if (lists) say("Live: new requests and decisions appear here as they happen.");
  });
  source.addEventListener("error", () => {
    // CLOSED: the browser gave up (the session ended: the stream is refused); else it reconnects by itself
    if (source.readyState === EventSource.CLOSED) {
      say("Live updates stopped: reload the page (sign in again if asked).");
    } else {
      say("Live updates paused: reconnecting…");
    }
  });
  for (const name of CHANGES) {
    source.addEventListener(name, async (event) => {
      const approval = JSON.parse(event.data);
      if (lists) {
        await refreshLists();
        if (!status.textContent.startsWith("Could not")) say(`Updated: ${describe(name, approval)}.`);
      } else if (approval.id === shownApproval) {
        reloadLink(`This approval changed: ${SAID[name] || name}`);
      }
    });
  }
  window.addEventListener("pagehide", () => source.close());
}
