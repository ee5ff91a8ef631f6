// The admin's users screen (docs/design/users-life.md): create a user; per user set the role and districts, disable
// or enable, reset the password, end every session and token now, list and revoke script tokens, delete (the audit
// log keeps naming a deleted user; the name is never given again). The server scopes it: a district admin sees and
// manages only users within their districts. Every change ends the user's sessions, tokens and open live video.
import { ApiError, request, type Role } from "./api";
import type { components } from "./api-types";
import { clear, h } from "./dom";
import { me } from "./session";
import { timeEl } from "./time";

type Schemas = components["schemas"];
export type UserInfo = Schemas["UserOut"];
export type TokenInfo = Schemas["TokenOut"];
type Ended = Schemas["Ended"];

export const ROLES: readonly Role[] = ["viewer", "operator", "supervisor", "auditor", "admin"];
export const PASSWORD_MIN = 10;

/** The users screen is the admins' alone (permission users.manage, access/policy.py). */
export function mayManageUsers(role: Role | null | undefined): boolean {
  return role === "admin";
}

/** "D-01, D-02" -> ["D-01", "D-02"]; blank -> [] (all districts). */
export function parseDistricts(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((d) => d.trim()).filter((d) => d !== ""))];
}

export function districtsText(districts: readonly string[]): string {
  return districts.length ? districts.join(", ") : "all";
}

const u = (name: string) => `/api/users/${encodeURIComponent(name)}`;
export const usersApi = {
  list: () => request<UserInfo[]>("GET", "/api/users"),
  create: (username: string, password: string, role: Role, districts: string[]) =>
    request<UserInfo>("POST", "/api/users", { username, password, role, districts }),
  disable: (name: string) => request<UserInfo>("POST", `${u(name)}/disable`),
  enable: (name: string) => request<UserInfo>("POST", `${u(name)}/enable`),
  remove: (name: string) => request<Ended>("DELETE", u(name)),
  setRole: (name: string, role: Role) => request<UserInfo>("PUT", `${u(name)}/role`, { role }),
  setDistricts: (name: string, districts: string[]) =>
    request<UserInfo>("PUT", `${u(name)}/districts`, districts.length ? { districts } : { all: true }),
  resetPassword: (name: string, password: string) => request<UserInfo>("POST", `${u(name)}/password`, { password }),
  revoke: (name: string) => request<Ended>("POST", `${u(name)}/revoke`),
  tokens: (name: string) => request<TokenInfo[]>("GET", `${u(name)}/tokens`),
  revokeTokens: (name: string, label?: string) =>
    request<Ended>("DELETE", `${u(name)}/tokens${label ? `?name=${encodeURIComponent(label)}` : ""}`),
};

function roleSelect(value: Role, testid: string): HTMLSelectElement {
  const sel = h("select", { "data-testid": testid });
  for (const r of ROLES) sel.append(h("option", { value: r, selected: r === value }, r));
  return sel;
}

