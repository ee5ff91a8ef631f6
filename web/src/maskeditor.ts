// Privacy-mask editor (issue 7): the camera's newest recorded picture (GET /api/cameras/{id}/snapshot.mp4, one
// picture, paused on its first frame) under a canvas where polygons are drawn by clicking; coordinates are
// fractions of the picture. Save PUTs the mask; removal is requested (DELETE) and approved by a second person.
import { request, type MaskOut } from "./api";
import { h } from "./dom";
import { closePolygon, denormalise, hitPolygon, maskBody, near, normalise, type Pt } from "./mask-math";
import { me } from "./session";
import { timeEl } from "./time";
import { t } from "./i18n";


const enc = encodeURIComponent;

/** The panel's "Edit privacy mask" button: admins edit; supervisors may open it to approve a removal. */
export function maskButton(cameraId: string): HTMLElement | string {
  const role = me()?.role;
  if (role !== "admin" && role !== "supervisor") return "";
  return h("button", { "data-testid": "mask-open", onclick: () => openMaskEditor(cameraId) }, role === "admin" ? t("maskeditor.edit") : t("maskeditor.view"));
}

export function openMaskEditor(cameraId: string): () => void {
  const who = me();
  const canEdit = who?.role === "admin";
  const canApprove = who?.role === "admin" || who?.role === "supervisor";
  const video = h("video", { class: "mask-video", muted: true, playsinline: true, "data-testid": "mask-video" });
  video.muted = true;
  const canvas = h("canvas", { class: "mask-canvas", "data-testid": "mask-canvas" });
  const stage = h("div", { class: "mask-stage" }, video, canvas);
  const msg = h("div", { class: "mask-msg", "data-testid": "mask-message" }, t("maskeditor.loading"));
  const info = h("div", { class: "mask-info", "data-testid": "mask-info" });
  let polys: Pt[][] = [];
  let cur: Pt[] = [];
  let selected = -1;
  let mask: MaskOut | null = null;
  let url = "";
  let dirty = false;

  const btn = (label: string, testid: string, fn: () => void, show = true) =>
    show ? h("button", { "data-testid": testid, onclick: fn }, label) : null;
  const approveBtn = h("button", { "data-testid": "mask-approve-removal", hidden: true, onclick: () => void approve() }, t("maskeditor.approve"));
  const refuseBtn = h("button", { "data-testid": "mask-refuse-removal", hidden: true, onclick: () => void refuse() }, t("maskeditor.refuse"));
  const removeBtn = h("button", { "data-testid": "mask-remove", onclick: () => void removeMask() }, t("maskeditor.remove"));
  const saveBtn = h("button", { "data-testid": "mask-save", class: "primary", onclick: () => void save() }, t("common.save"));
  const tools = h(
    "div",
    { class: "toolbar mask-tools" },
    btn(t("maskeditor.newPolygon"), "mask-new", () => finishCurrent(true), canEdit),
    btn(t("maskeditor.closePolygon"), "mask-close-polygon", () => finishCurrent(false), canEdit),
    btn(t("maskeditor.undo"), "mask-undo", () => {
      if (cur.length) cur.pop();
      else if (polys.length) cur = polys.pop()!;
      touch();
    }, canEdit),
    btn(t("maskeditor.deleteSelected"), "mask-delete-selected", () => {
      if (selected >= 0) polys.splice(selected, 1);
      selected = -1;
      touch();
    }, canEdit),
    btn(t("maskeditor.clear"), "mask-clear", () => {
      polys = [];
      cur = [];
      selected = -1;
      touch();
    }, canEdit),
    canEdit ? saveBtn : null,
    canEdit ? removeBtn : null,
    canApprove ? approveBtn : null,
    canApprove ? refuseBtn : null,
    h("span", { class: "sep" }),
    btn(t("common.close"), "mask-exit", () => destroy()),
  );
  const dialog = h(
    "div",
    { class: "mask-editor", "data-testid": "mask-editor", "data-camera": cameraId, "data-picture": "loading", role: "dialog" },
    h("div", { class: "panel-head" }, h("b", {}, t("maskeditor.title", { camera: cameraId })), h("span", { class: "muted" }, canEdit ? ` ${t("maskeditor.help")}` : "")),
    tools,
    stage,
    msg,
    info,
  );
  const overlay = h("div", { class: "mask-overlay" }, dialog);
  document.body.append(overlay);

  const size = () => {
    const r = canvas.getBoundingClientRect();
    return { w: r.width, h: r.height };
  };
  const draw = () => {
    const { w, h: ht } = size();
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(ht * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(ht * dpr);
    }
    const g = canvas.getContext("2d");
    if (!g || !w || !ht) return;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, ht);
    polys.forEach((p, k) => {
      g.beginPath();
      p.forEach((q, i) => {
        const [x, y] = denormalise(q, w, ht);
        if (i) g.lineTo(x, y);
        else g.moveTo(x, y);
      });
      g.closePath();
      g.fillStyle = k === selected ? "rgba(74,163,255,0.55)" : "rgba(0,0,0,0.7)";
      g.fill();
      g.strokeStyle = k === selected ? "#4aa3ff" : "#ffd479";
      g.lineWidth = 2;
      g.stroke();
    });
    if (cur.length) {
      g.beginPath();
      cur.forEach((q, i) => {
        const [x, y] = denormalise(q, w, ht);
        if (i) g.lineTo(x, y);
        else g.moveTo(x, y);
      });
      g.strokeStyle = "#ffd479";
      g.setLineDash([5, 4]);
      g.lineWidth = 2;
      g.stroke();
      g.setLineDash([]);
      cur.forEach((q, i) => {
        const [x, y] = denormalise(q, w, ht);
        g.beginPath();
        g.arc(x, y, i === 0 ? 6 : 4, 0, Math.PI * 2);
        g.fillStyle = i === 0 ? "#ff7675" : "#ffd479";
        g.fill();
      });
    }
    canvas.dataset.polygons = String(polys.length);
    canvas.dataset.points = String(cur.length);
  };
  const touch = () => {
    dirty = true;
    draw();
    renderInfo();
  };
  const pendingWhat = () => (mask?.pending_polygons ? "reduction" : "removal");
  const pendingText = () => t(`maskeditor.pending.${pendingWhat()}`);
  const renderInfo = () => {
    info.replaceChildren(
      t("maskeditor.polygons", { n: polys.length }) + (dirty ? ` ${t("maskeditor.notSaved")}` : ""),
      mask && mask.revision ? h("span", {}, ` · ${t("maskeditor.saved", { revision: mask.revision, user: mask.updated_by ?? "?" })} `, timeEl(mask.updated_ms ?? null, "since")) : ` · ${t("maskeditor.noMask")}`,
      mask?.removal_requested_by
        ? h("b", { class: "warn" }, ` · ${t("maskeditor.requested", { what: pendingText(), user: mask.removal_requested_by })}`)
        : "",
    );
    approveBtn.hidden = !(mask?.removal_requested_by && mask.removal_requested_by !== who?.username);
    approveBtn.textContent = t("maskeditor.approveWhat", { what: pendingText() });
    refuseBtn.hidden = !mask?.removal_requested_by;
    refuseBtn.textContent = mask?.removal_requested_by === who?.username ? t("maskeditor.withdraw") : t("maskeditor.refuseWhat", { what: pendingText() });
    removeBtn.toggleAttribute("disabled", !mask?.revision || !!mask.removal_requested_by);
  };
  const finishCurrent = (discardOpen: boolean) => {
    const { w, h: ht } = size();
    const poly = closePolygon(cur, 3 / Math.max(1, Math.min(w, ht)));
    if (poly) polys.push(poly);
    else if (cur.length && !discardOpen) {
      msg.textContent = t("maskeditor.tooFew");
      return;
    }
    cur = [];
    touch();
  };
  const at = (e: MouseEvent): Pt => {
    const r = canvas.getBoundingClientRect();
    return normalise(e.clientX - r.left, e.clientY - r.top, r.width, r.height);
  };
  if (canEdit) {
    canvas.addEventListener("click", (e) => {
      const p = at(e);
      const { w, h: ht } = size();
      if (!cur.length) {
        const k = hitPolygon(p, polys);
        if (k >= 0 && e.detail === 1) {
          selected = k === selected ? -1 : k;
          draw();
          return;
        }
        selected = -1;
      }
      if (cur.length >= 3 && near(denormalise(p, w, ht), denormalise(cur[0], w, ht), 8)) return finishCurrent(false);
      cur.push(p);
      msg.textContent = "";
      touch();
    });
    canvas.addEventListener("dblclick", (e) => {
      e.preventDefault();
      if (cur.length >= 3) finishCurrent(false);
    });
  }

  const showMask = (m: MaskOut) => {
    mask = m;
    polys = (m.polygons ?? []).map((p) => p.map((q) => [q[0], q[1]] as Pt));
    cur = [];
    selected = -1;
    dirty = false;
    draw();
    renderInfo();
  };
  const fail = (e: unknown) => (msg.textContent = (e as Error).message);
  const save = async () => {
    if (cur.length >= 3) finishCurrent(false);
    try {
      const saved = await request<MaskOut>("PUT", `/api/cameras/${enc(cameraId)}/mask`, maskBody(polys));
      showMask(saved);
      msg.textContent = saved.removal_requested_by
        ? t("maskeditor.msg.reductionRequested")
        : t("maskeditor.msg.saved");
    } catch (e) {
      fail(e);
    }
  };
  const removeMask = async () => {
    try {
      showMask(await request<MaskOut>("DELETE", `/api/cameras/${enc(cameraId)}/mask`));
      msg.textContent = t("maskeditor.msg.removalRequested");
    } catch (e) {
      fail(e);
    }
  };
  const approve = async () => {
    try {
      const was = pendingWhat();
      // Approve exactly what is shown pending: a request withdrawn and replaced meanwhile is refused (409).
      const seen = { pending_polygons: mask?.pending_polygons ?? null };
      showMask(await request<MaskOut>("POST", `/api/cameras/${enc(cameraId)}/mask/approve-removal`, seen));
      msg.textContent = was === "removal" ? t("maskeditor.msg.removed") : t("maskeditor.msg.reduced");
    } catch (e) {
      fail(e);
    }
  };
  const refuse = async () => {
    try {
      showMask(await request<MaskOut>("POST", `/api/cameras/${enc(cameraId)}/mask/refuse-removal`));
      msg.textContent = t("maskeditor.msg.refused");
    } catch (e) {
      fail(e);
    }
  };

  const ro = new ResizeObserver(draw);
  ro.observe(stage);
  request<MaskOut>("GET", `/api/cameras/${enc(cameraId)}/mask`).then(showMask).catch(fail);
  fetch(`/api/cameras/${enc(cameraId)}/snapshot.mp4`, { credentials: "same-origin" })
    .then(async (res) => {
      if (!res.ok) throw new Error(t("maskeditor.noPicture", { status: String(res.status), detail: (await res.text()).slice(0, 160) }));
      url = URL.createObjectURL(await res.blob());
      video.addEventListener(
        "loadeddata",
        () => {
          video.pause();
          video.currentTime = 0;
          if (video.videoWidth && video.videoHeight) stage.style.aspectRatio = `${video.videoWidth} / ${video.videoHeight}`;
          stage.dataset.picture = `${video.videoWidth}x${video.videoHeight}`;
          dialog.dataset.picture = "ready";
          msg.textContent = "";
          draw();
        },
        { once: true },
      );
      video.addEventListener("error", () => (msg.textContent = t("maskeditor.cannotDecode")), { once: true });
      video.src = url;
      void video.play().then(() => video.pause()).catch(() => {});
    })
    .catch((e) => {
      dialog.dataset.picture = "none";
      msg.textContent = t("maskeditor.blankFrame", { why: (e as Error).message });
    });

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      destroy();
    }
    else if (e.key === "Enter" && canEdit) finishCurrent(false);
  };
  window.addEventListener("keydown", onKey, true);
  let gone = false;
  function destroy(): void {
    if (gone) return;
    gone = true;
    ro.disconnect();
    window.removeEventListener("keydown", onKey, true);
    video.removeAttribute("src");
    video.load();
    if (url) URL.revokeObjectURL(url);
    overlay.remove();
  }
  window.addEventListener("hashchange", destroy, { once: true });
  return destroy;
}
