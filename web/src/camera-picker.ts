// The camera search box, used wherever a camera is chosen (live wall, playback, exports): type part of an id, a name,
// a site, a street or a district; arrows move through at most 50 answers, Enter chooses, Escape closes. An ARIA
// combobox (the input) with a listbox (the answers). cameraInput() returns the <input> itself, so a screen that had a
// text box for a camera id swaps it in one line: its value is the chosen id, and onPick is called on a choice.
import { cameras, STATE_COLOURS, type CameraStore } from "./cameras";
import { indexFor, type CameraIndex } from "./camera-index";
import { h } from "./dom";
import { t } from "./i18n";

export interface PickerOptions {
  /** data-testid of the input (the list's options are data-testid="picker-option"). */
  testid?: string;
  label?: string;
  placeholder?: string;
  value?: string;
  name?: string;
  required?: boolean;
  /** Called with the chosen camera id. */
  onPick?: (id: string) => void;
  /** Empty the box after a choice (the wall: the next search starts afresh). */
  clearOnPick?: boolean;
  cap?: number;
}

let seq = 0;

export function cameraInput(opts: PickerOptions = {}): HTMLInputElement {
  const listId = `camera-picker-${++seq}`;
  const input = h("input", {
    type: "text",
    role: "combobox",
    autocomplete: "off",
    spellcheck: "false",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
    "aria-label": opts.label ?? t("finder.picker.label"),
    placeholder: opts.placeholder ?? t("finder.picker.placeholder"),
    value: opts.value ?? "",
    name: opts.name,
    required: opts.required,
    class: "camera-picker-input",
    "data-testid": opts.testid ?? "camera-picker",
  });
  const list = h("ul", { id: listId, role: "listbox", class: "camera-picker-list", "data-testid": "picker-list" });
  list.hidden = true;
  let store: CameraStore | null = null;
  let index: CameraIndex | null = null;
  let hits: number[] = [];
  let active = -1;

  const load = async (): Promise<CameraIndex | null> => {
    if (!store) store = await cameras().catch(() => null);
    index = store ? indexFor(store.cols) : null;
    return index;
  };

  const place = () => {
    const r = input.getBoundingClientRect();
    list.style.top = `${Math.round(r.bottom + 2)}px`;
    list.style.insetInlineStart = `${Math.round(document.dir === "rtl" ? innerWidth - r.right : r.left)}px`;
    list.style.minWidth = `${Math.round(Math.max(r.width, 320))}px`;
  };

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  const setActive = (k: number) => {
    const opts = list.querySelectorAll<HTMLElement>("[role=option]");
    if (opts.length === 0) return;
    active = (k + opts.length) % opts.length;
    opts.forEach((o, j) => o.setAttribute("aria-selected", String(j === active)));
    const el = opts[active];
    input.setAttribute("aria-activedescendant", el.id);
    el.scrollIntoView({ block: "nearest" });
  };

  const gone = new MutationObserver(() => {
    if (!input.isConnected) {
      list.remove();
      gone.disconnect();
    }
  });

  const pick = (id: string) => {
    close();
    input.value = opts.clearOnPick ? "" : id;
    opts.onPick?.(id);
    input.dispatchEvent(new Event("change"));
  };

  const render = async () => {
    const ix = await load();
    if (!ix || !store || !input.isConnected) return;
    const q = input.value.trim();
    list.replaceChildren();
    if (!q) return close();
    const res = ix.search(q, opts.cap ?? 50);
    hits = res.hits;
    const s = store;
    hits.forEach((i, j) => {
      const id = s.id(i);
      const where = [ix.siteName(i), ix.street(i), ix.districtName(i)].filter(Boolean).join(" · ");
      const dot = h("span", { class: "picker-state", title: t(`finder.state.${s.stateName(i)}`) });
      dot.style.background = STATE_COLOURS[s.stateName(i)];
      const li = h(
        "li",
        { id: `${listId}-${j}`, role: "option", "aria-selected": "false", "data-testid": "picker-option", "data-camera": id },
        dot,
        h("b", {}, id),
        h("span", { class: "picker-name" }, s.name(i) === id ? "" : s.name(i)),
        h("span", { class: "picker-where" }, where),
      );
      li.addEventListener("mousedown", (e) => {
        e.preventDefault(); // keep the focus in the box
        pick(id);
      });
      list.append(li);
    });
    const more = res.total > hits.length ? t("finder.picker.more", { shown: hits.length, total: res.total }) : "";
    const none = res.total === 0 ? t("finder.picker.none", { query: q }) : "";
    if (more || none) list.append(h("li", { role: "presentation", class: "picker-footer", "data-testid": "picker-footer" }, more || none));
    if (!list.isConnected) {
      document.body.append(list);
      gone.observe(document.body, { childList: true, subtree: true });
    }
    place();
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
    if (hits.length) setActive(0);
  };

  input.addEventListener("input", () => void render());
  input.addEventListener("focus", () => {
    void load();
    if (input.value.trim() && !opts.value) void render();
  });
  input.addEventListener("blur", () => window.setTimeout(close, 100));
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (list.hidden) void render();
      else setActive(active + (e.key === "ArrowDown" ? 1 : -1));
    } else if (e.key === "Enter") {
      const opt = list.querySelectorAll<HTMLElement>("[role=option]")[active];
      const typed = input.value.trim();
      if (!list.hidden && opt) {
        e.preventDefault();
        pick(opt.dataset.camera ?? "");
      } else if (opts.onPick && typed && store?.index.has(typed)) {
        // An id typed in full (no list open): chosen. Without onPick (a form's field) Enter submits the form.
        e.preventDefault();
        pick(typed);
      }
    } else if (e.key === "Escape") {
      if (!list.hidden) {
        e.preventDefault();
        e.stopPropagation();
        close();
      } else if (input.value) input.value = "";
    }
  });
  // The list lives in <body> (so no screen's overflow clips it): it goes when its box does.
  return input;
}
