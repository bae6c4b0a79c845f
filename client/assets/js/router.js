// A small router over real paths (no build step, no hash): a table of [pattern, view] pairs,
// links marked `data-link` open in place, the back button works. It knows no view: main.js
// hands it the table. A view gets the pattern's groups (decoded) and may return its clean-up
// (closing a room's websocket), run before the next view.

const nothing = () => {};
let routes = [];
let hooks = { beforeEach: nothing, afterEach: nothing, notFound: nothing };
let leave = null; // the current view's clean-up

/** Start routing: `table` is [[RegExp, view], ...]; `beforeEach(path)` runs before any view,
 * `afterEach(path)` after a view rendered, `notFound(path)` when no pattern matches. */
export function start(table, { beforeEach = nothing, afterEach = nothing, notFound = nothing } = {}) {
  routes = table;
  hooks = { beforeEach, afterEach, notFound };
  document.addEventListener("click", (event) => {
    const a = event.target.closest("a[data-link]");
    if (!a || event.metaKey || event.ctrlKey || event.shiftKey || a.target) return;
    event.preventDefault();
    navigate(a.getAttribute("href"));
  });
  window.addEventListener("popstate", render);
  return render();
}

export async function render() {
  if (leave) { try { leave(); } catch { /* the view is gone anyway */ } leave = null; }
  const path = location.pathname.replace(/\/+$/, "") || "/";
  hooks.beforeEach(path);
  for (const [pattern, view] of routes) {
    const match = path.match(pattern);
    if (match) {
      const result = await view(...match.slice(1).map(decodeURIComponent));
      if (typeof result === "function") leave = result;
      hooks.afterEach(path);
      return;
    }
  }
  hooks.notFound(path);
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", path); else history.pushState({}, "", path);
  render();
  document.getElementById("main").focus({ preventScroll: false });
}