export function mountUsers(root: HTMLElement): () => void {
  let alive = true;
  const status = h("div", { class: "status-line", "data-testid": "users-status", role: "status" });
  const error = h("div", { class: "error", "data-testid": "users-error", role: "alert" });
  const list = h("tbody", {});
  const name = h("input", { type: "text", required: true, maxlength: 64, placeholder: "username", "data-testid": "new-user-name" });
  const pw = h("input", { type: "password", required: true, minlength: PASSWORD_MIN, autocomplete: "new-password", placeholder: `password (${PASSWORD_MIN}+ characters)`, "data-testid": "new-user-password" });
  const role = roleSelect("viewer", "new-user-role");
  const districts = h("input", { type: "text", placeholder: "districts (blank: all)", "data-testid": "new-user-districts" });
  const form = h("form", { class: "users-form", "data-testid": "new-user-form" }, name, pw, role, districts, h("button", { type: "submit", "data-testid": "new-user-submit" }, "Create user"));

  const say = (text: string) => {
    status.textContent = text;
    error.textContent = "";
  };
  const fail = (e: unknown) => {
    error.textContent = e instanceof ApiError ? e.detail : (e as Error).message;
  };
  const act = (p: Promise<unknown>, done: string) =>
    p
      .then(() => {
        say(done);
        load();
      })
      .catch(fail);

  const tokensRow = (user: UserInfo, cell: HTMLElement) => {
    usersApi
      .tokens(user.username)
      .then((tokens) => {
        clear(cell);
        if (tokens.length === 0) cell.append("no script tokens");
        for (const t of tokens)
          cell.append(
            h(
              "div",
              { "data-testid": "token", "data-name": t.name },
              h("b", {}, t.name || "(unnamed)"),
              " issued ",
              timeEl(t.created_ms),
              ", expires ",
              timeEl(t.expires_ms),
              " ",
              h("button", { "data-testid": "token-revoke", onclick: () => act(usersApi.revokeTokens(user.username, t.name), `tokens "${t.name}" of ${user.username} revoked`) }, "Revoke"),
            ),
          );
      })
      .catch(fail);
  };

  const row = (user: UserInfo): HTMLElement => {
    const self = me()?.username === user.username;
    const roleSel = roleSelect(user.role, "user-role");
    const distIn = h("input", { type: "text", value: user.districts.join(", "), placeholder: "all", size: 14, "data-testid": "user-districts" });
    const tokensCell = h("div", { class: "tokens" });
    const button = (label: string, testid: string, onclick: () => void, disabled = false) =>
      h("button", { "data-testid": testid, onclick, disabled: disabled || undefined, title: disabled ? "ask another admin" : undefined }, label);
    return h(
      "tr",
      { "data-testid": "user-row", "data-user": user.username, "data-disabled": String(user.disabled) },
      h("td", {}, h("b", {}, user.username), self ? " (you)" : "", user.disabled ? h("span", { class: "status status-failed" }, " disabled") : ""),
      h("td", {}, roleSel, " ", button("Set", "user-set-role", () => act(usersApi.setRole(user.username, roleSel.value as Role), `${user.username} is now ${roleSel.value}; their sessions ended`))),
      h("td", {}, distIn, " ", button("Set", "user-set-districts", () => act(usersApi.setDistricts(user.username, parseDistricts(distIn.value)), `${user.username}: districts ${districtsText(parseDistricts(distIn.value))}; their sessions ended`))),
      h("td", { "data-testid": "user-credentials" }, `${user.sessions} session(s), ${user.tokens} token(s)`),
      h(
        "td",
        { class: "buttons" },
        user.disabled
          ? button("Enable", "user-enable", () => act(usersApi.enable(user.username), `${user.username} enabled`))
          : button("Disable", "user-disable", () => act(usersApi.disable(user.username), `${user.username} disabled; sessions, tokens and live video ended`), self),
        button("End sessions", "user-revoke", () => act(usersApi.revoke(user.username), `every session and token of ${user.username} ended`)),
        button("Password…", "user-password", () => {
          const next = window.prompt(`New password for ${user.username} (${PASSWORD_MIN}+ characters):`) ?? "";
          if (next.length < PASSWORD_MIN) {
            if (next) error.textContent = `a password has at least ${PASSWORD_MIN} characters`;
            return;
          }
          act(usersApi.resetPassword(user.username, next), `password of ${user.username} set; their sessions ended`);
        }),
        button("Tokens", "user-tokens", () => tokensRow(user, tokensCell)),
        button("Delete", "user-delete", () => {
          if (!window.confirm(`Delete ${user.username}? The audit log keeps naming them; the name is never given again.`)) return;
          act(usersApi.remove(user.username), `${user.username} deleted`);
        }, self),
        tokensCell,
      ),
    );
  };

  const load = () => {
    usersApi
      .list()
      .then((users) => {
        if (!alive) return;
        clear(list);
        for (const user of users) list.append(row(user));
        list.dataset.loaded = String(users.length);
      })
      .catch(fail);
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const who = name.value.trim();
    act(usersApi.create(who, pw.value, role.value as Role, parseDistricts(districts.value)), `user ${who} created`).then(() => {
      if (!error.textContent) form.reset();
    });
  });

  root.append(
    h(
      "div",
      { class: "screen users-screen" },
      h("h2", {}, "Users"),
      form,
      status,
      error,
      h(
        "table",
        { class: "exports", "data-testid": "user-list" },
        h("thead", {}, h("tr", {}, h("th", {}, "user"), h("th", {}, "role"), h("th", {}, "districts"), h("th", {}, "signed in"), h("th", {}, ""))),
        list,
      ),
    ),
  );
  load();
  return () => {
    alive = false;
  };
}
