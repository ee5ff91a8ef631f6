// The camera search's index (pure, no DOM): one lowercased haystack per camera (id, name, site, street, district, by
// name and by id), built once per camera list, and a linear scan of it per query. At 62,000 cameras a scan is a few
// milliseconds (web/tests/camera-index.test.ts times it), cheaper than any prefix tree worth building in a browser.
// The camera list is the user's own (GET /api/cameras is scoped to their districts): so is every answer here.

export interface SearchColumns {
  id: string[];
  name: string[];
  district: string[];
  site: string[];
  street?: number[] | null;
  streets?: string[] | null;
  site_names?: Record<string, string> | null;
  district_names?: Record<string, string> | null;
}

export interface SearchResult {
  /** Camera indexes, best first, at most `cap`. */
  hits: number[];
  /** How many cameras match in all. */
  total: number;
}

const SEP = "\u0001"; // between fields: a term never spans two of them

export class CameraIndex {
  private readonly hay: string[];
  /** Where each camera's name starts in its haystack (its id starts at 1). */
  private readonly nameAt: Uint16Array;

  constructor(readonly cols: SearchColumns) {
    const n = cols.id.length;
    this.hay = new Array(n);
    this.nameAt = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const id = String(cols.id[i]);
      const s = cols.site[i] ?? "";
      const d = cols.district[i] ?? "";
      const h = SEP + id + SEP + (cols.name[i] ?? "") + SEP + s + SEP + this.siteName(i) + SEP + this.street(i) + SEP + d + SEP + this.districtName(i);
      this.hay[i] = h.toLowerCase();
      this.nameAt[i] = Math.min(65535, id.length + 2);
    }
  }

  get count(): number {
    return this.hay.length;
  }

  siteName(i: number): string {
    const s = this.cols.site[i] ?? "";
    return this.cols.site_names?.[s] ?? s;
  }

  districtName(i: number): string {
    const d = this.cols.district[i] ?? "";
    return this.cols.district_names?.[d] ?? d;
  }

  street(i: number): string {
    const k = this.cols.street?.[i] ?? 0;
    return this.cols.streets?.[k] ?? "";
  }

  /** Cameras whose fields hold every word of the query; an id or name that starts with it first, then a field
   * that starts with it, then the rest, each group in registry order. */
  search(query: string, cap = 50): SearchResult {
    const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length === 0) return { hits: [], total: 0 };
    const whole = terms.join(" ");
    const first = terms[0];
    const starts = SEP + first;
    const groups: number[][] = [[], [], []];
    let total = 0;
    const hay = this.hay;
    outer: for (let i = 0; i < hay.length; i++) {
      const h = hay[i];
      for (const t of terms) if (h.indexOf(t) < 0) continue outer;
      total++;
      const rank = h.startsWith(whole, 1) || h.startsWith(whole, this.nameAt[i]) ? 0 : h.includes(starts) ? 1 : 2;
      if (groups[rank].length < cap) groups[rank].push(i);
    }
    return { hits: [...groups[0], ...groups[1], ...groups[2]].slice(0, cap), total };
  }
}

const built = new WeakMap<object, CameraIndex>();

/** The index of a camera list, built on first use and kept as long as the list. */
export function indexFor(cols: SearchColumns): CameraIndex {
  let ix = built.get(cols);
  if (!ix) {
    ix = new CameraIndex(cols);
    built.set(cols, ix);
  }
  return ix;
}
