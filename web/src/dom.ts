// Tiny DOM helper: h("div", {class: "x", "data-testid": "y"}, child, "text").

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === "class") {
      el.className = String(v);
    } else if (k === "style") {
      // Through the CSSOM, not the style attribute: the Content-Security-Policy (style-src 'self') refuses inline
      // style attributes set by markup, but not styles set from our own script.
      el.style.cssText = String(v);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
  for (const c of children) {
    if (c == null || c === false) continue;
    el.append(c);
  }
  return el;
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** Parse "#/route?a=1&b=2" into a route name and params. */
export function parseHash(hash: string): { route: string; params: URLSearchParams } {
  const s = hash.replace(/^#\/?/, "");
  const q = s.indexOf("?");
  const route = (q >= 0 ? s.slice(0, q) : s) || "map";
  const params = new URLSearchParams(q >= 0 ? s.slice(q + 1) : "");
  return { route, params };
}

export function go(route: string, params: Record<string, string | number | undefined> = {}): void {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") p.set(k, String(v));
  const qs = p.toString();
  location.hash = `#/${route}${qs ? `?${qs}` : ""}`;
}
